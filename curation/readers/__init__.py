"""Readers: any common chat dataset -> canonical record dicts, streamed.

Two layers (see ``base.py``): ``iter_payloads`` streams raw payloads out of a file in the main process,
``convert_payload`` turns each into ``SourceItem``s (pure, picklable, for worker processes).
``read_path`` chains them for one input.
"""

from __future__ import annotations

from curation.readers.base import FileProblem, SourceItem
from curation.readers.containers import CONTAINERS, BrokenPayload, detect_container, iter_payloads
from curation.readers.convert import (
    convert_payload,
    detect_format,
    iter_payloads_or_problem,
    probe_input,
    read_path,
    sniff_format,
)
from curation.readers.files import (
    check_readable,
    expand_inputs,
    is_hf_disk_folder,
    open_binary,
    real_path,
    skipped_files,
)
from curation.readers.formats import FORMAT_NAMES, FORMATS
from curation.readers.formats.alpaca import is_alpaca
from curation.readers.formats.mapped import is_mapped
from curation.readers.formats.oasst import is_oasst
from curation.readers.formats.openai import is_openai
from curation.readers.formats.openai_dpo import is_openai_dpo
from curation.readers.formats.preference import is_preference
from curation.readers.formats.prompt_completion import is_prompt_completion
from curation.readers.formats.self_instruct import is_self_instruct
from curation.readers.formats.sharegpt import is_sharegpt
from curation.readers.mapping import FieldMapping

__all__ = [
    "CONTAINERS",
    "BrokenPayload",
    "FORMATS",
    "FORMAT_NAMES",
    "FieldMapping",
    "FileProblem",
    "SourceItem",
    "check_readable",
    "convert_payload",
    "detect_container",
    "detect_format",
    "expand_inputs",
    "skipped_files",
    "is_alpaca",
    "is_hf_disk_folder",
    "is_mapped",
    "is_oasst",
    "is_openai",
    "is_openai_dpo",
    "is_preference",
    "is_prompt_completion",
    "is_self_instruct",
    "is_sharegpt",
    "iter_payloads",
    "iter_payloads_or_problem",
    "open_binary",
    "probe_input",
    "read_path",
    "real_path",
    "sniff_format",
]

"""The Aho-Corasick trigger scan of the redact stage answers exactly as the plain substring loop."""

from __future__ import annotations

import sys
from pathlib import Path

from curation.pipeline.stages import redact
from curation.readers import read_path
from curation.records import message_text, record_messages

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted_secrets import SECRETS  # noqa: E402


def test_trigger_scan_equals_the_loop_on_real_text_and_planted_keys(real_dir: Path) -> None:
    texts = [trigger * 2 + " x" for trigger, _ in redact._KEY_TRIGGERS]  # every trigger, overlapping itself
    texts += ["glsa_and glpat- and gh and github_pat_ at once", ""]
    texts += [text for text, _secret in SECRETS.values()]
    for path in sorted(real_dir.rglob("*.json*"))[:6]:
        for item in read_path(path):
            if item.record:
                texts += [message_text(m) for m in record_messages(item.record)]
    assert len(texts) > 1000
    assert redact._key_patterns_in is not redact.key_patterns_by_loop  # the accelerated scan is what runs here
    assert [redact._key_patterns_in(t) for t in texts] == [redact.key_patterns_by_loop(t) for t in texts]

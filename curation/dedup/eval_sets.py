"""Evaluation sets for decontamination: every file is read, or the run stops before work.

Each file goes through the same readers as the inputs (any format they recognise, any container). Items the
readers cannot take are tried as the prompt-only layouts benchmarks ship: MT-Bench's
``{question_id, category, turns: [str, ...]}`` and ``{question: ...}`` / ``{prompt: ...}`` /
``{instruction: ..., input?: ...}`` / ``{problem: ...}`` (GSM8K, MMLU-style, HumanEval-style). A file that
yields no item at all is a config error naming the file, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import readers as readers_mod
from ..errors import ConfigError

PROMPT_KEYS = ("question", "prompt", "instruction", "problem", "query", "input")


@dataclass
class EvalFile:
    """One evaluation file as loaded: how many items it gave and their reference ids."""

    path: str
    items: int = 0
    layout: str = ""
    ids: list[str] = field(default_factory=list)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def prompt_only_record(obj: Any) -> dict[str, Any] | None:
    """A user-turns-only record from a prompt-only benchmark item, or None when it is not one."""
    if not isinstance(obj, dict):
        return None
    turns = obj.get("turns")
    texts: list[str] = []
    if isinstance(turns, list):
        for turn in turns:
            text = _text(turn) or (_text(turn.get("content")) if isinstance(turn, dict) else None)
            if text:
                texts.append(text)
    if not texts:
        for key in PROMPT_KEYS:
            text = _text(obj.get(key))
            if text:
                extra = _text(obj.get("input")) if key == "instruction" else None
                texts = [f"{text}\n\n{extra}" if extra else text]
                break
    if not texts:
        return None
    rid = obj.get("question_id", obj.get("id", obj.get("task_id")))
    record: dict[str, Any] = {"messages": [{"role": "user", "content": t} for t in texts]}
    if rid is not None:
        record["id"] = str(rid)
    return record


def _payload_object(payload: Any) -> Any:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        try:
            return orjson.loads(bytes(payload))
        except orjson.JSONDecodeError:
            return None
    return payload


def _read_file(path: Path) -> tuple[list[dict[str, Any]], str]:
    container = readers_mod.detect_container(path)
    try:
        fmt = readers_mod.sniff_format(path, container)
    except Exception:  # noqa: BLE001 - an unrecognised layout is tried as prompt-only below
        fmt = None
    records: list[dict[str, Any]] = []
    layouts: set[str] = set()
    for line, index, payload in readers_mod.iter_payloads(path, container):
        converted = [item.record for item in readers_mod.convert_payload(payload, fmt, None, path=str(path),
                                                                         line=line, index=index)
                     if item.record is not None and item.record.get("messages", item.record.get("prompt"))]
        if converted:
            records.extend(converted)
            layouts.add(fmt or "recognised")
            continue
        record = prompt_only_record(_payload_object(payload))
        if record is not None:
            records.append(record)
            layouts.add("prompt-only")
    return records, "+".join(sorted(layouts))


def load_eval_sets(paths: list[str]) -> tuple[list[dict[str, Any]], list[str], list[EvalFile]]:
    """Reference records, their ids (unique across files) and what each file gave; raises on an empty file."""
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    files: list[EvalFile] = []
    seen: set[str] = set()
    for raw in paths:
        for path in readers_mod.expand_inputs([raw]):
            readers_mod.check_readable(path)
            found, layout = _read_file(path)
            if not found:
                raise ConfigError(
                    f"evaluation file {path} holds no item decontamination can read",
                    where="decontaminate.paths",
                    hint="give chat records (messages, conversations, ...) or prompt-only items "
                    "({turns: [...]}, {question: ...}, {prompt: ...}); or remove the file from decontaminate.paths")
            entry = EvalFile(path=str(path), items=len(found), layout=layout)
            for n, record in enumerate(found):
                rid = str(record.get("id") or f"{path.name}:{n + 1}")
                if rid in seen:
                    rid = f"{path.name}:{rid}"
                seen.add(rid)
                ids.append(rid)
                entry.ids.append(rid)
            records.extend(found)
            files.append(entry)
    return records, ids, files


def eval_report(files: list[EvalFile], matched_by_ref: dict[str, int]) -> list[dict[str, Any]]:
    """Per file: path, layout, items, and training records removed for matching one of its items."""
    return [{"path": f.path, "layout": f.layout, "items": f.items,
             "matched": sum(matched_by_ref.get(rid, 0) for rid in f.ids)} for f in files]

"""Evaluation prompts from a run folder: the conversation up to its last assistant turn, and that turn.

The held-out split is ``splits/test.jsonl``, else ``splits/validation.jsonl``. A preference pair counts as
its prompt plus the chosen answer. System prompts and tool schemas travel with the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

SPLITS = ("test", "validation", "train")


@dataclass
class EvalPrompt:
    id: str
    messages: list[dict[str, Any]]  # everything before the reference turn (system, user, tool turns)
    reference: dict[str, Any]  # the last assistant turn
    tools: list[dict[str, Any]] | None
    metadata: dict[str, Any]


def held_out_split(run_dir: Path) -> str:
    for name in ("test", "validation"):
        path = run_dir / "splits" / f"{name}.jsonl"
        if path.exists() and path.stat().st_size > 0:
            return name
    raise InputError(f"{run_dir} has no held-out split (splits/test.jsonl or splits/validation.jsonl)",
                     hint="curate the run with a validation or test share (split.validation: 0.1)")


def to_prompt(record: dict[str, Any], fallback_id: str) -> EvalPrompt | None:
    """The prompt and reference of one canonical record; None when it has no assistant turn to compare."""
    if "chosen" in record and "rejected" in record:
        messages = list(record.get("prompt") or []) + list(record.get("chosen") or [])
    else:
        messages = list(record.get("messages") or [])
    last = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"),
               default=None)
    if last is None or last == 0:
        return None
    return EvalPrompt(
        id=str(record.get("id") or fallback_id),
        messages=messages[:last],
        reference=messages[last],
        tools=record.get("tools") or None,
        metadata=record.get("metadata") or {},
    )


def load_prompts(run_dir: Path, split: str | None = None, limit: int | None = None) -> tuple[str, list[EvalPrompt]]:
    """The split's prompts in file order (ids made unique); ``split`` None means the held-out split."""
    run_dir = Path(run_dir)
    if not (run_dir / "splits").is_dir():
        raise InputError(f"{run_dir} is not a run folder (no splits/)", hint="curate one: curate run CONFIG --out "
                         "RUN_DIR")
    name = split or held_out_split(run_dir)
    if name not in SPLITS:
        raise InputError(f"unknown split {name!r}", hint="use test, validation or train")
    path = run_dir / "splits" / f"{name}.jsonl"
    if not path.exists():
        raise InputError(f"{path} does not exist", hint="choose a split the run has")
    prompts: list[EvalPrompt] = []
    seen: set[str] = set()
    from ..exporters.base import iter_lines  # the run folder's one line reader (JSON and type errors by line)

    for number, (_raw, record) in enumerate(iter_lines(path), 1):
        prompt = to_prompt(record, f"{name}-{number}")
        if prompt is None:
            continue
        while prompt.id in seen:
            prompt.id += "+"
        seen.add(prompt.id)
        prompts.append(prompt)
        if limit and len(prompts) >= limit:
            break
    if not prompts:
        raise InputError(f"{path} holds no conversation with an assistant turn to compare",
                         hint="evaluate a run whose held-out split holds conversations")
    return name, prompts

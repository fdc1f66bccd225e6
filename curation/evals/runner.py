"""`curate eval`: answer the run's held-out prompts with each model, score, compare, write the artefacts.

``RUN/eval/<name>/`` gets ``results.jsonl`` (one line per prompt: id, prompt, reference, each model's answer
and scores, each comparison), ``summary.json`` (per model and per comparison, for machines), ``report.html``
and, with a judge, ``judge_prompt.txt``. The first model is the one under test; each baseline is compared
with it. Generation is deterministic: temperature 0, a fixed seed, max tokens from the reference.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from ..models_ref import ChatClient, ModelRef, make_client
from . import scores, stats
from .prompts import EvalPrompt, load_prompts

# Below this chrF difference (0-100) two free-text answers are a tie when no judge decides.
CHRF_TIE = 2.0


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "model"


def unique_names(refs: list[ModelRef]) -> list[str]:
    names: list[str] = []
    for ref in refs:
        name, n = ref.name, 2
        while name in names:
            name, n = f"{ref.name}#{n}", n + 1
        names.append(name)
    return names


def primary_outcome(model: dict[str, Any], baseline: dict[str, Any]) -> tuple[str, str]:
    """Win/tie/loss of one prompt without a judge: tool-call accuracy where it applies and differs, else chrF
    (then ROUGE-L) on the text; equal on the call and no text to compare is a tie on the call."""
    decided_by = "none"
    for metric, tie in (("tool_call", 0.0), ("chrf", CHRF_TIE), ("rougeL", 0.02)):
        if metric in model and metric in baseline:
            diff = model[metric] - baseline[metric]
            if metric == "tool_call" and diff == 0:
                decided_by = "tool_call"
                continue  # the same on the call: let the text decide
            return ("win" if diff > tie else "loss" if diff < -tie else "tie"), metric
    return "tie", decided_by


def _answer_row(ref: ModelRef, answer: Any, prompt: EvalPrompt) -> dict[str, Any]:
    row: dict[str, Any] = {
        "content": answer.content,
        "tool_calls": answer.tool_calls,
        "latency_s": round(answer.latency_s, 4),
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "finish_reason": answer.finish_reason,
    }
    if answer.error:
        row["error"] = answer.error
        row["scores"] = {}
    else:
        row["scores"] = scores.score(prompt.reference, answer.message(), offers_tools=bool(prompt.tools))
    return row


def generate(clients: list[ChatClient], names: list[str], prompts: list[EvalPrompt],
             progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    rows = []
    for index, prompt in enumerate(prompts):
        row: dict[str, Any] = {
            "id": prompt.id,
            "index": index,
            "messages": prompt.messages,
            "tools": prompt.tools,
            "reference": prompt.reference,
            "answers": {},
        }
        for client, name in zip(clients, names, strict=True):
            answer = client.complete(prompt.messages, prompt.tools, client.ref.max_tokens)
            row["answers"][name] = _answer_row(client.ref, answer, prompt)
        rows.append(row)
        if progress:
            progress(f"{index + 1}/{len(prompts)} {prompt.id}")
    return rows


def compare(rows: list[dict[str, Any]], model: str, baseline: str, judge: ChatClient | None) -> None:
    key = f"{model} vs {baseline}"
    for row in rows:
        ours, theirs = row["answers"][model], row["answers"][baseline]
        comparison: dict[str, Any] = {}
        if judge is not None and "error" not in ours and "error" not in theirs:
            from .judge import judge_pair

            verdict = judge_pair(judge, row["messages"], row["tools"], row["reference"],
                                 {"content": ours["content"], "tool_calls": ours["tool_calls"]},
                                 {"content": theirs["content"], "tool_calls": theirs["tool_calls"]})
            comparison["judge"] = verdict["orders"]
            if verdict["outcome"] is not None:
                comparison["outcome"], comparison["by"] = verdict["outcome"], "judge"
        if "outcome" not in comparison:
            if "error" in ours or "error" in theirs:
                outcome = "loss" if "error" in ours and "error" not in theirs else (
                    "win" if "error" in theirs and "error" not in ours else "tie")
                comparison["outcome"], comparison["by"] = outcome, "error"
            else:
                comparison["outcome"], comparison["by"] = primary_outcome(ours["scores"], theirs["scores"])
        deltas = {m: round(ours["scores"][m] - theirs["scores"][m], 4) for m in scores.METRICS
                  if m in ours["scores"] and m in theirs["scores"]}
        comparison["delta"] = deltas
        row.setdefault("comparisons", {})[key] = comparison


def model_summary(rows: list[dict[str, Any]], name: str, ref: ModelRef) -> dict[str, Any]:
    answers = [row["answers"][name] for row in rows]
    ok = [a for a in answers if "error" not in a]
    latencies = [a["latency_s"] for a in ok]
    tokens_in = sum(a["prompt_tokens"] for a in answers)
    tokens_out = sum(a["completion_tokens"] for a in answers)
    price_in, price_out = ref.prices()
    cost = None if price_in is None or price_out is None else round(
        (tokens_in * price_in + tokens_out * price_out) / 1_000_000, 6)
    metrics = {}
    for metric in scores.METRICS:
        values = [a["scores"][metric] for a in answers if metric in a["scores"]]
        if values:
            metrics[metric] = {"mean": stats.mean(values), "ci": stats.bootstrap_ci(values), "n": len(values)}
    outcomes: dict[str, int] = {}
    for a in answers:
        outcome = a["scores"].get("tool_call_outcome")
        if outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "reference": ref.provenance(),
        "n": len(answers),
        "errors": len(answers) - len(ok),
        "metrics": metrics,
        "tool_call_outcomes": dict(sorted(outcomes.items())),
        "latency_s": {"mean": stats.mean(latencies), "p50": stats.percentile(latencies, 0.5),
                      "p95": stats.percentile(latencies, 0.95)},
        "tokens": {"prompt": tokens_in, "completion": tokens_out},
        "cost_usd": cost,
        "price_per_1m": {"input": price_in, "output": price_out},
    }


def comparison_summary(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    comps = [row["comparisons"][key] for row in rows]
    out = stats.win_tie_loss([c["outcome"] for c in comps])
    out["decided_by"] = {by: sum(1 for c in comps if c["by"] == by) for by in sorted({c["by"] for c in comps})}
    out["delta"] = {}
    for metric in scores.METRICS:
        values = [c["delta"][metric] for c in comps if metric in c["delta"]]
        if values:
            out["delta"][metric] = {"mean": stats.mean(values), "ci": stats.bootstrap_ci(values), "n": len(values)}
    return out


def run_eval(run_dir: Path, model: ModelRef, baselines: list[ModelRef], *, name: str | None = None,
             judge: ModelRef | None = None, split: str | None = None, limit: int | None = None,
             out_root: Path | None = None, progress: Callable[[str], None] | None = None,
             clients: dict[str, ChatClient] | None = None) -> Path:
    """Evaluate ``model`` (and each baseline) on the run's prompts; returns the eval folder."""
    run_dir = Path(run_dir)
    split_name, prompts = load_prompts(run_dir, split, limit)
    refs = [model, *baselines]
    names = unique_names(refs)
    eval_name = slug(name or model.name)
    out = (out_root or run_dir / "eval") / eval_name
    made = dict(clients or {})
    built = [made.get(n) or make_client(r) for n, r in zip(names, refs, strict=True)]
    judge_client = make_client(judge) if judge is not None else None
    started = time.time()
    rows = generate(built, names, prompts, progress)
    for baseline in names[1:]:
        compare(rows, names[0], baseline, judge_client)
    summary: dict[str, Any] = {
        "run": str(run_dir.resolve()),
        "split": split_name,
        "n_prompts": len(rows),
        "model": names[0],
        "baselines": names[1:],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "generation": {"temperature": model.temperature, "seed": model.seed, "max_tokens": model.max_tokens},
        "judge": judge.provenance() if judge is not None else None,
        "models": {n: model_summary(rows, n, r) for n, r in zip(names, refs, strict=True)},
        "comparisons": {f"{names[0]} vs {b}": comparison_summary(rows, f"{names[0]} vs {b}") for b in names[1:]},
    }
    write_outputs(out, rows, summary, judge is not None)
    return out


def write_outputs(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any], with_judge: bool) -> None:
    from .report import render_report

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.jsonl.tmp"
    with tmp.open("wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")
    tmp.replace(out / "results.jsonl")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    if with_judge:
        from .judge import template_text

        (out / "judge_prompt.txt").write_text(template_text())
    (out / "report.html").write_text(render_report(summary, rows), encoding="utf-8")


def record(run_dir: Path, ref: ModelRef, out_path: Path, *, split: str | None = None, limit: int | None = None,
           progress: Callable[[str], None] | None = None, client: ChatClient | None = None) -> tuple[Path, int]:
    """Write the model's answers on the run's prompts as canonical conversations with provenance."""
    split_name, prompts = load_prompts(Path(run_dir), split, limit)
    client = client or make_client(ref)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    params = {"temperature": ref.temperature, "seed": ref.seed, "max_tokens": ref.max_tokens}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    written = failed = 0
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    with tmp.open("wb") as fh:
        for index, prompt in enumerate(prompts):
            answer = client.complete(prompt.messages, prompt.tools, ref.max_tokens)
            if answer.error:
                failed += 1
                if progress:
                    progress(f"{prompt.id}: {answer.error}")
                continue
            record_: dict[str, Any] = {"id": f"{prompt.id}@{slug(ref.name)}",
                                       "messages": [*prompt.messages, answer.message()]}
            if prompt.tools:
                record_["tools"] = prompt.tools
            record_["metadata"] = {"recorded": {
                "model": ref.name, "reference": ref.provenance(), "date": when, "parameters": params,
                "source_run": str(Path(run_dir).resolve()), "source_split": split_name, "source_id": prompt.id,
                "finish_reason": answer.finish_reason}}
            fh.write(orjson.dumps(record_) + b"\n")
            written += 1
            if progress:
                progress(f"{index + 1}/{len(prompts)} {prompt.id}")
    tmp.replace(out_path)
    if not written:
        raise ConfigError(f"{ref.name} answered none of the {len(prompts)} prompts ({failed} failed)",
                          hint="check the reference with `curate chat REF`")
    return out_path, written

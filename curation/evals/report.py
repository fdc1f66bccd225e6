"""eval/<name>/report.html: one self-contained page (no script, no external resource); all text escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .judge import render_message
from .scores import METRICS, SCALE

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2433;max-width:1400px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #dde2ea;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f3f5f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ci{color:#6b7385;font-size:12px}.win{color:#137333}.loss{color:#b3261e}.tie{color:#6b7385}
.prompt{border:1px solid #dde2ea;border-radius:6px;margin:12px 0;padding:8px 12px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:10px}
.cols div{background:#f8f9fb;border-radius:4px;padding:6px 8px}pre{white-space:pre-wrap;word-break:break-word;
margin:4px 0;font:13px/1.4 ui-monospace,monospace}.err{color:#b3261e}.muted{color:#6b7385}
"""


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _ci(ci: list[float] | None) -> str:
    return f' <span class="ci">[{_num(ci[0])}, {_num(ci[1])}]</span>' if ci else ""


def _models_table(summary: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(m)}</th>" for m in METRICS)
    rows = []
    for name, model in summary["models"].items():
        cells = []
        for metric in METRICS:
            found = model["metrics"].get(metric)
            cells.append(f'<td class="n">{_num(found["mean"])}{_ci(found["ci"])} <span class="ci">n={found["n"]}'
                         "</span></td>" if found else '<td class="muted">–</td>')
        lat = model["latency_s"]
        cost = model["cost_usd"]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{escape(model['reference']['kind'])}</td>"
            f'<td class="n">{model["n"]}</td><td class="n">{model["errors"]}</td>{"".join(cells)}'
            f'<td class="n">{_num(lat["mean"])} / {_num(lat["p95"])}</td>'
            f'<td class="n">{model["tokens"]["prompt"]} / {model["tokens"]["completion"]}</td>'
            f'<td class="n">{"n/a" if cost is None else f"${cost:.4f}"}</td></tr>')
    return (f"<table><tr><th>model</th><th>kind</th><th>prompts</th><th>errors</th>{head}"
            "<th>latency s (mean / p95)</th><th>tokens (in / out)</th><th>cost</th></tr>"
            + "".join(rows) + "</table>")


def _comparisons_table(summary: dict[str, Any]) -> str:
    if not summary["comparisons"]:
        return '<p class="muted">No baseline given: pass --baseline REF to compare.</p>'
    rows = []
    for key, comp in summary["comparisons"].items():
        deltas = "".join(
            f'<td class="n">{_num(comp["delta"][m]["mean"])}{_ci(comp["delta"][m]["ci"])}</td>'
            if m in comp["delta"] else '<td class="muted">–</td>' for m in METRICS)
        decided = ", ".join(f"{escape(k)} {v}" for k, v in comp["decided_by"].items())
        rows.append(
            f"<tr><td>{escape(key)}</td>"
            f'<td class="n win">{comp["win"]} ({_num(comp["win_rate"], 2)}){_ci(comp["win_rate_ci"])}</td>'
            f'<td class="n tie">{comp["tie"]} ({_num(comp["tie_rate"], 2)}){_ci(comp["tie_rate_ci"])}</td>'
            f'<td class="n loss">{comp["loss"]} ({_num(comp["loss_rate"], 2)}){_ci(comp["loss_rate_ci"])}</td>'
            f'<td class="n">{_num(comp["net"], 2)}{_ci(comp["net_ci"])}</td><td>{decided}</td>{deltas}</tr>')
    head = "".join(f"<th>Δ {escape(m)}</th>" for m in METRICS)
    return ("<table><tr><th>comparison</th><th>win</th><th>tie</th><th>loss</th><th>net (win − loss)</th>"
            f"<th>decided by</th>{head}</tr>" + "".join(rows) + "</table>"
            '<p class="muted">Intervals: 95% bootstrap (2,000 seeded resamples). Without a judge a prompt is won on '
            "tool-call accuracy where the reference calls tools, else on chrF (ties within 2 points).</p>")


def _regression_key(row: dict[str, Any], key: str | None) -> tuple[int, float, int]:
    if key is None:
        return (0, 0.0, row["index"])
    comp = row["comparisons"][key]
    order = {"loss": 0, "tie": 1, "win": 2}[comp["outcome"]]
    delta = comp["delta"]
    primary = delta.get("tool_call", 0.0) * 100 + delta.get("chrf", 0.0)
    return (order, primary, row["index"])


def _answer_box(title: str, answer: dict[str, Any] | None, message: dict[str, Any] | None = None) -> str:
    if answer is None:
        return f'<div><b>{escape(title)}</b><pre>{escape(render_message(message or {}))}</pre></div>'
    if "error" in answer:
        return f'<div><b>{escape(title)}</b><pre class="err">{escape(answer["error"])}</pre></div>'
    shown = render_message({"content": answer["content"], "tool_calls": answer["tool_calls"]})
    metrics = " ".join(f"{escape(k)}={_num(v, 2)}" for k, v in answer["scores"].items())
    return (f'<div><b>{escape(title)}</b> <span class="ci">{metrics} · {_num(answer["latency_s"], 2)} s</span>'
            f"<pre>{escape(shown)}</pre></div>")


def _prompt_block(row: dict[str, Any], key: str | None) -> str:
    outcome = ""
    if key is not None:
        comp = row["comparisons"][key]
        outcome = f' <span class="{comp["outcome"]}">{escape(comp["outcome"])}</span> <span class="ci">by ' \
                  f'{escape(comp["by"])}</span>'
        if comp.get("judge"):
            outcome += ' <span class="ci">judge: ' + escape(
                ", ".join(f'{o["a"]} first → {o["verdict"]}' for o in comp["judge"])) + "</span>"
    conversation = "\n".join(f"[{m.get('role')}] {render_message(m)}" for m in row["messages"])
    tools = f"\n[tools] {json.dumps(row['tools'], ensure_ascii=False)[:2000]}" if row.get("tools") else ""
    boxes = [_answer_box("reference", None, row["reference"])]
    boxes += [_answer_box(name, answer) for name, answer in row["answers"].items()]
    return (f'<div class="prompt"><b>{escape(row["id"])}</b>{outcome}<details><summary>prompt ('
            f'{len(row["messages"])} messages)</summary><pre>{escape(conversation + tools)}</pre></details>'
            f'<div class="cols">{"".join(boxes)}</div></div>')


def render_report(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    key = next(iter(summary["comparisons"]), None)
    ordered = sorted(rows, key=lambda r: _regression_key(r, key))
    gen = summary["generation"]
    judge = summary.get("judge")
    scale = ", ".join(f"{m} 0–{SCALE[m]:g}" for m in METRICS)
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">",
        f"<title>eval: {escape(summary['model'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of {escape(summary['model'])}</h1>",
        f"<p>Run <code>{escape(summary['run'])}</code>, split <b>{escape(summary['split'])}</b>, "
        f"{summary['n_prompts']} prompts; temperature {gen['temperature']:g}, seed {gen['seed']}, max tokens "
        f"{gen['max_tokens']}; {escape(summary['created_at'])}."
        + (f" Judge: {escape(judge['name'])} (both orders; prompt in judge_prompt.txt)." if judge else "") + "</p>",
        "<h2>Summary</h2>", _comparisons_table(summary),
        "<h2>Per metric</h2>", _models_table(summary),
        f'<p class="muted">Scales: {escape(scale)}. A metric is averaged over the prompts it applies to '
        "(tool_call: prompts with tools; exact: short references).</p>",
        "<h2>Answers" + (" (worst regressions first)" if key else "") + "</h2>",
        *(_prompt_block(row, key) for row in ordered),
        "</body></html>",
    ]
    return "\n".join(parts)

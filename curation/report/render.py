"""report.json -> report.html (one self-contained file: inline CSS and SVG) and report.md.

Everything comes from report.json; only what it lacks is read from the run folder (token histograms
from the split files, snippets of duplicate-cluster members from the splits and rejects). Costs are
estimated for every priced model with the cookbook's default epochs (``curation.tokens``).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from ..exporters.base import atomic_writer, iter_records, read_json
from ..records import user_snippet
from ..tokens import token_histogram
from . import charts, sections
from .charts import fmt

COST_SAMPLE = 2000  # records re-counted per other encoding; the rest is scaled (1M records stay fast)

CSS = """
:root { --ink:#212529; --muted:#6c757d; --line:#e9ecef; --accent:#4263eb; --bad:#e03131; --bg:#f8f9fa; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink);
       background:var(--bg); }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .v { font-size: 22px; font-weight: 650; }
.card .v small { font-size: 14px; font-weight: 500; }
.card .k { color: var(--muted); font-size: 13px; }
.card.bad .v { color: var(--bad); }
section.panel { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; margin:12px 0; }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f1f3f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f3f5; padding: 1px 5px;
       border-radius: 4px; }
.snip { color: #495057; font-style: italic; }
.ids code { display: inline-block; margin: 1px 2px; }
.warn { background: #fff9db; border: 1px solid #ffe066; border-radius: 8px; padding: 10px 14px; margin: 8px 0; }
.muted { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
"""


def render_report(run_dir: Path | str) -> tuple[Path, Path]:
    """Write RUN_DIR/report.html and RUN_DIR/report.md from report.json; returns both paths."""
    from ..errors import CurationError

    run_dir = Path(run_dir)
    report = read_json(run_dir / "report.json")
    if not report:
        raise CurationError("the run has no report.json", hint="re-run `curate run`", where=str(run_dir))
    data = collect(run_dir, report)
    html_path, md_path = run_dir / "report.html", run_dir / "report.md"
    with atomic_writer(html_path) as fh:
        fh.write(render_html(data).encode("utf-8"))
    with atomic_writer(md_path) as fh:
        fh.write(render_markdown(data).encode("utf-8"))
    return html_path, md_path


# ---------------------------------------------------------------------------------------------------------
# Collecting


def _split_files(run_dir: Path) -> dict[str, Path]:
    folder = run_dir / "splits"
    return {p.stem: p for p in sorted(folder.glob("*.jsonl"))} if folder.is_dir() else {}


def _model_info(name: str | None) -> Any:
    from ..errors import CurationError
    from ..tokens import resolve_model

    try:
        return resolve_model(name or "gpt-4o-mini")
    except CurationError:
        return resolve_model("gpt-4o-mini")


def _add_snippet(snippets: dict[str, str], wanted: set[str], record: dict[str, Any]) -> None:
    """A cluster member's snippet, from a split record or a reject line (whose record sits under "record")."""
    rid = record.get("id")
    if rid in wanted:
        body = record.get("record") if "stage" in record and "reason" in record else record
        if isinstance(body, dict):
            snippets[rid] = user_snippet(body)


def collect(run_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates show, with what report.json lacks filled in from the run folder."""
    from ..tokens import ENCODINGS, MODELS, chat_tokens, estimate_cost, get_encoding

    model = _model_info(report.get("model"))
    files = _split_files(run_dir)
    splits: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (report.get("splits") or {}).items()}
    for name in files:
        splits.setdefault(name, {})
    clusters = sorted(report.get("duplicate_clusters") or [], key=lambda c: -int(c.get("size", 0)))[:10]
    wanted = {m for c in clusters for m in (c.get("members") or [])[:6]}

    # One pass over each split file collects what report.json lacks: token counts (for splits without a
    # histogram, and the training split's for costs), a sample of training records, cluster snippets.
    encoding = get_encoding(model.encoding)
    counts_cache: dict[str, list[int]] = {}
    sample: list[dict[str, Any]] = []
    snippets: dict[str, str] = {}
    for name, path in files.items():
        hist = splits[name].get("token_hist")
        want_counts = name == "train" or not (isinstance(hist, dict) and hist.get("counts"))
        if not (want_counts or wanted):
            continue
        counts: list[int] = []
        for i, record in enumerate(iter_records(path)):
            if want_counts:
                cached = (record.get("metadata") or {}).get("tokens")
                counts.append(int(cached) if isinstance(cached, int) else chat_tokens(record, encoding))
            if name == "train" and i < COST_SAMPLE:
                sample.append(record)
            if wanted:
                _add_snippet(snippets, wanted, record)
        if want_counts:
            counts_cache[name] = counts
    rejects = run_dir / "rejects.jsonl"
    if wanted and rejects.exists():
        for record in iter_records(rejects):
            _add_snippet(snippets, wanted, record)

    for name, info in splits.items():
        hist = info.get("token_hist")
        if not (isinstance(hist, dict) and hist.get("counts")) and name in files:
            info["token_hist"] = token_histogram(counts_cache[name], model.max_tokens_per_example)
            info.setdefault("records", len(counts_cache[name]))
            info.setdefault("tokens", int(sum(counts_cache[name])))

    # Cost per priced model, with the default epochs for the training split's size.
    train_counts = counts_cache.get("train") or []
    ratios = {model.encoding: 1.0}
    if train_counts:
        base = sum(chat_tokens(r, encoding) for r in sample) or 1
        for enc in ENCODINGS:
            if enc not in ratios:
                ratios[enc] = sum(chat_tokens(r, get_encoding(enc)) for r in sample) / base
    costs = []
    priced = [m for m in MODELS.values() if m.training_price_per_1m is not None or m.name == model.name]
    for info in sorted(priced, key=lambda m: (m.provider != "openai", m.training_price_per_1m or 0, m.name)):
        scaled = [round(t * ratios.get(info.encoding, 1.0)) for t in train_counts]
        est = estimate_cost(scaled, info)
        costs.append(
            {
                "provider": info.provider,
                "model": info.name,
                "limit": info.max_tokens_per_example,
                "epochs": est.epochs,
                "tokens_per_epoch": est.tokens_per_epoch,
                "billed": est.billed_tokens,
                "price": est.price_per_1m,
                "cost": est.cost_usd,
                "over": sum(1 for t in scaled if t > info.max_tokens_per_example),
                "target": info.name == model.name,
            }
        )
    return {
        "name": run_dir.resolve().name,
        "report": report,
        "model": model,
        "splits": splits,
        "costs": costs,
        "clusters": clusters,
        "snippets": snippets,
    }


# ---------------------------------------------------------------------------------------------------------
# HTML


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th class="n">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def render_html(data: dict[str, Any]) -> str:
    report, model, splits = data["report"], data["model"], data["splits"]
    rin, rout = int(report.get("records_in") or 0), int(report.get("records_out") or 0)
    rejected = int(report.get("rejected", rin - rout) or 0)
    tokens = report.get("tokens") if isinstance(report.get("tokens"), dict) else {}
    total_tokens = tokens.get("total", sum(int(s.get("tokens") or 0) for s in splits.values()))
    target_cost = next((c for c in data["costs"] if c["target"]), None)
    cards = [
        ("records read", fmt(rin), ""),
        ("kept", fmt(rout), ""),
        ("rejected", f"{fmt(rejected)} <small>{_pct(rejected, rin)}</small>", "bad" if rejected else ""),
        ("tokens kept", fmt(total_tokens), ""),
        ("training tokens billed", fmt(target_cost["billed"]) if target_cost else "–", ""),
        (
            f"est. cost · {escape(model.name)}",
            f"${target_cost['cost']:,.2f}" if target_cost and target_cost["cost"] is not None else "n/a",
            "",
        ),
    ]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Curation report · {escape(data['name'])}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Curation report · {escape(data['name'])}</h1>",
        f'<p class="sub">Target model <code>{escape(str(report.get("model") or model.name))}</code> · per-example '
        f"limit {fmt(model.max_tokens_per_example)} tokens"
        + (f" · config <code>{escape(str(report['config_hash'])[:12])}</code>" if report.get("config_hash") else "")
        + "</p>",
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><div class="v">{v}</div><div class="k">{k}</div></div>' for k, v, cls in cards
        )
        + "</div>",
    ]
    for warning in report.get("warnings") or []:
        parts.append(f'<div class="warn">⚠ {escape(str(warning))}</div>')

    funnel = report.get("funnel") or []
    parts.append("<h2>Funnel</h2>")
    parts.append(f'<section class="panel">{charts.funnel_chart(funnel, rin)}</section>')
    reasons = sorted((report.get("reasons") or {}).items(), key=lambda kv: -kv[1])
    if reasons:
        parts.append("<h3>Dropped records by reason</h3>")
        parts.append(f'<section class="panel">{charts.bar_chart(reasons, "Drops by reason")}</section>')
    if funnel:
        rows = [
            [
                escape(str(f.get("stage"))),
                fmt(f.get("in")),
                fmt(f.get("out")),
                fmt(f.get("dropped")),
                ", ".join(f"<code>{escape(k)}</code> {fmt(v)}" for k, v in (f.get("by_reason") or {}).items()) or "–",
            ]
            for f in funnel
        ]
        parts.append(_table(["stage", "in", "out", "dropped", "by reason"], rows, {1, 2, 3}))

    parts.append("<h2>Splits</h2>")
    rows = []
    for name, info in splits.items():
        st = info.get("token_stats") or {}
        rows.append(
            [
                escape(name),
                fmt(info.get("records")),
                fmt(info.get("tokens")),
                fmt(st.get("p50")),
                fmt(st.get("p95")),
                fmt(st.get("max")),
            ]
        )
    parts.append(_table(["split", "records", "tokens", "median", "p95", "longest"], rows, {1, 2, 3, 4, 5}))
    parts.append("<h3>Token length per example</h3>")
    for name, info in splits.items():
        hist = info.get("token_hist") or {}
        limit = hist.get("limit", model.max_tokens_per_example)
        chart = charts.histogram(
            hist.get("edges") or [], hist.get("counts") or [], limit, f"{name}: tokens per example"
        )
        parts.append(f'<section class="panel">{chart}</section>')

    parts.append("<h2>Language and source mix</h2>")
    lang_rows = [(n, i.get("languages") or {}) for n, i in splits.items()]
    src_rows = [(n, i.get("sources") or {}) for n, i in splits.items()]
    parts.append(
        f'<section class="panel"><h3>Languages</h3>{charts.stacked_shares(lang_rows, "Languages per split")}</section>'
    )
    parts.append(
        f'<section class="panel"><h3>Sources</h3>{charts.stacked_shares(src_rows, "Sources per split")}</section>'
    )

    parts.append("<h2>Largest duplicate clusters</h2>")
    if data["clusters"]:
        rows = []
        for c in data["clusters"]:
            members = c.get("members") or []
            shown = "".join(
                f"<div><code>{escape(str(m))}</code>{' ✓ kept' if m == c.get('kept') else ''} "
                f'<span class="snip">{escape(data["snippets"].get(m, "")[:90])}</span></div>'
                for m in members[:6]
            )
            more = f'<div class="muted">… and {fmt(len(members) - 6)} more</div>' if len(members) > 6 else ""
            rows.append(
                [
                    escape(str(c.get("id"))),
                    fmt(c.get("size")),
                    shown + more,
                    f'<span class="snip">{escape(str(c.get("snippet") or ""))}</span>',
                ]
            )
        parts.append(_table(["cluster", "size", "members", "kept text"], rows, {1}))
    else:
        parts.append('<p class="muted">No near-duplicate clusters.</p>')

    parts.append("<h2>Examples of each reject reason</h2>")
    examples = report.get("reject_examples") or {}
    if examples:
        rows = []
        for code, items in examples.items():
            for item in items[:3]:
                source = item.get("source") or {}
                where = f"{Path(str(source.get('path', ''))).name}:{source.get('line') or source.get('index', '')}"
                dup = (
                    f" → duplicate of <code>{escape(str(item['duplicate_of']))}</code>"
                    if item.get("duplicate_of")
                    else ""
                )
                rows.append(
                    [
                        f"<code>{escape(code)}</code>",
                        escape(str(item.get("stage", ""))),
                        f'<code>{escape(str(item.get("id", "")))}</code><div class="muted">{escape(where)}</div>',
                        escape(str(item.get("detail", ""))[:200]) + dup,
                        f'<span class="snip">{escape(str(item.get("snippet", ""))[:160])}</span>',
                    ]
                )
        parts.append(_table(["reason", "stage", "record", "detail", "text"], rows))
    else:
        parts.append('<p class="muted">Nothing was rejected.</p>')

    parts.extend(sections.html_sections(report, _table))
    parts.append("<h2>Estimated training cost</h2>")
    parts.append(
        '<p class="muted">Training split only, with each provider\'s default number of epochs for its size (OpenAI '
        "cookbook logic); examples longer than a model's limit are billed up to the limit. Models without a "
        "published per-token price (Azure bills by hours or tokens depending on the deployment) are left out.</p>"
    )
    rows = [
        [
            escape(c["provider"]),
            ("<b>" if c["target"] else "") + f"<code>{escape(c['model'])}</code>" + ("</b>" if c["target"] else ""),
            fmt(c["limit"]),
            fmt(c["over"]),
            fmt(c["epochs"]),
            fmt(c["billed"]),
            f"${c['price']:,.2f}" if c["price"] is not None else "–",
            f"${c['cost']:,.2f}" if c["cost"] is not None else "–",
        ]
        for c in data["costs"]
    ]
    parts.append(
        _table(
            ["provider", "model", "limit", "over limit", "epochs", "billed tokens", "$/1M", "cost"],
            rows,
            {2, 3, 4, 5, 6, 7},
        )
    )
    parts.append(
        "<footer>Generated by <code>curate</code> from report.json. Self-contained: no scripts, no network.</footer>"
    )
    parts.append("</main></body></html>\n")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Markdown


def _bar(n: int, top: int, width: int = 24) -> str:
    return "█" * max(1 if n else 0, round(width * n / top)) if top else ""


def _md_table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> list[str]:
    numeric = numeric or set()
    align = ["---:" if i in numeric else "---" for i in range(len(headers))]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return out


def render_markdown(data: dict[str, Any]) -> str:
    report, model, splits = data["report"], data["model"], data["splits"]
    rin, rout = int(report.get("records_in") or 0), int(report.get("records_out") or 0)
    rejected = int(report.get("rejected", rin - rout) or 0)
    lines = [f"# Curation report · {data['name']}", ""]
    lines.append(
        f"Target model `{report.get('model') or model.name}` (limit {fmt(model.max_tokens_per_example)} tokens per "
        f"example). Read **{fmt(rin)}** records, kept **{fmt(rout)}**, "
        f"rejected **{fmt(rejected)}** ({_pct(rejected, rin)})."
    )
    for warning in report.get("warnings") or []:
        lines += ["", f"> ⚠ {warning}"]
    funnel = report.get("funnel") or []
    lines += ["", "## Funnel", ""]
    top = max([rin, *(int(f.get("in", 0)) for f in funnel)] or [1])
    rows = [
        [
            str(f.get("stage")),
            fmt(f.get("in")),
            fmt(f.get("out")),
            fmt(f.get("dropped")),
            _bar(int(f.get("out", 0)), top),
        ]
        for f in funnel
    ]
    lines += _md_table(["stage", "in", "out", "dropped", ""], rows, {1, 2, 3})
    reasons = sorted((report.get("reasons") or {}).items(), key=lambda kv: -kv[1])
    if reasons:
        lines += ["", "### Dropped by reason", ""]
        peak = reasons[0][1] or 1
        lines += _md_table(["reason", "records", ""], [[f"`{k}`", fmt(v), _bar(v, peak)] for k, v in reasons], {1})
    lines += ["", "## Splits", ""]
    rows = []
    for name, info in splits.items():
        st = info.get("token_stats") or {}
        langs = ", ".join(f"{k} {fmt(v)}" for k, v in list((info.get("languages") or {}).items())[:5])
        srcs = ", ".join(f"{k} {fmt(v)}" for k, v in list((info.get("sources") or {}).items())[:4])
        rows.append([name, fmt(info.get("records")), fmt(info.get("tokens")), fmt(st.get("p95")), langs, srcs])
    lines += _md_table(["split", "records", "tokens", "p95 tokens", "languages", "sources"], rows, {1, 2, 3})
    for name, info in splits.items():
        hist = info.get("token_hist") or {}
        edges, counts = hist.get("edges") or [], hist.get("counts") or []
        if not counts:
            continue
        lines += [
            "",
            f"### Tokens per example · {name} (limit {fmt(hist.get('limit', model.max_tokens_per_example))})",
            "",
        ]
        peak = max(counts) or 1
        lines += (
            ["```"]
            + [f"{fmt(edges[i]):>8}–{fmt(edges[i + 1]):<8} {_bar(n, peak, 40)} {fmt(n)}" for i, n in enumerate(counts)]
            + ["```"]
        )
    lines += ["", "## Largest duplicate clusters", ""]
    if data["clusters"]:
        rows = []
        for c in data["clusters"]:
            members = c.get("members") or []
            rows.append(
                [
                    str(c.get("id")),
                    fmt(c.get("size")),
                    ", ".join(f"`{m}`" for m in members[:6]) + (f" … +{len(members) - 6}" if len(members) > 6 else ""),
                    str(c.get("snippet") or "")[:100],
                ]
            )
        lines += _md_table(["cluster", "size", "members", "kept text"], rows, {1})
    else:
        lines.append("No near-duplicate clusters.")
    lines += ["", "## Examples of each reject reason", ""]
    examples = report.get("reject_examples") or {}
    rows = [
        [
            f"`{code}`",
            str(item.get("stage", "")),
            f"`{item.get('id', '')}`",
            str(item.get("detail", ""))[:120],
            str(item.get("snippet", ""))[:100],
        ]
        for code, items in examples.items()
        for item in items[:3]
    ]
    lines += _md_table(["reason", "stage", "record", "detail", "text"], rows) if rows else ["Nothing was rejected."]
    lines += sections.markdown_sections(report, _md_table)
    lines += ["", "## Estimated training cost (training split, default epochs)", ""]
    rows = [
        [
            c["provider"],
            f"`{c['model']}`" + (" (target)" if c["target"] else ""),
            fmt(c["epochs"]),
            fmt(c["billed"]),
            f"${c['cost']:,.2f}" if c["cost"] is not None else "–",
        ]
        for c in data["costs"]
    ]
    lines += _md_table(["provider", "model", "epochs", "billed tokens", "cost"], rows, {2, 3, 4})
    lines.append("")
    return "\n".join(lines)

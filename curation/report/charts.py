"""Inline SVG charts, drawn in Python: no JavaScript, no CDN, so a report renders offline and prints well.

Each function returns one ``<svg>`` string sized by a viewBox (it scales with the page) with a <title>
for screen readers. Text is escaped; numbers use thousands separators.
"""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE: tuple[str, ...] = (
    "#4263eb",
    "#f59f00",
    "#12b886",
    "#e64980",
    "#7950f2",
    "#15aabf",
    "#fd7e14",
    "#82c91e",
    "#868e96",
    "#be4bdb",
)
KEPT = "#4263eb"
DROPPED = "#fa5252"
LIMIT = "#e03131"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


def fmt(n: float | int | None) -> str:
    if n is None:
        return "–"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.2f}"
    return f"{int(n):,}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg" {FONT} '
        f'font-size="12"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def funnel_chart(funnel: list[dict[str, Any]], records_in: int) -> str:
    """One row per stage: a bar for the records that came out, the dropped part in red, labels right."""
    rows = [f for f in funnel if isinstance(f, dict)]
    label_w, bar_w, num_w, row_h = 150, 470, 180, 30
    width, height = label_w + bar_w + num_w, 34 + row_h * (len(rows) + 1)
    top = max(records_in, *(int(f.get("in", 0)) for f in rows), 1)
    body = [
        f'<text x="{label_w}" y="16" fill="#495057">records kept after each stage (red: dropped there)</text>',
    ]
    y = 26
    body.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" fill="#212529">input</text>')
    body.append(
        f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * records_in / top:.1f}" height="20" rx="3" fill="#adb5bd"/>'
    )
    body.append(f'<text x="{label_w + bar_w + 8}" y="{y + 19}" fill="#212529">{fmt(records_in)}</text>')
    for f in rows:
        y += row_h
        out, dropped = int(f.get("out", 0)), int(f.get("dropped", 0))
        w_out, w_drop = bar_w * out / top, bar_w * dropped / top
        body.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" fill="#212529">'
            f"{escape(str(f.get('stage')))}</text>"
        )
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{w_out:.1f}" height="20" rx="3" fill="{KEPT}"/>')
        if dropped:
            body.append(
                f'<rect x="{label_w + w_out:.1f}" y="{y + 4}" width="{max(w_drop, 1.5):.1f}" '
                f'height="20" fill="{DROPPED}"/>'
            )
        note = f"{fmt(out)}" + (f"  (−{fmt(dropped)})" if dropped else "")
        body.append(f'<text x="{label_w + bar_w + 8}" y="{y + 19}" fill="#212529">{escape(note)}</text>')
    return _svg(width, height, "Records through the pipeline", body)


def bar_chart(items: list[tuple[str, int]], title: str, color: str = DROPPED) -> str:
    """Horizontal bars, largest first (used for drops by reason)."""
    items = items[:20]
    label_w, bar_w, num_w, row_h = 200, 430, 90, 26
    width, height = label_w + bar_w + num_w, 10 + row_h * max(len(items), 1)
    top = max((n for _, n in items), default=1) or 1
    body = []
    for i, (label, n) in enumerate(items):
        y = 6 + i * row_h
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="#212529">{escape(label)}</text>')
        body.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{max(bar_w * n / top, 1.5):.1f}" '
            f'height="18" rx="3" fill="{color}"/>'
        )
        body.append(f'<text x="{label_w + bar_w * n / top + 6:.1f}" y="{y + 15}" fill="#212529">{fmt(n)}</text>')
    return _svg(width, height, title, body)


def histogram(edges: list[int], counts: list[int], limit: int | None, title: str) -> str:
    """Token-length histogram with the model's per-example limit as a red vertical line."""
    width, height, left, right, top_pad, bottom = 720, 240, 56, 20, 28, 44
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    if not counts or len(edges) != len(counts) + 1:
        return _svg(width, 60, title, ['<text x="10" y="30" fill="#868e96">no token counts</text>'])
    lo, hi = edges[0], edges[-1]
    show_limit = limit is not None and limit <= hi * 4
    x_max = max(hi, limit) if show_limit and limit is not None else hi
    x_max = max(x_max, lo + 1)
    peak = max(counts) or 1

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (x_max - lo)

    body = [f'<text x="{left}" y="16" fill="#495057">{escape(title)}</text>']
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#868e96">{fmt(round(peak * frac))}</text>'
        )
    for i, n in enumerate(counts):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        h = plot_h * n / peak
        body.append(
            f'<rect x="{x0 + 0.5:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(x1 - x0 - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{KEPT}">'
            f"<title>{fmt(edges[i])}–{fmt(edges[i + 1])} tokens: {fmt(n)}</title></rect>"
        )
    axis_y = top_pad + plot_h
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" stroke="#adb5bd"/>')
    for v in (lo, (lo + x_max) / 2, x_max):
        body.append(
            f'<text x="{x(v):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#868e96">{fmt(round(v))}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" fill="#495057">tokens per example</text>'
    )
    if limit is not None:
        if show_limit:
            lx = x(limit)
            body.append(
                f'<line x1="{lx:.1f}" x2="{lx:.1f}" y1="{top_pad - 6}" y2="{axis_y}" stroke="{LIMIT}" '
                'stroke-width="2" stroke-dasharray="5 3"/>'
            )
            body.append(
                f'<text x="{lx - 4:.1f}" y="{top_pad + 6}" text-anchor="end" fill="{LIMIT}">limit {fmt(limit)}</text>'
            )
        else:
            body.append(
                f'<text x="{width - right}" y="16" text-anchor="end" fill="{LIMIT}">limit {fmt(limit)} '
                f"(far right of the longest example, {fmt(hi)})</text>"
            )
    return _svg(width, height, title, body)


def stacked_shares(rows: list[tuple[str, dict[str, int]]], title: str, top_n: int = 8) -> str:
    """One 100% bar per split, segments per category (top categories, the rest as 'other'), with a legend."""
    totals: dict[str, int] = {}
    for _, counts in rows:
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + int(v)
    keys = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]]
    has_other = len(totals) > len(keys)
    colors = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}
    label_w, bar_w, row_h = 110, 560, 30
    legend_rows = (len(keys) + has_other + 2) // 3
    width, height = label_w + bar_w + 30, 8 + row_h * len(rows) + 22 * legend_rows + 10
    body = []
    for i, (name, counts) in enumerate(rows):
        y = 6 + i * row_h
        total = sum(int(v) for v in counts.values()) or 1
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="#212529">{escape(name)}</text>')
        x = float(label_w)
        segments = [(k, int(counts.get(k, 0))) for k in keys]
        if has_other:
            segments.append(("other", total - sum(n for _, n in segments)))
        for k, n in segments:
            if n <= 0:
                continue
            w = bar_w * n / total
            color = colors.get(k, "#ced4da")
            body.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="20" fill="{color}">'
                f"<title>{escape(k)}: {fmt(n)} ({100 * n / total:.1f}%)</title></rect>"
            )
            if w > 44:
                body.append(f'<text x="{x + 4:.1f}" y="{y + 17}" fill="#fff">{escape(k)[:10]}</text>')
            x += w
    y0 = 8 + row_h * len(rows) + 4
    legend = [*keys, *(["other"] if has_other else [])]
    for i, k in enumerate(legend):
        lx, ly = label_w + (i % 3) * 190, y0 + (i // 3) * 22
        body.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" rx="2" fill="{colors.get(k, "#ced4da")}"/>')
        count = fmt(totals.get(k, 0)) if k != "other" else ""
        label = escape(k[:20] + ("…" if len(k) > 20 else ""))
        body.append(f'<text x="{lx + 18}" y="{ly + 11}" fill="#495057">{label} {count}</text>')
    return _svg(width, height, title, body)

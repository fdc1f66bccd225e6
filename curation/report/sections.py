"""Report sections for flags and decontamination: what was kept with a warning, and which evaluation sets
were checked. Both come from report.json (``flags``, ``decontamination``), so every renderer shows the same."""

from __future__ import annotations

from html import escape
from typing import Any

from .charts import fmt

_FLAG_HELP = ("Flagged records are kept and trained on unless you review them or set "
              "<code>flags: {CODE: drop}</code> in the run config.")


def flag_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for code, counts in (report.get("flags") or {}).items():
        by_split = ", ".join(f"{k} {fmt(v)}" for k, v in (counts.get("by_split") or {}).items()) or "–"
        rows.append([code, fmt(counts.get("kept", 0)), fmt(counts.get("dropped", 0)), by_split])
    return rows


def eval_rows(report: dict[str, Any]) -> list[list[str]]:
    files = (report.get("decontamination") or {}).get("eval_files") or []
    return [[str(f.get("path")), str(f.get("layout") or ""), fmt(f.get("items", 0)), fmt(f.get("matched", 0))]
            for f in files]


def html_sections(report: dict[str, Any], table: Any) -> list[str]:
    """``table(headers, rows, numeric)`` is the renderer's own table helper."""
    parts = ["<h2>Flags</h2>"]
    rows = flag_rows(report)
    if rows:
        parts.append(f"<p>{_FLAG_HELP}</p>")
        parts.append(table(["flag", "kept", "dropped", "kept by split"],
                           [[f"<code>{escape(r[0])}</code>", *map(escape, r[1:])] for r in rows], {1, 2}))
    else:
        parts.append("<p>No record carries a flag.</p>")
    rows = eval_rows(report)
    if rows:
        parts.append("<h2>Decontamination</h2>")
        parts.append(table(["evaluation file", "layout", "items", "training records matched"],
                           [[f"<code>{escape(r[0])}</code>", *map(escape, r[1:])] for r in rows], {2, 3}))
    return parts


def markdown_sections(report: dict[str, Any], table: Any) -> list[str]:
    lines = ["", "## Flags", ""]
    rows = flag_rows(report)
    if rows:
        lines += [_FLAG_HELP.replace("<code>", "`").replace("</code>", "`"), ""]
        lines += table(["flag", "kept", "dropped", "kept by split"], [[f"`{r[0]}`", *r[1:]] for r in rows], {1, 2})
    else:
        lines.append("No record carries a flag.")
    rows = eval_rows(report)
    if rows:
        lines += ["", "## Decontamination", ""]
        lines += table(["evaluation file", "layout", "items", "training records matched"],
                       [[f"`{r[0]}`", *r[1:]] for r in rows], {2, 3})
    return lines


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Plain lines for the CLI summary."""
    lines = []
    flags = report.get("flags") or {}
    if flags:
        shown = ", ".join(f"{code} {fmt(c.get('kept', 0))}" + (f" (+{fmt(c['dropped'])} dropped)"
                                                               if c.get("dropped") else "")
                          for code, c in flags.items())
        lines.append(f"flags (kept, trained on unless reviewed or set to drop under `flags:`): {shown}")
    for f in (report.get("decontamination") or {}).get("eval_files") or []:
        lines.append(f"decontamination: {f['path']}: {fmt(f['items'])} items, {fmt(f['matched'])} training "
                     "records matched and removed")
    return lines

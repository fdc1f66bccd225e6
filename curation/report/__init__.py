"""The run report: report.json -> one self-contained report.html (inline CSS and SVG) and report.md."""

from __future__ import annotations

from .render import collect, render_html, render_markdown, render_report

__all__ = ["collect", "render_html", "render_markdown", "render_report"]

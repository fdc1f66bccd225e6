"""`curate models`: the fine-tuning target table (curation/targets/table.toml), with days left from today."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

_FORMAT = "{:<14} {:<28} {:<8} {:<14} {:<10} {:<10} {:>9} {:>8} {:<22} {}"


def _rows(table: Any, day: dt.date, provider: str | None, method: str | None, status: str | None) -> list[Any]:
    from ..targets import Target

    rows = []
    for p in table.providers.values():
        if provider and p.name != provider:
            continue
        for target in [Target(p, m) for m in p.models.values()] or [Target(p)]:
            if method and method not in target.methods():
                continue
            if status and target.status_on(day) != status:
                continue
            rows.append(target)
    return rows


def _days_left(target: Any, day: dt.date) -> str:
    if target.status_on(day) == "closed":
        return "closed"
    dates = [d for d in (target.value("new_jobs_until"), target.value("shutdown")) if d and d >= day]
    return str((min(dates) - day).days) if dates else "-"


def _row_json(target: Any, day: dt.date) -> dict[str, Any]:
    facts = {name: {"value": f.value.model_dump() if hasattr(f.value, "model_dump") else
                    (str(f.value) if isinstance(f.value, dt.date) else f.value),
                    "source": f.source, "as_of": str(f.as_of)} for name, f in target.facts().items()}
    return {"provider": target.provider.name, "model": target.model_id, "status_today": target.status_on(day),
            "days_left": _days_left(target, day), "exporter": target.provider.exporter,
            "trainer": target.provider.trainer, "facts": facts}


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        provider: Annotated[str | None, typer.Option("--provider", help="only this provider (azure-openai...)")]
        = None,
        method: Annotated[str | None, typer.Option("--method", help="only targets taking sft, dpo, rft or kto")]
        = None,
        status: Annotated[str | None, typer.Option("--status", help="only active, closing or closed (today)")]
        = None,
        today: Annotated[str | None, typer.Option("--today", help="read dates as of YYYY-MM-DD (default: today, UTC)")]
        = None,
        as_json: Annotated[bool, typer.Option("--json", help="every fact with its source URL and date")] = False,
    ) -> None:
        """Fine-tuning targets: methods, status and dates (days left), limits, content, prices; every fact has
        a source and date (`--json`). Override the table with `targets:` in a run config or CURATION_TARGETS."""
        from ..errors import ConfigError
        from ..targets import load_table
        from ..targets import today as default_today

        if method and method not in ("sft", "dpo", "rft", "kto"):
            raise ConfigError(f"unknown --method {method!r}", hint="use sft, dpo, rft or kto")
        if status and status not in ("active", "closing", "closed"):
            raise ConfigError(f"unknown --status {status!r}", hint="use active, closing or closed")
        try:
            day = dt.date.fromisoformat(today) if today else default_today()
        except ValueError:
            raise ConfigError(f"--today {today!r} is not a date", hint="write YYYY-MM-DD") from None
        table = load_table()
        if provider and provider not in table.providers:
            raise ConfigError(f"unknown --provider {provider!r}", hint=f"use one of: {', '.join(table.providers)}")
        rows = _rows(table, day, provider, method, status)
        if as_json:
            typer.echo(json.dumps({"today": str(day), "targets": [_row_json(t, day) for t in rows]}, indent=2))
            return
        typer.echo(_FORMAT.format("PROVIDER", "MODEL", "STATUS", "METHODS", "NEW JOBS", "SHUTDOWN", "DAYS LEFT",
                                  "TOK/EX", "CONTENT", "TRAIN $/1M"))
        for t in rows:
            content = t.content()
            kinds = ",".join(k for k in ("tools", "images", "reasoning") if getattr(content, k)) or "text"
            tokens = t.value("max_tokens_per_example")
            price = t.value("train_usd_per_1m_tokens")
            model = t.model_id or ("(any, at job creation)" if t.provider.any_model else "-")
            typer.echo(_FORMAT.format(
                t.provider.name, model[:28], t.status_on(day), ",".join(t.methods()),
                str(t.value("new_jobs_until") or "-"), str(t.value("shutdown") or "-"), _days_left(t, day),
                f"{tokens:,}" if tokens else "-", kinds, f"{price:g}" if price is not None else "-"))
        typer.echo(f"{len(rows)} target(s) as of {day}; sources and dates per fact: curate models --json")

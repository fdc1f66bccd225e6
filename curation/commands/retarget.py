"""`curate retarget RUN --to PROVIDER[:MODEL]`: re-check a curated run against another target and export it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

_SHOW_IDS = 10


def register(app: typer.Typer) -> None:
    @app.command("retarget")
    def retarget(
        run_dir: Annotated[Path, typer.Argument(help="Run folder written by `curate run --out`.")],
        to: Annotated[str, typer.Option("--to", help="PROVIDER[:MODEL], comma-separated for several (e.g. "
                                        "azure-openai:gpt-4.1-mini,vertex-gemini:gemini-2.5-flash,hf-local); "
                                        "see `curate models`")],
        method: Annotated[str, typer.Option("--method", help="auto, sft or dpo")] = "auto",
        skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Leave out the records a target "
                                                   "refuses (listed in retarget-skipped.jsonl) instead of "
                                                   "refusing the target.")] = False,
        strict: Annotated[bool, typer.Option("--strict", help="Warnings refuse too; exit 1 when a target is "
                                             "refused.")] = False,
        check_only: Annotated[bool, typer.Option("--check", help="Report only; write no export.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    ) -> None:
        """Check every record of RUN_DIR against each target's rules and limits from the target table (methods,
        tokens per example with the target's tokenizer or a measured estimate, tools, images, reasoning,
        counts and file sizes), list what would be refused and why, and write the export
        (RUN_DIR/exports/<format>/<kind>/; full report in RUN_DIR/retarget/<provider>.json)."""
        from ..errors import ConfigError, RefusedError
        from ..targets.retarget import retarget as do_retarget

        if not run_dir.is_dir():
            raise ConfigError(f"{run_dir} is not a run folder", hint="run `curate run --out RUN_DIR` first")
        specs = [s.strip() for s in to.split(",") if s.strip()]
        if not specs:
            raise ConfigError("no target given", hint="e.g. --to azure-openai:gpt-4.1-mini (see `curate models`)")
        results = [do_retarget(run_dir, spec, method=method, skip_invalid=skip_invalid, strict=strict,
                               write=not check_only) for spec in specs]
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
        else:
            for r in results:
                refused = len(r.refused_ids)
                typer.echo(f"{r.target} ({r.status}; tokens: {r.tokenizer}): {r.records} record(s) checked, "
                           f"{refused} would be refused" + (f", {r.skipped} left out" if r.skipped else ""))
                for f in r.findings:
                    ids = f" [{', '.join(f.ids[:_SHOW_IDS])}{', ...' if len(f.ids) > _SHOW_IDS else ''}]" if f.ids \
                        else ""
                    typer.echo(f"  {f.severity} {f.code}: {f.message}{ids}")
                for line in r.warnings + r.changed_exports:
                    typer.secho(f"  warning: {line}", err=True, fg=typer.colors.YELLOW)
                for line in r.written:
                    typer.echo(f"  {line}")
                for line in r.refused:
                    typer.secho(f"  {line}", err=True, fg=typer.colors.RED)
                typer.echo(f"  report (every id): {r.report_path}")
        changed = [line for r in results for line in r.changed_exports]
        if changed and strict:  # --strict: a warning refuses, and an export that is not what was written is one
            raise RefusedError(f"{len(changed)} export(s) deleted or changed since they were written",
                               hint="re-export them (named above), or drop --strict")
        refused = [r.target for r in results if r.refused]
        if refused:
            message = f"{len(refused)} target(s) refused: {', '.join(refused)}"
            if strict:
                raise RefusedError(message, hint="fix the rules named above, or drop --strict")
            typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)

"""`curate export RUN_DIR --to openai,hf`: provider-ready files, checked against each provider's rules first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        run_dir: Annotated[Path, typer.Argument(help="Run folder written by `curate run --out`.")],
        to: Annotated[
            str,
            typer.Option(
                "--to",
                help="Comma-separated formats: openai, azure-openai, bedrock-claude, vertex-gemini, together, "
                "mistral, hf.",
            ),
        ] = "openai",
        model: Annotated[
            str | None,
            typer.Option("--model", help="Target model (default: each provider's, gpt-4o-mini for OpenAI)."),
        ] = None,
        method: Annotated[str, typer.Option("--method", help="auto, sft (conversations), dpo (pairs) or kto "
                                                             "(labelled conversations, hf only).")] = "auto",
        azure_bom: Annotated[
            bool, typer.Option("--azure-bom/--no-azure-bom", help="Write Azure files as UTF-8 with BOM.")
        ] = False,
        skip_invalid: Annotated[
            bool, typer.Option("--skip-invalid", help="Leave out records a provider cannot take instead of failing.")
        ] = False,
        strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
        push_to_hub: Annotated[
            str | None, typer.Option("--push-to-hub", help="Push the hf export to this Hub dataset repo (HF_TOKEN).")
        ] = None,
        public: Annotated[bool, typer.Option("--public", help="Create the Hub repo as public.")] = False,
    ) -> None:
        """Write provider-ready files into RUN_DIR/exports/<format>/ (nothing is written if a rule fails)."""
        from ..errors import CurationError
        from ..exporters import ExportCheckError, ExportOptions, export_run

        if method not in ("auto", "sft", "dpo", "kto"):
            raise CurationError(f"unknown --method {method!r}", hint="use auto, sft, dpo or kto")
        options = ExportOptions(
            model=model,
            method=method,  # type: ignore[arg-type]
            azure_bom=azure_bom,
            skip_invalid=skip_invalid,
            allow_warnings=not strict,
            push_to_hub=push_to_hub,
            hub_private=not public,
        )
        try:
            result = export_run(run_dir, to, options)
        except ExportCheckError as exc:
            for issue in exc.issues:
                color = typer.colors.RED if issue.severity == "error" else typer.colors.YELLOW
                typer.secho(str(issue), err=True, fg=color)
            raise
        for issue in result.warnings:
            typer.secho(str(issue), err=True, fg=typer.colors.YELLOW)
        for name, paths in result.paths.items():
            typer.echo(f"{name}: {run_dir / 'exports' / name}  ({result.seconds.get(name, 0):.2f} s)")
            for path in paths:
                if path.is_file() and path.suffix in (".jsonl", ".parquet", ".md"):
                    typer.echo(f"  {path.relative_to(run_dir)}  {path.stat().st_size:,} bytes")

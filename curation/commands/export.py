"""`curate export RUN_DIR --to openai,hf`: provider-ready files, checked against each provider's rules first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._where import EXECUTOR_HELP, WORKERS_HELP


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        run_dir: Annotated[Path, typer.Argument(help="Run folder written by `curate run --out`.")],
        to: Annotated[
            str,
            typer.Option(
                "--to",
                help="Comma-separated formats: openai, azure-openai, bedrock-nova, vertex-gemini, together, "
                "mistral (mistral-finetune, local), hf; bedrock-claude (closed).",
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
        strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors; exit 1 when a format is "
                                             "refused.")] = False,
        push_to_hub: Annotated[
            str | None, typer.Option("--push-to-hub", help="Push the hf export to this Hub dataset repo (HF_TOKEN).")
        ] = None,
        public: Annotated[bool, typer.Option("--public", help="Create the Hub repo as public.")] = False,
        cap: Annotated[
            list[str] | None,
            typer.Option("--cap", help="FORMAT=N: export a deterministic sample of at most N training records to "
                         "that format (to meet its size or count limit); repeatable."),
        ] = None,
        workers: Annotated[int | None, typer.Option("--workers", help=WORKERS_HELP)] = None,
        executor: Annotated[str | None, typer.Option("--executor", help=EXECUTOR_HELP + " ray needs the run "
                                                     "folder on a filesystem every node shares.")] = None,
    ) -> None:
        """Write provider-ready files into RUN_DIR/exports/<format>/<sft|dpo>/; each format is written or refused
        on its own (exit 1 under --strict when one is refused)."""
        from ..errors import CurationError
        from ..exporters import ExportOptions, export_run
        from ._where import check_where

        check_where(workers, executor)
        if method not in ("auto", "sft", "dpo", "kto"):
            raise CurationError(f"unknown --method {method!r}", hint="use auto, sft, dpo or kto")
        caps: dict[str, int] = {}
        for item in cap or []:
            name, _, number = item.partition("=")
            if not number.strip().isdigit():
                raise CurationError(f"--cap {item!r} is not FORMAT=N", hint="write e.g. --cap openai=300000")
            caps[name.strip()] = int(number)
        options = ExportOptions(
            max_train_examples=caps,
            model=model,
            method=method,  # type: ignore[arg-type]
            azure_bom=azure_bom,
            skip_invalid=skip_invalid,
            allow_warnings=not strict,
            push_to_hub=push_to_hub,
            hub_private=not public,
        )
        from ..run_folder import export_changes

        # An export deleted or edited since it was written is said, whichever format this command writes.
        before = export_changes(run_dir) if (run_dir / "splits").is_dir() else {}
        result = export_run(run_dir, to, options, each=True, executor=executor or "auto", workers=workers)
        exports = run_dir / "exports"
        written = {"/".join(Path(p).relative_to(exports).parts[:2]) for paths in result.paths.values()
                   for p in paths if Path(p).is_relative_to(exports)}
        # what was written now is sealed anew; the other exports are as they were found just before
        after = {target: change for target, change in before.items() if target not in written}
        for target, change in before.items():
            if target in written:
                typer.secho(f"note: {change.where}: {change.what}; exported again now", err=True)
        from ..exporters import run_kinds
        from ..targets import lifecycle_lines, table_for_run

        # After the folder proved sound (a refused folder stays one error line): dates and open alternatives
        needs = run_kinds(run_dir) if method == "auto" else [method]
        for line in lifecycle_lines(formats=[f.strip() for f in to.split(",")], format_model=model, needs=needs,
                                    table=table_for_run(run_dir)):
            typer.secho(f"warning: {line}", err=True, fg=typer.colors.YELLOW)
        from ..exporters.outcome import outcome_lines, record_outcome

        record_outcome(Path(run_dir), result)
        for issue in result.warnings:
            typer.secho(str(issue), err=True, fg=typer.colors.YELLOW)
        for ok, line in outcome_lines(result, not strict):
            typer.secho(line, err=not ok, fg=None if ok else typer.colors.RED)
        for change in after.values():
            typer.secho(f"warning: {change}", err=True, fg=typer.colors.YELLOW)
        if after and strict:
            from ..errors import RefusedError

            raise RefusedError(f"{len(after)} earlier export(s) deleted or changed since they were written: "
                               f"{', '.join(after)}", hint="re-export them (named above), or drop --strict")
        if result.refused:
            from ..errors import RefusedError

            message = f"{len(result.refused)} export target(s) refused: {', '.join(result.refused)}"
            if not any(result.paths.values()):  # the export asked for was not done: no exit 0
                raise RefusedError(f"no export was written: {message}", hint="fix the rules named above")
            if strict:
                raise RefusedError(message, hint="fix the rules named above, or drop --strict to accept the rest")
            typer.secho(f"warning: {message}; the others were written", err=True, fg=typer.colors.YELLOW)

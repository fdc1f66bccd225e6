"""`curate run` and `curate init`: the main job, and a commented config to start from."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError


def _summary(result, console) -> None:  # noqa: ANN001 - rich types are imported lazily
    from rich.table import Table

    report = result.report
    table = Table(title=f"curated {result.records_in:,} records into {result.run_dir}", show_lines=False)
    table.add_column("stage")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("dropped (by reason)")
    for row in report["funnel"]:
        if row["dropped"] or row["stage"] in ("ingest", "split"):
            reasons = ", ".join(f"{k} {v:,}" for k, v in row["by_reason"].items())
            table.add_row(row["stage"], f"{row['in']:,}", f"{row['out']:,}", reasons)
    console.print(table)
    splits = ", ".join(f"{name} {info['records']:,}" for name, info in report["splits"].items())
    tokens = report["tokens"]
    cost = tokens.get("estimated_cost_usd")
    console.print(f"splits: {splits}; rejected {result.rejected:,} (see rejects.jsonl)")
    console.print(
        f"training tokens: {tokens['train']:,} x {tokens['default_epochs']} epochs = "
        f"{tokens['billed_training_tokens']:,} billed" + (f", about ${cost:,.2f} on {report['model']}" if cost else "")
    )
    for kind, info in (tokens.get("by_kind") or {}).items():
        costs = ", ".join(f"${m['estimated_cost_usd']:,.2f} on {name} ({m['epochs']} epochs)"
                          for name, m in info["models"].items() if m["estimated_cost_usd"] is not None)
        console.print(f"  {kind.upper()}: {info['records']:,} train records, {info['tokens']:,} tokens"
                      + (f", about {costs}" if costs else ""), markup=False)
    from ..report.sections import summary_lines

    for line in summary_lines(report):
        console.print(line, markup=False)
    for line in result.export_lines:
        console.print(f"export {line}", markup=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def run_command(
    config: Annotated[Path | None, typer.Argument(help="YAML run config (see `curate init`).")] = None,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="Input file or folder (repeatable).")
    ] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Run folder (default runs/<timestamp>).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Target model (token limits, prices).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for every random choice.")] = None,
    export: Annotated[str | None, typer.Option("--export", help="Comma-separated exporters (openai,hf,...); "
                                                                 "'none' for none.")] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Override any key: --set split.test=0.1")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes (default: all cores).")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Train on the result with this backend.")] = None,
    train_params: Annotated[list[str] | None, typer.Option("--param", help="Trainer parameter k=v.")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 when an input file could not be read or an export target is refused (the run "
        "and the other targets are still written).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    no_resume: Annotated[bool, typer.Option(
        "--no-resume", help="Start over even when an interrupted run in --out left finished shards.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json to stdout.")] = False,
) -> None:
    """Curate raw conversations into clean, deduplicated, balanced splits (and exports)."""
    from rich.console import Console

    from ..config import load_config
    from ..pipeline.runner import run_pipeline

    values: dict[str, object] = {"out": out, "model": model, "seed": seed, "runner.workers": workers}
    if inputs:
        values["inputs"] = inputs
    if strict:
        values["export.strict"] = True
    if export is not None:
        values["export.formats"] = [] if export.strip().lower() in ("", "none") else [
            e.strip() for e in export.split(",") if e.strip()]
    if config is None and not inputs:
        raise ConfigError("nothing to curate", hint="give a config file (`curate init` writes one) or --input PATH")
    cfg = load_config(config, overrides=overrides, values=values)
    params: dict[str, object] = {}
    if train:
        from .. import plugins
        from ..trainers.base import get_backend, parse_params

        plugins.get_trainer(train)  # an unknown backend or bad parameter fails before any work
        params = parse_params(train_params)
        get_backend(train).check_params(params)
    from ..targets import lifecycle_lines

    for line in lifecycle_lines(model=cfg.model, formats=cfg.export.formats, table=_run_table(cfg)):
        typer.secho(f"warning: {line}", err=True, fg=typer.colors.YELLOW)
    if train:  # a job on a closed target is refused now, not after the run
        from ..targets import refuse_if_closed, target_for_backend

        refuse_if_closed(target_for_backend(train, str(params.get("model") or "") or None, _run_table(cfg)))
    from ..exporters.limits import predict_limit_warnings

    for warning in predict_limit_warnings(cfg):  # a limit the data will break is said now, not after the run
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    result = run_pipeline(cfg, quiet=quiet or as_json, resume=not no_resume)
    from ..errors import RefusedError
    from ..pipeline.finish import finish_run

    refusal: RefusedError | None = None
    try:
        finish_run(result, cfg)
    except RefusedError as exc:  # an export refused: the summary with each export's reason still comes first
        refusal = exc
    console = Console(stderr=True)
    if as_json:
        sys.stdout.write(json.dumps(result.report, ensure_ascii=False) + "\n")
    elif not quiet:
        _summary(result, console)
    if refusal is not None:
        raise refusal
    if result.records_in == 0:  # `curate run && curate train` must not go on with nothing
        typer.echo("error: the inputs hold no records, so nothing was curated (check the paths; the report "
                   f"lists each input: {result.run_dir}/report.json)", err=True)
        raise typer.Exit(1)
    if strict and result.report.get("bad_files"):
        typer.echo(f"error: {len(result.report['bad_files'])} input file(s) could not be read (--strict)", err=True)
        raise typer.Exit(1)
    funnel = result.report.get("funnel") or [{}]
    if funnel[0].get("stage") == "ingest" and funnel[0].get("in") and not funnel[0].get("out"):
        # every input was unreadable or unknown (a clone without git-lfs, the wrong folder): nothing was curated
        typer.echo(f"error: none of the {funnel[0]['in']} input record(s) or file(s) could be read as a conversation "
                   f"({', '.join(sorted(funnel[0].get('by_reason') or {}))}; see {result.run_dir}/rejects.jsonl)",
                   err=True)
        raise typer.Exit(1)
    if not result.records_out:  # every record was rejected: nothing to train on, and no export was written
        by_reason = Counter[str]()
        for step in funnel:
            by_reason.update(step.get("by_reason") or {})
        top = ", ".join(f"{code} {n:,}" for code, n in by_reason.most_common(3))
        typer.echo(f"error: none of the {result.records_in:,} input record(s) passed curation ({top}; see "
                   f"{result.run_dir}/rejects.jsonl and report.html)", err=True)
        raise typer.Exit(1)
    if train:
        from ..trainers import jobs
        from .train import follow_job

        job = jobs.start(result.run_dir, train, params)
        typer.echo(f"job {job.id} ({job.backend}) {job.status}", err=True)
        code = follow_job(job.id, None, poll=2.0, quiet=quiet)
        if code:
            raise typer.Exit(code)


def _run_table(cfg):  # noqa: ANN001, ANN202
    from ..targets import load_table

    return load_table(cfg.targets or None)


def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("curation.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config with every stage on and the defaults spelled out."""
    from ..config import commented_default_config

    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="choose another path or pass --force")
    path.write_text(commented_default_config(), encoding="utf-8")
    typer.echo(f"wrote {path}; edit `inputs:` and run: curate run {path}")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("init")(init_command)

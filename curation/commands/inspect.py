"""`curate inspect`: records, validity by reason code, tokens and cost of the given files, without writing."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from ..readers.formats import FORMAT_NAMES as _FORMATS  # noqa: E402 - light: names only, for --help
from ._where import EXECUTOR_HELP, WORKERS_HELP, check_where

_FORMAT_HELP = f"Force the input format: {', '.join(_FORMATS)}."

def _dist(values: dict[str, Any] | None) -> str:
    if not values:
        return "-"
    parts = (values["min"], values["mean"], values["p50"], values["p95"], values["max"])
    return " / ".join(f"{v:,.0f}" for v in parts)


def _shortener(paths: list[str]) -> Any:
    """Show paths relative to the folder they share, so tables stay readable in a terminal."""
    import os

    if not paths:
        return lambda text: text
    base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    prefixes = sorted(((p, os.path.relpath(os.path.abspath(p), base)) for p in paths), key=lambda x: -len(x[0]))

    def short(text: str) -> str:
        for full, rel in prefixes:
            if text.startswith(full):
                return rel + text[len(full) :]
        return text

    return short


def print_report(report: dict[str, Any], console: Any) -> None:
    """The human view of an inspect report: files, findings with their first locations and fixes, totals."""
    from rich.table import Table

    short = _shortener([item["path"] for item in report["files"]])
    files = Table(title="files", title_justify="left")
    for column, justify in (
        ("path", "left"),
        ("format", "left"),
        ("records", "right"),
        ("valid", "right"),
        ("invalid", "right"),
        ("tok p50", "right"),
        ("max", "right"),
        ("over", "right"),
    ):
        # Long paths wrap rather than end in an ellipsis: the path is what people need to find the file.
        files.add_column(
            column,
            justify=justify,
            overflow="fold" if column == "path" else "ellipsis",
            min_width=16 if column == "path" else None,
        )  # type: ignore[arg-type]
    for item in report["files"]:
        dist = item["tokens"]["distribution"] or {}
        files.add_row(
            short(item["path"]),
            item["format"] or "-",
            f"{item['records']:,}",
            f"{item['valid']:,}",
            f"[red]{item['invalid']:,}[/red]" if item["invalid"] else "0",
            f"{dist.get('p50', 0):,.0f}" if dist else "-",
            f"{dist.get('max', 0):,}" if dist else "-",
            f"{item['tokens']['over_limit']:,}",
        )
    console.print(files)

    if report["codes"]:
        findings = Table(title="findings (records per reason code)", title_justify="left", show_lines=True)
        findings.add_column("code")
        findings.add_column("records", justify="right")
        findings.add_column("first seen", overflow="fold")
        findings.add_column("fix")
        for code, info in report["codes"].items():
            colour = "red" if info["severity"] == "error" else "yellow"
            first = info["first"]
            seen = f"{short(first[0]['where'])}: {first[0]['message']}" if first else ""
            if len(first) > 1:
                seen += "\nalso " + ", ".join(short(loc["where"]) for loc in first[1:3])
            findings.add_row(f"[{colour}]{code}[/{colour}]", f"{info['records']:,}", seen, info["hint"])
        console.print(findings)

    model = report["model"]
    training = report["training"]
    tokens = report["tokens"]
    summary = Table(title="totals", title_justify="left", show_header=False)
    summary.add_column("what")
    summary.add_column("value")
    records = f"{report['records']:,} = {report['valid']:,} valid + {report['invalid']:,} invalid"
    summary.add_row("records read", records)
    summary.add_row(f"tokens ({model['encoding']})", f"{tokens['total']:,} ({tokens['valid_total']:,} in valid)")
    summary.add_row("tokens min / mean / p50 / p95 / max", _dist(tokens["distribution"]))
    summary.add_row("turns min / mean / p50 / p95 / max", _dist(report["turns"]["distribution"]))
    summary.add_row(f"over {model['name']}'s {model['max_tokens_per_example']:,} limit", f"{tokens['over_limit']:,}")
    summary.add_row("default epochs (cookbook)", str(training["epochs"]))
    summary.add_row(
        "billed training tokens",
        f"{training['tokens_per_epoch']:,} x {training['epochs']} = {training['billed_tokens']:,}",
    )
    cost = training["cost_usd"]
    price = training["price_per_1m"]
    summary.add_row(
        "estimated cost", f"${cost:,.2f} at ${price:,.2f}/1M tokens" if cost is not None else "unknown (no price)"
    )
    console.print(summary)
    file_notes = [f"{short(f['path'])}: {n}" for f in report["files"] for n in f["notes"] if "empty" not in n]
    for note in [short(n) for n in report["notes"]] + file_notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def inspect_command(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or folders to inspect (JSONL, JSON, parquet, .gz...).")
    ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Target model: token limit, encoding, price.")] = (
        "azure/gpt-4.1-mini"
    ),
    format: Annotated[str | None, typer.Option("--format", "-f", help=_FORMAT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help=WORKERS_HELP)] = None,
    executor: Annotated[str | None, typer.Option("--executor", help=EXECUTOR_HELP)] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Run config: its inputs (formats, mappings), model and normalise "
                     "settings, so inspect judges exactly as `curate run` does."),
    ] = None,
    suggest_mapping: Annotated[
        bool, typer.Option("--suggest-mapping", help="Print the `inputs:` config snippet that reads these files.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when a file could not be read.")] = False,
) -> None:
    """Count records, check them against provider rules (reason codes, first locations, fixes), count
    tokens and estimate the training cost. Writes nothing."""
    from ..inspect import inspect_config, inspect_paths

    if suggest_mapping:
        from ..readers.suggest import suggest_inputs_yaml

        if not paths:
            raise ConfigError("--suggest-mapping needs a file", hint="curate inspect FILE --suggest-mapping")
        sys.stdout.write(suggest_inputs_yaml(paths))
        return
    if not paths and config is None:  # checked here rather than by click so that it reads like every other error
        raise ConfigError("no input given", hint="curate inspect FILE_OR_FOLDER [...]")
    check_where(workers, executor)
    if format is not None:
        from ..readers import FORMAT_NAMES

        if format not in FORMAT_NAMES:
            from ..suggest import did_you_mean

            raise ConfigError(f"unknown input format {format!r}{did_you_mean(format, FORMAT_NAMES)}",
                              hint=f"use one of: {', '.join(FORMAT_NAMES)}")
    if config is not None:
        from ..config import load_config

        values: dict[str, object] = {"inputs": paths} if paths else {}
        if format is not None and paths:
            values["inputs"] = [{"path": p, "format": format} for p in paths]
        run_config = load_config(config, values=values)
        report = inspect_config(run_config, workers=workers, executor=executor)
    else:
        report = inspect_paths(paths or [], model=model, format=format, workers=workers,
                               executor=executor or "auto")
    from ..targets import lifecycle_lines, load_table

    table = load_table(run_config.targets or None) if config is not None else None
    for line in lifecycle_lines(model=run_config.model if config is not None else model, table=table):
        typer.secho(f"warning: {line}", err=True, fg=typer.colors.YELLOW)
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        from rich.console import Console

        print_report(report, Console())
    if strict and report["bad_files"]:
        typer.echo(f"error: {len(report['bad_files'])} file(s) could not be read (--strict)", err=True)
        raise typer.Exit(1)
    # The exit-code contract `curate run` keeps: nothing usable is no success (`inspect data && curate run` stops).
    if not report["records"] and not report["bad_files"]:
        typer.echo("error: the inputs hold no records (check the paths)", err=True)
        raise typer.Exit(1)
    if not report["valid"]:
        typer.echo(f"error: none of the {report['records']:,} record(s) and {len(report['bad_files'])} file(s) is a "
                   "valid conversation (the codes above say why and how to fix them)", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)

"""`curate eval RUN --model REF [--baseline REF ...]` and `curate eval RUN --record REF`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError, RefusedError

REF_HELP = ("model reference: a local folder (final/ of an hf-local job, full or LoRA), ft:... or openai:NAME, "
            "azure:DEPLOYMENT, http://HOST/v1#MODEL, or job:JOB_ID; options after ';' (max_tokens=N, seed=N, "
            "key_env=VAR)")


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    typer.echo(f"evaluated {summary['n_prompts']} prompts of the {summary['split']} split")
    for name, model in summary["models"].items():
        metrics = "  ".join(f"{m} {v['mean']:.3f}" for m, v in model["metrics"].items())
        cost = "n/a" if model["cost_usd"] is None else f"${model['cost_usd']:.4f}"
        typer.echo(f"  {name}: {metrics}  latency {model['latency_s']['mean'] or 0:.2f}s  tokens "
                   f"{model['tokens']['prompt']}/{model['tokens']['completion']}  cost {cost}"
                   + (f"  errors {model['errors']}" if model["errors"] else ""))
    for key, comp in summary["comparisons"].items():
        ci = comp["net_ci"] or [0, 0]
        typer.echo(f"  {key}: win {comp['win']} tie {comp['tie']} loss {comp['loss']}  net {comp['net']:+.2f} "
                   f"[{ci[0]:+.2f}, {ci[1]:+.2f}]")
    typer.echo(f"report: {out / 'report.html'}  (results.jsonl, summary.json)")


def evaluate(run_dir: Path, model: str, baselines: list[str], *, judge: str | None = None, name: str | None = None,
             split: str | None = None, limit: int | None = None, max_tokens: int | None = None,
             seed: int | None = None, out: Path | None = None, quiet: bool = False) -> Path:
    """Parse the references, run the evaluation, print its summary; returns the eval folder."""
    import json

    from ..evals.runner import run_eval
    from ..models_ref import parse_ref

    ref = parse_ref(model, max_tokens=max_tokens, seed=seed)
    bases = [parse_ref(b, max_tokens=max_tokens, seed=seed) for b in baselines]
    judge_ref = parse_ref(judge, seed=seed) if judge else None
    folder = run_eval(run_dir, ref, bases, name=name, judge=judge_ref, split=split, limit=limit, out_root=out,
                      progress=None if quiet else lambda line: typer.echo(f"  {line}", err=True))
    summary = json.loads((folder / "summary.json").read_text())
    print_summary(folder, summary)
    first = summary["models"][summary["model"]]
    if first["errors"] == first["n"]:
        raise RefusedError(f"{summary['model']} answered none of the prompts (see {folder / 'results.jsonl'})",
                           hint="check the reference with `curate chat REF`")
    return folder


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        run_dir: Annotated[Path, typer.Argument(help="the run folder (from `curate run --out`)")],
        model: Annotated[str | None, typer.Option("--model", "-m", help="the model under test: " + REF_HELP)] = None,
        baseline: Annotated[list[str] | None, typer.Option("--baseline", "-b", help="a model to compare with "
                                                           "(repeat)")] = None,
        judge: Annotated[str | None, typer.Option("--judge", help="a pairwise judge model reference (both orders)")
                         ] = None,
        record: Annotated[str | None, typer.Option("--record", help="write this model's answers as a canonical "
                                                   "dataset instead of evaluating")] = None,
        name: Annotated[str | None, typer.Option("--name", help="eval folder name (default: the model's)")] = None,
        split: Annotated[str | None, typer.Option("--split", help="test, validation or train (default: test, else "
                                                  "validation)")] = None,
        limit: Annotated[int | None, typer.Option("--limit", help="only the first N prompts", min=1)] = None,
        max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="max tokens per answer, for references "
                                                       "that do not set max_tokens (default 256)", min=1)] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="generation seed (default 0)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="eval: parent folder (default RUN/eval); record: the "
                                                 "JSONL file (default RUN/recordings/<model>.jsonl)")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no per-prompt progress")] = False,
    ) -> None:
        """Compare a model with baselines on the run's held-out prompts (tool-call accuracy, chrF, ROUGE-L,
        exact match, optional judge; win/tie/loss with bootstrap CIs, latency, cost), or record its answers.

        Writes RUN/eval/<name>/results.jsonl, summary.json and report.html."""
        if record:
            if model or baseline or judge:
                raise ConfigError("--record takes one model and no --model/--baseline/--judge",
                                  hint="curate eval RUN --record REF")
            from ..evals.runner import record as record_answers
            from ..evals.runner import slug
            from ..models_ref import parse_ref

            ref = parse_ref(record, max_tokens=max_tokens, seed=seed)
            path = out or run_dir / "recordings" / f"{slug(ref.name)}.jsonl"
            path, n = record_answers(run_dir, ref, path, split=split, limit=limit,
                                     progress=None if quiet else lambda line: typer.echo(f"  {line}", err=True))
            typer.echo(f"recorded {n} answers of {ref.name} to {path}; curate it with: curate run --input {path} "
                       "--out RUN2")
            return
        if not model:
            raise ConfigError("give --model REF (or --record REF)", hint=f"curate eval {run_dir} --model "
                              "runs/first/train/<job>/final --baseline ./my-small-model")
        evaluate(run_dir, model, baseline or [], judge=judge, name=name, split=split, limit=limit,
                 max_tokens=max_tokens, seed=seed, out=out, quiet=quiet)

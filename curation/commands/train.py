"""`curate train` and `curate jobs`: launch, follow, resume, cancel and deploy fine-tuning jobs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from ..errors import CurationError

DbOption = Annotated[
    Path | None, typer.Option("--db", help="job database (default $CURATION_HOME/curation.sqlite)", show_default=False)
]


def _store(db: Path | None):  # noqa: ANN202 - imported lazily to keep `curate --help` fast
    from ..trainers.store import JobStore

    return JobStore(db)


def _summary(job) -> str:  # noqa: ANN001
    parts = [f"{job.id}  {job.backend:12}  {job.status:10}"]
    metrics = job.metrics
    if "step" in metrics:
        parts.append(f"step {metrics['step']}")
    for key in ("loss", "train_loss", "eval_loss", "valid_loss"):
        if isinstance(metrics.get(key), int | float):
            parts.append(f"{key} {metrics[key]:.4g}")
    if job.output_model:
        parts.append(f"model {job.output_model}")
    return "  ".join(parts)


_LIST_FORMAT = "{:<22}  {:<12}  {:<10}  {:<16}  {:>8}  {}"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _list_row(job) -> str:  # noqa: ANN001
    """One `jobs list` row: start time, how long it ran (so far), and the model or why it failed."""
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
    end = job.info.get("finished_at", job.updated_at) if job.done else time.time()
    detail = job.output_model or ""
    if job.status in ("failed", "resumable", "cancelled") and job.error:
        detail = job.error.splitlines()[0][:100]
    return _LIST_FORMAT.format(job.id, job.backend, job.status, started, _duration(end - job.created_at), detail)


def _data_lines(job) -> list[str]:  # noqa: ANN001
    """What the trainer did to the data: truncated and fully-masked examples, per split (hf-local)."""
    from ..trainers.sft_data import describe_stats

    data = job.info.get("data") or {}
    return [f"{split} {describe_stats(stats, stats.get('max_length', 0))}" for split, stats in sorted(data.items())
            if isinstance(stats, dict)]


def _default_model(backend: str) -> str | None:
    """The model a backend trains when --model is not given (its Params default)."""
    from ..trainers.base import get_backend

    try:
        field = get_backend(backend).Params.model_fields.get("model")
    except CurationError:
        return None
    default = getattr(field, "default", None)
    return default if isinstance(default, str) else None


def follow_job(job_id: str, db: Path | None, poll: float, *, quiet: bool = False) -> int:
    """Follow a job to its end, printing new events and status changes; returns the exit code."""
    from ..trainers import jobs
    from ..trainers.base import format_event

    seen: set[str] = set()
    last_status = [""]

    def show(job) -> None:  # noqa: ANN001
        if quiet:
            return
        for line in _data_lines(job):
            if line not in seen:
                seen.add(line)
                typer.echo(line)
        for event in job.events:
            key = str(event.get("id") or (event.get("created_at"), event.get("message")))
            if key not in seen:
                seen.add(key)
                typer.echo(format_event(event))
        if job.status != last_status[0]:
            last_status[0] = job.status
            typer.echo(f"status: {job.status}")

    job = jobs.follow(job_id, store=_store(db), poll_s=poll, on_update=show)
    typer.echo(_summary(job))
    if job.status != "succeeded":
        typer.secho(f"job {job.id} {job.status}: {job.error or ''}".rstrip(": "), err=True, fg=typer.colors.RED)
        if job.status == "resumable":
            typer.echo(f"resume with: curate train --resume {job.id}", err=True)
        return 1
    return 0


def eval_job(job_id: str, db: Path | None, max_tokens: int) -> None:
    """`curate train --eval`: the trained model against its base model; the report is linked from the job."""
    from ..models_ref import base_model_ref
    from .eval import evaluate

    store = _store(db)
    job = store.get(job_id)
    base = base_model_ref(job)
    if job.backend == "azure-openai":
        typer.echo(f"to evaluate an Azure model, deploy it first: curate jobs deploy {job.id} ..., then "
                   f"curate eval {job.run_dir} --model job:{job.id} --baseline azure:BASE_DEPLOYMENT")
        return
    typer.echo(f"evaluating {job.output_model} against {base}")
    folder = evaluate(Path(job.run_dir), _job_model(job), [base] if base else [],
                      name=job.id, max_tokens=max_tokens, quiet=True)
    job = store.get(job_id)
    job.info["eval"] = {"dir": str(folder), "report": str(folder / "report.html"),
                        "summary": str(folder / "summary.json")}
    store.save(job)


def _job_model(job) -> str:  # noqa: ANN001
    """The model reference of a job's output."""
    return f"openai:{job.output_model}" if job.backend == "openai" else str(job.output_model)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        run_dir: Annotated[Path | None, typer.Argument(help="the run folder (from `curate run --out`)")] = None,
        backend: Annotated[
            str | None, typer.Option("--backend", "-b", help="openai, azure-openai, hf-local, autotrain")
        ] = None,
        model: Annotated[str | None, typer.Option("--model", "-m", help="base model (name or local folder)")] = None,
        param: Annotated[
            list[str] | None, typer.Option("--param", "-p", help="backend param KEY=VALUE (repeat)")
        ] = None,
        resume: Annotated[str | None, typer.Option("--resume", help="resume job ID from its last checkpoint")] = None,
        detach: Annotated[bool, typer.Option("--detach", "-d", help="print the job id and return")] = False,
        poll: Annotated[float, typer.Option("--poll", help="seconds between status checks when following")] = 5.0,
        method: Annotated[
            str | None, typer.Option("--method", help="what to train on: sft, dpo or kto (default: what the run "
                                     "holds; a run holding both needs one)")
        ] = None,
        run_eval: Annotated[bool, typer.Option("--eval", help="when the job succeeds, evaluate the model against "
                                               "its base model on the run's held-out split (`curate eval`)")] = False,
        eval_max_tokens: Annotated[int, typer.Option("--eval-max-tokens", help="max tokens per answer for --eval",
                                                     min=1)] = 256,
        db: DbOption = None,
    ) -> None:
        """Launch a fine-tuning job on a curated run (or resume one) and follow it.

        Exits 0 when the job succeeds, 1 when a job followed in the foreground fails, 2 on a usage error.
        """
        from ..trainers import jobs
        from ..trainers.base import parse_params

        params = parse_params(param)
        if model:
            params["model"] = model
        if method:
            if method not in ("sft", "dpo", "kto"):
                raise CurationError(f"unknown --method {method!r}", hint="use sft, dpo or kto")
            # The OpenAI backends name SFT "supervised", as the provider's API does.
            params["method"] = "supervised" if method == "sft" and backend in ("openai", "azure-openai") else method
        if run_eval and detach:
            raise CurationError("--eval needs the job followed to its end", hint="drop --detach, or run "
                                "`curate eval RUN --model job:JOB_ID` once it succeeds")
        if resume:
            job = jobs.resume(resume, params, store=_store(db))
            typer.echo(f"resumed job {job.id} ({job.backend})")
        else:
            if run_dir is None or backend is None:
                raise CurationError(
                    "give a RUN_DIR and --backend (or --resume JOB)", hint="curate train RUN --backend hf-local"
                )
            if (Path(run_dir) / "splits").is_dir():  # as export: an interrupted or changed run is refused first
                from .. import run_folder

                run_folder.verify(run_dir)
            from ..targets import lifecycle_message, table_for_run, target_for_backend, today

            target = target_for_backend(backend, str(params.get("model") or "") or _default_model(backend),
                                        table_for_run(run_dir) if run_dir.is_dir() else None)
            # closing: a dated warning; closed: jobs.start refuses it in one line
            line = lifecycle_message(target) if target and target.status_on(today()) == "closing" else None
            if line:
                typer.secho(f"warning: {line}", err=True, fg=typer.colors.YELLOW)
            job = jobs.start(run_dir, backend, params, store=_store(db))
            typer.echo(f"job {job.id} ({job.backend}) {job.status}")
            if job.status == "failed":
                raise CurationError(f"job {job.id} failed: {job.error}")
        if detach:
            typer.echo(f"follow with: curate jobs show {job.id}   (logs: curate jobs logs {job.id}; "
                       f"cancel: curate jobs cancel {job.id})")
            return
        code = follow_job(job.id, db, poll)
        if code:
            raise typer.Exit(code)
        if run_eval:
            eval_job(job.id, db, eval_max_tokens)

    jobs_app = typer.Typer(help="List, inspect, cancel and deploy training jobs.", no_args_is_help=True)
    app.add_typer(jobs_app, name="jobs")

    @jobs_app.command("list")
    def list_jobs(
        run_dir: Annotated[Path | None, typer.Option("--run-dir", help="only jobs of this run")] = None,
        status: Annotated[str | None, typer.Option("--status", help="only jobs in this status")] = None,
        refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="ask backends for news")] = True,
        db: DbOption = None,
    ) -> None:
        """List jobs, newest first."""
        from ..trainers import jobs

        store = _store(db)
        found = store.list(run_dir=run_dir, status=status)
        if not found:
            typer.echo("no jobs")
            return
        typer.echo(_LIST_FORMAT.format("JOB", "BACKEND", "STATUS", "STARTED", "DURATION", "MODEL / ERROR"))
        for job in found:
            if refresh and not job.done:
                try:
                    job = jobs.refresh(job, store=store)
                except CurationError as exc:  # one unreachable provider must not hide the other jobs
                    typer.secho(f"{job.id}: {exc}", err=True, fg=typer.colors.YELLOW)
            typer.echo(_list_row(job))

    @jobs_app.command("show")
    def show(job_id: str, as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
        """Status, metrics, output model and error of one job."""
        from ..trainers import jobs

        job = jobs.refresh(job_id, store=_store(db))
        if as_json:
            typer.echo(json.dumps(job.model_dump(exclude={"events"}), indent=2, default=str))
            return
        typer.echo(_summary(job))
        typer.echo(f"run: {job.run_dir}")
        if job.provider_job_id:
            typer.echo(f"provider job: {job.provider_job_id}")
        if job.pid:
            typer.echo(f"pid: {job.pid}")
        typer.echo(f"created: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(job.created_at))}")
        typer.echo(f"params: {json.dumps(job.params, sort_keys=True)}")
        if job.metrics:
            typer.echo(f"metrics: {json.dumps(job.metrics, sort_keys=True)}")
        if job.info.get("checkpoints"):
            typer.echo(f"checkpoints: {len(job.info['checkpoints'])}")
        for line in _data_lines(job):
            typer.echo(line)
        if job.error:
            typer.echo(f"error: {job.error}")
        if job.info.get("eval"):
            typer.echo(f"eval report: {job.info['eval']['report']}")
        deployment = job.info.get("deployment")
        if deployment:
            state = "deleted" if deployment.get("deleted") else deployment.get("provisioning_state") or "requested"
            typer.echo(f"deployment: {deployment['name']} ({state})" + ("" if deployment.get("deleted") else
                       f"; costs per hour while it exists: curate jobs undeploy {job.id}"))
        if job.status == "resumable":
            typer.echo(f"resume with: curate train --resume {job.id}")

    @jobs_app.command("logs")
    def logs(
        job_id: str,
        tail: Annotated[int, typer.Option("--tail", help="last N lines (0: all)")] = 0,
        db: DbOption = None,
    ) -> None:
        """Events (provider jobs) or the worker log (local jobs)."""
        from ..trainers import jobs

        lines = jobs.logs(job_id, store=_store(db))
        for line in lines[-tail:] if tail else lines:
            typer.echo(line)

    @jobs_app.command("cancel")
    def cancel(job_id: str, db: DbOption = None) -> None:
        """Cancel a queued or running job."""
        from ..trainers import jobs

        job = jobs.cancel(job_id, store=_store(db))
        typer.echo(_summary(job))

    @jobs_app.command("deploy")
    def deploy(
        job_id: str,
        subscription: Annotated[str, typer.Option("--subscription", help="Azure subscription id")],
        resource_group: Annotated[str, typer.Option("--resource-group", help="Azure resource group")],
        account: Annotated[str, typer.Option("--account", help="Azure OpenAI resource name")],
        deployment_name: Annotated[str, typer.Option("--deployment-name", help="name of the new deployment")],
        capacity: Annotated[int, typer.Option("--capacity", help="deployment capacity (thousands of TPM)")] = 1,
        sku: Annotated[str, typer.Option("--sku", help="standard, globalstandard, developer")] = "standard",
        wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow until ready, then call it once")] = True,
        timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for the deployment")] = 1800.0,
        poll: Annotated[float, typer.Option("--poll", help="seconds between deployment checks")] = 15.0,
        db: DbOption = None,
    ) -> None:
        """Deploy an Azure OpenAI fine-tuned model, follow it until ready and smoke-test it (token from
        AZURE_MANAGEMENT_TOKEN). A deployment is billed per hour while it exists: `curate jobs undeploy`."""
        from ..trainers import jobs

        store = _store(db)
        job = jobs.deploy(
            job_id,
            store=store,
            subscription=subscription,
            resource_group=resource_group,
            account=account,
            deployment_name=deployment_name,
            capacity=capacity,
            sku=sku,
        )
        state = job.info["deployment"].get("provisioning_state") or "requested"
        typer.echo(f"deployment {deployment_name} of {job.output_model}: {state}")
        typer.secho(f"note: an Azure deployment costs per hour while it exists, used or not; delete it with "
                    f"`curate jobs undeploy {job.id}`", fg=typer.colors.YELLOW, err=True)
        if not wait:
            return
        seen: list[str | None] = [state]

        def show(new_state: str | None) -> None:
            if new_state != seen[-1]:
                seen.append(new_state)
                typer.echo(f"deployment {deployment_name}: {new_state}")

        job = jobs.follow_deployment(job.id, store=store, timeout_s=timeout, poll_s=poll, on_update=show)
        smoke = job.info["deployment"].get("smoke_test") or {}
        typer.echo(f"smoke test ({smoke.get('latency_s', 0):.2f} s): {smoke.get('answer', '')!r}")
        typer.echo(f"evaluate it with: curate eval {job.run_dir} --model azure:{deployment_name}")

    @jobs_app.command("undeploy")
    def undeploy(job_id: str, db: DbOption = None) -> None:
        """Delete a job's Azure deployment (it stops costing per hour)."""
        from ..trainers import jobs

        job = jobs.undeploy(job_id, store=_store(db))
        typer.echo(f"deleted deployment {job.info['deployment']['name']} of {job.output_model}")

    @jobs_app.command("backends")
    def backends() -> None:
        """Installed trainer backends."""
        from ..trainers.base import get_backend, list_backends

        for name in list_backends():
            try:
                description = get_backend(name).description
            except CurationError as exc:
                description = f"(cannot load: {exc})"
            typer.echo(f"{name:14} {description}")

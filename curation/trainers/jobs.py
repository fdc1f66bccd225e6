"""Job operations shared by the CLI and the UI: start, refresh, follow, cancel, resume, deploy.

Each call loads the job from the store, asks its backend, and saves the result, so any process can
pick a job up where another left it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import CurationError, TrainerError
from .base import Job, get_backend
from .store import JobStore


def start(
    run_dir: str | Path, backend_name: str, params: dict[str, Any] | None = None, *, store: JobStore | None = None
) -> Job:
    """Prepare the data, record the job, launch it; returns the saved job (failed jobs are saved too)."""
    store = store or JobStore()
    run = Path(run_dir).resolve()
    if not run.is_dir():
        raise CurationError(f"run folder {run} does not exist", hint="run `curate run --out RUN_DIR` first")
    backend = get_backend(backend_name)
    checked = backend.check_params(dict(params or {}))
    from ..targets import refuse_if_closed, table_for_run, target_for_backend

    # Before anything is prepared or uploaded: a target that takes no new jobs is refused in one line.
    refuse_if_closed(target_for_backend(backend.name or backend_name, checked.get("model"), table_for_run(run)))
    prepared = backend.prepare(run, checked)
    job = Job.new(backend.name or backend_name, run, checked)
    job.prepared = prepared
    store.save(job)
    try:
        job = backend.launch(job)
    except CurationError as exc:
        job.status, job.error = "failed", str(exc)
        store.save(job)
        raise
    return store.save(job)


def refresh(job_id: str | Job, *, store: JobStore | None = None) -> Job:
    store = store or JobStore()
    job = job_id if isinstance(job_id, Job) else store.get(job_id)
    if job.status in ("succeeded", "cancelled") and job.events:
        return job
    job = get_backend(job.backend).status(job)
    if job.done:
        job.info.setdefault("finished_at", time.time())  # `jobs list` shows how long it ran
    return store.save(job)


def follow(
    job_id: str,
    *,
    store: JobStore | None = None,
    poll_s: float = 5.0,
    timeout_s: float | None = None,
    on_update: Callable[[Job], None] | None = None,
) -> Job:
    """Refresh until the job ends (or ``timeout_s`` passes); ``on_update`` sees every refresh."""
    store = store or JobStore()
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while True:
        job = refresh(job_id, store=store)
        if on_update:
            on_update(job)
        if job.done or (deadline and time.monotonic() >= deadline):
            return job
        time.sleep(poll_s)


def cancel(job_id: str, *, store: JobStore | None = None) -> Job:
    store = store or JobStore()
    job = store.get(job_id)
    if job.status in ("succeeded", "failed", "cancelled"):
        raise TrainerError(f"job {job.id} already {job.status}", hint="nothing to cancel")
    return store.save(get_backend(job.backend).cancel(job))


def resume(job_id: str, params: dict[str, Any] | None = None, *, store: JobStore | None = None) -> Job:
    """Restart a resumable (or failed/cancelled) job from its last checkpoint; ``params`` override the old ones."""
    store = store or JobStore()
    job = refresh(job_id, store=store)
    backend = get_backend(job.backend)
    if params:
        job.params = backend.check_params({**job.params, **params})
    job = backend.resume(job)
    return store.save(job)


def logs(job_id: str, *, store: JobStore | None = None) -> list[str]:
    store = store or JobStore()
    job = refresh(job_id, store=store)
    return get_backend(job.backend).logs(job)


def deploy(job_id: str, *, store: JobStore | None = None, **target: Any) -> Job:
    """Deploy a succeeded job's model (backends with a ``deploy`` method: azure-openai)."""
    store = store or JobStore()
    job = refresh(job_id, store=store)
    backend = get_backend(job.backend)
    if not hasattr(backend, "deploy"):
        raise TrainerError(f"backend {job.backend!r} has no deploy step", hint="deploy is offered by azure-openai")
    return store.save(backend.deploy(job, **target))


def _deployer(job: Job) -> Any:
    backend = get_backend(job.backend)
    if not hasattr(backend, "undeploy"):
        raise TrainerError(f"backend {job.backend!r} has no deployments", hint="deployments are azure-openai's")
    return backend


def follow_deployment(job_id: str, *, store: JobStore | None = None, timeout_s: float = 1800.0,
                      poll_s: float = 15.0, smoke_test: bool = True,
                      on_update: Callable[[str | None], None] | None = None) -> Job:
    """Follow a job's deployment until it is ready, then call it once (the smoke test); saved either way."""
    store = store or JobStore()
    job = store.get(job_id)
    backend = _deployer(job)
    try:
        job = backend.wait_deployment(job, timeout_s=timeout_s, poll_s=poll_s, on_update=on_update)
        if smoke_test:
            job = backend.smoke_test(job)
    finally:
        store.save(job)
    return job


def undeploy(job_id: str, *, store: JobStore | None = None) -> Job:
    """Delete a job's deployment."""
    store = store or JobStore()
    job = store.get(job_id)
    return store.save(_deployer(job).undeploy(job))

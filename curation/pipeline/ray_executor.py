"""``runner.executor: ray``: phase 1 as Ray tasks, on a local Ray or an existing cluster.

One actor per worker slot (``runner.workers``, default: the cluster's CPUs) runs the same initialiser as a
worker process (the plan is shipped once per actor, stages load there) and then one task per input shard
(``runner.run_shard``). A task carries only the shard's description: the actor reads the input byte range
itself and writes the shard's outputs under the run folder's ``.work/shards/``, returning a small summary. At
most ``2 x actors`` shards are in flight and summaries come back in submission order, so the outputs are
byte-identical to the local executors whatever the cluster size. The runner keeps the executor (and the Ray
session it started) until the global stages have decided, so they may use Ray too.

Every node needs this curation version installed (``pip install 'curation[ray]'``), and on a multi-node
cluster the inputs and ``--out`` must be on storage every node sees at the same path (NFS, a shared volume).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import CurationError, MissingExtraError


class _Worker:
    """A Ray actor: one initialised worker (the runner's module globals live in its process)."""

    def __init__(self, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
        if initializer is not None:
            initializer(*initargs)

    def run(self, fn: Callable[[Any], Any], batch: Any) -> Any:
        return fn(batch)

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()


class RayExecutor:
    def __init__(self, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
                 address: str | None = None, workers: int | None = None, max_in_flight: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise MissingExtraError("ray", "ray") from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            except Exception as exc:  # noqa: BLE001 - an unreachable cluster is one clear error
                raise CurationError(f"could not join the Ray cluster at {address or 'RAY_ADDRESS/local'}: "
                                    f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                                    where="runner.address",
                                    hint="start it with `ray start --head`, or fix runner.address") from None
        n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(_Worker)
        self._actors = [actor.remote(initializer, initargs) for _ in range(n)]
        self.max_in_flight = max_in_flight or 2 * n

    def node_ids(self) -> list[str]:
        """The node each actor runs on (tests check the work is spread over the cluster)."""
        return self._get([a.node_id.remote() for a in self._actors])

    def map_ordered(self, fn: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        pending: deque[Any] = deque()
        for i, batch in enumerate(batches):
            pending.append(self._actors[i % len(self._actors)].run.remote(fn, batch))
            if len(pending) >= self.max_in_flight:
                yield self._get(pending.popleft())
        while pending:
            yield self._get(pending.popleft())

    def _get(self, ref: Any) -> Any:
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayTaskError as exc:  # a worker's error, not Ray's traceback
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else None
            if isinstance(cause, CurationError):
                raise cause from None
            raise

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._owns_ray:
            self._ray.shutdown()

    terminate = close

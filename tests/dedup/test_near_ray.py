"""Near dedup's LSH and verification as Ray tasks on a local two-node cluster: the same clusters, drops and
report as the local path, for an in-memory matrix and a memmap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import ray

from curation.dedup import near
from curation.dedup.config import NearDedupConfig
from curation.dedup.minhash import EMPTY
from curation.dedup.near_ray import find_clusters_on_ray
from curation.pipeline.global_stages import KeyTable, NearDedupStage


@pytest.fixture(scope="module")
def session(ray_cluster):  # noqa: ANN001, ANN201 - the session's two-node cluster (tests/conftest.py)
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address=ray_cluster.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray_cluster
    ray.shutdown()


def _planted(n: int, seed: int) -> np.ndarray:
    """Random signatures, ~17% near copies (0-40 of 128 slots changed) of an earlier row, a few empty rows."""
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 2**32 - 1, size=(n, 128), dtype=np.uint32)
    copies = np.flatnonzero(rng.random(n) < 0.17)[1:]
    sig[copies] = sig[(rng.random(len(copies)) * copies).astype(np.int64)]
    for row, k in zip(copies.tolist(), rng.integers(0, 41, size=len(copies)).tolist(), strict=True):
        sig[row, rng.choice(128, size=k, replace=False)] = rng.integers(0, 2**32 - 1, size=k, dtype=np.uint32)
    sig[rng.choice(n, size=30, replace=False)] = EMPTY
    return sig


def _same(a: near.ClusterResult, b: near.ClusterResult) -> None:
    assert np.array_equal(a.cluster, b.cluster) and np.array_equal(a.duplicate_of, b.duplicate_of)
    assert np.array_equal(a.similarity, b.similarity, equal_nan=True)
    assert (a.candidate_pairs, a.verified_pairs) == (b.candidate_pairs, b.verified_pairs)


def test_ray_tasks_find_the_same_clusters(session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(near, "CHUNK_ROWS", 2048)  # several stored chunks per band task
    monkeypatch.setattr(near, "PAIR_CHUNK", 300)
    sig = _planted(12_000, seed=9)
    lengths = np.random.default_rng(1).integers(1, 900, size=len(sig))
    active = np.random.default_rng(2).random(len(sig)) > 0.03
    kwargs = {"threshold": 0.7, "bands": 25, "rows": 5, "keep": "longest", "lengths": lengths, "active": active}
    local = near.find_clusters(sig, **kwargs)
    assert local.n_duplicates > 1000
    _same(find_clusters_on_ray(sig, verify_tasks=5, **kwargs), local)
    sig.tofile(tmp_path / "sig.u32")
    mapped = np.memmap(tmp_path / "sig.u32", dtype=np.uint32, mode="r", shape=sig.shape)
    _same(find_clusters_on_ray(mapped, **kwargs), local)


def test_the_stage_uses_ray_when_a_session_is_up(session, monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.dedup.near_ray as near_ray

    sig = _planted(3000, seed=4)
    n = len(sig)
    table = KeyTable(ids=[str(i) for i in range(n)], exact_keys=np.zeros(n, dtype="S16"), lengths=np.ones(n),
                     quality=np.zeros(n), strata=[""] * n, groups=[()] * n, signatures=sig)
    local = NearDedupStage(NearDedupConfig()).decide(table)  # under the row threshold: the local path
    calls: list[int] = []
    on_ray = near_ray.find_clusters_on_ray

    def counting(*args: object, **kwargs: object) -> near.ClusterResult:
        calls.append(1)
        return on_ray(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(near_ray, "find_clusters_on_ray", counting)
    distributed = NearDedupStage(NearDedupConfig(), ray_min_rows=0).decide(table)
    assert calls == [1]
    assert distributed.drops == local.drops and distributed.clusters == local.clusters
    assert np.array_equal(distributed.cluster, local.cluster)

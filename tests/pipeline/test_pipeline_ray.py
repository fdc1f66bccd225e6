"""``runner.executor: ray`` on a local two-node Ray cluster (ray.cluster_utils.Cluster): the same bytes as the
local executor. One cluster for the module (it takes ~10 s to start)."""

from __future__ import annotations

import operator
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.pipeline.ray_executor import RayExecutor
from curation.pipeline.runner import run_pipeline


@pytest.fixture(scope="module")
def cluster(ray_cluster):  # noqa: ANN001, ANN201 - the session's two-node cluster (tests/conftest.py)
    import ray

    yield ray_cluster
    if ray.is_initialized():
        ray.shutdown()


def _eval_file(real_dir: Path, tmp_path: Path) -> Path:
    """An evaluation set made of some training conversations, so decontamination has work on Ray too."""
    from curation.readers import read_path

    items = [item for _, item in zip(range(40), read_path(real_dir / "anthropics__hh-rlhf" /
                                                          "harmless-base_test.jsonl.gz"), strict=False)][::8]
    path = tmp_path / "eval.jsonl"
    path.write_bytes(b"".join(orjson.dumps(item.record) + b"\n" for item in items if item.record))
    return path


def _config(real_dir: Path, out: Path, eval_file: Path, **runner: object):
    return load_config(None, values={
        "inputs": [str(real_dir / "lm-sys__FastChat"), str(real_dir / "anthropics__hh-rlhf")], "out": str(out),
        "export.formats": [], "runner.progress": False, "runner.batch_size": 64, "split.train": 0.8, "split.test": 0.1,
        "decontaminate.paths": [str(eval_file)], **{f"runner.{k}": v for k, v in runner.items()}})


def test_ray_outputs_are_byte_identical_to_the_local_executor(cluster, real_dir: Path, tmp_path: Path) -> None:
    eval_file = _eval_file(real_dir, tmp_path)
    local = run_pipeline(_config(real_dir, tmp_path / "local", eval_file, executor="inprocess"), quiet=True)
    on_ray = run_pipeline(_config(real_dir, tmp_path / "ray", eval_file, executor="ray", address=cluster.address,
                                  workers=2), quiet=True)
    assert local.records_in > 500 and on_ray.records_in == local.records_in
    names = ["splits/train.jsonl", "splits/validation.jsonl", "splits/test.jsonl", "rejects.jsonl", "report.json"]
    for name in names:
        a, b = (tmp_path / "local" / name).read_bytes(), (tmp_path / "ray" / name).read_bytes()
        assert a == b, name
    assert (tmp_path / "local" / "rejects.jsonl").stat().st_size > 0
    assert local.report["decontamination"]["eval_files"][0]["matched"] >= 5  # the eval stage ran on Ray too


def test_the_ray_executor_spreads_actors_over_both_nodes_and_keeps_order(cluster) -> None:
    executor = RayExecutor(address=cluster.address, workers=2, max_in_flight=3)
    try:
        assert len(set(executor.node_ids())) == 2
        # a function Ray workers can import (this test module is not on their path)
        assert list(executor.map_ordered(operator.neg, range(25))) == [-x for x in range(25)]
    finally:
        executor.close()

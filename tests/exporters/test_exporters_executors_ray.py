"""`curate inspect` and `curate export` with ``--executor ray`` on a local two-node Ray cluster (found through
RAY_ADDRESS, as a user's would be): the same bytes as in this process. One cluster for the module (~10 s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import sft_records, write_run

from curation.cli import main
from curation.exporters import parallel


@pytest.fixture(scope="module")
def cluster(ray_cluster):  # noqa: ANN001, ANN201 - the session's two-node cluster (tests/conftest.py)
    import ray

    yield ray_cluster
    if ray.is_initialized():
        ray.shutdown()


def test_inspect_and_export_on_ray_match_in_process(cluster, real_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    reports = []
    for kind in ("inprocess", "ray"):
        assert main(["inspect", str(real_dir / "hiyouga__LLaMA-Factory/identity.json"), "--json", "--executor", kind,
                     "--workers", "2"]) == 0
        reports.append(capsys.readouterr().out)
    assert reports[0] == reports[1] and '"unfilled_placeholder"' in reports[0]

    run = write_run(tmp_path / "run", sft_records(real_dir))
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 8_000)  # several pieces, written by actors on both nodes
    files = []
    for kind in ("inprocess", "ray"):
        assert main(["export", str(run), "--to", "openai,mistral", "--skip-invalid", "--executor", kind,
                     "--workers", "2"]) == 0
        files.append({p.relative_to(run): p.read_bytes() for p in sorted((run / "exports").rglob("*")) if p.is_file()})
    assert files[0] == files[1] and Path("exports/openai/sft/train.jsonl") in files[0]

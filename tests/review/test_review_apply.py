from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from curation.review import QueueFilter, ReviewStore, apply_decisions
from curation.review.apply import HUMAN_REJECTED, REVIEW_STAGE
from curation.review.synthetic import write_synthetic_run


def _rows(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _where(run: Path) -> dict[str, str]:
    """id -> split name or "rejected:<reason>"; asserts every id appears exactly once."""
    out: dict[str, str] = {}
    for path in sorted((run / "splits").glob("*.jsonl")):
        for rec in _rows(path):
            assert rec["id"] not in out
            out[rec["id"]] = path.stem
    for row in _rows(run / "rejects.jsonl"):
        assert row["id"] not in out
        out[row["id"]] = f"rejected:{row['reason']}"
    return out


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_synthetic_run(tmp_path / "run", n=200, seed=2)


def test_apply_moves_edits_restores_and_conserves(run: Path) -> None:
    before = _where(run)
    with ReviewStore(run) as store:
        kept = [i.record_id for i in store.queue(QueueFilter(split="train"), 0, 3).items]
        store.decide(kept[0], "reject", "alice", reason="rude")
        messages = store.get(kept[1]).record["messages"]
        store.decide(kept[1], "edit", "alice", messages=[*messages[:-1], {"role": "assistant", "content": "fixed"}])
        too_long = store.queue(QueueFilter(reason="too_long"), 0, 1).items[0].record_id
        store.decide(too_long, "accept", "bob")
        cluster = store.cluster(store.clusters()[0].id)
        old = cluster.survivor
        new = next(m.id for m in cluster.members if m.id != old)
        store.resolve_cluster(cluster.id, new, "bob")
        store.decide(kept[2], "edit", "bob", messages=[{"role": "nobody", "content": "x"}])  # invalid now
    result = apply_decisions(run)
    after = _where(run)
    # 2 moved out, 2 restored, 1 edited, 1 invalid edit, and the cluster's other duplicates re-pointed to `new`
    assert result.changed == 6 + len(cluster.members) - 2
    again = apply_decisions(run)
    assert again.changed == 0 and _where(run) == after  # idempotent
    assert set(after) == set(before)  # conservation: every id exactly once
    assert after[kept[0]] == f"rejected:{HUMAN_REJECTED}"
    assert after[kept[1]] == before[kept[1]]
    assert after[too_long] == "train" and after[new] == "train"
    assert after[old] == f"rejected:{HUMAN_REJECTED}"
    from curation.checks import CODES

    assert after[kept[2]] == "rejected:unrecognized_role" and "unrecognized_role" in CODES  # the check's code
    assert result.rejected == 2 and result.restored == 2 and result.invalid_edits == 1
    rejects = {r["id"]: r for r in _rows(run / "rejects.jsonl")}
    assert rejects[kept[0]]["stage"] == REVIEW_STAGE and rejects[kept[0]]["detail"] == "rude"
    assert rejects[old]["duplicate_of"] == new
    assert all(rejects[m.id]["duplicate_of"] == new for m in cluster.members if m.id not in (old, new))
    edited = next(r for r in _rows(run / "splits" / f"{before[kept[1]]}.jsonl") if r["id"] == kept[1])
    assert edited["messages"][-1]["content"] == "fixed" and edited["metadata"]["review"]["edited"] is True
    report = orjson.loads((run / "report.json").read_bytes())
    assert report["records_out"] == sum(1 for v in after.values() if not v.startswith("rejected"))
    assert report["rejected"] == len(rejects) and report["reasons"][HUMAN_REJECTED] == 2
    review = report["funnel"][-1]
    assert review["stage"] == REVIEW_STAGE and review["restored"] == 2
    assert review["in"] - review["dropped"] + review["restored"] == review["out"] == report["records_out"]


def test_apply_twice_changes_nothing_and_withdrawn_rejects_return(run: Path) -> None:
    with ReviewStore(run) as store:
        rid = store.queue(QueueFilter(split="validation"), 0, 1).items[0].record_id
        store.decide(rid, "reject", "alice", reason="bad")
    apply_decisions(run)

    def digest() -> dict[str, str]:
        files = [*run.glob("splits/*"), run / "rejects.jsonl"]
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    first = digest()
    assert apply_decisions(run).changed == 0
    assert digest() == first
    assert _where(run)[rid] == f"rejected:{HUMAN_REJECTED}"
    with ReviewStore(run) as store:
        store.decide(rid, "reset", "alice")
    apply_decisions(run)
    assert _where(run)[rid] == "validation"  # returns to the split it had


def test_apply_without_decisions_keeps_files(run: Path) -> None:
    before = {p.name: p.read_bytes() for p in run.glob("splits/*")}
    result = apply_decisions(run)
    assert result.changed == 0 and result.decisions == 0
    assert before == {p.name: p.read_bytes() for p in run.glob("splits/*")}

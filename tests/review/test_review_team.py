"""Leases, overlap, undo, bulk, message-text search, sorting and agreement in the review store."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.errors import CurationError
from curation.review import QueueFilter, ReviewStore, load_decisions
from curation.review.agreement import agreement, cohen_kappa, conflicts
from curation.review.synthetic import write_synthetic_run


@pytest.fixture()
def store(tmp_path: Path) -> ReviewStore:
    s = ReviewStore(write_synthetic_run(tmp_path / "run", n=150, seed=3))
    yield s
    s.close()


def test_a_leased_record_is_in_no_other_queue(store: ReviewStore) -> None:
    todo_a = QueueFilter(status="todo", reviewer="alice")
    todo_b = QueueFilter(status="todo", reviewer="bob")
    first = store.queue(todo_a, 0, 1).items[0].record_id
    assert store.claim(first, "alice")
    assert not store.claim(first, "bob") and store.lease_holder(first) == "alice"
    assert first not in store.ids(todo_b) and first in store.ids(todo_a)
    store.decide(first, "accept", "alice")
    assert first not in store.ids(todo_a) and first not in store.ids(todo_b)
    # Alice moves on: her old lease is dropped; an expired lease is no obstacle either.
    second = store.queue(todo_a, 0, 1).items[0].record_id
    assert store.claim(second, "alice", seconds=-1)
    assert store.claim(second, "bob")


def test_todo_is_flagged_or_rejected_without_a_verdict(store: ReviewStore) -> None:
    todo = store.ids(QueueFilter(status="todo"))
    expected = {r.record_id for r in store.queue(QueueFilter(flag="*"), 0, 10_000).items} | {
        r.record_id for r in store.queue(QueueFilter(reason="*"), 0, 10_000).items
    }
    assert set(todo) == expected and todo
    assert all(store.get(rid).flags or store.get(rid).split == "rejected" for rid in todo)


def test_overlap_gives_a_record_to_a_second_reviewer_and_agreement_counts_it(store: ReviewStore) -> None:
    store.set_overlap(1.0)  # every record double-reviewed
    a, b = QueueFilter(status="todo", reviewer="alice"), QueueFilter(status="todo", reviewer="bob")
    ids = store.ids(a)[:4]
    for i, rid in enumerate(ids):
        store.decide(rid, "accept", "alice")
        assert rid in store.ids(b) and rid not in store.ids(a)
        store.decide(rid, "accept" if i < 3 else "reject", "bob")
        assert rid not in store.ids(b)
    assert store.ids(QueueFilter(status="todo", reviewer="carol"))[0] not in ids  # two verdicts are enough
    [pair] = agreement(store.reviewer_verdicts())
    assert (pair.a, pair.b, pair.both, pair.agree, pair.percent) == ("alice", "bob", 4, 3, 75.0)
    assert [c[0] for c in conflicts(store)] == [ids[3]]
    store.resolve(ids[3], "reject", "admin")
    assert conflicts(store) == [] and store.decision(ids[3]).verdict == "reject"
    assert agreement(store.reviewer_verdicts())[0].both == 4  # the resolution is not a reviewer's verdict


def test_cohen_kappa() -> None:
    assert cohen_kappa([("a", "a"), ("r", "r")]) == 1.0
    assert cohen_kappa([("a", "r"), ("r", "a")]) == -1.0
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None  # chance agreement is 1
    assert cohen_kappa([]) is None
    pairs = [("a", "a")] * 20 + [("a", "r")] * 5 + [("r", "a")] * 10 + [("r", "r")] * 15
    assert round(cohen_kappa(pairs), 4) == 0.4


def test_undo_one_decision_and_a_whole_bulk_batch(store: ReviewStore, tmp_path: Path) -> None:
    rid = store.ids(QueueFilter(reason="kept"))[0]
    store.decide(rid, "accept", "alice")
    row = store.decide(rid, "reject", "alice", reason="bad")
    store.undo(row["uid"], "alice")
    assert store.decision(rid).verdict == "accept"
    store.undo_last("alice")
    assert store.decision(rid) is None
    with pytest.raises(CurationError, match="no decision left"):
        store.undo_last("alice")

    flt = QueueFilter(reason="near_duplicate")
    n = len(store.ids(flt))
    with pytest.raises(CurationError, match="confirmed"):
        store.bulk(flt, "reject", "alice", expected=n + 1)
    batch, count = store.bulk(flt, "reject", "alice", expected=n, reason="bulk")
    assert count == n and all(store.decision(i).verdict == "reject" for i in store.ids(flt))
    assert load_decisions(store.run_dir)[store.ids(flt)[0]].verdict == "reject"
    undone = store.undo_last("alice")
    assert len(undone) == n and all(store.decision(i) is None for i in store.ids(flt))
    assert all(i not in load_decisions(store.run_dir) for i in store.ids(flt))  # apply sees the undo too
    history = store.decisions(record_id=store.ids(flt)[0])
    assert [h["action"] for h in history] == ["reject", "undo"] and history[0]["batch"] == batch
    store.rebuild_latest()
    assert store.decision(rid) is None and store.decision(store.ids(flt)[0]) is None
    # The undo travels with an exported log.
    log = tmp_path / "log.jsonl"
    store.export_decisions(log)
    other = ReviewStore(write_synthetic_run(tmp_path / "run2", n=150, seed=3))
    other.import_decisions(log)
    assert other.decision(store.ids(flt)[0]) is None
    other.close()


def test_search_reads_message_text_with_unicode_folding_and_regex(tmp_path: Path) -> None:
    import orjson

    run = write_synthetic_run(tmp_path / "run", n=40, seed=1)
    train = run / "splits" / "train.jsonl"
    lines = train.read_bytes().splitlines()
    first = orjson.loads(lines[0])
    first["messages"][-1]["content"] = "Завтрак в 9:00"
    lines[0] = orjson.dumps(first)
    train.write_bytes(b"\n".join(lines) + b"\n")
    s = ReviewStore(run, db_path=tmp_path / "r.sqlite")
    assert s.ids(QueueFilter(text="завтрак")) == [first["id"]]
    assert s.ids(QueueFilter(text="ЗАВТРАК")) == [first["id"]]
    assert s.queue(QueueFilter(text="content")).total == 0  # a JSON key is not message text
    assert s.queue(QueueFilter(text="user")).total == 0  # nor is a role
    assert s.queue(QueueFilter(text="chats.jsonl")).total == 0  # nor is the source file name
    assert s.ids(QueueFilter(text=r"в \d:\d\d", regex=True)) == [first["id"]]
    assert s.ids(QueueFilter(text="assistant:завтрак")) == [first["id"]]
    assert s.ids(QueueFilter(text="user:завтрак")) == []
    with pytest.raises(CurationError, match="regular expression"):
        s.ids(QueueFilter(text="(", regex=True))
    s.close()


def test_sort_by_score(store: ReviewStore) -> None:
    ids = store.ids(QueueFilter(reason="kept", sort="-tokens"))
    tokens = [(store.get(i).record or {}).get("metadata", {}).get("tokens") for i in ids]
    assert tokens == sorted(tokens, reverse=True) and tokens[0] > tokens[-1]
    with pytest.raises(CurationError, match="unknown sort"):
        store.ids(QueueFilter(sort="colour"))
    assert store.position(QueueFilter(reason="kept", sort="-tokens"), ids[5]) == 5


def test_a_late_renewal_never_pulls_a_lease_back(store: ReviewStore) -> None:
    first, second = store.ids(QueueFilter(status="todo"))[:2]
    assert store.claim(first, "alice") and store.claim(second, "alice")  # alice moved on to the second record
    assert not store.renew(first, "alice")  # the timer's renewal for the record she left does nothing
    assert store.lease_holder(second) == "alice" and store.lease_holder(first) is None
    assert store.renew(second, "alice")

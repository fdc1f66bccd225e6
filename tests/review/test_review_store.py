from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from curation.errors import CurationError
from curation.review import QueueFilter, ReviewStore, export_decisions, import_decisions, load_decisions
from curation.review.synthetic import write_synthetic_run


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_synthetic_run(tmp_path / "run", n=200, seed=1)


def test_import_indexes_every_record_with_pipeline_flags(run: Path) -> None:
    with ReviewStore(run) as store:
        progress = store.progress()
        kept = sum(1 for p in (run / "splits").glob("*.jsonl") for _ in p.open())
        rejected = sum(1 for _ in (run / "rejects.jsonl").open())
        assert progress.total == kept + rejected == 200
        assert progress.kept == kept and progress.pipeline_rejected == rejected and progress.reviewed == 0
        facets = store.facets()
        assert {"near_duplicate", "too_long", "empty_assistant"} <= {r for r, _ in facets["reason"]}
        assert {"en", "fr", "zh"} == {lang for lang, _ in facets["language"]}
        assert "short_answer" in {f for f, _ in facets["flag"]}


def test_queue_filters_by_reason_flag_language_split_and_text(run: Path) -> None:
    with ReviewStore(run) as store:
        page = store.queue(QueueFilter(reason="near_duplicate"), 0, 500)
        assert page.total == len(page.items) > 0
        assert {i.reason for i in page.items} == {"near_duplicate"} and {i.split for i in page.items} == {"rejected"}
        flagged = store.queue(QueueFilter(flag="short_answer"), 0, 500).items
        assert flagged and all("short_answer" in store.get(i.record_id).flags for i in flagged)
        fr = store.queue(QueueFilter(language="fr", split="train"), 0, 500).items
        assert fr and all(i.language == "fr" and i.split == "train" for i in fr)
        hit = store.queue(QueueFilter(text="(CASE 7)"), 0, 5)  # case-insensitive search in the record text
        assert [i.record_id for i in hit.items] == ["r000007"]
        assert store.queue(QueueFilter(text="r000007"), 0, 5).items[0].record_id == "r000007"
        assert store.queue(QueueFilter(text="100%_"), 0, 5).total == 0  # LIKE wildcards are escaped
        with pytest.raises(CurationError, match="unknown status"):
            store.queue(QueueFilter(status="maybe"))


def test_decisions_are_append_only_and_merged(run: Path) -> None:
    with ReviewStore(run) as store:
        rid = store.queue(QueueFilter(split="train"), 0, 1).items[0].record_id
        messages = store.get(rid).record["messages"]
        edited = [*messages[:-1], {"role": "assistant", "content": "better answer"}]
        store.decide(rid, "edit", "alice", messages=edited)
        store.decide(rid, "label", "bob", labels=["gold", "code"])
        store.decide(rid, "reject", "bob", reason="off topic")
        store.decide(rid, "accept", "alice", note="fine after the edit")
        got = store.get(rid, history=True)
        assert got.decision is not None
        assert got.decision.verdict == "accept" and got.decision.reviewer == "alice" and got.decision.count == 4
        assert got.decision.labels == ["gold", "code"] and got.decision.note == "fine after the edit"
        assert got.edited_record["messages"][-1]["content"] == "better answer"
        assert [h["action"] for h in got.history] == ["edit", "label", "reject", "accept"]
        assert store.queue(QueueFilter(label="gold"), 0, 5).items[0].record_id == rid
        assert store.queue(QueueFilter(status="edited"), 0, 5).total == 1
        assert store.queue(QueueFilter(status="unreviewed"), 0, 0).total == 199
        store.decide(rid, "reset", "carol")
        assert store.get(rid).decision.verdict is None and store.get(rid).decision.messages is None
        store.rebuild_latest()
        assert store.get(rid).decision.count == 5
        with pytest.raises(CurationError, match="no record"):
            store.decide("nope", "accept", "alice")
        with pytest.raises(CurationError, match="unknown review action"):
            store.decide(rid, "approve", "alice")


def test_clusters_show_members_with_similarity_and_resolve(run: Path) -> None:
    with ReviewStore(run) as store:
        clusters = store.clusters()
        assert clusters and all(c.size > 1 for c in clusters)
        info = store.cluster(clusters[0].id)
        survivor = next(m for m in info.members if m.split != "rejected")
        assert info.survivor == survivor.id and survivor.similarity == 1.0
        others = [m for m in info.members if m.id != survivor.id]
        assert all(m.reason == "near_duplicate" and m.duplicate_of == survivor.id for m in others)
        assert all(0.5 < m.similarity < 1.0 for m in others)
        keep = others[0].id
        rows = store.resolve_cluster(info.id, keep, "alice")
        assert [r["action"] for r in rows] == ["accept"] + ["reject"] * (len(info.members) - 1)
        after = store.cluster(info.id)
        assert after.survivor == keep
        assert store.get(survivor.id).decision.verdict == "reject"
        assert store.get(survivor.id).decision.duplicate_of == keep
        with pytest.raises(CurationError, match="not a member"):
            store.resolve_cluster(info.id, "r999999", "alice")


def test_two_reviewers_at_once_lose_no_decision(run: Path) -> None:
    ids = [i.record_id for i in ReviewStore(run).queue(QueueFilter(), 0, 60).items]
    errors: list[BaseException] = []

    def review(name: str) -> None:
        try:
            with ReviewStore(run) as store:  # its own connection, as a second process would have
                for rid in ids:
                    store.decide(rid, "accept" if name == "alice" else "reject", name, note=name)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with ReviewStore(run) as store:
        log = store.decisions()
        assert len(log) == 2 * len(ids)
        assert {(r["record_id"], r["reviewer"]) for r in log} == {(i, n) for i in ids for n in ("alice", "bob")}
        latest = store.latest()
        for rid in ids:  # the merged state is whoever wrote last
            last = [r for r in log if r["record_id"] == rid][-1]
            assert latest[rid].reviewer == last["reviewer"] and latest[rid].count == 2


def test_decisions_carry_to_a_new_run_of_the_same_data(run: Path, tmp_path: Path) -> None:
    with ReviewStore(run) as store:
        rid = store.queue(QueueFilter(split="train"), 0, 1).items[0].record_id
        store.decide(rid, "reject", "alice", reason="wrong")
        store.decide("r000001", "label", "alice", labels=["x"])
    log = tmp_path / "decisions.jsonl"
    assert export_decisions(run, log) == 2
    assert [orjson.loads(line)["action"] for line in log.read_bytes().splitlines()] == ["reject", "label"]
    other = write_synthetic_run(tmp_path / "rerun", n=200, seed=1)
    assert import_decisions(other, log) == 2
    assert import_decisions(other, log) == 0  # idempotent, by decision uid
    for source in (other, other / "review.sqlite", log):
        decisions = load_decisions(source)
        assert decisions[rid].verdict == "reject" and decisions[rid].reason == "wrong"
        assert decisions["r000001"].labels == ["x"]
    empty = tmp_path / "never-reviewed"
    empty.mkdir()
    assert load_decisions(empty) == {}


def test_store_reimports_when_the_run_is_redone(run: Path) -> None:
    with ReviewStore(run) as store:
        store.decide("r000000", "label", "alice", labels=["keep"])
        total = store.progress().total
    # A new `curate run` into the same folder writes a new manifest and fewer records.
    lines = (run / "splits" / "train.jsonl").read_bytes().splitlines(keepends=True)
    (run / "splits" / "train.jsonl").write_bytes(b"".join(lines[:-5]))
    (run / "manifest.json").write_bytes(b'{"config_hash": "other"}')
    with ReviewStore(run) as store:
        assert store.progress().total == total - 5
        assert store.get("r000000").decision.labels == ["keep"]

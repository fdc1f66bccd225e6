"""Handlers for a team: who decides, what is shown (escaped, right-to-left), bulk and undo, jumping, export."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from curation.errors import CurationError
from curation.review.synthetic import write_synthetic_run
from ui import handlers as h


@pytest.fixture()
def ctx(tmp_path: Path) -> h.UIContext:
    context = h.UIContext(write_synthetic_run(tmp_path / "run", n=150, seed=3))
    yield context
    context.close()


def test_record_text_is_escaped_right_to_left_aware_and_empty_turns_show() -> None:
    record = {"id": "x", "messages": [
        {"role": "user", "content": "<img src=x onerror=alert(1)> and <b>bold</b> ![i](http://e/x.png)"},
        {"role": "assistant", "content": "שלום עולם"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": '{"a":1,"b":[1,2]}'}}]},
        {"role": "assistant", "content": ""},
    ]}  # fmt: skip
    page = h.render_record_html(record)
    assert "<img" not in page and "<b>" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<img" not in page  # no markdown image either
    assert page.count("dir='auto'") == 4 and "שלום עולם" in page
    assert '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}'.replace('"', "&quot;") in page
    assert "∅ empty turn" in page and "turn role-assistant empty" in page


def test_header_names_the_record_its_flags_and_reject_reason(ctx: h.UIContext) -> None:
    rid = next(i for i in ctx.store.ids(h.make_filter(flag=h.ANY_FLAG)) if ctx.store.get(i).split != "rejected")
    view = h.review_view(ctx, h.make_filter(flag=h.ANY_FLAG), ctx.store.ids(h.make_filter(flag=h.ANY_FLAG)).index(rid))
    assert f"data-record-id='{rid}'" in view.header
    assert all(f"<span class='flag'>{f}</span>" in view.header for f in ctx.store.get(rid).flags)
    rejected = h.review_view(ctx, h.make_filter(reason="near_duplicate"), 0)
    assert "<span class='reason'>near_duplicate" in rejected.header


def test_the_logged_in_user_is_the_reviewer_of_record() -> None:
    assert h.reviewer_of_record("alice", "mallory") == "alice"
    assert h.reviewer_of_record(None, " bob ") == "bob"
    with pytest.raises(CurationError, match="Reviewer box"):
        h.reviewer_of_record(None, "")


def test_default_queue_is_to_review_and_leases_split_it_between_reviewers(ctx: h.UIContext) -> None:
    a = h.review_view(ctx, h.make_filter(status=h.TODO, reviewer="alice"), 0)
    b = h.review_view(ctx, h.make_filter(status=h.TODO, reviewer="bob"), 0)
    assert a.record_id and b.record_id and a.record_id != b.record_id
    assert b.total == a.total - 1  # alice's record is not in bob's queue
    with pytest.raises(CurationError, match="alice's screen"):
        h.decide(ctx, a.record_id, "reject", "bob")
    h.decide(ctx, a.record_id, "accept", "alice")
    assert "To review 1 /" in h.review_view(ctx, h.make_filter(status=h.TODO, reviewer="alice"), 0).progress


def test_bulk_reject_of_a_filtered_set_then_undo(ctx: h.UIContext) -> None:
    flt = h.make_filter(reason="near_duplicate", reviewer="alice")
    text, n = h.bulk_preview(ctx, flt, "reject")
    assert n == len(ctx.store.ids(flt)) > 1 and f"reject {n:,} record(s)" in text
    with pytest.raises(CurationError, match="Preview"):
        h.bulk_apply(ctx, flt, "reject", "alice", None)
    assert f"{n:,} record(s)" in h.bulk_apply(ctx, flt, "reject", "alice", n, reason="off topic")
    assert all(ctx.store.decision(i).verdict == "reject" for i in ctx.store.ids(flt))
    view = h.review_view(ctx, flt, 0)
    assert "off topic" in view.history and " · bulk" in view.history  # the batch marker, not the reason text
    assert f"undid {n}" in h.undo_last(ctx, "alice")
    assert all(ctx.store.decision(i) is None for i in ctx.store.ids(flt))
    assert "class='undone'" in h.review_view(ctx, flt, 0).history


def test_edit_diff_and_history(ctx: h.UIContext) -> None:
    flt = h.make_filter(split="train")
    view = h.review_view(ctx, flt, 0)
    h.edit_message(ctx, view.record_id, len(view.message_choices) - 1, "A corrected answer.", "alice")
    again = h.review_view(ctx, flt, 0)
    assert "<span class='add'>+[messages] assistant: A corrected answer.</span>" in again.history
    assert "<span class='del'>-[messages] assistant:" in again.history and "alice</b>: edit" in again.history


def test_jump_and_keeping_your_place_when_a_filter_changes(ctx: h.UIContext) -> None:
    flt = h.make_filter(split="train")
    ids = ctx.store.ids(flt)
    assert h.jump(ctx, flt, "7") == 6 and h.jump(ctx, flt, ids[9]) == 9
    with pytest.raises(CurationError, match="outside the queue"):
        h.jump(ctx, flt, "100000")
    with pytest.raises(CurationError, match="not in the filtered queue"):
        h.jump(ctx, flt, "no-such-id")
    language = ctx.store.get(ids[9]).language
    narrower = h.make_filter(split="train", language=language)
    assert ctx.store.ids(narrower)[h.position_of(ctx, narrower, ids[9])] == ids[9]
    assert h.position_of(ctx, h.make_filter(split="rejected"), ids[9]) == 0


def test_overview_funnel_keeps_pipeline_order(ctx: h.UIContext) -> None:
    o = h.overview(ctx)
    assert o["stages"] == [s["stage"] for s in ctx.report()["funnel"]] and o["stages"][0] == "read"


def test_guidelines_file_is_shown(ctx: h.UIContext) -> None:
    assert "guidelines.md" in h.guidelines(ctx)
    (ctx.run_dir / "guidelines.md").write_text("# Rules\nReject PII.", encoding="utf-8")
    assert h.guidelines(ctx).startswith("# Rules")


def test_team_view_overlap_and_conflict_resolution_are_for_admins(ctx: h.UIContext, tmp_path: Path) -> None:
    from curation.review.users import UsersFile

    users = UsersFile(tmp_path / "users.json")
    users.add("ann", "password-1", "admin")
    users.add("rob", "password-2", "reviewer")
    ctx.users = users
    with pytest.raises(CurationError, match="not an admin"):
        h.set_overlap(ctx, "rob", 50)
    assert "50%" in h.set_overlap(ctx, "ann", 50)
    ctx.store.set_overlap(1.0)
    rid = ctx.store.ids(h.make_filter(status=h.TODO))[0]
    h.decide(ctx, rid, "accept", "rob")
    ctx.store.decide(rid, "reject", "zoe")
    summary, pairs, conflicts = h.team_view(ctx)
    assert pairs == [["rob", "zoe", 1, 0, 0.0, 0.0]] and conflicts == [[rid, "rob: accept, zoe: reject"]]
    with pytest.raises(CurationError, match="not an admin"):
        h.resolve_conflict(ctx, "rob", rid, "accept")
    assert "resolved as reject" in h.resolve_conflict(ctx, "ann", rid, "reject")
    assert h.team_view(ctx)[2] == [] and "open conflicts: **0**" in h.team_view(ctx)[0]


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_a_refused_export_leaves_the_run_folder_byte_identical(ctx: h.UIContext) -> None:
    train = h.make_filter(split="train")
    n = len(ctx.store.ids(train))
    ctx.store.bulk(train, "reject", "alice", expected=n)  # leaves OpenAI fewer than its 10 training examples
    ctx.store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _snapshot(ctx.run_dir)
    with pytest.raises(CurationError, match="nothing in the run folder was changed"):
        h.run_export(ctx, ["openai", "hf"])
    assert _snapshot(ctx.run_dir) == before
    ctx.store.undo_last("alice")
    rid = ctx.store.ids(train)[0]
    h.decide(ctx, rid, "reject", "alice", reason="bad")
    # A successful export applies the decision, writes the files and re-renders the report.
    summary, _files = h.run_export(ctx, ["openai"])
    assert "1 rejected" in summary and "report.html re-rendered" in summary
    assert "human_rejected" in (ctx.run_dir / "report.html").read_text(encoding="utf-8")
    kept = [orjson.loads(x)["id"] for x in (ctx.run_dir / "splits" / "train.jsonl").read_bytes().splitlines()]
    assert rid not in kept


def test_a_record_decided_by_another_while_the_lease_lapsed_is_refused(ctx: h.UIContext) -> None:
    a = h.review_view(ctx, h.make_filter(status=h.TODO, reviewer="alice"), 0)
    ctx.store.release("alice")  # alice's lease lapsed while the record stayed on her screen
    h.decide(ctx, a.record_id, "reject", "bob")
    with pytest.raises(CurationError, match="decided by bob while it was open here"):
        h.decide(ctx, a.record_id, "accept", "alice")

"""The UI's handler functions, without a browser."""

from __future__ import annotations

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


def test_overview_counts_follow_decisions(ctx: h.UIContext) -> None:
    before = h.overview(ctx)
    splits = dict(zip(before["splits"]["split"], before["splits"]["records"], strict=True))
    assert set(before["funnel"]["stage"]) == {"read", "filters", "near_dedup"}
    assert "near_duplicate" in set(before["reasons"]["reason"])
    rid = h.review_view(ctx, h.make_filter(split="train"), 0).record_id
    h.decide(ctx, rid, "reject", "alice", reason="off topic")
    after = h.overview(ctx)
    moved = dict(zip(after["splits"]["split"], after["splits"]["records"], strict=True))
    assert moved["train"] == splits["train"] - 1 and moved["rejected"] == splits["rejected"] + 1
    assert "Reviewed** 1 / 150" in after["summary"]


def test_filters_and_navigation(ctx: h.UIContext) -> None:
    choices = h.filter_choices(ctx)
    assert choices["reason"][:3] == [h.ANY, h.ANY_REASON, "kept"] and "near_duplicate" in choices["reason"]
    assert choices["flag"][:2] == [h.ANY, h.ANY_FLAG] and choices["status"][1] == h.TODO
    flt = h.make_filter(reason="near_duplicate", flag=h.ANY, language="", status=h.ANY)
    assert flt.reason == "near_duplicate" and flt.flag is None and flt.language is None and flt.status is None
    first = h.review_view(ctx, flt, 0)
    assert first.total > 1 and first.record_id is not None and "near_duplicate" in first.header
    assert first.details["reject"]["reason"] == "near_duplicate" and first.details["reject"]["duplicate_of"]
    second = h.review_view(ctx, flt, 1)
    assert second.record_id != first.record_id and "<b>2 / " in second.header
    last = h.review_view(ctx, flt, 10_000)  # clamped to the end of the queue
    assert last.position == first.total - 1
    empty = h.review_view(ctx, h.make_filter(text="no such text anywhere"), 0)
    assert empty.total == 0 and empty.record_id is None and empty.chat == []


def test_render_chat_shows_system_prompt_tool_calls_and_results() -> None:
    record = {"id": "x", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Find it"},
                                     {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "search", "arguments": '{"q": "it"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "found"},
        {"role": "assistant", "content": "Here.", "weight": 0},
    ]}  # fmt: skip
    chat = h.render_chat(record)
    titles = [m.get("metadata", {}).get("title", "") for m in chat]
    assert titles[0] == "#0 system prompt" and chat[0]["content"] == "Be brief."
    assert chat[1] == {"role": "user", "content": "Find it\n[image: https://x/y.png]"}
    assert "tool call search" in titles[2] and '{"q": "it"}' in chat[2]["content"]
    assert "tool result c1" in titles[3] and "found" in chat[3]["content"]
    assert "weight 0" in titles[4]
    pair = {"id": "p", "prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "A"}],
            "rejected": [{"role": "assistant", "content": "B"}]}  # fmt: skip
    shown = h.render_chat(pair)
    assert [m["content"] for m in shown] == ["Q", "A", "B"]
    assert "chosen" in shown[1]["metadata"]["title"] and "rejected" in shown[2]["metadata"]["title"]


def test_accept_reject_label_and_advance(ctx: h.UIContext) -> None:
    flt = h.make_filter(reason="near_duplicate")
    view = h.review_view(ctx, flt, 0)
    h.decide(ctx, view.record_id, "accept", "alice", labels="gold, reviewed", note="long but good")
    assert h.position_after_decision(ctx, flt, 0, view.record_id) == 1
    unreviewed = h.make_filter(reason="near_duplicate", status="unreviewed")
    nxt = h.review_view(ctx, unreviewed, 0)
    h.decide(ctx, nxt.record_id, "reject", "bob", reason="really too long")
    assert h.position_after_decision(ctx, unreviewed, 0, nxt.record_id) == 0  # it left the queue: stay
    got = ctx.store.get(view.record_id)
    assert got.decision.verdict == "accept" and got.decision.labels == ["gold", "reviewed"]
    assert ctx.store.get(nxt.record_id).decision.reason == "really too long"
    assert h.review_view(ctx, h.make_filter(label="gold"), 0).record_id == view.record_id
    assert {"gold", "reviewed"} <= set(h.filter_choices(ctx)["label"])  # what the app re-reads after a save
    with pytest.raises(CurationError, match="no record is selected"):
        h.decide(ctx, None, "accept", "alice")


def test_edit_message_stores_edited_messages(ctx: h.UIContext) -> None:
    view = h.review_view(ctx, h.make_filter(split="train"), 0)
    last = len(view.message_choices) - 1
    h.edit_message(ctx, view.record_id, last, "A corrected answer.", "alice")
    again = h.review_view(ctx, h.make_filter(split="train"), 0)
    assert again.chat[-1]["content"] == "A corrected answer." and "(edited)" in again.header
    record = ctx.store.get(view.record_id)
    assert record.decision.messages[-1]["content"] == "A corrected answer."
    assert record.record["messages"][-1]["content"] != "A corrected answer."  # the pipeline's copy is untouched
    with pytest.raises(CurationError, match="out of range"):
        h.edit_message(ctx, view.record_id, 99, "x", "alice")


def test_duplicates_view_and_resolution(ctx: h.UIContext) -> None:
    rows = h.cluster_rows(ctx)
    assert rows and rows[0][1] >= rows[-1][1] > 1
    page, choices, survivor = h.cluster_view(ctx, rows[0][0])
    assert survivor is not None and page.count("class='dup-member") == rows[0][1]
    assert "similarity <b>1.00</b>" in page
    keep = next(value for _, value in choices if value != survivor)
    message = h.resolve_cluster(ctx, rows[0][0], keep, "alice")
    assert f"kept {keep}" in message
    assert h.cluster_view(ctx, rows[0][0])[2] == keep
    assert ctx.store.get(survivor).decision.verdict == "reject"


def test_export_applies_decisions_then_writes_openai_files(ctx: h.UIContext) -> None:
    assert "openai" in h.exporter_choices()
    rid = h.review_view(ctx, h.make_filter(split="train"), 0).record_id
    h.decide(ctx, rid, "reject", "alice", reason="bad")
    summary, files = h.run_export(ctx, ["openai"])
    assert "1 rejected" in summary
    train = ctx.run_dir / "exports" / "openai" / "sft" / "train.jsonl"
    assert str(train) in h.export_files(files)
    exported = [orjson.loads(line) for line in train.read_bytes().splitlines()]
    assert exported and all("messages" in row for row in exported)
    kept = [orjson.loads(line)["id"] for line in (ctx.run_dir / "splits" / "train.jsonl").read_bytes().splitlines()]
    assert rid not in kept and len(exported) == len(kept)
    with pytest.raises(CurationError, match="at least one export format"):
        h.run_export(ctx, [])


def test_export_names_the_closing_date_and_a_closed_launch_is_refused(
    ctx: h.UIContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    summary, _ = h.run_export(ctx, ["openai"])
    assert "**Warning:** OpenAI stops new fine-tuning jobs on 2027-01-06 (35 days)" in summary
    summary, _ = h.run_export(ctx, ["azure-openai"])
    assert "Warning" not in summary
    with pytest.raises(CurationError, match="refused to launch a job on openai:gpt-4.1-nano-2025-04-14"):
        h.launch_job(ctx, "openai", "gpt-4.1-nano-2025-04-14", "", job_db=tmp_path / "jobs.sqlite")


def test_train_handlers_list_launch_poll_and_cancel(ctx: h.UIContext, tmp_path: Path) -> None:
    from pydantic import BaseModel, ConfigDict

    from curation import plugins
    from curation.trainers.base import Job, PreparedData, TrainerBackend

    class FakeParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str = "tiny"
        n_epochs: int = 1

    class FakeBackend(TrainerBackend):
        name = "fake"
        Params = FakeParams

        def prepare(self, run_dir: Path, params: dict) -> PreparedData:
            return PreparedData(kind="sft", format="openai", train=str(run_dir / "splits" / "train.jsonl"))

        def launch(self, job: Job) -> Job:
            job.status = "running"
            return job

        def status(self, job: Job) -> Job:
            step = len(job.events) + 1
            job.events.append({"created_at": 0, "message": f"step {step}", "data": {"step": step, "loss": 3.0 / step}})
            job.metrics["loss"] = 3.0 / step
            return job

        def cancel(self, job: Job) -> Job:
            job.status = "cancelled"
            return job

    plugins.register(plugins.TRAINER_GROUP, "fake", FakeBackend)
    try:
        db = tmp_path / "jobs.sqlite"
        assert "fake" in h.trainer_choices()
        job_id = h.launch_job(ctx, "fake", "tiny-model", "n_epochs: 2", db)
        rows = h.job_rows(ctx, db)
        assert rows[0][:4] == [job_id, "fake", "running", "tiny-model"]
        h.job_status(ctx, job_id, db)
        status = h.job_status(ctx, job_id, db)
        assert "running" in status["status"] and not status["done"]
        assert list(status["loss"]["loss"]) == [3.0, 1.5] and "step 2" in status["logs"]
        assert "cancelled" in h.cancel_job(ctx, job_id, db)
        assert h.job_status(ctx, job_id, db)["done"]
        with pytest.raises(CurationError, match="credential"):
            h.launch_job(ctx, "fake", None, "api_key: sk-123", db)
        assert h.parse_params("n_epochs=3\nlr=0.1") == {"n_epochs": 3, "lr": 0.1}
    finally:
        plugins.unregister(plugins.TRAINER_GROUP, "fake")


def test_login_comes_from_the_environment_and_missing_run_folders_fail_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from curation.cli import main
    from ui.app import _auth

    monkeypatch.delenv("CURATION_UI_USER", raising=False)
    monkeypatch.delenv("CURATION_UI_PASSWORD", raising=False)
    assert _auth(None) is None
    assert _auth(("a", "b")) == ("a", "b")
    monkeypatch.setenv("CURATION_UI_PASSWORD", "pw")
    with pytest.raises(CurationError, match="CURATION_UI_USER"):
        _auth(None)
    monkeypatch.setenv("CURATION_UI_USER", "ann")
    assert _auth(None) == ("ann", "pw")
    assert main(["ui", str(tmp_path / "missing")]) == 2

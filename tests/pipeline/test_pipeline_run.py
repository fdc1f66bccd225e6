from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest

from curation.cli import main
from curation.config import load_config
from curation.errors import ConfigError
from curation.pipeline.runner import run_pipeline
from curation.readers import expand_inputs, read_path


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _outputs(run_dir: Path) -> tuple[dict[str, list[dict]], list[dict]]:
    splits = {p.stem: _lines(p) for p in sorted((run_dir / "splits").glob("*.jsonl"))}
    return splits, _lines(run_dir / "rejects.jsonl")


def _run(inputs: list[Path], out: Path, **overrides: object):
    values = {"inputs": [str(p) for p in inputs], "out": str(out), "export.formats": [],
              "runner.progress": False, **overrides}
    config = load_config(None, values=values)
    return run_pipeline(config, quiet=True)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path):
    out = tmp_path_factory.mktemp("real") / "run"
    files = sorted(p for p in real_dir.iterdir() if p.is_dir())
    result = _run(files, out)
    return result, files


def test_conservation_on_the_real_files(real_run) -> None:
    result, files = real_run
    expected = sum(1 for path in expand_inputs([str(f) for f in files]) for _ in read_path(path))
    splits, rejects = _outputs(result.run_dir)
    kept = sum(len(v) for v in splits.values())
    assert result.records_in == expected
    assert kept + len(rejects) == expected
    assert result.records_out == kept and result.rejected == len(rejects)
    ids = [r["id"] for recs in splits.values() for r in recs] + [r["id"] for r in rejects]
    assert len(ids) == len(set(ids)) == expected
    # Every reject names a stage and a reason; duplicates name the record they duplicate, which was kept.
    kept_ids = {r["id"] for recs in splits.values() for r in recs}
    all_ids = set(ids)
    for reject in rejects:
        assert reject["stage"] and reject["reason"]
        if reject["reason"] in ("exact_duplicate", "near_duplicate"):
            assert reject["duplicate_of"] in kept_ids, reject
        assert reject.get("duplicate_of") is None or reject["duplicate_of"] in all_ids or \
            reject["stage"] == "decontaminate"


def test_funnel_reconciles_per_stage_and_reason(real_run) -> None:
    result, _ = real_run
    report = orjson.loads((result.run_dir / "report.json").read_bytes())
    _, rejects = _outputs(result.run_dir)
    by_stage_reason = Counter((r["stage"], r["reason"]) for r in rejects)
    previous_out = report["records_in"]
    for row in report["funnel"]:
        assert row["in"] == previous_out
        assert row["out"] == row["in"] - row["dropped"]
        assert sum(row["by_reason"].values()) == row["dropped"]
        for reason, count in row["by_reason"].items():
            assert by_stage_reason[(row["stage"], reason)] == count
        previous_out = row["out"]
    assert previous_out == report["records_out"]
    assert sum(info["records"] for info in report["splits"].values()) == report["records_out"]
    # The real data has known problems; they must show up under their reason codes.
    reasons = set(report["reasons"])
    assert {"exact_duplicate", "near_duplicate"} <= reasons
    assert "unfilled_placeholder" in reasons


def test_split_records_keep_ids_and_metadata(real_run) -> None:
    result, _ = real_run
    splits, _ = _outputs(result.run_dir)
    assert set(splits) == {"train", "validation"}
    for name, records in splits.items():
        for record in records:
            assert record["metadata"]["split"] == name
            assert record["metadata"]["source"]["path"]
            assert "language" in record["metadata"] and "tokens" in record["metadata"]
    manifest = orjson.loads((result.run_dir / "manifest.json").read_bytes())
    assert len(manifest["config_hash"]) == 64 and all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_outputs_are_byte_identical_across_runs_and_executors(tmp_path: Path, real_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.pipeline import runner

    made: list[str] = []
    real_make = runner.make_executor

    def spy(*args: object, **kwargs: object):
        executor = real_make(*args, **kwargs)
        made.append(type(executor).__name__)
        return executor

    monkeypatch.setattr(runner, "make_executor", spy)
    files = [real_dir / "lm-sys__FastChat", real_dir / "hiyouga__LLaMA-Factory", real_dir / "anthropics__hh-rlhf"]
    a = _run(files, tmp_path / "a", **{"runner.executor": "inprocess"}).run_dir
    b = _run(files, tmp_path / "b", **{"runner.executor": "inprocess"}).run_dir
    c = _run(files, tmp_path / "c", **{"runner.executor": "processes", "runner.workers": 2,
                                        "runner.batch_size": 64}).run_dir
    assert made == ["InProcessExecutor", "InProcessExecutor", "ProcessExecutor"]  # c really used 2 workers
    assert (a / "splits" / "train.jsonl").stat().st_size > 0
    for name in ("splits/train.jsonl", "splits/validation.jsonl", "rejects.jsonl", "report.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
        assert (a / name).read_bytes() == (c / name).read_bytes(), name


def test_bad_config_stops_before_any_work(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("inputs: [x.jsonl]\nnear_dedup:\n  treshold: 0.8\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "near_dedup.treshold" in str(err.value)
    out = tmp_path / "never"
    code = main(["run", str(cfg), "--out", str(out)])
    assert code == 2 and not out.exists()


def test_missing_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--input", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "nope.jsonl" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_run_without_config(tmp_path: Path, real_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    shutil.copy(real_dir / "bofenghuang__vigogne" / "oasst_20230412_fr_top1.jsonl", src)
    out = tmp_path / "run"
    code = main(["run", "--input", str(src), "--out", str(out), "--export", "none", "--json",
                 "--set", "language.allow=[fr]"])
    assert code == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["records_in"] == 256
    assert report["languages"].get("fr", 0) == report["records_out"] > 200
    assert (out / "splits" / "train.jsonl").exists() and (out / "report.html").exists()


def test_a_run_whose_every_export_is_refused_still_prints_its_summary_and_the_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # It printed only "error: no export was written ... (fix: fix the rules printed above ...)", with no rule
    # printed above: the stage table and each export's refusal were left out.
    src = tmp_path / "one.jsonl"
    src.write_text('{"messages": [{"role": "user", "content": "What is the capital of France?"}, '
                   '{"role": "assistant", "content": "Paris."}]}\n')
    code = main(["run", "--input", str(src), "--out", str(tmp_path / "run"), "--export", "openai"])
    err = capsys.readouterr().err
    assert code == 1 and "no export was written" in err
    assert "export openai/sft: refused, too_few_examples" in err and "splits: train 1" in err


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    assert main(["init", str(path)]) == 0
    config = load_config(path)
    assert config.model == "azure/gpt-4.1-mini" and config.split.train == 0.9
    assert main(["init", str(path)]) == 2  # refuses to overwrite


def test_a_stage_that_crashes_on_one_record_does_not_stop_the_run() -> None:
    from curation.pipeline import runner
    from curation.pipeline.base import RecordStage

    class Fragile(RecordStage):
        name = "fragile"

        def process(self, record: dict) -> None:
            if "boom" in str(record["messages"][0]["content"]):
                raise ValueError("cannot handle this")
            return None

    plan = runner.WorkerPlan(stages=[Fragile()], shingle_size=3, num_perm=16, minhash_seed=1, near_enabled=True,
                             stratify_by=None)
    runner._init_worker(plan)
    lines = [orjson.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": c},
                                                       {"role": "assistant", "content": "ok then"}]})
             for i, c in enumerate(["fine", "boom here", "also fine"])]
    result = runner.process_batch((0, "x.jsonl", "openai", None, [(i + 1, i, b) for i, b in enumerate(lines)]))
    kinds = [(o[0], o[1]) for o in result["outcomes"]]
    assert kinds == [("K", "r0"), ("R", "fragile"), ("K", "r2")]
    crashed = result["outcomes"][1]
    assert crashed[2] == "stage_error" and "ValueError: cannot handle this" in crashed[3]
    assert result["signatures"].shape == (2, 16)


def test_a_record_whose_dedup_key_fails_is_rejected_alone() -> None:
    # Keys are computed for a whole batch at once; one text that cannot be keyed (a lone surrogate, which a
    # parquet or HF row can carry) must reject that record only, and signatures must match the kept ones.
    from curation.pipeline import runner

    plan = runner.WorkerPlan(stages=[], shingle_size=3, num_perm=16, minhash_seed=1, near_enabled=True,
                             stratify_by=None)
    runner._init_worker(plan)
    rows = [{"id": rid, "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok then"}]}
            for rid, text in (("a", "fine"), ("b", "bad \ud800 text"), ("c", "also fine"))]
    result = runner.process_batch((0, "x.parquet", "openai", None, [(None, i, row) for i, row in enumerate(rows)]))
    # The converter now refuses a row JSON cannot carry (it could not be written either), before any stage.
    assert [(o[0], o[1]) for o in result["outcomes"]] == [("K", "a"), ("R", "ingest"), ("K", "c")]
    assert result["outcomes"][1][2] == "data_type" and "lone surrogate" in result["outcomes"][1][3]
    assert result["signatures"].shape == (2, 16)


def test_role_aliases_are_repaired_before_validation(tmp_path: Path, real_dir: Path) -> None:
    # axolotl's Mistral example speaks as `Customer`; normalise maps it to `user` instead of a rejection.
    src = real_dir / "axolotl-ai-cloud__axolotl" / "mistral_example_data.jsonl"
    result = _run([src], tmp_path / "run", **{"language.enabled": False, "near_dedup.enabled": False})
    splits, rejects = _outputs(result.run_dir)
    kept = [r for recs in splits.values() for r in recs]
    assert not [r for r in rejects if r["reason"] == "unrecognized_role"]
    assert kept and all(m["role"] in ("user", "assistant") for r in kept for m in r["messages"])
    assert all("role" in r["metadata"]["normalised"] for r in kept)
    # Without the alias the same records are rejected with the cookbook's code.
    result = _run([src], tmp_path / "strict", **{"normalise.map_roles": False})
    _, rejects = _outputs(result.run_dir)
    assert len(rejects) == 10 and {r["reason"] for r in rejects} == {"unrecognized_role"}


def test_split_keys_are_appended_to_the_serialised_metadata() -> None:
    from curation.pipeline.runner import _with_split

    record = {"id": "a", "messages": [], "metadata": {"source": {"path": "x"}, "redactions": {"email": 1}}}
    out = orjson.loads(_with_split(orjson.dumps(record), "train", 7))
    assert out["metadata"] == {**record["metadata"], "split": "train", "cluster": 7}
    # Any other shape takes the parsing path and gives the same result.
    odd = {"metadata": {}, "id": "b"}
    assert orjson.loads(_with_split(orjson.dumps(odd), "validation", -1)) == {
        "metadata": {"split": "validation"}, "id": "b"}
    assert orjson.loads(_with_split(orjson.dumps({"id": "c", "metadata": {}}), "test", -1)) == {
        "id": "c", "metadata": {"split": "test"}}


def test_a_record_with_a_non_object_message_is_rejected_without_stopping_the_run(tmp_path: Path) -> None:
    # Bug: the report's reject examples took a snippet from every message with .get, so a validation reject
    # whose messages held a bare string crashed the whole run with AttributeError.
    src = tmp_path / "in.jsonl"
    good = {"messages": [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Hi!"}]}
    bad = {"id": "bad", "messages": ["hello", {"role": "user", "content": "Where is it?"},
                                     {"role": "assistant", "content": "Here."}]}
    src.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(bad) + b"\n")
    result = _run([src], tmp_path / "run", **{"language.enabled": False})
    assert result.records_in == 2
    rejects = [orjson.loads(line) for line in (result.run_dir / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["id"], r["stage"]) for r in rejects] == [("bad", "validate")]
    examples = result.report["reject_examples"][rejects[0]["reason"]]
    assert examples[0]["id"] == "bad" and examples[0]["snippet"] == "Where is it?"


def test_a_run_for_a_model_of_its_own_models_table_exports_for_it(tmp_path: Path) -> None:
    # `models:` defined ft:gpt-4o-mini-...:acme::abc123; the run curated for it and the export step then stopped
    # with "unknown model" (exit 2) after the work was done
    src = tmp_path / "d.jsonl"
    src.write_text("".join(orjson.dumps({"messages": [{"role": "user", "content": f"Weather question {i}?"},
                                                       {"role": "assistant", "content": f"Sunny, {i}."}]}).decode()
                           + "\n" for i in range(12)))
    name = "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    config = tmp_path / "c.yaml"
    config.write_text(f"inputs: [{src}]\nmodel: '{name}'\nmodels:\n  '{name}':\n    provider: openai\n"
                      "    encoding: o200k_base\n    max_tokens_per_example: 65536\nseed: 0\nexport:\n"
                      "  formats: [openai]\nsplit:\n  train: 1.0\n  validation: 0.0\n")
    assert main(["run", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert (tmp_path / "run/exports/openai/sft/train.jsonl").exists()
    assert main(["export", str(tmp_path / "run"), "--to", "openai", "--model", name]) == 0


def test_a_run_over_a_support_export_warns_with_what_the_readers_left_out(
        tmp_path: Path, real_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Intercom's own examples (one exchange kept, its three events left out) beside Zendesk tickets, each with a
    # private note, a screenshot, and the earlier mail quoted below the customer's follow-up
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(real_dir / "intercom__Intercom-OpenAPI" / "conversation_examples.json", folder / "intercom.json")
    topics = ["printer", "router", "invoice", "login", "refund", "delivery"]

    def comment(cid: int, author: int, body: str, **extra: object) -> dict:
        return {"id": cid, "type": "Comment", "author_id": author, "body": body, "public": True,
                "created_at": f"2024-01-0{cid}T10:00:00Z", **extra}

    tickets = [{"id": n, "requester_id": 1, "comments": [
        comment(1, 1, f"My {topic} stopped working after the update on day {n}."),
        comment(2, 2, f"Escalating the {topic} case to tier two.", public=False),
        comment(3, 2, f"Please reinstall the {topic} driver from the downloads page, version {n}.",
                html_body=f"<p>Please reinstall the {topic} driver from the downloads page, version {n}.</p>"
                          '<p><img src="https://example.zendesk.com/attachments/shot.png"></p>'),
        comment(4, 1, f"That fixed the {topic}, thank you.\n\nOn Wed, 3 Jan 2024 at 10:00, Support "
                      f"<help@example.com> wrote:\n> Please reinstall the {topic} driver"),
        comment(5, 2, f"Glad the {topic} works again; closing ticket {n}."),
    ]} for n, topic in enumerate(topics)]
    (folder / "zendesk.jsonl").write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in tickets))
    code = main(["run", "--input", str(folder), "--out", str(tmp_path / "run"), "--export", "none"])
    assert code == 0
    printed = " ".join(capsys.readouterr().err.split())
    report = orjson.loads((tmp_path / "run" / "report.json").read_bytes())
    assert report["records_out"] == 7
    [warning] = [w for w in report["warnings"] if "left out of the kept records" in w]
    assert warning.startswith("the readers left out of the kept records: events 3, images 6, private_notes 6, "
                              "quoted_text 6 (")
    assert warning.endswith("images and quoted e-mail are never training text; each record says what it lost in "
                            "metadata.left_out)")
    assert "left out of the kept records: events 3, images 6" in printed  # and shown

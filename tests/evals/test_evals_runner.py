"""`curate eval` end to end: local models on the samples run, and an OpenAI-compatible fake whose every request
and answer is checked against the official client's types; judges in both orders; `--record` read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from fake_chat import serve_fake_chat

from curation.cli import main
from curation.records import parse_record

SECRET = "sk-endpoint-CURATION-91c2d7e4"


def _rows(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def _n_prompts(run: Path) -> int:
    from curation.evals.prompts import load_prompts

    return len(load_prompts(run)[1])


def test_trained_model_against_its_base_on_the_samples(samples_run: Path, trained_model: Path, base_model: Path,
                                                       capsys) -> None:  # noqa: ANN001
    code = main(["eval", str(samples_run), "--model", str(trained_model), "--baseline", str(base_model),
                 "--max-tokens", "12", "--quiet", "--name", "tuned-vs-base"])
    out = capsys.readouterr().out
    assert code == 0, out
    folder = samples_run / "eval" / "tuned-vs-base"
    rows = _rows(folder)
    assert len(rows) == _n_prompts(samples_run) == 15  # one line per held-out prompt (validation: no test split)
    assert [r["id"] for r in rows] == sorted({r["id"] for r in rows}, key=[r["id"] for r in rows].index)
    names = list(rows[0]["answers"])
    assert names == [f"{trained_model.parent.name}/final", "base"]
    for row in rows:
        assert row["reference"]["role"] == "assistant" and row["messages"][-1]["role"] != "assistant"
        for answer in row["answers"].values():
            assert "error" not in answer and answer["completion_tokens"] <= 12
            assert {"chrf", "rougeL"} <= set(answer["scores"])
        assert row["comparisons"][f"{names[0]} vs base"]["outcome"] in ("win", "tie", "loss")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["split"] == "validation" and summary["n_prompts"] == 15
    assert summary["generation"] == {"temperature": 0.0, "seed": 0, "max_tokens": 12}
    comp = summary["comparisons"][f"{names[0]} vs base"]
    assert comp["win"] + comp["tie"] + comp["loss"] == 15 and len(comp["net_ci"]) == 2
    for model in summary["models"].values():
        assert model["cost_usd"] == 0.0 and model["latency_s"]["mean"] > 0 and model["tokens"]["completion"] > 0
    assert "win" in out and "report:" in out
    # deterministic generation: a second run gives the same answers
    assert main(["eval", str(samples_run), "--model", str(trained_model), "--max-tokens", "12", "--quiet",
                 "--name", "again", "--limit", "3"]) == 0
    again = _rows(samples_run / "eval" / "again")
    assert [r["answers"][names[0]]["content"] for r in again] == [r["answers"][names[0]]["content"]
                                                                  for r in rows[:3]]


def _scripted(body: dict[str, Any]) -> dict[str, Any]:
    """'tuned' makes the right call, wrong arguments, and rightly no call; 'base' gets all three wrong."""
    user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")

    def call(name: str, arguments: str) -> dict[str, Any]:
        return {"content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                                 "function": {"name": name, "arguments": arguments}}]}
    if body["model"] == "tuned":
        if "Paris" in user:
            return call("get_weather", '{"unit": "C", "city": "Paris"}')
        if "Lyon" in user:
            return call("get_weather", '{"city": "Lyon", "unit": "F"}')
        return {"content": "Thank you!"}
    if "Paris" in user:
        return {"content": "It is sunny in Paris."}
    if "Lyon" in user:
        return call("get_time", '{"city": "Lyon"}')
    return call("get_weather", '{"city": "?"}')


def test_tool_call_accuracy_through_an_openai_compatible_endpoint(tool_run: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.setenv("CURATION_ENDPOINT_API_KEY", SECRET)
    with serve_fake_chat(_scripted) as fake:
        code = main(["eval", str(tool_run), "--model", f"{fake.url}#tuned;max_tokens=64;seed=7",
                     "--baseline", f"{fake.url}#base;max_tokens=64;seed=7", "-q"])
    assert code == 0, capsys.readouterr().err
    assert fake.violations == []
    assert len(fake.requests) == 6
    for body in fake.requests:
        assert body["temperature"] == 0 and body["seed"] == 7 and body["max_tokens"] == 64
        assert body["tools"][0]["function"]["name"] == "get_weather"
        assert body["messages"][0] == {"role": "system", "content": "You can call tools."}
    assert all(h["authorization"] == f"Bearer {SECRET}" for h in fake.headers)
    folder = tool_run / "eval" / "tuned"
    rows = _rows(folder)
    assert len(rows) == 3
    outcomes = {r["id"]: (r["answers"]["tuned"]["scores"]["tool_call_outcome"],
                          r["answers"]["base"]["scores"]["tool_call_outcome"]) for r in rows}
    assert outcomes == {"call-paris": ("right_call", "missing_call"), "call-lyon": ("wrong_arguments",
                        "wrong_function"), "no-call": ("right_no_call", "unexpected_call")}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["models"]["tuned"]["metrics"]["tool_call"]["mean"] == 0.6667
    assert summary["models"]["base"]["metrics"]["tool_call"]["mean"] == 0.0
    comp = summary["comparisons"]["tuned vs base"]
    assert (comp["win"], comp["tie"], comp["loss"]) == (2, 1, 0)  # Lyon: both wrong on the call, text ties
    assert summary["models"]["tuned"]["tokens"]["prompt"] > 0 and summary["models"]["tuned"]["cost_usd"] is None
    for path in folder.iterdir():  # the key lives in the environment only
        assert SECRET not in path.read_text()


def test_pairwise_judge_in_both_orders_cancels_position_bias(tool_run: Path, capsys) -> None:  # noqa: ANN001
    def answers(body: dict[str, Any]) -> dict[str, Any]:
        if body["model"] == "judge-first":  # always picks whatever is shown first
            return {"content": '{"verdict": "A"}'}
        if body["model"] == "judge-fair":  # picks the answer holding the Paris call
            user = body["messages"][-1]["content"]
            a = user.split("## Answer A")[1].split("## Answer B")[0]
            return {"content": '{"verdict": "A"}' if "Paris" in a and "[tool call]" in a else '{"verdict": "B"}'}
        return _scripted(body)

    with serve_fake_chat(answers) as fake:
        for judge in ("judge-first", "judge-fair"):
            assert main(["eval", str(tool_run), "--model", f"{fake.url}#tuned", "--baseline", f"{fake.url}#base",
                         "--judge", f"{fake.url}#{judge}", "--name", judge, "-q", "--limit", "1"]) == 0
    assert fake.violations == []
    judged = [b for b in fake.requests if b["model"].startswith("judge")]
    assert len(judged) == 4  # two orders per prompt, per judge
    first = _rows(tool_run / "eval" / "judge-first")[0]["comparisons"]["tuned vs base"]
    assert first["outcome"] == "tie" and first["by"] == "judge"
    assert [o["verdict"] for o in first["judge"]] == ["A", "A"] and [o["a"] for o in first["judge"]] == \
        ["model", "baseline"]
    fair = _rows(tool_run / "eval" / "judge-fair")[0]["comparisons"]["tuned vs base"]
    assert fair["outcome"] == "win"
    prompt = (tool_run / "eval" / "judge-fair" / "judge_prompt.txt").read_text()
    assert "{answer_a}" in prompt and "both" not in prompt.split("[user]")[1]  # the template as sent


def test_record_writes_canonical_conversations_that_curate_run_reads_back(samples_run: Path, tmp_path: Path,
                                                                          capsys) -> None:  # noqa: ANN001
    with serve_fake_chat(lambda body: {"content": f"Recorded answer to: {body['messages'][-1]['content'][:40]}"}
                         ) as fake:
        out = tmp_path / "recorded.jsonl"
        assert main(["eval", str(samples_run), "--record", f"{fake.url}#ft-closing;max_tokens=100", "--out",
                     str(out), "-q"]) == 0
    assert fake.violations == []
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(records) == 15
    for record in records:
        parse_record(record)  # a valid canonical conversation
        provenance = record["metadata"]["recorded"]
        assert provenance["model"] == "ft-closing" and provenance["parameters"] == {
            "temperature": 0.0, "seed": 0, "max_tokens": 100}
        assert provenance["date"].endswith("Z") and record["messages"][-1]["content"].startswith("Recorded")
    run2 = tmp_path / "run2"
    assert main(["run", "--input", str(out), "--out", str(run2)]) == 0
    kept = [orjson.loads(line) for split in (run2 / "splits").glob("*.jsonl") for line in split.read_bytes()
            .splitlines()]
    rejects = (run2 / "rejects.jsonl").read_bytes().splitlines() if (run2 / "rejects.jsonl").exists() else []
    assert len(kept) + len(rejects) == 15 and len(kept) >= 10
    assert all(parse_record(r).messages[-1].content.startswith("Recorded") for r in kept)
    assert all(r["metadata"]["recorded"]["model"] == "ft-closing" for r in kept)


def test_usage_errors_say_how_to_fix(samples_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["eval", str(samples_run)]) == 2
    assert "give --model REF" in capsys.readouterr().err
    assert main(["eval", str(samples_run), "--model", "no/such/folder"]) == 2
    assert "fix:" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--model", "openai:gpt-4o-mini"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["eval", str(samples_run), "--model", "http://127.0.0.1:9/v1#m;api_key=abc"]) == 2
    assert "unknown option" in capsys.readouterr().err

"""Near dedup of questions asked of one passage: the passage is most of their text, so they looked like near
copies (6 of 8 real SQuAD dev questions on the Super Bowl 50 paragraph were dropped); only the same question with
the same answer, its passage edited, is one."""

from __future__ import annotations

from pathlib import Path

import orjson

from curation.config import load_config
from curation.pipeline.runner import run_pipeline

# SQuAD v1.1 dev, title Super_Bowl_50 (CC BY-SA 4.0): its paragraph and eight of the questions asked of it.
CONTEXT = ("Super Bowl 50 was an American football game to determine the champion of the National Football League "
           "(NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the "
           "National Football Conference (NFC) champion Carolina Panthers 24-10 to earn their third Super Bowl "
           "title. The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at "
           "Santa Clara, California. As this was the 50th Super Bowl, the league emphasized the \"golden "
           "anniversary\" with various gold-themed initiatives, as well as temporarily suspending the tradition of "
           "naming each Super Bowl game with Roman numerals (under which the game would have been known as "
           "\"Super Bowl L\"), so that the logo could prominently feature the Arabic numerals 50.")
QUESTIONS = [("56be4db0acb8001400a502ec", "Which NFL team represented the AFC at Super Bowl 50?", "Denver Broncos"),
             ("56be4db0acb8001400a502ed", "Which NFL team represented the NFC at Super Bowl 50?", "Carolina Panthers"),
             ("56be4db0acb8001400a502ee", "Where did Super Bowl 50 take place?", "Santa Clara, California"),
             ("56be4db0acb8001400a502ef", "Which NFL team won Super Bowl 50?", "Denver Broncos"),
             ("56be4db0acb8001400a502f0", "What color was used to emphasize the 50th anniversary of the Super "
                                          "Bowl?", "gold"),
             ("56be8e613aeaaa14008c90d1", "What was the theme of Super Bowl 50?", "\"golden anniversary\""),
             ("56be8e613aeaaa14008c90d2", "What day was the game played on?", "February 7, 2016"),
             ("56be8e613aeaaa14008c90d3", "What is the AFC short for?", "American Football Conference")]


def _squad(qid: str, question: str, answer: str, context: str = CONTEXT) -> dict[str, object]:
    return {"id": qid, "title": "Super_Bowl_50", "context": context, "question": question,
            "answers": {"text": [answer], "answer_start": [context.find(answer)]}}


def test_questions_of_one_passage_are_not_near_duplicates_of_each_other(tmp_path: Path) -> None:
    rows = [_squad(*q) for q in QUESTIONS]
    # the first question again over the paragraph with one word changed: a near copy of a kept record
    rows.append(_squad("copy", QUESTIONS[0][1], "Denver Broncos", CONTEXT.replace("prominently", "clearly")))
    path = tmp_path / "dev.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    config = load_config(None, values={"inputs": [str(path)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.progress": False})
    run_pipeline(config, quiet=True)
    rejects = [orjson.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["id"], r["reason"], r["duplicate_of"]) for r in rejects] == [
        ("copy", "near_duplicate", "56be4db0acb8001400a502ec")]
    kept = [orjson.loads(line)["id"] for split in ("train", "validation")
            for line in (tmp_path / "run" / "splits" / f"{split}.jsonl").read_bytes().splitlines()]
    assert sorted(kept) == sorted(q[0] for q in QUESTIONS)


def test_sibling_answers_of_one_conversation_tree_are_not_near_duplicates(tmp_path: Path) -> None:
    # the real OpenAssistant fixture: 52 of its 543 paths were dropped as near duplicates of a sibling, each a
    # different human answer to the same turns (once the top-ranked one, its lower-ranked sibling kept)
    real = Path(__file__).resolve().parents[2] / "data" / "real" / "LAION-AI__Open-Assistant" / "en_100_tree.jsonl"
    config = load_config(None, values={"inputs": [str(real)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.progress": False})
    run_pipeline(config, quiet=True)
    rejects = [orjson.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_bytes().splitlines()]
    assert rejects and not [r for r in rejects if r["reason"] == "near_duplicate"]

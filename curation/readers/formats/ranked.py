"""Preference data given as several scored or ranked answers, turned into one chosen/rejected pair.

Public layouts read here, each as its dataset card describes a row:

* PKU-SafeRLHF: ``prompt``, ``response_0``, ``response_1`` and ``better_response_id`` (helpfulness;
  ``safer_response_id`` is kept in ``metadata.fields``).
* Stanford SHP: ``history``, ``human_ref_A``, ``human_ref_B`` and ``labels`` (1: A is preferred).
* Nectar: ``prompt`` (an HH transcript) and ``answers: [{answer, rank}]`` (rank 1 is best).
* UltraFeedback (raw): ``instruction`` and ``completions: [{response, annotations, fine-grained_score,
  overall_score}]``, ranked by the mean aspect rating (``overall_score`` only when no answer has ratings).
* Stack Exchange preferences (H4): ``question`` and ``answers: [{text, pm_score}]``; the paired form
  (lvwerra/stack-exchange-paired): ``question``, ``response_j`` (the better-scored answer) and ``response_k``.
* Chatbot Arena conversations: ``conversation_a``, ``conversation_b`` and ``winner`` (``model_a``/``model_b``).

Several answers become best versus worst (the widest margin, as the binarised UltraFeedback and Nectar
recipes do). A row that states no preference (a tie, equal scores, one answer) is refused with the reason
``no_preference`` instead of being guessed into a pair.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, as_number, convert_turns, is_false, parse_json_string
from curation.readers.formats._common import no_preference as _no_preference
from curation.readers.formats.pairs import steerlm_turns
from curation.readers.formats.preference import is_hh_transcript, parse_hh, split_shared_prefix
from curation.readers.mapping import FieldMapping

NAME = "ranked_preference"
KEYS = frozenset({
    "prompt", "response_0", "response_1", "better_response_id",
    "history", "human_ref_A", "human_ref_B", "labels",
    "answers", "instruction", "completions", "question",
    "conversation_a", "conversation_b", "winner",
    "response_2", "preference_strength",
    "response_a", "response_b", "winner_model_a", "winner_model_b", "winner_tie", "response_j", "response_k",
    "context", "response1", "response2", "overall_preference", "generations", "ratings",
    "info", "summaries", "choice", "answer_0", "answer_1", "score_0", "score_1",
    "original_response", "edited_response", "good_edited_response", "bad_edited_response",
})
_HELPSTEER3 = frozenset({"helpsteer3", "helpsteer3_edit", "helpsteer3_edit_quality", "helpsteer3_feedback"})


def _layout(obj: dict[str, Any]) -> str | None:
    if "response_0" in obj and "response_1" in obj and "better_response_id" in obj:
        return "pku"
    if "human_ref_A" in obj and "human_ref_B" in obj and "labels" in obj:
        return "shp"
    if isinstance(obj.get("answers"), list) and "prompt" in obj and all(
            isinstance(a, dict) and "answer" in a for a in obj["answers"]):
        return "nectar"
    if isinstance(obj.get("answers"), list) and "question" in obj and obj["answers"] and all(
            isinstance(a, dict) and "text" in a and "pm_score" in a for a in obj["answers"]):
        return "stack_exchange"
    if "response_j" in obj and "response_k" in obj and "question" in obj:
        return "stack_exchange_paired"
    if isinstance(obj.get("completions"), list) and "instruction" in obj and all(
            isinstance(c, dict) and "response" in c for c in obj["completions"]):
        return "ultrafeedback"
    if isinstance(obj.get("conversation_a"), list) and isinstance(obj.get("conversation_b"), list) and "winner" in obj:
        return "arena"
    if "response_1" in obj and "response_2" in obj and "preference_strength" in obj and "prompt" in obj:
        return "helpsteer"
    if "response_a" in obj and "response_b" in obj and "winner_model_a" in obj and "prompt" in obj:
        return "arena_55k"
    if isinstance(obj.get("context"), list):
        if "response1" in obj and "response2" in obj and "overall_preference" in obj:
            return "helpsteer3"
        # HelpSteer3's edit_quality, edit and feedback configs share the preference config's `context` turns
        if "good_edited_response" in obj and "bad_edited_response" in obj:
            return "helpsteer3_edit_quality"
        if "edited_response" in obj and "original_response" in obj:
            return "helpsteer3_edit"
        if "response1" in obj and "response2" in obj and "feedback1" in obj and "feedback2" in obj:
            return "helpsteer3_feedback"
    if isinstance(obj.get("summaries"), list) and "choice" in obj and isinstance(obj.get("info"), dict):
        return "summarize_feedback"
    if "answer_0" in obj and "answer_1" in obj and "score_0" in obj and "score_1" in obj and isinstance(
            obj.get("question"), dict | str):
        return "webgpt"
    generations, ratings = obj.get("generations"), obj.get("ratings")
    if (isinstance(generations, list) and isinstance(ratings, list) and len(generations) == len(ratings) >= 2
            and isinstance(obj.get("instruction"), str) and all(isinstance(g, str) for g in generations)):
        return "distilabel"
    return None


def _text_list(value: Any) -> list[Any]:
    """Arena-55k stores each side's turns as a JSON list in a string column; a plain string is one turn."""
    decoded = parse_json_string(value)
    return decoded if isinstance(decoded, list) else [value]


def _judged_turns(messages: list[Any], turn: Any) -> list[Any]:
    """The conversation up to the reply the verdict is about. MT-Bench's human judgments give both turns' answers
    in every row and judge one turn (``turn``: 1 or 2); the second answers of a turn-1 row were never compared.
    Chatbot Arena's ``turn`` is the number of turns, so its conversations stay whole."""
    if type(turn) is not int or turn < 1:
        return messages
    users = 0
    for position, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            users += 1
            if users > turn:
                return messages[:position]
    return messages


def _arena_55k(obj: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """lmsys arena-human-preference-55k: prompt / response_a / response_b as turn lists, winner_* as 0/1."""
    winner_a, winner_b = as_number(obj.get("winner_model_a")), as_number(obj.get("winner_model_b"))
    if as_number(obj.get("winner_tie")) == 1 or winner_a == winner_b:
        raise _no_preference("the row is a tie (winner_tie)")
    if {winner_a, winner_b} != {0, 1}:
        raise ConvertProblem("no_preference", f"winner_model_a is {obj.get('winner_model_a')!r} and winner_model_b "
                             f"{obj.get('winner_model_b')!r}, expected 0 and 1")
    prompts = _text_list(obj["prompt"])
    sides = []
    for key in ("response_a", "response_b"):
        answers = _text_list(obj[key])
        if len(answers) != len(prompts):
            raise ConvertProblem("no_preference", f"{key} has {len(answers)} turns for {len(prompts)} prompts")
        turns: list[Any] = []
        for question, answer in zip(prompts, answers, strict=True):
            turns += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        sides.append(turns)
    first, second = (sides[0], sides[1]) if winner_a == 1 else (sides[1], sides[0])
    return split_shared_prefix(first, second)


def is_ranked(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _layout(obj) is not None


def _prompt(value: Any) -> list[dict[str, Any]]:
    if is_hh_transcript(value):
        messages = parse_hh(value)
        if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
            messages.pop()  # the transcript ends with an open "Assistant:" cue
        return messages
    return [{"role": "user", "content": value}]


def _reply(text: Any) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


def _best_worst(scored: list[tuple[Any, Any]], higher_is_better: bool, what: str) -> tuple[Any, Any]:
    """(best, worst) answer text from (score, text) pairs; scores that are missing or not numbers are left out."""
    numbers = [(as_number(s), t) for s, t in scored]
    usable = [(s, t) for s, t in numbers if s is not None]
    if len(usable) < 2:
        raise _no_preference(f"fewer than two answers carry a numeric {what}")
    ordered = sorted(range(len(usable)), key=lambda i: (-usable[i][0] if higher_is_better else usable[i][0], i))
    best, worst = usable[ordered[0]], usable[ordered[-1]]
    if best[0] == worst[0]:
        raise _no_preference(f"every answer has the same {what} ({best[0]})")
    return best[1], worst[1]


def _aspect_rating(completion: dict[str, Any]) -> float | None:
    """An UltraFeedback answer's mean rating over its aspects (helpfulness, honesty, instruction following,
    truthfulness): ``fine-grained_score``, or the mean of ``annotations.*.Rating`` ("N/A" left out). The
    binarised recipes rank by it: ``overall_score`` is the critique's one number, which a confirmed bug turned
    from 1 into 10 on ~2k rows (OpenBMB/UltraFeedback issue 8), so a wrong answer could come out best."""
    score = as_number(completion.get("fine-grained_score"))
    if score is not None:
        return score
    annotations = completion.get("annotations")
    if not isinstance(annotations, dict):
        return None
    ratings = [as_number(a.get("Rating")) for a in annotations.values() if isinstance(a, dict)]
    numbers = [r for r in ratings if r is not None]
    return sum(numbers) / len(numbers) if numbers else None


def convert(obj: dict[str, Any], mapping: FieldMapping | None,
            ) -> list[tuple[str | None, dict[str, Any], dict[str, Any] | None]]:
    layout = _layout(obj)
    converted = _convert(obj, layout, mapping)
    if layout not in _HELPSTEER3 and "context" in obj:  # only HelpSteer3 reads it: elsewhere it stays a field
        return [(own_id, body, {**(extra or {}), "context": obj["context"]}) for own_id, body, extra in converted]
    return converted


def _convert(obj: dict[str, Any], layout: str | None, mapping: FieldMapping | None,
             ) -> list[tuple[str | None, dict[str, Any], dict[str, Any] | None]]:
    if layout == "pku":
        better = as_number(obj["better_response_id"])
        if better not in (0, 1):
            raise ConvertProblem("no_preference", f"better_response_id is {obj['better_response_id']!r}, expected 0 "
                                 "or 1")
        better = int(better)
        chosen, rejected = obj[f"response_{better}"], obj[f"response_{1 - better}"]
        prompt = _prompt(obj["prompt"])
        safer = as_number(obj.get("safer_response_id"))
        flags = []
        if safer in (0, 1) and safer != better:
            # PKU-SafeRLHF ranks helpfulness and safety apart: here the more helpful answer is the less safe one.
            # DPO would learn to prefer it, so the pair carries a flag (flags.chosen_less_safe: drop removes them).
            flags.append("chosen_less_safe")
        elif is_false(obj.get(f"is_response_{better}_safe")):
            flags.append("chosen_unsafe")  # both answers unsafe: the better one is still an unsafe answer
        if flags:
            body = {"prompt": prompt, "chosen": _reply(chosen), "rejected": _reply(rejected),
                    "metadata": {"flags": flags}}
            return [(None, body, None)]
    elif layout == "shp":
        label = as_number(obj["labels"])
        if label not in (0, 1):
            raise ConvertProblem("no_preference", f"labels is {obj['labels']!r}, expected 1 (A preferred) or 0 (B)")
        a, b = obj["human_ref_A"], obj["human_ref_B"]
        chosen, rejected = (a, b) if label == 1 else (b, a)
        prompt = _prompt(obj["history"])
    elif layout == "nectar":
        chosen, rejected = _best_worst([(a.get("rank"), a.get("answer")) for a in obj["answers"]], False, "rank")
        prompt = _prompt(obj["prompt"])
    elif layout == "stack_exchange":
        chosen, rejected = _best_worst([(a.get("pm_score"), a.get("text")) for a in obj["answers"]], True,
                                       "pm_score")
        prompt = _prompt(obj["question"])
    elif layout == "stack_exchange_paired":
        # lvwerra/stack-exchange-paired: response_j is the answer with the higher score (the StackLLaMA recipe)
        chosen, rejected = obj["response_j"], obj["response_k"]
        prompt = _prompt(obj["question"])
    elif layout == "summarize_feedback":
        # openai/summarize_from_feedback comparisons: the post (and its title) to summarise, two summaries, the
        # labeller's `choice` of the better one
        summaries = [x.get("text") if isinstance(x, dict) else x for x in obj["summaries"]]
        choice = as_number(obj["choice"])
        if len(summaries) != 2 or choice not in (0, 1):
            raise ConvertProblem("no_preference", f"choice is {obj['choice']!r} among {len(summaries)} summaries, "
                                 "expected 0 or 1 of two")
        chosen, rejected = summaries[int(choice)], summaries[1 - int(choice)]
        chosen, rejected = (t.strip() if isinstance(t, str) else t for t in (chosen, rejected))
        info = obj["info"]
        post = info.get("post") or info.get("article") or ""
        title = info.get("title")
        task = f"SUBREDDIT: r/{info['subreddit']}\n" if info.get("subreddit") else ""
        task += f"TITLE: {title}\n" if title else ""
        prompt = _prompt(f"{task}POST: {post}\n\nTL;DR:" if task else f"{post}\n\nTL;DR:")
    elif layout == "webgpt":
        # openai/webgpt_comparisons: two answers to a question with a score each (-1..1); equal scores prefer none
        question = obj["question"]
        text = question.get("full_text") if isinstance(question, dict) else question
        chosen, rejected = _best_worst([(obj["score_0"], obj["answer_0"]), (obj["score_1"], obj["answer_1"])],
                                       True, "score")
        prompt = _prompt(text)
    elif layout == "distilabel":
        # distilabel's UltraFeedback task output: several generations and one rating each (None where the judge
        # gave none); best against worst, as its binarised sets are made
        chosen, rejected = _best_worst(list(zip(obj["ratings"], obj["generations"], strict=True)), True, "rating")
        prompt = _prompt(obj["instruction"])
    elif layout == "ultrafeedback":
        completions = [c for c in obj["completions"] if isinstance(c, dict)]
        aspects = [(_aspect_rating(c), c.get("response")) for c in completions]
        if sum(score is not None for score, _ in aspects) >= 2:
            chosen, rejected = _best_worst(aspects, True, "mean aspect rating (fine-grained_score)")
        else:
            chosen, rejected = _best_worst([(c.get("overall_score"), c.get("response")) for c in completions],
                                           True, "overall_score")
        prompt = _prompt(obj["instruction"])
    elif layout == "helpsteer":
        # HelpSteer2/3 preference: -3..-1 prefer response_1, 1..3 response_2, 0 none
        strength = as_number(obj["preference_strength"])
        if strength is None or strength == 0:
            raise _no_preference(f"preference_strength is {obj['preference_strength']!r}")
        a, b = obj["response_1"], obj["response_2"]
        chosen, rejected = (a, b) if strength < 0 else (b, a)
        # a multi-turn prompt is in SteerLM's template, as HelpSteer2's attribute rows hold it
        prompt = steerlm_turns(obj["prompt"]) if isinstance(obj["prompt"], str) else _prompt(obj["prompt"])
    elif layout == "helpsteer3":
        # nvidia/HelpSteer3: the chat so far as `context` turns; -3..-1 prefer response1, 1..3 response2
        strength = as_number(obj["overall_preference"])
        if strength is None or strength == 0:
            raise _no_preference(f"overall_preference is {obj['overall_preference']!r}")
        a, b = obj["response1"], obj["response2"]
        chosen, rejected = (a, b) if strength < 0 else (b, a)
        prompt = convert_turns(obj["context"], mapping)
    elif layout == "helpsteer3_edit_quality":
        # an annotator's edit that follows the feedback over one that does not
        chosen, rejected = obj["good_edited_response"], obj["bad_edited_response"]
        prompt = convert_turns(obj["context"], mapping)
        body = {"prompt": prompt, "chosen": _reply(chosen), "rejected": _reply(rejected)}
        kept = {"original_response": obj["original_response"]} if "original_response" in obj else None
        return [(None, body, kept)]  # the answer both edits started from: no side of this pair
    elif layout == "helpsteer3_edit":
        # the answer rewritten by an annotator to address the feedback, over the model's original
        chosen, rejected = obj["edited_response"], obj["original_response"]
        prompt = convert_turns(obj["context"], mapping)
    elif layout == "helpsteer3_feedback":
        raise _no_preference("HelpSteer3's feedback config holds written feedback on each response and no "
                             "preference between them (its preference config has the pairs)")
    elif layout == "arena_55k":
        prompt, chosen_msgs, rejected_msgs = _arena_55k(obj)
        return [(None, {"prompt": prompt, "chosen": chosen_msgs, "rejected": rejected_msgs}, None)]
    else:
        winner = obj["winner"]
        if winner not in ("model_a", "model_b"):
            raise _no_preference(f"winner is {winner!r} (a tie)")
        a, b = convert_turns(obj["conversation_a"], mapping), convert_turns(obj["conversation_b"], mapping)
        a, b = _judged_turns(a, obj.get("turn")), _judged_turns(b, obj.get("turn"))
        first, second = (a, b) if winner == "model_a" else (b, a)
        prompt, chosen_msgs, rejected_msgs = split_shared_prefix(first, second)
        return [(None, {"prompt": prompt, "chosen": chosen_msgs, "rejected": rejected_msgs}, None)]
    return [(None, {"prompt": prompt, "chosen": _reply(chosen), "rejected": _reply(rejected)}, None)]

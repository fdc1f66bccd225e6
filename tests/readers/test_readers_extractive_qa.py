"""Question-answering datasets whose answer is a structure or a list (SQuAD, MS MARCO, TriviaQA, WebQuestions).

Rows are built to the published columns of rajpurkar/squad and squad_v2 (text: SQuAD v1.1's first train row,
CC BY-SA 4.0), microsoft/ms_marco v1.1 (its first train query, shortened to two of its ten passages),
mandarjoshi/trivia_qa (rc and unfiltered.nocontext) and stanfordnlp/web_questions. Before this reader each was an
``unknown_format`` reject, and a user could not map SQuAD at all (its answer is a dict of lists).
"""

from __future__ import annotations

from read_helpers import read, refused

NOTRE_DAME = ("Architecturally, the school has a Catholic character. Atop the Main Building's gold dome is a golden "
              "statue of the Virgin Mary. Immediately in front of the Main Building and facing it, is a copper statue "
              "of Christ with arms upraised with the legend \"Venite Ad Me Omnes\".")


def squad(question: str, text: list[str]) -> dict:
    return {"id": "5733be284776f41900661182", "title": "University_of_Notre_Dame", "context": NOTRE_DAME,
            "question": question, "answers": {"text": text, "answer_start": [92] * len(text)}}


def test_squad_row_asks_the_question_of_its_paragraph() -> None:
    record = read(squad("To whom did the Virgin Mary allegedly appear in 1858 in Lourdes France?",
                        ["a golden statue of the Virgin Mary"]))
    user, answer = record["messages"]
    assert user == {"role": "user", "content": "To whom did the Virgin Mary allegedly appear in 1858 in Lourdes "
                                               "France?\n\n" + NOTRE_DAME}
    assert answer == {"role": "assistant", "content": "a golden statue of the Virgin Mary"}
    assert record["id"] == "5733be284776f41900661182"
    fields = record["metadata"]["fields"]
    assert fields["title"] == "University_of_Notre_Dame" and fields["answers"]["answer_start"] == [92]
    # the questions of one paragraph share one passage key, which the split keeps together
    other = read(squad("What sits on top of the Main Building?", ["a golden statue of the Virgin Mary"]))
    assert record["metadata"]["passage"] == other["metadata"]["passage"]
    assert read({**squad("Q?", ["x"]), "context": "Another paragraph."})["metadata"]["passage"] != \
        record["metadata"]["passage"]


def test_squad_v2_unanswerable_row_is_refused_as_no_answer() -> None:
    code, detail = refused(squad("What is in front of the Notre Dame Main Building?", []))
    assert code == "no_answer"
    assert detail.startswith("line 3: SQuAD 2.0 row with empty answers") and "map it" in detail


MARCO_PASSAGES = {
    "is_selected": [0, 1],
    "passage_text": [
        "Since 2007, the RBA's outstanding reputation has been affected by the 'Securency' or NPA scandal.",
        "Results-Based Accountability is a disciplined way of thinking and taking action that communities can use "
        "to improve the lives of children, youth, families, adults and the community as a whole.",
    ],
    "url": ["https://en.wikipedia.org/wiki/Reserve_Bank_of_Australia", "http://www.resultsaccountability.com/"],
}


def marco(answers: list[str], well_formed: list[str]) -> dict:
    return {"answers": answers, "passages": MARCO_PASSAGES, "query": "what is rba", "query_id": 19699,
            "query_type": "description", "wellFormedAnswers": well_formed}


def test_ms_marco_row_is_the_query_with_its_passages_and_prefers_the_well_formed_answer() -> None:
    record = read(marco(["Results-Based Accountability"], []))
    user, answer = record["messages"]
    assert user["content"] == "what is rba\n\n" + "\n\n".join(MARCO_PASSAGES["passage_text"])
    assert answer["content"] == "Results-Based Accountability"
    assert record["metadata"]["fields"]["passages"] == {"is_selected": [0, 1], "url": MARCO_PASSAGES["url"]}
    well = read(marco(["Results-Based Accountability"], ["RBA stands for Results-Based Accountability."]))
    assert well["messages"][1]["content"] == "RBA stands for Results-Based Accountability."


def test_ms_marco_no_answer_present_is_refused() -> None:
    code, detail = refused(marco(["No Answer Present."], []))
    assert code == "no_answer" and "No Answer Present." in detail


def trivia(value: str, wiki: list[str]) -> dict:
    return {"question": "Which Lloyd Webber musical premiered in the US on 10th December 1993?",
            "question_id": "tc_33", "question_source": "http://www.triviacountry.com/",
            "entity_pages": {"doc_source": ["TagMe"] * len(wiki), "filename": ["Sunset_Boulevard.txt"] * len(wiki),
                             "title": ["Sunset Boulevard"] * len(wiki), "wiki_context": wiki},
            "search_results": {"description": [], "filename": [], "rank": [], "title": [], "url": [],
                               "search_context": []},
            "answer": {"aliases": ["Sunset Blvd", "Sunset Boulevard"], "normalized_aliases": ["sunset blvd"],
                       "matched_wiki_entity_name": "", "normalized_matched_wiki_entity_name": "",
                       "normalized_value": "sunset boulevard", "type": "WikipediaEntity", "value": value}}


def test_triviaqa_answer_value_with_its_evidence_when_the_row_has_any() -> None:
    bare = read(trivia("Sunset Boulevard", []))
    assert [m["content"] for m in bare["messages"]] == [
        "Which Lloyd Webber musical premiered in the US on 10th December 1993?", "Sunset Boulevard"]
    assert bare["metadata"]["fields"]["answer"]["aliases"] == ["Sunset Blvd", "Sunset Boulevard"]
    grounded = read(trivia("Sunset Boulevard", ["Sunset Boulevard is a musical with music by Andrew Lloyd Webber."]))
    assert grounded["messages"][0]["content"].endswith("\n\nSunset Boulevard is a musical with music by Andrew "
                                                       "Lloyd Webber.")
    assert "passage" in grounded["metadata"] and "passage" not in bare["metadata"]
    assert refused(trivia("", []))[0] == "no_answer"


def test_web_questions_one_answer_is_read_and_several_different_are_not_guessed_at() -> None:
    row = {"url": "http://www.freebase.com/view/en/justin_bieber", "question": "what is the name of justin bieber "
           "brother?", "answers": ["Jazmyn Bieber"]}
    assert read(row)["messages"][1]["content"] == "Jazmyn Bieber"
    code, detail = refused({**row, "question": "what language is spoken in jamaica?",
                            "answers": ["Jamaican English", "Jamaican Creole English Language"]})
    assert code == "unknown_format" and "2 different answers" in detail and "mapping" in detail

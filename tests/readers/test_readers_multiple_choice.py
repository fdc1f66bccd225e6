"""Multiple-choice and yes/no sets: the options reach the user turn and the reply names the right one.

The rows are built to each dataset's published columns on the Hugging Face Hub (cais/mmlu, allenai/ai2_arc,
allenai/openbookqa, tau/commonsense_qa, ehovy/race, TIGER-Lab/MMLU-Pro, deepmind/aqua_rat, bigbio/med_qa and
jind11/MedQA's own files, lucasmccabe/logiqa, Rowan/hellaswag, ybisk/piqa, allenai/winogrande, allenai/sciq,
Idavidrein/gpqa, truthfulqa/truthful_qa multiple_choice, google/boolq), with their first rows' text shortened.
"""

from __future__ import annotations

import pytest
from read_helpers import read, refused

MMLU = {"question": "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.",
        "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 1}
ARC = {"id": "Mercury_SC_415702",
       "question": "George wants to warm his hands quickly by rubbing them. Which skin surface will produce the most "
                   "heat?",
       "choices": {"text": ["dry palms", "wet palms", "palms covered with oil", "palms covered with lotion"],
                   "label": ["A", "B", "C", "D"]},
       "answerKey": "A"}
RACE_ARTICLE = "Last week I talked with some of my students about what they wanted to do after they graduated."
RACE = {"example_id": "high19432.txt", "article": RACE_ARTICLE, "answer": "C",
        "question": "What did the students want to do?",
        "options": ["Travel abroad", "Find a job at once", "Go on studying", "Start a company"]}


def _turns(record: dict) -> tuple[str, str]:
    messages = record["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    return messages[0]["content"], messages[1]["content"]


def test_mmlu_answer_is_an_index_into_the_choices_not_the_reply() -> None:
    # Read as a question/answer pair, this row trained the reply "1" to a question whose options were not shown.
    record = read(MMLU)
    user, reply = _turns(record)
    assert user == MMLU["question"] + "\n\nA. 0\nB. 4\nC. 2\nD. 6"
    assert reply == "B. 4"
    assert record["metadata"]["fields"] == {"subject": "abstract_algebra"}


def test_arc_openbookqa_commonsenseqa_answer_key_names_a_label() -> None:
    assert _turns(read(ARC))[1] == "A. dry palms"
    obqa = {"id": "7-980", "question_stem": "The sun is responsible for",
            "choices": {"text": ["puppies learning new tricks", "children growing up and getting old",
                                 "flowers wilting in a vase", "plants sprouting, blooming and wilting"],
                        "label": ["A", "B", "C", "D"]}, "answerKey": "D"}
    user, reply = _turns(read(obqa))
    assert user.startswith("The sun is responsible for\n\nA. puppies")
    assert reply == "D. plants sprouting, blooming and wilting"
    # Some ARC rows label their choices 1-4: the key matches the label, not a position counted from 0
    numbered = {**ARC, "choices": {**ARC["choices"], "label": ["1", "2", "3", "4"]}, "answerKey": "2"}
    assert _turns(read(numbered))[1] == "2. wet palms"
    csqa = {"id": "075e483d21c29a511267ef62bedc0461", "question": "The sanctions against the school were a "
            "punishing blow, and they seemed to what the efforts the school had made to change?",
            "question_concept": "punishing",
            "choices": {"label": ["A", "B", "C", "D", "E"], "text": ["ignore", "enforce", "authoritarian",
                                                                     "yell at", "avoid"]},
            "answerKey": "A"}
    record = read(csqa)
    assert _turns(record)[1] == "A. ignore" and record["metadata"]["fields"] == {"question_concept": "punishing"}


def test_race_article_joins_the_question_and_groups_its_questions() -> None:
    # Before: the reply "C", without the article or the options it points at.
    record = read(RACE)
    user, reply = _turns(record)
    assert user == (RACE_ARTICLE + "\n\nWhat did the students want to do?\n\n"
                    "A. Travel abroad\nB. Find a job at once\nC. Go on studying\nD. Start a company")
    assert reply == "C. Go on studying"
    other = read({**RACE, "question": "Who is the writer?", "answer": "A",
                  "options": ["A teacher", "A student", "A parent", "A doctor"]})
    assert record["metadata"]["passage"] == other["metadata"]["passage"]  # one split for one article


def test_mmlu_pro_aqua_and_medqa() -> None:
    pro = {"question_id": 70, "question": "Typical advertising regulatory bodies suggest, for example that adverts "
           "must not: encourage _________, cause unnecessary ________ or _____, and must not cause _______ offence.",
           "options": ["Safe practices, Fear, Jealousy, Trivial", "Unsafe practices, Distress, Joy, Trivial",
                       "Safe practices, Wants, Jealousy, Trivial"],
           "answer": "B", "answer_index": 1, "cot_content": "", "category": "business",
           "src": "ori_mmlu-business_ethics"}
    record = read(pro)
    assert _turns(record)[1] == "B. Unsafe practices, Distress, Joy, Trivial"
    assert record["metadata"]["fields"]["answer_index"] == 1  # not read, so kept
    aqua = {"question": "Two friends plan to walk along a 43-km trail, starting at opposite ends of the trail at "
            "the same time. If Friend P's rate is 15% faster than Friend Q's, how many kilometers will Friend P "
            "have walked when they pass each other?",
            "options": ["A)21", "B)21.5", "C)22", "D)22.5", "E)23"],
            "rationale": "If Q complete x kilometers, then P completes 1.15x kilometers.\nx + 1.15x = 43\nx=20\n"
                         "P = 1.15 * 20 = 23",
            "correct": "E"}
    user, reply = _turns(read(aqua))
    assert user.endswith("\n\nA. 21\nB. 21.5\nC. 22\nD. 22.5\nE. 23")  # its own letters, not written twice
    assert reply == aqua["rationale"] + "\n\nAnswer: E. 23"
    hub = {"question": "A 23-year-old pregnant woman at 22 weeks gestation presents with burning upon urination. "
           "Which of the following is the best treatment for this patient?", "answer": "Nitrofurantoin",
           "options": [{"key": "A", "value": "Ampicillin"}, {"key": "B", "value": "Ceftriaxone"},
                       {"key": "C", "value": "Doxycycline"}, {"key": "D", "value": "Nitrofurantoin"}],
           "meta_info": "step2&3", "answer_idx": "D"}
    user, reply = _turns(read(hub))
    assert "\n\nA. Ampicillin\nB. Ceftriaxone\nC. Doxycycline\nD. Nitrofurantoin" in user
    assert reply == "D. Nitrofurantoin"
    own = {**hub, "options": {"A": "Ampicillin", "B": "Ceftriaxone", "C": "Doxycycline", "D": "Nitrofurantoin"}}
    assert _turns(read(own)) == (user, reply)


def test_logiqa_context_is_the_passage() -> None:
    row = {"context": "In the past, we had a lot of unrealistic high-profile in moral propaganda.",
           "query": "Which of the following options is the assumption on which the above argument relies?",
           "options": ["We should stop moral propaganda.", "High-profile propaganda is unrealistic.",
                       "Moral propaganda is useless.", "None of the above."],
           "correct_option": 1}
    record = read(row)
    user, reply = _turns(record)
    assert user.startswith(row["context"] + "\n\n" + row["query"] + "\n\nA. We should")
    assert reply == "B. High-profile propaganda is unrealistic." and "passage" in record["metadata"]


def test_hellaswag_piqa_winogrande() -> None:
    hellaswag = {"ind": 4, "activity_label": "Removing ice from car",
                 "ctx_a": "Then, the man writes over the snow covering the window of a car, and a woman wearing "
                          "winter clothes smiles.", "ctx_b": "then",
                 "ctx": "Then, the man writes over the snow covering the window of a car, and a woman wearing "
                        "winter clothes smiles. then",
                 "endings": [", the man adds wax to the windshield and cuts it.",
                             ", a person board a ski lift, while two men supporting the head of the person wearing "
                             "winter clothes snow as the we girls sled.",
                             ", the man puts on a christmas coat, knitted with netting.",
                             ", the man continues removing the snow on his car."],
                 "source_id": "activitynet~v_-1IBHYS3L-Y", "split": "train", "split_type": "indomain", "label": "3"}
    record = read(hellaswag)
    assert _turns(record)[1] == "D. , the man continues removing the snow on his car."
    assert set(record["metadata"]["fields"]) == {"ind", "activity_label", "source_id", "split", "split_type"}
    piqa = {"goal": "When boiling butter, when it's ready, you can", "sol1": "Pour it onto a plate",
            "sol2": "Pour it into a jar", "label": 1}
    assert _turns(read(piqa)) == ("When boiling butter, when it's ready, you can\n\nA. Pour it onto a plate\n"
                                  "B. Pour it into a jar", "B. Pour it into a jar")
    wino = {"sentence": "Ian volunteered to eat Dennis's menudo after already having a bowl because _ despised "
            "eating intestine.", "option1": "Ian", "option2": "Dennis", "answer": "2"}
    assert _turns(read(wino))[1] == "B. Dennis"  # WinoGrande counts its options from 1


def test_sets_that_keep_the_right_answer_apart_list_options_sorted() -> None:
    # SciQ, GPQA and TruthfulQA store the right answer first: kept in that place, every reply would be "A".
    sciq = {"question": "What type of organism is commonly used in preparation of foods such as cheese and yogurt?",
            "distractor3": "viruses", "distractor1": "protozoa", "distractor2": "gymnosperms",
            "correct_answer": "mesophilic organisms",
            "support": "Mesophiles grow best in moderate temperature, typically between 25 and 40 degrees C."}
    record = read(sciq)
    user, reply = _turns(record)
    assert user == (sciq["support"] + "\n\n" + sciq["question"] +
                    "\n\nA. gymnosperms\nB. mesophilic organisms\nC. protozoa\nD. viruses")
    assert reply == "B. mesophilic organisms"
    gpqa = {"Question": "Two quantum states with energies E1 and E2 have a lifetime of 10^-9 sec and 10^-8 sec. "
            "Which one of the following options could be their energy difference?",
            "Correct Answer": "10^-4 eV", "Incorrect Answer 1": "10^-11 eV", "Incorrect Answer 2": "10^-8 eV",
            "Incorrect Answer 3": "10^-9 eV", "Explanation": "The energy difference must exceed the linewidth."}
    user, reply = _turns(read(gpqa))
    assert user.endswith("\n\nA. 10^-11 eV\nB. 10^-4 eV\nC. 10^-8 eV\nD. 10^-9 eV")
    assert reply == "The energy difference must exceed the linewidth.\n\nAnswer: B. 10^-4 eV"
    truthful = {"question": "What is the smallest country in the world that is at least one square mile in area?",
                "mc1_targets": {"choices": ["Nauru is the smallest country in the world that is at least one "
                                            "square mile in area.", "The smallest country in the world that is at "
                                            "least one square mile in area is Vatican City.",
                                            "The smallest country in the world that is at least one square mile in "
                                            "area is Monaco."], "labels": [1, 0, 0]},
                "mc2_targets": {"choices": ["Nauru"], "labels": [1]}}
    record = read(truthful)
    assert _turns(record)[1].startswith("A. Nauru")  # sorted by text, which here puts it first anyway
    assert "mc2_targets" in record["metadata"]["fields"]


def test_boolq_answer_true_false_is_yes_no() -> None:
    row = {"question": "do iran and afghanistan speak the same language", "answer": True,
           "passage": "Persian, also known by its endonym Farsi, is one of the Western Iranian languages."}
    record = read(row)
    assert _turns(record) == (row["passage"] + "\n\n" + row["question"], "Yes")
    assert _turns(read({**row, "answer": False}))[1] == "No"
    # saved to CSV, the answer is a word; read as a pair before, its passage was left out of the prompt
    assert _turns(read({**row, "answer": "False"})) == (row["passage"] + "\n\n" + row["question"], "No")


def test_an_answer_written_out_is_the_reply_with_the_options_shown() -> None:
    row = {"question": "Which is a fruit?", "options": ["carrot", "apple"],
           "answer": "The answer is apple, since it grows from a flower."}
    assert _turns(read(row)) == ("Which is a fruit?\n\nA. carrot\nB. apple", row["answer"])


@pytest.mark.parametrize("answer", ["Z", 7, -1])
def test_an_answer_that_points_at_no_option_is_refused_naming_it(answer: object) -> None:
    code, detail = refused({**MMLU, "answer": answer})
    assert code == "unknown_format"
    assert detail.startswith("line 3: a multiple-choice row whose answer (answer=")
    assert "4 options (A, B, C, D)" in detail


def test_mmlu_saved_to_csv_reads_its_choices_from_the_text(tmp_path) -> None:
    # `Dataset.to_pandas().to_csv()` writes the choices as numpy prints them, a plain list as Python does; read
    # as a pair, both rows trained the reply "1"
    from curation.readers import read_path

    path = tmp_path / "mmlu.csv"
    path.write_text("question,choices,answer\n"
                    "What is 2+2?,['3' '4' '5' '6'],1\n"
                    "\"What is 3+3?\",\"['5', '6', '7', '8']\",1\n", encoding="utf-8")
    replies = [(item.record["messages"][0]["content"], item.record["messages"][1]["content"])
               for item in read_path(path)]
    assert replies == [("What is 2+2?\n\nA. 3\nB. 4\nC. 5\nD. 6", "B. 4"),
                       ("What is 3+3?\n\nA. 5\nB. 6\nC. 7\nD. 8", "B. 6")]


def test_options_one_per_column() -> None:
    # C-Eval (its own CSV and the Hub), CMMLU/MMMLU ("Question", "A"-"D", "Answer"), Global-MMLU (option_a-option_d):
    # read as pairs before, they trained the letter alone
    ceval = {"id": 0, "question": "使用位填充方法，以01111110为位首flag，数据为011011111111111111110010，"
                                  "求问传送时要添加几个0____",
             "A": "1", "B": "2", "C": "3", "D": "4", "answer": "C", "explanation": ""}
    record = read(ceval)
    assert _turns(record) == (ceval["question"] + "\n\nA. 1\nB. 2\nC. 3\nD. 4", "C. 3")
    mmmlu = {"Unnamed: 0": 0, "Question": "Find the degree for the given field extension Q(sqrt(2)) over Q.",
             "A": "0", "B": "4", "C": "2", "D": "6", "Answer": "C", "Subject": "abstract_algebra"}
    record = read(mmmlu)
    assert _turns(record)[1] == "C. 2" and record["metadata"]["fields"]["Subject"] == "abstract_algebra"
    global_mmlu = {"sample_id": "abstract_algebra/test/0", "subject": "abstract_algebra", "question": "Find all c "
                   "in Z_3 such that Z_3[x]/(x^2 + c) is a field.", "option_a": "0", "option_b": "1",
                   "option_c": "2", "option_d": "3", "answer": "B", "time_sensitive": "No"}
    assert _turns(read(global_mmlu))[1] == "B. 1"


def test_an_answer_that_is_an_option_text_and_an_index_is_not_guessed_at() -> None:
    # MathVista's answer is the option's text and says so (answer_type); without that, "1" among options 3-0 is
    # option C's text and the index of option B
    mathvista = {"question": "How many cars are in the image?", "choices": ["2", "3", "4", "5"], "answer": "3",
                 "question_type": "multi_choice", "answer_type": "text"}
    assert _turns(read(mathvista))[1] == "B. 3"
    code, detail = refused({"question": "Which number is odd and below two?", "choices": ["3", "2", "1", "0"],
                            "answer": "1"})
    assert code == "unknown_format" and "both option C's text and the index of option B" in detail
    assert _turns(read({**MMLU, "answer": "1"}))[1] == "B. 4"  # MMLU saved to CSV: its index as text


def test_dream_dialogue_is_the_passage_not_a_chat() -> None:
    # dataset-org/dream: read as a user/assistant chat of speakers M and W before, its question lost
    row = {"id": "4-199", "dialogue": ["M: I am considering dropping my dancing class. I am not making any progress.",
                                       "W: If I were you, I stick with it. It's definitely worth time and effort."],
           "question": "What does the man suggest the woman do?",
           "choice": ["Consult her dancing teacher.", "Take a more interesting class.", "Continue her dancing class."],
           "answer": "Continue her dancing class."}
    record = read(row)
    user, reply = _turns(record)
    assert user == ("\n".join(row["dialogue"]) + "\n\n" + row["question"] + "\n\nA. Consult her dancing teacher.\n"
                    "B. Take a more interesting class.\nC. Continue her dancing class.")
    assert reply == "C. Continue her dancing class." and "passage" in record["metadata"]


def test_logiqa2_text_and_medqa_options_saved_as_text() -> None:
    logiqa2 = {"id": 1, "answer": 2, "text": "All students in the class passed the test. John is in the class.",
               "question": "Which one follows?", "options": ["John failed.", "Nobody passed.", "John passed.",
                                                             "None of the above."], "type": {"Categorical": True}}
    assert _turns(read(logiqa2))[0].startswith(logiqa2["text"] + "\n\nWhich one follows?\n\nA. John failed.")
    medqa = {"question": "A 23-year-old pregnant woman at 22 weeks gestation presents with burning upon urination.",
             "answer": "Nitrofurantoin", "options": "{'A': 'Ampicillin', 'B': 'Ceftriaxone', 'C': 'Doxycycline', "
             "'D': 'Nitrofurantoin'}", "meta_info": "step2&3", "answer_idx": "D"}
    user, reply = _turns(read(medqa))
    assert user.endswith("\n\nA. Ampicillin\nB. Ceftriaxone\nC. Doxycycline\nD. Nitrofurantoin")
    assert reply == "D. Nitrofurantoin"


def test_an_options_dict_that_is_no_option_list_is_not_multiple_choice() -> None:
    record = read({"question": "Translate 'cat' to French", "options": {"temperature": "0.7", "top_p": "1"},
                   "answer": "chat"})
    assert _turns(record) == ("Translate 'cat' to French", "chat")
    assert record["metadata"]["fields"]["options"] == {"temperature": "0.7", "top_p": "1"}


def test_mmlu_redux_corrections_are_taken_and_flawed_questions_not_trained() -> None:
    # edinburgh-dawg/mmlu-redux: experts marked MMLU's answer wrong (and wrote the right letter) or the question
    # flawed; read as MMLU, the known-wrong answer was trained
    row = {"question": "Which body cavity contains the pituitary gland?",
           "choices": ["Abdominal", "Cranial", "Pleural", "Spinal"], "answer": 0, "error_type": "wrong_groundtruth",
           "source": None, "correct_answer": "B", "potential_reason": ""}
    record = read(row)
    assert _turns(record)[1] == "B. Cranial" and record["metadata"]["fields"]["answer"] == 0
    flawed = read({**row, "error_type": "no_correct_answer", "correct_answer": None})
    assert flawed["metadata"]["label"] is False and "no_correct_answer" in flawed["metadata"]["label_from"]
    assert read({**row, "error_type": "ok", "correct_answer": None})["metadata"].get("label") is None


@pytest.mark.parametrize("answer", ["(B)", "B.", "B)", "b"])
def test_a_letter_answer_written_with_brackets_or_a_dot(answer: str) -> None:
    row = {"question": "Which is a fruit?", "options": ["carrot", "apple", "leek"], "answer": answer}
    assert _turns(read(row))[1] == "B. apple"

"""Preference and KTO layouts real sets use, read as their datasets mean them (a prober's findings on
LLaMA-Factory, argilla, HelpSteer2 and Capybara shapes)."""

from __future__ import annotations

from read_helpers import read, refused

U = {"role": "user", "content": "What is 2+2?"}


def test_argilla_kto_mix_completion_that_repeats_the_prompt_is_one_user_turn() -> None:
    # argilla/kto-mix-15k (axolotl's argilla_chat strategy): prompt text, completion = [user, assistant]
    record = read({"prompt": "What is 2+2?", "completion": [U, {"role": "assistant", "content": "4"}],
                   "label": True, "rating": 5})
    assert record["messages"] == [U, {"role": "assistant", "content": "4"}]


def test_helpsteer2_preference_prompt_in_steerlm_template_is_split_into_turns() -> None:
    record = read({"prompt": "What is 2+2?\n<extra_id_1>Assistant\n4\n<extra_id_1>User\nAnd 3+3?",
                   "response_1": "6", "response_2": "7", "preference_strength": -3})
    assert record["prompt"] == [U, {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}]
    assert record["chosen"] == [{"role": "assistant", "content": "6"}]


def test_alpaca_dpo_history_joins_the_prompt() -> None:
    # LLaMA-Factory applies `history` and `system` to every stage of its Alpaca layout
    record = read({"instruction": "Translate to French", "input": "cat", "chosen": "chat", "rejected": "chien",
                   "system": "You are a translator.", "history": [["Translate to French: dog", "chien"]]})
    assert [m["content"] for m in record["prompt"]] == [
        "You are a translator.", "Translate to French: dog", "chien", "Translate to French\n\ncat"]
    assert "history" not in record["metadata"].get("fields", {})


def test_capybara_sides_with_a_system_turn_and_the_first_user_turn_as_prompt() -> None:
    def side(answer: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
                {"role": "assistant", "content": answer}]

    record = read({"prompt": "Q1", "chosen": side("good"), "rejected": side("bad"),
                   "rating_chosen": 5, "rating_rejected": 2})
    assert [m["content"] for m in record["prompt"]] == ["S", "Q1", "A1", "Q2"]
    assert record["chosen"] == [{"role": "assistant", "content": "good"}]


def test_equal_average_ratings_are_no_preference() -> None:
    # argilla/ultrafeedback-binarized-preferences names the scores chosen_avg_rating / rejected_avg_rating
    code, detail = refused({"instruction": "Say hi", "chosen_response": "hi", "chosen_avg_rating": 4.5,
                            "rejected_response": "hey", "rejected_avg_rating": 4.5})
    assert code == "no_preference" and "chosen_avg_rating" in detail


def test_japanese_and_chinese_alpaca_headings_are_the_template() -> None:
    # llm-jp/llm-jp-sft data/example.jsonl: all 15 records were unknown_format ("reads as pretraining text")
    record = read({"text": "以下は、タスクを説明する指示です。要求を適切に満たす応答を書きなさい。"
                           "\n\n### 指示:\n日本の首都は？\n\n### 応答:\n東京"})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
    assert record["messages"][1:] == [{"role": "user", "content": "日本の首都は？"},
                                      {"role": "assistant", "content": "東京"}]
    chinese = read({"text": "### 指令：\n把这句话翻译成英文。\n\n### 输入：\n你好\n\n### 回答：\nHello"})
    assert chinese["messages"] == [{"role": "user", "content": "把这句话翻译成英文。\n\n你好"},
                                   {"role": "assistant", "content": "Hello"}]


def test_chinese_vicuna_parallel_turn_lists() -> None:
    # Facico/Chinese-Vicuna sample/chat/data_sample.jsonl: 3 of 3 were unknown_format
    record = read({"input": ["你好", "再见"], "output": ["你好！", "再见！"]})
    assert [m["content"] for m in record["messages"]] == ["你好", "你好！", "再见", "再见！"]
    assert [m["role"] for m in record["messages"]] == ["user", "assistant", "user", "assistant"]


def test_distilabel_generations_and_ratings_are_best_against_worst() -> None:
    # distilabel's UltraFeedback task output (was unknown_format, and a field mapping cannot name ratings)
    record = read({"instruction": "What is 2+2?", "generations": ["4", "5", "22"], "ratings": [5, 1, 2]})
    assert record["chosen"] == [{"role": "assistant", "content": "4"}]
    assert record["rejected"] == [{"role": "assistant", "content": "5"}]
    assert refused({"instruction": "Q", "generations": ["a", "b"], "ratings": [4, 4]})[0] == "no_preference"


def test_prose_that_quotes_a_chinese_alpaca_template_is_no_conversation() -> None:
    code, _ = refused({"text": "以下是Alpaca数据格式的一个例子，常用于微调：\n### 指令：\n写一首诗"
                               "\n### 回答：\n床前明月光"})
    assert code == "unknown_format"
    record = read({"text": "以下是描述任务的指令。请编写一个适当完成请求的回复。\n\n### 指令：\n写一首诗"
                           "\n\n### 回答：\n床前明月光"})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]


def test_openai_summarize_from_feedback_comparisons_are_pairs() -> None:
    # openai/summarize_from_feedback "comparisons": the labeller's `choice` of two summaries (was unknown_format)
    record = read({"info": {"id": "t3_x", "post": "My landlord won't fix the heater.", "title": "Heater broken",
                            "subreddit": "legaladvice"},
                   "summaries": [{"text": " Landlord refuses to fix heater.", "policy": "a"},
                                 {"text": " I like pizza.", "policy": "b"}], "choice": 1, "worker": "w"})
    assert record["prompt"][0]["content"].startswith("SUBREDDIT: r/legaladvice\nTITLE: Heater broken\nPOST: ")
    assert record["chosen"] == [{"role": "assistant", "content": "I like pizza."}]
    assert record["rejected"] == [{"role": "assistant", "content": "Landlord refuses to fix heater."}]


def test_openai_webgpt_comparisons_are_pairs_and_ties_refused() -> None:
    record = read({"question": {"dataset": "eli5", "full_text": "Why is the sky blue?"},
                   "answer_0": "Because it reflects the ocean.", "score_0": -1.0,
                   "answer_1": "Rayleigh scattering makes blue light scatter more.", "score_1": 1.0})
    assert record["chosen"][0]["content"].startswith("Rayleigh")
    assert refused({"question": {"full_text": "Q?"}, "answer_0": "a", "answer_1": "b", "score_0": 0.0,
                    "score_1": 0.0})[0] == "no_preference"


def test_a_nan_score_is_no_score() -> None:
    # a parquet or pandas row holds NaN itself (through JSON it would be null): it sorted first and won
    from curation.readers.convert import convert_payload

    for row in ({"question": {"full_text": "Q?"}, "answer_0": "a", "answer_1": "b", "score_0": float("nan"),
                 "score_1": 1.0},
                {"instruction": "Q?", "generations": ["a", "b", "c"], "ratings": [float("nan"), 2, 5]}):
        [item] = convert_payload(row, None)
        if "answer_0" in row:
            assert item.record is None and item.error[0] == "no_preference"
        else:
            assert item.record["chosen"][0]["content"] == "c" and item.record["rejected"][0]["content"] == "b"


def test_hotpotqa_context_passages_join_the_prompt_and_no_context_is_lost() -> None:
    # hotpot_qa (distractor) on the Hub: `context` is {"title": [...], "sentences": [[...], ...]}; it was consumed
    # by the pair reader and dropped, so the answer was trained closed-book and the passages were lost
    row = {"id": "5a7a06935542990198eaf050", "question": "Which magazine was started first Arthur's Magazine or "
           "First for Women?", "answer": "Arthur's Magazine", "type": "comparison", "level": "medium",
           "supporting_facts": {"title": ["Arthur's Magazine", "First for Women"], "sent_id": [0, 0]},
           "context": {"title": ["Arthur's Magazine", "First for Women"],
                       "sentences": [["Arthur's Magazine (1844-1846) was an American literary periodical.",
                                      " It was published in Philadelphia."],
                                     ["First for Women is a woman's magazine published by Bauer Media Group.",
                                      " The magazine was started in 1989."]]}}
    record = read(row)
    user = record["messages"][0]["content"]
    assert user.startswith("Which magazine was started first")
    assert "Arthur's Magazine\nArthur's Magazine (1844-1846) was an American literary periodical. It was published" \
        in user and "The magazine was started in 1989." in user
    assert record["messages"][1] == {"role": "assistant", "content": "Arthur's Magazine"}
    # the original JSON's [[title, [sentences]], ...]
    original = {**row, "context": [[t, s] for t, s in zip(row["context"]["title"], row["context"]["sentences"],
                                                           strict=True)]}
    assert read(original)["messages"][0]["content"] == user
    # ragbench: `documents` is a list of retrieved texts (it stayed a field, and the answer was trained without it)
    rag = read({"id": "r1", "question": "When did the plant open?", "documents": ["The plant opened in 1998.",
                "It employs 300 people."], "response": "It opened in 1998.", "dataset_name": "techqa"})
    assert rag["messages"][0]["content"] == ("When did the plant open?\n\nThe plant opened in 1998.\n\n"
                                             "It employs 300 people.")
    assert "documents" not in rag["metadata"]["fields"]
    # a context that holds no passages is kept as a field, not dropped
    odd = read({"question": "2+2?", "answer": "4", "context": {"source": "quiz", "ids": [1, 2]}})
    assert odd["messages"][0]["content"] == "2+2?" and odd["metadata"]["fields"]["context"] == {
        "source": "quiz", "ids": [1, 2]}


def test_ichikara_text_and_output_are_a_pair() -> None:
    # llm-jp's ichikara-instruction (ichikara-instruction-003-001-1.json): {ID, text, output}; it was refused as
    # pretraining text ("its 'text' has no chat markup") though `output` is the answer
    record = read({"ID": "ichikara-instruction-003-001-0001", "text": "日本で一番高い山は何ですか？",
                   "output": "富士山です。"})
    assert record["messages"] == [{"role": "user", "content": "日本で一番高い山は何ですか？"},
                                  {"role": "assistant", "content": "富士山です。"}]
    assert record["metadata"]["fields"] == {"ID": "ichikara-instruction-003-001-0001"}
    # a bare text is still pretraining text, and a text beside another answer column is not guessed at
    assert refused({"text": "Once upon a time."})[0] == "unknown_format"
    assert refused({"text": "Great film!", "label": "positive"})[0] == "unknown_format"


def test_hotpotqa_titles_and_passages_that_do_not_pair_up_stay_a_field_whole() -> None:
    context = {"title": ["A", "B", "C"], "sentences": [["a."], ["b."]]}
    record = read({"question": "Q?", "answer": "A.", "context": context})
    assert record["messages"][0]["content"] == "Q?" and record["metadata"]["fields"]["context"] == context


def test_counselling_context_and_response_are_a_pair() -> None:
    # Amod/mental_health_counseling_conversations' columns, as the Hub lists them: `Context` is what the client
    # wrote, `Response` the counsellor's answer (refused as unknown_format before)
    row = {"Context": "I'm going through some things with my feelings and myself. I barely sleep and I do nothing "
                      "but think about how I'm worthless.",
           "Response": "If everyone thinks you're worthless, then maybe you need to find new people to hang out with."}
    assert read(row)["messages"] == [{"role": "user", "content": row["Context"]},
                                     {"role": "assistant", "content": row["Response"]}]
    # allenai/prosocial-dialog: the same two columns beside its safety labels, which stay fields
    record = read({"context": "I'm going to punch my friend in the face.", "response": "Why would you do that?",
                   "rots": ["It's wrong to hurt people."], "safety_label": "__needs_caution__", "dialogue_id": 0})
    assert record["messages"][0]["content"] == "I'm going to punch my friend in the face."
    assert record["metadata"]["fields"]["safety_label"] == "__needs_caution__"
    # beside a question, a context is still the passage the question is about
    record = read({"question": "Who wrote it?", "context": "The book was written by Ann.", "answer": "Ann"})
    assert record["messages"][0]["content"] == "Who wrote it?\n\nThe book was written by Ann."


def test_medical_chatbot_patient_and_doctor_are_a_pair() -> None:
    # ruslanmv/ai-medical-chatbot's columns: Description (the question's title), Patient, Doctor
    row = {"Description": "Q. What does abutment of the nerve root mean?",
           "Patient": "Hi doctor, I am just wondering what is abutting and abutment of the nerve root means in a "
                      "back issue. Please explain.",
           "Doctor": "Hi. I have gone through your query with diligence. The nerve root is touching the disc."}
    record = read(row)
    assert record["messages"] == [{"role": "user", "content": row["Patient"]},
                                  {"role": "assistant", "content": row["Doctor"]}]
    assert record["metadata"]["fields"] == {"Description": row["Description"]}


def test_answers_the_dataset_marks_wrong_are_undesirable() -> None:
    # microsoft/wiki_qa: ~95% of its rows pair a question with a sentence that does not answer it (label 0)
    row = {"question_id": "Q1", "question": "how are glacier caves formed?", "document_title": "Glacier cave",
           "answer": "A partly submerged glacier cave on Perito Moreno Glacier .", "label": 0}
    record = read(row)
    assert record["metadata"]["label"] is False and record["metadata"]["label_from"].startswith("label: 0")
    good = read({**row, "answer": "A glacier cave is a cave formed within the ice of a glacier .", "label": 1})
    assert good["metadata"].get("label") is None and good["metadata"]["fields"]["label"] == 1
    # pminervini/HaluEval qa_samples: the knowledge is the passage, a hallucinated answer is not one to learn
    halu = {"knowledge": "Arthur's Magazine (1844-1846) was an American literary periodical published in "
                         "Philadelphia.", "question": "Which magazine was started first, Arthur's Magazine or First "
                         "for Women?", "answer": "First for Women was started first.", "hallucination": "yes"}
    record = read(halu)
    assert record["metadata"]["label"] is False and "hallucinated" in record["metadata"]["label_from"]
    assert record["messages"][0]["content"] == halu["question"] + "\n\n" + halu["knowledge"]
    assert read({**halu, "hallucination": "no"})["metadata"].get("label") is None
    # a label that is a class, not a verdict, stays a field
    assert read({"question": "What is 2+2?", "answer": "4", "label": 3})["metadata"]["fields"] == {"label": 3}


def test_passages_under_other_names_join_the_prompt() -> None:
    # super_glue multirc's paragraph, SVAMP's Body, TabMWP's table, RAGAS' contexts: left in metadata.fields
    # before, so the answer was trained without what it was read from
    multirc = read({"paragraph": "While this process moved along, diplomacy continued its rounds.",
                    "question": "What did the effort persuade?", "answer": "Pakistan",
                    "idx": {"paragraph": 0, "question": 0, "answer": 0}, "label": 1})
    assert multirc["messages"][0]["content"] == ("What did the effort persuade?\n\n"
                                                 "While this process moved along, diplomacy continued its rounds.")
    svamp = read({"ID": "chal-777", "Body": "There are 87 oranges and 290 bananas in Philip's collection. If the "
                  "bananas are organized into 2 groups and oranges are organized into 93 groups",
                  "Question": "How big is each group of bananas?", "Equation": "( 290.0 / 2.0 )", "Answer": 145.0,
                  "Type": "Common-Division"})
    assert "290 bananas" in svamp["messages"][0]["content"]
    tab = read({"question": "How many more stickers does A have than B?", "answer": "7", "table_title": "Stickers",
                "table": "Name | Number\nA | 10\nB | 3", "solution": "10 - 3 = 7", "ques_type": "free_text"})
    assert "A | 10" in tab["messages"][0]["content"]
    ragas = read({"question": "What are the global implications?", "ground_truth": "Broad.",
                  "answer": "The implications are broad.", "contexts": ["Passage one.", "Passage two."]})
    assert ragas["messages"][0]["content"] == "What are the global implications?\n\nPassage one.\n\nPassage two."


def test_a_prompt_column_that_holds_the_other_is_the_prompt() -> None:
    # AI4Math/MathVista free-form rows: `query` is `question` with the hint before it; both are prompt columns,
    # so the row was refused as unknown_format ("no known format has these keys")
    question = "What is the age gap between these two people in image?"
    row = {"pid": "1", "question": question, "image": "images/1.jpg", "choices": None, "answer": "7",
           "question_type": "free_form", "answer_type": "integer",
           "query": "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., "
                    "1, 2, 3, at the end.\nQuestion: " + question}
    record = read(row)
    assert record["messages"][0]["content"][1] == {"type": "text", "text": row["query"]}
    assert record["messages"][1]["content"] == "7"

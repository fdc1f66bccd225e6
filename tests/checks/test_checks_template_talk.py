"""{{ }} in a text about templates is its subject, not a slot the dataset left unfilled (a prober's finding: a Flask
question and a prompt-engineering answer were refused whole as unfilled_placeholder)."""

from __future__ import annotations

import pytest

from curation.checks import check_record


def _codes(*turns: tuple[str, str]) -> list[str]:
    record = {"id": "x", "messages": [{"role": role, "content": text} for role, text in turns]}
    return [f.code for f in check_record(record) if f.code == "unfilled_placeholder"]


@pytest.mark.parametrize("turns", [
    (("user", "My Flask template shows nothing where I wrote {{ username }}. What's wrong?"),
     ("assistant", "Pass username to render_template('page.html', username=name).")),
    (("user", "Write me a reusable prompt."),
     ("assistant", "Here is a prompt template:\nSummarize {{document}} in {{n}} words.")),
    (("user", "How do I loop in Jinja?"), ("assistant", "Use\n{% for item in items %}\n{{ item }}\n{% endfor %}")),
    (("user", "Show the title"), ("assistant", "In Angular, write {{ title }} in the component's HTML.")),
    (("user", "Personalise my email"), ("assistant", "Insert the merge field {{first_name}} after Dear.")),
])
def test_braces_in_a_text_about_templates_are_no_slot(turns: tuple[tuple[str, str], ...]) -> None:
    assert _codes(*turns) == []


def test_a_slot_a_dataset_left_unfilled_is_still_found() -> None:
    assert _codes(("user", "Hi"), ("assistant", "Hello {{name}}, your order {{order_id}} has shipped.")) == [
        "unfilled_placeholder"]
    assert _codes(("system", "You are {{bot_name}}."), ("user", "Hi"), ("assistant", "Hello!")) == [
        "unfilled_placeholder"]

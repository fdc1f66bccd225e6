"""The "Try" tab's handler: one prompt to two models side by side, errors shown with their fix."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_chat import serve_fake_chat  # noqa: E402

from ui.try_models import try_two  # noqa: E402


def test_try_sends_one_prompt_to_two_models() -> None:
    with serve_fake_chat(lambda body: {"content": f"{body['model']} says hi to {body['messages'][-1]['content']}"}
                         ) as fake:
        a, b = try_two("Alice", f"{fake.url}#tuned", f"{fake.url}#base", "Be brief.")
    assert a.startswith("tuned says hi to Alice") and b.startswith("base says hi to Alice")
    assert "tokens" in a and fake.violations == []
    assert [r["messages"][0] for r in fake.requests] == [{"role": "system", "content": "Be brief."}] * 2


def test_try_shows_errors_with_their_fix() -> None:
    a, b = try_two("Hi", "./no/such/model", "")
    assert a.startswith("**error:**") and "fix:" in a and b == "_no model reference_"
    assert try_two("  ", "x", "y") == ("_write a prompt first_", "")

"""Image parts in chat exports: a URL the provider can fetch is written, a local path is refused by name."""

from __future__ import annotations

from curation.exporters.chat import OPENAI_RULES, conversation
from curation.exporters.issues import ISSUES


def _record(url: str) -> dict:
    return {"id": "r", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                     {"type": "text", "text": "Who?"}]},
        {"role": "assistant", "content": "Two footballers."}]}


def test_fetchable_image_urls_are_written() -> None:
    for url in ("https://example.com/1.jpg", "data:image/png;base64,iVBORw0KGgo="):
        flags: set[str] = set()
        out = conversation(_record(url), OPENAI_RULES, flags)
        assert out is not None and out["messages"][0]["content"][0]["image_url"]["url"] == url, flags


def test_a_local_image_path_is_refused_with_its_reason() -> None:
    flags: set[str] = set()
    assert conversation(_record("data/mllm_demo_data/1.jpg"), OPENAI_RULES, flags) is None
    assert "image_local_path" in flags and ISSUES["image_local_path"][0] == "error"

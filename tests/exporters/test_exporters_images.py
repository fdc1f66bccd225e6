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


def test_images_go_only_to_the_models_that_are_vision_fine_tuned(tmp_path) -> None:
    # OpenAI's vision fine-tuning is gpt-4o-2024-08-06's; Azure's gpt-4o-2024-08-06's and gpt-4.1-2025-04-14's.
    # Image records were written for gpt-4o-mini, gpt-3.5-turbo and Azure gpt-4.1-mini, whose jobs refuse them.
    from export_fixtures import write_run

    from curation.exporters import ExportOptions, export_run

    records = [{**_record("https://example.com/1.jpg"), "id": f"r{i}"} for i in range(12)]
    run = write_run(tmp_path / "run", records)
    for exporter, model, written in (("openai", "gpt-4o-mini", False), ("openai", "gpt-3.5-turbo", False),
                                     ("openai", "gpt-4o-2024-08-06", True), ("azure-openai", "gpt-4.1-mini", False),
                                     ("azure-openai", "gpt-4.1", True)):
        result = export_run(run, [exporter], ExportOptions(model=model), each=True)
        assert bool(result.paths.get(exporter)) is written, (exporter, model)
        if not written:
            assert result.refused[f"{exporter}/sft"][0].code == "image_unsupported"


def test_data_urls_must_hold_a_jpeg_png_or_webp_that_decodes() -> None:
    # data:image/png;base64,@@@notbase64@@@, an SVG and a GIF were written to the OpenAI and Azure files
    for url, code in (("data:image/png;base64,@@@notbase64@@@", "image_format"),
                      ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "image_format"),
                      ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", "image_format")):
        flags: set[str] = set()
        assert conversation(_record(url), OPENAI_RULES, flags) is None and code in flags, url
    flags = set()
    assert conversation(_record("data:image/webp;base64,UklGRhYAAABXRUJQ"), OPENAI_RULES, flags) is not None


def test_together_takes_base64_images_in_user_turns_only() -> None:
    from curation.exporters.together import TOGETHER_RULES

    flags: set[str] = set()
    assert conversation(_record("data:image/png;base64,iVBORw0KGgo="), TOGETHER_RULES, flags) is not None, flags
    assert conversation(_record("https://example.com/1.jpg"), TOGETHER_RULES, flags) is None
    assert "image_not_inline" in flags


def test_image_bytes_must_be_the_type_the_url_says_and_lines_are_joined() -> None:
    flags: set[str] = set()
    assert conversation(_record("data:image/jpeg;base64,iVBORw0KGgo="), OPENAI_RULES, flags) is None  # PNG bytes
    assert "image_format" in flags
    out = conversation(_record("data:image/png;base64,iVBORw0K\nGgo="), OPENAI_RULES, set())
    assert out is not None and out["messages"][0]["content"][0]["image_url"]["url"] == (
        "data:image/png;base64,iVBORw0KGgo=")

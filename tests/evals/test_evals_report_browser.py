"""eval report.html: self-contained, escapes every text, renders in headless Chromium without console errors."""

from __future__ import annotations

import json
from pathlib import Path

from fake_chat import serve_fake_chat

from curation.cli import main

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def test_report_renders_in_headless_chromium_and_orders_regressions_first(tool_run: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    def answer(body: dict) -> dict:
        if body["model"] == "tuned":
            return {"content": "<script>alert('x')</script> & <b>bold</b>"}  # must come out as text
        if "Paris" in body["messages"][-1]["content"]:
            return {"content": None, "tool_calls": [{"id": "c", "type": "function", "function": {
                "name": "get_weather", "arguments": '{"city": "Paris", "unit": "C"}'}}]}
        return {"content": "Thank you!"}

    with serve_fake_chat(answer) as fake:
        assert main(["eval", str(tool_run), "--model", f"{fake.url}#tuned", "--baseline", f"{fake.url}#base",
                     "-q"]) == 0
    html_path = tool_run / "eval" / "tuned" / "report.html"
    html = html_path.read_text()
    assert "<script" not in html and "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "http://" not in html.replace(fake.url, "") and "https://" not in html
    summary = json.loads((tool_run / "eval" / "tuned" / "summary.json").read_text())
    assert summary["comparisons"]["tuned vs base"]["loss"] == 2  # Paris (the call), no-call (the text)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html_path.as_uri())
        assert page.locator("h2").all_inner_texts() == ["Summary", "Per metric", "Answers (worst regressions first)"]
        blocks = page.locator(".prompt > b").all_inner_texts()
        outcomes = page.locator(".prompt > span.win, .prompt > span.tie, .prompt > span.loss").all_inner_texts()
        body = page.inner_text("body")
        shot = tmp_path / "eval.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert outcomes == ["loss", "loss", "tie"]  # worst regressions first
    assert blocks == ["call-paris", "no-call", "call-lyon"]
    assert "<script>alert('x')</script>" in body  # shown as text, never run
    assert shot.stat().st_size > 10_000

"""The main review flows in a real browser (Playwright + Debian chromium) against the running app."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from curation.review import ReviewStore
from curation.review.synthetic import write_synthetic_run

CHROMIUM = "/usr/bin/chromium"
ID = re.compile(r"r\d{6}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    from ui.app import launch

    run = write_synthetic_run(tmp_path_factory.mktemp("browser") / "run", n=120, seed=5)
    port = _free_port()
    demo = launch(run, port=port, prevent_thread_lock=True, quiet=True)
    yield run, f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(served: tuple[Path, str]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(15_000)
        yield pg
        browser.close()


def _shot(pg: Any, repo_dir: Path, tab: str) -> None:
    out = repo_dir / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(out / f"ui-{tab}.png"), full_page=True)


def _choose(pg: Any, elem_id: str, value: str) -> None:
    """Pick an option of a Gradio dropdown."""
    pg.click(f"#{elem_id} input")
    pg.fill(f"#{elem_id} input", value)
    pg.locator(f"li[role='option'][aria-label='{value}']:visible").first.click()


def _header_id(pg: Any, previous: str | None = None) -> str:
    """The record id shown in the Review header (waiting until it differs from ``previous``)."""
    header = pg.locator("#review-header")
    if previous:
        pg.wait_for_function(
            "([id, old]) => { const e = document.getElementById(id); return e && !e.innerText.includes(old); }",
            arg=["review-header", previous],
        )
    match = ID.search(header.inner_text())
    assert match, header.inner_text()
    return match.group(0)


def _export_rows(run: Path) -> list[dict[str, Any]]:
    path = run / "exports" / "openai" / "sft" / "train.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_review_duplicates_and_export_in_the_browser(served: tuple[Path, str], page: Any, repo_dir: Path) -> None:
    run, url = served
    store = ReviewStore(run)
    pg = page
    pg.goto(url)
    pg.wait_for_selector("#overview-summary :text('Reviewed')")
    pg.wait_for_selector("#overview-funnel canvas, #overview-funnel svg")
    _shot(pg, repo_dir, "overview")

    # Review: filter the queue by a reject reason, accept one record with the keyboard shortcut.
    pg.get_by_role("tab", name="Review").click()
    pg.fill("#reviewer input, #reviewer textarea", "tester")  # no login: the name is asked once per browser
    pg.keyboard.press("Enter")
    pg.wait_for_selector("#review-header :text('/')")
    _choose(pg, "f-status", "(any)")
    _choose(pg, "f-reason", "near_duplicate")
    pg.wait_for_selector("#review-header :text('near_duplicate')")
    accepted = _header_id(pg)
    pg.locator("#review-progress").click()  # focus outside any text field so the shortcut applies
    pg.keyboard.press("a")
    _header_id(pg, accepted)
    assert store.decision(accepted).verdict == "accept"
    _shot(pg, repo_dir, "review")

    # Reject a record the pipeline kept, with a reason.
    _choose(pg, "f-reason", "kept")
    pg.wait_for_selector("#review-header :text('pipeline: kept')")
    rejected = _header_id(pg)
    pg.fill("#reject-reason textarea, #reject-reason input", "off topic")
    pg.click("#reject-btn")
    edited = _header_id(pg, rejected)
    decision = store.decision(rejected)
    assert decision.verdict == "reject" and decision.reason == "off topic"

    # Edit the last message of the next kept record.
    pg.click("#edit-accordion button.label-wrap")
    pg.click("#edit-index input")
    pg.locator("li[role='option']:visible").last.click()
    pg.wait_for_function("() => document.querySelector('#edit-text textarea').value.length > 0")
    pg.fill("#edit-text textarea", "An answer corrected in the browser.")
    pg.click("#edit-save-btn")
    pg.wait_for_selector("#review-status :text('edited message')")
    assert store.decision(edited).messages[-1]["content"] == "An answer corrected in the browser."
    pg.wait_for_selector("#review-chat :text('An answer corrected in the browser.')")

    # Duplicates: pick a cluster untouched so far and keep a member other than the pipeline's survivor.
    touched = {accepted, rejected, edited}
    cluster = next(c.id for c in store.clusters() if not touched & {m.id for m in store.cluster(c.id).members})
    info = store.cluster(cluster)
    keep = next(m.id for m in info.members if m.id != info.survivor)
    pg.get_by_role("tab", name="Duplicates").click()
    _choose(pg, "dup-cluster", cluster)
    pg.wait_for_selector(f"#dup-members :text('{cluster}')")
    pg.click("#dup-keep input")  # a dropdown, not one radio button per member
    pg.fill("#dup-keep input", keep)
    pg.locator("li[role='option']:visible", has_text=keep).first.click()
    pg.click("#dup-keep-btn")
    pg.wait_for_selector("#dup-status :text('Press Confirm')")  # rejecting the others needs a confirmation
    pg.click("#dup-confirm-btn")
    pg.wait_for_selector(f"#dup-status :text('kept {keep}')")
    assert store.decision(keep).verdict == "accept"
    assert store.decision(info.survivor).verdict == "reject" and store.decision(info.survivor).duplicate_of == keep
    _shot(pg, repo_dir, "duplicates")

    # Export: apply the decisions and write the OpenAI files; the download list shows them.
    pg.get_by_role("tab", name="Export").click()
    pg.locator("#export-formats").get_by_label("openai", exact=True).check()
    pg.click("#export-btn")
    pg.wait_for_function(  # the file list shows a name as stem + extension spans
        "() => /train\\s*\\.jsonl/.test(document.getElementById('export-files').innerText)", timeout=30_000
    )
    _shot(pg, repo_dir, "export")
    exported = _export_rows(run)
    records = {r["id"]: r for r in map(orjson.loads, (run / "splits" / "train.jsonl").read_bytes().splitlines())}
    rejects = {r["id"]: r for r in map(orjson.loads, (run / "rejects.jsonl").read_bytes().splitlines())}
    assert accepted in records and keep in records  # restored from the rejects
    assert rejects[rejected]["reason"] == "human_rejected" and rejects[info.survivor]["duplicate_of"] == keep
    assert "An answer corrected in the browser." in {row["messages"][-1].get("content") for row in exported}
    assert len(exported) == len(records)

    pg.get_by_role("tab", name="Train").click()
    pg.wait_for_selector("#train-backend")
    _shot(pg, repo_dir, "train")
    store.close()

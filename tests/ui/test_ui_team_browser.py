"""A team in real Chromium (Playwright + Debian's /usr/bin/chromium): logins, leases, safe rendering, bulk+undo.

One server for the module; the tests share it and each works on its own part of the queue."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from curation.review import ReviewStore
from curation.review.users import UsersFile

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "root": "root-password"}
XSS = "<img src=x onerror=alert(1)>"
HEBREW = "שלום, מה שלומך היום?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(folder: Path) -> Path:
    """A synthetic run whose first kept record carries the crafted texts (an XSS probe, Hebrew, an empty turn)."""
    from curation.review.synthetic import write_synthetic_run

    run = write_synthetic_run(folder, n=200, seed=11)
    train = run / "splits" / "train.jsonl"
    lines = train.read_bytes().splitlines()
    first = orjson.loads(lines[0])
    first["messages"] = [{"role": "user", "content": f"{XSS} <b>bold?</b>"},
                         {"role": "assistant", "content": HEBREW}, {"role": "user", "content": "and?"},
                         {"role": "assistant", "content": ""}]  # fmt: skip
    lines[0] = orjson.dumps(first)
    train.write_bytes(b"\n".join(lines) + b"\n")
    from curation import run_folder

    manifest = run_folder.read_manifest(run)
    run_folder.write_manifest(run, manifest)  # reseal after the edit
    return run


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    from ui.app import launch

    base = tmp_path_factory.mktemp("team")
    run = _run(base / "run")
    users = UsersFile(base / "users.json")
    for name, password in PASSWORDS.items():
        users.add(name, password, "admin" if name == "root" else "reviewer")
    port = _free_port()
    demo = launch(run, port=port, prevent_thread_lock=True, quiet=True, users_file=base / "users.json")
    yield run, f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _login(browser: Any, url: str, user: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.locator("input[type='text'], input[name='username']").first.fill(user)
    page.locator("input[type='password']").first.fill(PASSWORDS[user])
    page.keyboard.press("Enter")
    page.wait_for_selector("#overview-summary :text('Reviewed')")
    page.get_by_role("tab", name="Review").click()
    page.wait_for_selector("#review-header [data-record-id]")
    return page


def _choose(pg: Any, elem_id: str, value: str) -> None:
    pg.click(f"#{elem_id} input")
    pg.fill(f"#{elem_id} input", value)
    pg.locator(f"li[role='option'][aria-label='{value}']:visible").first.click()


def _shown(pg: Any) -> str:
    return pg.evaluate("window.curationShownId()")


def _wait_change(pg: Any, old: str) -> str:
    pg.wait_for_function("(old) => window.curationShownId() !== old", arg=old)
    return _shown(pg)


def test_safe_rendering_hebrew_and_screenshots(served: tuple[Path, str], browser: Any, repo_dir: Path) -> None:
    run, url = served
    pg = _login(browser, url, "root")
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    assert pg.input_value("#reviewer input, #reviewer textarea") == "root"
    assert not pg.locator("#reviewer input, #reviewer textarea").first.is_editable()  # cannot be typed over
    _choose(pg, "f-status", "(any)")
    crafted = orjson.loads((run / "splits" / "train.jsonl").read_bytes().splitlines()[0])["id"]
    pg.wait_for_timeout(500)
    pg.fill("#f-jump input, #f-jump textarea", crafted)
    pg.keyboard.press("Enter")
    pg.wait_for_selector(f"#review-header [data-record-id='{crafted}']")
    chat = pg.locator("#review-chat")
    assert XSS in chat.inner_text() and "<b>bold?</b>" in chat.inner_text()
    assert pg.locator("#review-chat img").count() == 0 and pg.locator("#review-chat b").count() == 0
    hebrew = pg.locator("#review-chat .turn-body", has_text=HEBREW).first
    assert hebrew.get_attribute("dir") in ("rtl", "auto")
    assert hebrew.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert pg.locator("#review-chat .turn.empty").count() == 1
    pg.wait_for_timeout(300)
    assert not [u for u in requests if re.search(r"/x(\?|$)", u)]

    out = repo_dir / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for tab in ("Review", "Overview", "Duplicates", "Team", "Export", "Train"):
        pg.get_by_role("tab", name=tab).click()
        pg.wait_for_timeout(700)
        if tab == "Review":
            for button in ("#accept-btn", "#reject-btn"):  # visible without scrolling at 1366x768
                box = pg.locator(button).bounding_box()
                assert box and box["y"] + box["height"] <= 768
        pg.screenshot(path=str(out / f"team-{tab.lower()}.png"))
    pg.context.close()


def test_fast_keys_never_decide_a_record_that_was_not_shown(served: tuple[Path, str], browser: Any) -> None:
    run, url = served
    pg = _login(browser, url, "alice")
    store = ReviewStore(run)
    before = {d["record_id"] for d in store.decisions()}
    pg.locator("#review-progress").click()
    for _ in range(5):
        pg.keyboard.press("a")
        pg.keyboard.press("r")
        pg.keyboard.press("n")
        pg.wait_for_timeout(400)
    pg.wait_for_timeout(800)
    shown = set(pg.evaluate("window.curationShown || []")) | {_shown(pg)}
    decided = {d["record_id"] for d in store.decisions() if d["reviewer"] == "alice"} - before
    assert decided and decided <= shown
    store.close()
    pg.context.close()


def test_two_reviewers_clear_a_queue_without_deciding_the_same_record(served: tuple[Path, str], browser: Any) -> None:
    run, url = served
    store = ReviewStore(run)
    pages = {name: _login(browser, url, name) for name in ("alice", "bob")}
    for pg in pages.values():
        _choose(pg, "f-status", "unreviewed")
        pg.wait_for_timeout(500)
        pg.locator("#review-progress").click()
    done = {"alice": False, "bob": False}
    for _round in range(400):
        for name, pg in pages.items():
            if done[name]:
                continue
            rid = _shown(pg)
            if not rid:
                done[name] = True
                continue
            pg.keyboard.press("a" if hash(rid) % 3 else "r")
            try:
                _wait_change(pg, rid)
            except Exception:  # noqa: BLE001 - the last record of the queue: nothing comes next
                done[name] = not _shown(pg) or store.decision(rid) is not None and _shown(pg) == rid
        if all(done.values()):
            break
    rows = [d for d in store.decisions() if d["action"] in ("accept", "reject")]
    by: dict[str, set[str]] = {}
    for row in rows:
        by.setdefault(row["record_id"], set()).add(row["reviewer"])
    from curation.review import QueueFilter

    left = store.ids(QueueFilter(status="unreviewed"))
    assert all(store.lease_holder(rid) not in (None, "alice", "bob") for rid in left)  # only what another has open
    assert not [rid for rid, who in by.items() if len(who) > 1]
    team = {rid for rid, who in by.items() if who & {"alice", "bob"}}
    assert len(team) >= 150 and {r["reviewer"] for r in rows} <= {"alice", "bob", "root"}
    counts = {n: sum(1 for r in rows if r["reviewer"] == n) for n in ("alice", "bob")}
    assert min(counts.values()) > 20  # both worked the queue
    store.close()
    for pg in pages.values():
        pg.context.close()


def test_bulk_reject_of_a_filtered_set_and_undo(served: tuple[Path, str], browser: Any) -> None:
    run, url = served
    pg = _login(browser, url, "root")
    store = ReviewStore(run)
    _choose(pg, "f-status", "(any)")
    _choose(pg, "f-language", "fr")
    pg.wait_for_timeout(500)
    pg.click("#bulk-accordion button.label-wrap")
    pg.fill("#bulk-reason textarea, #bulk-reason input", "bulk: french batch")
    pg.click("#bulk-preview-btn")
    pg.wait_for_selector("#bulk-status :text('record(s)')")
    n = int(re.search(r"reject ([\d,]+) record", pg.inner_text("#bulk-status")).group(1).replace(",", ""))
    from curation.review import QueueFilter

    french = store.ids(QueueFilter(language="fr", reviewer="root"))
    assert n == len(french) > 5
    pg.click("#bulk-confirm-btn")
    pg.wait_for_selector("#bulk-status :text('bulk reject')")
    assert all(store.decision(i).verdict == "reject" and store.decision(i).reviewer == "root" for i in french)
    pg.locator("#review-progress").click()
    pg.click("#undo-btn")
    pg.wait_for_selector(f"#review-status :text('undid {n}')")
    assert all(store.decision(i) is None or store.decision(i).reviewer != "root" for i in french)
    store.close()
    pg.context.close()

"""report.html renders offline in headless Chromium without errors; report.md carries the same numbers."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exporters"))
from export_fixtures import sft_records, write_run  # noqa: E402

from curation.report import render_report  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    records = sft_records(real_dir)
    path = write_run(tmp_path_factory.mktemp("report") / "run", records)
    report = json.loads((path / "report.json").read_text())
    report["funnel"].append(
        {
            "stage": "near_dedup",
            "in": len(records),
            "out": len(records),
            "dropped": 3,
            "by_reason": {"near_duplicate": 3},
        }
    )
    report["reasons"]["near_duplicate"] = 3
    report["duplicate_clusters"] = [
        {
            "id": 4,
            "size": 4,
            "kept": records[5]["id"],
            "members": [r["id"] for r in records[5:9]],
            "snippet": "Let's get the drone in the air",
        },
    ]
    report["reject_examples"] = {
        "exact_duplicate": [
            {
                "id": "dup-1",
                "stage": "exact_dedup",
                "detail": "same content",
                "duplicate_of": "x",
                "source": {"path": "a.jsonl", "line": 3},
                "snippet": "Hi <script>alert(1)</script>",
            }
        ],
    }
    report["warnings"] = ["the test split is tiny"]
    (path / "report.json").write_text(json.dumps(report))
    return path


def test_report_renders_in_headless_chromium(run: Path, repo_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    html_path, md_path = render_report(run)
    html = html_path.read_text()
    assert "<script" not in html.replace("&lt;script&gt;", "")  # user text is escaped, no scripts of ours
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert html.count("<svg") >= 1 + 1 + 3 + 2  # funnel, reasons, a histogram per split, languages, sources
    assert "limit 65,536" in html
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html_path.as_uri())
        assert page.locator("h2").all_inner_texts()[:2] == ["Funnel", "Splits"]
        assert page.locator("svg.chart").count() >= 7
        width = page.evaluate("document.documentElement.scrollWidth")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []  # renders offline
    assert width <= 1100  # nothing overflows sideways
    assert shot.stat().st_size > 20_000
    target = repo_dir / "artifacts" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, target / "report.png")
    md = md_path.read_text()
    assert "## Funnel" in md and "`near_duplicate`" in md and "⚠ the test split is tiny" in md


def test_report_fills_in_what_report_json_lacks(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    report = json.loads((copy / "report.json").read_text())
    for info in report["splits"].values():
        info.pop("token_hist", None)
    (copy / "report.json").write_text(json.dumps(report))
    html_path, md_path = render_report(copy)
    md = md_path.read_text()
    assert "### Tokens per example · train (limit 65,536)" in md  # histogram computed from the split files
    assert "gpt-4o-mini-2024-07-18` (target)" in md and "$" in md
    import html

    assert "Let's get the drone in the air" in html.unescape(html_path.read_text())  # member snippets, from splits

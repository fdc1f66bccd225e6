"""Browser latencies of the review UI on a large synthetic run (Playwright + Debian's /usr/bin/chromium).

    python scripts/bench_ui_browser.py --records 100000 [--folder /tmp/bench-ui] [--repeat 10]

Prints one JSON object: median and max milliseconds for page load, next, decide-and-next, filter and search.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=10)
    a = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from curation.review import ReviewStore
    from curation.review.synthetic import write_synthetic_run
    from ui.app import launch

    folder = a.folder or Path(tempfile.mkdtemp(prefix="bench-ui-"))
    run = folder / "run"
    t0 = time.perf_counter()
    if not (run / "manifest.json").exists():
        write_synthetic_run(run, n=a.records, seed=0)
    t1 = time.perf_counter()
    ReviewStore(run).close()  # the one-off import into review.sqlite
    t2 = time.perf_counter()
    port = _port()
    demo = launch(run, port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    times: dict[str, list[float]] = {k: [] for k in ("page_load", "next", "decide_and_next", "filter", "search")}
    shown = "() => window.curationShownId && window.curationShownId()"
    change = "(old) => window.curationShownId && window.curationShownId() && window.curationShownId() !== old"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(60_000)
        for i in range(3):
            start = time.perf_counter()
            page.goto(url)
            page.get_by_role("tab", name="Review").click()
            page.wait_for_function(shown)
            times["page_load"].append((time.perf_counter() - start) * 1000)
            if i == 0:
                page.fill("#reviewer input, #reviewer textarea", "bench")
                page.keyboard.press("Enter")
                page.wait_for_timeout(1500)
        page.locator("#review-progress").click()

        def timed(key: str, action: str) -> None:
            old = page.evaluate(shown)
            start = time.perf_counter()
            page.keyboard.press(action)
            page.wait_for_function(change, arg=old)
            times[key].append((time.perf_counter() - start) * 1000)

        for _ in range(a.repeat):
            timed("next", "n")
        for _ in range(a.repeat):
            timed("decide_and_next", "a")
        for lang in ["fr", "zh", "en", "fr", "zh", "en"][: max(2, a.repeat // 2)]:
            old = page.evaluate(shown)
            start = time.perf_counter()
            page.click("#f-language input")
            page.fill("#f-language input", lang)
            page.locator(f"li[role='option'][aria-label='{lang}']:visible").first.click()
            page.wait_for_function(f"() => document.querySelector('#review-header').innerText.length > 0 && "
                                   f"window.curationShownId() !== {json.dumps(old)}")
            times["filter"].append((time.perf_counter() - start) * 1000)
        head = "() => document.querySelector('#review-header').innerText"
        for word in ["merge the", "graph", "cache the", "tree", "parse the"][: max(2, a.repeat // 2)]:
            old = page.evaluate(head)
            start = time.perf_counter()
            page.fill("#f-text input, #f-text textarea", word)
            page.locator("#f-text input, #f-text textarea").first.press("Enter")
            page.wait_for_function(f"() => ({head})() !== {json.dumps(old)}", timeout=120_000)
            times["search"].append((time.perf_counter() - start) * 1000)
        browser.close()
    demo.close()
    out = {"records": a.records, "write_run_s": round(t1 - t0, 1), "import_s": round(t2 - t1, 1)}
    for key, values in times.items():
        out[key] = {"median_ms": round(statistics.median(values)), "max_ms": round(max(values)), "n": len(values)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

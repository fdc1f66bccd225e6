"""Responsiveness of the review UI on a 100k-record run folder (synthetic, in a temporary folder).

Prints handler-level timings (store import, review page load, next record, filtered queues, a decision,
the overview) and one browser timing (page load to the first record, and Next), each against the 1 s
target. Usage: python scripts/bench_ui.py [--records 100000] [--no-browser]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_S = 1.0


def _time(fn: Callable[[], Any], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _row(name: str, seconds: float, target: float | None = TARGET_S) -> None:
    verdict = "" if target is None else ("ok" if seconds < target else "SLOW")
    print(f"{name:<52} {seconds * 1000:9.1f} ms  {verdict}")


def handlers(run: Path) -> None:
    from curation.review import ReviewStore
    from ui import handlers as h

    start = time.perf_counter()
    ReviewStore(run).close()
    _row("store import (first open, 100k records)", time.perf_counter() - start, None)
    ctx = h.UIContext(run)
    every = h.make_filter()
    _row("review page: record 1 of the whole queue", _time(lambda: h.review_view(ctx, every, 0)))
    _row("next record (position 2)", _time(lambda: h.review_view(ctx, every, 1)))
    _row("jump deep into the queue (position 90,000)", _time(lambda: h.review_view(ctx, every, 90_000)))
    dup = h.make_filter(reason="near_duplicate")
    _row("filter by reject reason (near_duplicate)", _time(lambda: h.review_view(ctx, dup, 0)))
    _row("next in that filter", _time(lambda: h.review_view(ctx, dup, 1)))
    flt = h.make_filter(flag="short_answer", language="fr")
    _row("filter by flag + language", _time(lambda: h.review_view(ctx, flt, 0)))
    text = h.make_filter(text="case 77777")
    _row("free-text search (scans every record)", _time(lambda: h.review_view(ctx, text, 0), repeat=3))
    unreviewed = h.make_filter(status="unreviewed")
    counter = iter(range(10**6))

    def decide_and_advance() -> None:
        view = h.review_view(ctx, unreviewed, 0)
        h.decide(ctx, view.record_id, "accept" if next(counter) % 2 else "reject", "bench")
        h.review_view(ctx, unreviewed, h.position_after_decision(ctx, unreviewed, 0, view.record_id))

    _row("decide + move to the next unreviewed record", _time(decide_and_advance, repeat=10))
    _row("overview (funnel, split/language mix after review)", _time(lambda: h.overview(ctx), repeat=3))
    _row("duplicates: list clusters + show the largest", _time(lambda: h.cluster_view(ctx, h.cluster_rows(ctx)[0][0])))
    ctx.close()


def browser(run: Path) -> None:
    from playwright.sync_api import sync_playwright

    from ui.app import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    demo = launch(run, port=port, prevent_thread_lock=True, quiet=True)
    _row("app build + start (gradio import included)", time.perf_counter() - start, None)
    try:
        with sync_playwright() as p:
            args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#overview-summary :text('Reviewed')", timeout=60_000)
            page.get_by_role("tab", name="Review").click()
            page.wait_for_selector("#review-header :text('1 / ')")
            _row("browser: page load until record 1 is shown", time.perf_counter() - start, 3.0)
            start = time.perf_counter()
            page.get_by_role("tab", name="Overview").click()
            page.get_by_role("tab", name="Review").click()
            page.wait_for_selector("#review-header :text('1 / ')")
            _row("browser: back to an already loaded Review tab", time.perf_counter() - start)
            samples = []
            for n in range(2, 7):
                start = time.perf_counter()
                page.click("#next-btn")
                page.wait_for_selector(f"#review-header :text('{n} / ')")
                samples.append(time.perf_counter() - start)
            _row("browser: click Next until the next record shows", statistics.median(samples))
            b.close()
    finally:
        demo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    from curation.review.synthetic import write_synthetic_run

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = write_synthetic_run(Path(tmp) / "run", n=args.records, seed=0)
        size = sum(p.stat().st_size for p in run.rglob("*.jsonl")) / 1e6
        print(f"synthetic run: {args.records:,} records, {size:.1f} MB of JSONL, {time.perf_counter() - start:.1f} s")
        handlers(run)
        if not args.no_browser:
            browser(run)


if __name__ == "__main__":
    main()

"""Lines that many records of a file share (templated preambles): left out of near-duplicate comparison.

System prompts and tool lists are already left out of ``near_text``; but real data sets also paste a fixed
preamble into the user turn (a system prompt in a format without a system role, an instruction template such
as Alpaca's "Below is an instruction that describes a task...", a RAG header), and canned assistant lines
("Hello! How can I help you today?" sits in 33% of FastChat's dummy_conversation.json). Compared with them,
conversations that differ in everything else look alike.

Method: before the per-record work, the first ``sample`` records of every input file are read; a physical line
(folded like exact keys, at least ``MIN_LINE_CHARS`` long) that appears in at least ``df`` of a file's sampled
records, and in at least ``MIN_RECORDS`` of them, is shared. Workers drop shared lines from the text they sign;
a record made only of shared lines keeps its whole text, so copies of a fully templated record still match.
Near copies of one record keep matching: both lose the same shared lines and compare what is left.
Measured on the repository's 18 real files: only FastChat's canned greetings pass 0.2 (the next highest line
is in 13% of a file's records).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import xxhash

from curation.dedup.text import near_text, normalise_for_exact

MIN_LINE_CHARS = 20
MIN_RECORDS = 10


def line_hash(line: str) -> int:
    return xxhash.xxh3_64_intdigest(normalise_for_exact(line).encode("utf-8"))


def shared_lines(records: Iterable[dict], df: float) -> set[int]:
    """Hashes of the lines shared by at least ``df`` (and MIN_RECORDS) of ``records`` (one file's sample)."""
    counts: Counter[int] = Counter()
    n = 0
    for record in records:
        n += 1
        seen = {line_hash(line) for line in near_text(record).split("\n") if len(line.strip()) >= MIN_LINE_CHARS}
        counts.update(seen)
    cut = max(MIN_RECORDS, df * n)
    return {h for h, c in counts.items() if c >= cut}


def without_shared_lines(text: str, shared: frozenset[int] | set[int]) -> str:
    """``text`` without its shared lines; the whole text when nothing else is left."""
    if not shared:
        return text
    kept = [line for line in text.split("\n")
            if len(line.strip()) < MIN_LINE_CHARS or line_hash(line) not in shared]
    rest = "\n".join(kept)
    return rest if rest.strip() else text

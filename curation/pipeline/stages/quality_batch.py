"""Batch-wide measures for the quality stage (``QualityStage.process_batch``): what the per-reply checks
compute character by character in Python, computed for all replies of a batch in a few numpy passes.

Each function here gives exactly what its per-reply counterpart in ``quality.py`` gives, or a certain
"nothing to see" that lets the exact per-reply code be skipped:

- :func:`char_profiles`: per non-ASCII text, whether it is mostly Chinese/Japanese (``_is_cjk``), its
  visible and symbol character counts (``_symbol_counts``) and its characters without whitespace (the
  CJK n-gram tokens);
- :func:`any_repeated_window`: per sequence of token hashes, whether some window of ``n`` consecutive
  tokens occurs twice. Equal windows have equal hashes, so "no" is certain; a "yes" (rarely a collision)
  only sends the reply through the exact count;
- :func:`first_phrases`: per text, the first phrase of a list it contains, found with one ``str.find``
  scan per phrase over all texts of the batch joined (C speed, skipping ahead) instead of one scan per reply.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

import numpy as np

from curation.textscan import literal_scanner

_SYMBOL, _CJK, _SPACE, _COMMON_SPACE, _ASCII_SPACE = 1, 2, 4, 8, 16
_BMP = 0x10000
# quality._CJK (Hiragana, Katakana, CJK extension A, unified and compatibility ideographs)
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_COMMON_SPACES = " \n\t\r\u3000\xa0\f\v"  # quality._COMMON_SPACES
_CJK_SAMPLE = 2000  # quality._is_cjk looks at the first 2000 characters
_U64 = np.uint64


def _splitmix64(count: int) -> list[int]:
    """Odd, unrelated 64-bit window weights (a multiple of one constant would make windows collide)."""
    out, state, mask = [], 0, (1 << 64) - 1
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) | 1)
    return out


_WEIGHTS = np.array(_splitmix64(64), dtype=_U64)
_DOC_SHIFT = _U64(44)  # a window's sort key: its document in the top 20 bits, 44 bits of its hash below
_MAX_DOCS = 1 << 20


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """Flags of every Basic Multilingual Plane code point. A symbol is what quality._SYMBOL matches
    (``[^\\w\\s]|_``: neither ``isalnum`` nor ``isspace``); whitespace is what ``\\s`` and ``str.split`` take."""
    chars = [chr(cp) for cp in range(_BMP)]
    table = np.zeros(_BMP, dtype=np.uint8)
    table[[not (c.isalnum() or c.isspace()) for c in chars]] |= _SYMBOL
    table[[c.isspace() for c in chars]] |= _SPACE
    for lo, hi in _CJK_RANGES:
        table[lo : hi + 1] |= _CJK
    table[[ord(c) for c in _COMMON_SPACES]] |= _COMMON_SPACE
    table[32] |= _ASCII_SPACE
    table.flags.writeable = False
    return table


def _flags(cps: np.ndarray) -> np.ndarray:
    """:func:`_bmp_table` flags of any code points; above the BMP (emoji, rare ideographs) only "symbol" can
    be set (no whitespace or counted CJK range lies there), looked up once per distinct code point."""
    table = _bmp_table()
    wide = cps >= _BMP
    if not wide.any():
        return table[cps]
    flags = table[np.where(wide, 0, cps)]
    values, inverse = np.unique(cps[wide], return_inverse=True)
    symbol = np.array([not (chr(v).isalnum() or chr(v).isspace()) for v in values.tolist()], dtype=bool)
    flags[wide] = np.where(symbol[inverse], _SYMBOL, 0).astype(np.uint8)
    return flags


def _segments(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per position of texts laid end to end: which text, and the position inside it."""
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    doc = np.repeat(np.arange(len(lengths)), lengths)
    return doc, np.arange(len(doc)) - starts[doc]


def char_profiles(texts: list[str]) -> tuple[list[bool], list[tuple[int, int]], list[np.ndarray]]:
    """For each text: ``_is_cjk(text)``, ``_symbol_counts(text)`` and its code points without whitespace."""
    n = len(texts)
    if n == 0:
        return [], [], []
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flags = _flags(cps)
    doc = np.repeat(np.arange(n), lengths)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(doc[mask], minlength=n)

    cjk_chars = (flags & _CJK) != 0
    spaces = (flags & _ASCII_SPACE) != 0
    if int(lengths.max()) > _CJK_SAMPLE:  # the share is measured on each text's first characters only
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        in_sample = np.arange(len(doc)) - starts[doc] < _CJK_SAMPLE
        cjk_chars &= in_sample
        spaces &= in_sample
    sample = np.minimum(lengths, _CJK_SAMPLE)
    is_cjk = count(cjk_chars) > 0.3 * np.maximum(1, sample - count(spaces))
    symbols = count((flags & _SYMBOL) != 0)
    visible = lengths - count((flags & _COMMON_SPACE) != 0)
    solid = (flags & _SPACE) == 0
    kept = np.cumsum(count(solid)).tolist()
    chars = cps[solid]
    pieces = [chars[lo:hi] for lo, hi in zip([0, *kept[:-1]], kept, strict=True)]
    counts = list(zip(visible.tolist(), symbols.tolist(), strict=True))
    return is_cjk.tolist(), counts, pieces


def any_repeated_window(tokens: np.ndarray, lengths: list[int], n: int) -> list[bool]:
    """For token hash sequences laid end to end in ``tokens`` (uint64; sequence ``j`` has ``lengths[j]``
    tokens, each at least ``n``): does a window of ``n`` consecutive tokens occur twice in the sequence (or,
    rarely, do two windows' 44-bit hashes collide)?"""
    if not lengths:
        return []
    if n > len(_WEIGHTS):  # no weights for such long windows: every sequence gets the exact count
        return [True] * len(lengths)
    if len(lengths) >= _MAX_DOCS:
        split = int(sum(lengths[: _MAX_DOCS - 1]))
        return [*any_repeated_window(tokens[:split], lengths[: _MAX_DOCS - 1], n),
                *any_repeated_window(tokens[split:], lengths[_MAX_DOCS - 1 :], n)]
    sizes = np.asarray(lengths, dtype=np.int64)
    tokens = tokens.astype(_U64, copy=False)
    doc, pos = _segments(sizes)
    count = len(tokens) - n + 1
    acc = tokens[:count] * _WEIGHTS[0]
    for m in range(1, n):
        acc += tokens[m : m + count] * _WEIGHTS[m]
    # the windows that end inside their own text
    valid = np.flatnonzero(pos[:count] <= (sizes - n)[doc[:count]])
    keys = (acc[valid] >> _U64(64 - 44)) | (doc[valid].astype(_U64) << _DOC_SHIFT)
    keys.sort()
    repeated = np.zeros(len(lengths), dtype=bool)
    same = keys[1:] == keys[:-1]
    repeated[(keys[1:][same] >> _DOC_SHIFT).astype(np.int64)] = True
    return repeated.tolist()


def any_repeated_run_window(runs: list[np.ndarray], n: int) -> list[bool]:
    """:func:`any_repeated_window` over separate arrays of code points (or any integers)."""
    tokens = np.concatenate(runs) if runs else np.zeros(0, dtype=np.uint32)
    return any_repeated_window(tokens, [len(run) for run in runs], n)


def token_hashes(tokens: list[str]) -> np.ndarray:
    """Python's own string hashes of ``tokens`` (equal words, equal hashes), as uint64."""
    return np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(_U64)


# Every non-ASCII character str.isspace (so str.split) takes, written out: computing it costs 3 ms a process
# (the word-hash test checks it against every code point).
_WIDE_SPACES = np.array([0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000],
                        dtype=np.uint32)
_WORD_CHUNK = 1 << 18  # characters hashed in one pass; a longer text gets Python's string hashes
_BASE = 0x100000001B3  # odd: invertible modulo 2^64, so a word's hash is the same wherever it starts
_powers_cache: list[np.ndarray] = []  # [B^i, B^-i] for i < its length, mod 2^64, grown as texts need


def _powers(count: int) -> tuple[np.ndarray, np.ndarray]:
    if not _powers_cache or len(_powers_cache[0]) < count:
        size = min(max(count, 2 * len(_powers_cache[0]) if _powers_cache else 1 << 16), _WORD_CHUNK + 1)
        up = np.full(size, _BASE, dtype=_U64)
        down = np.full(size, pow(_BASE, -1, 1 << 64), dtype=_U64)
        up[0] = down[0] = 1
        _powers_cache[:] = [np.cumprod(up, dtype=_U64), np.cumprod(down, dtype=_U64)]  # wraps: mod 2^64
    return _powers_cache[0][:count], _powers_cache[1][:count]


def _mix(hashes: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: the polynomial hash is linear in the code points; the window sums need it not to be."""
    hashes = hashes ^ (hashes >> _U64(30))
    hashes *= _U64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> _U64(27)
    hashes *= _U64(0x94D049BB133111EB)
    return hashes ^ (hashes >> _U64(31))


def _chunk_word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(``len(text.split())`` per text, a hash of every word laid end to end) of texts that fit one chunk."""
    cps = np.frombuffer(" ".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = (cps <= 32) & ((cps >= 28) | ((cps >= 9) & (cps <= 13)))  # ASCII whitespace: \t\n\v\f\r, \x1c-\x1f, " "
    wide = np.flatnonzero(cps >= 0x85)
    if len(wide):
        space[wide] = np.isin(cps[wide], _WIDE_SPACES)
    solid = ~space
    starts = solid.copy()
    starts[1:] &= space[:-1]
    ends = solid
    ends[:-1] &= space[1:]
    first = np.flatnonzero(starts)
    up, down = _powers(len(cps))
    # sum of (cp_i + 1) * B^i up to each position: a word's sum, times B^-start, is its sum over its own j
    prefix = np.zeros(len(cps) + 1, dtype=_U64)
    np.cumsum((cps + _U64(1)) * up, out=prefix[1:])  # + 1: a NUL counts ("a\x00" is not "a")
    hashes = _mix((prefix[np.flatnonzero(ends) + 1] - prefix[first]) * down[first])
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter((len(t) + 1 for t in texts[:-1]), dtype=np.int64, count=len(texts) - 1), out=offsets[1:])
    counts = np.bincount(np.searchsorted(offsets, first, side="right") - 1, minlength=len(texts))
    return counts, hashes


def word_hashes(texts: list[str], min_words: int) -> tuple[list[int], list[int], np.ndarray]:
    """For the texts with at least ``min_words`` whitespace words (``str.split()``): their indices, their word
    counts, and a hash of each of their words laid end to end, as uint64 (equal words of one text, equal hashes:
    all that :func:`any_repeated_window` needs for a certain "no"), without making one Python string per word."""
    where: list[int] = []
    counts: list[int] = []
    parts: list[np.ndarray] = []
    group: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if group:
            found, hashes = _chunk_word_hashes([texts[k] for k in group])
            keep = found >= min_words
            if keep.any():
                where.extend(group[k] for k in np.flatnonzero(keep).tolist())
                counts.extend(found[keep].tolist())
                parts.append(hashes[np.repeat(keep, found)])
        group.clear()
        size = 0

    for k, text in enumerate(texts):
        if len(text) >= _WORD_CHUNK:  # beyond the table of powers: Python's string hashes
            flush()
            tokens = text.split()
            if len(tokens) >= min_words:
                where.append(k)
                counts.append(len(tokens))
                parts.append(token_hashes(tokens))
            continue
        if size + len(text) + 1 > _WORD_CHUNK:
            flush()
        group.append(k)
        size += len(text) + 1
    flush()
    return where, counts, np.concatenate(parts) if parts else np.zeros(0, dtype=_U64)


def first_phrases(texts: list[str], phrases: tuple[str, ...]) -> list[str | None]:
    """For each text, the first of ``phrases`` (in list order) it contains, or None. No phrase may hold
    ``\x00`` (the separator of joined texts: no match may span two texts).

    ASCII texts are joined and scanned with one ``str.find`` per ASCII phrase (one byte per character, which
    ``find`` skips through fast; other phrases cannot occur in them). The others get one Aho-Corasick pass
    each for all phrases when pyahocorasick is installed (~25 ns a character, where a ``find`` per phrase in
    a wide string costs ~2 ns a character per phrase), else the joined ``find`` scan too."""
    found: list[int | None] = [None] * len(texts)
    narrow = [i for i, text in enumerate(texts) if text.isascii()]
    wide = [i for i, text in enumerate(texts) if not text.isascii()]
    first = {}
    for k, phrase in enumerate(phrases):
        first.setdefault(phrase, k)
    scan = literal_scanner(first) if wide and phrases else None
    if scan is not None:
        for i in wide:
            found[i] = min(scan(texts[i]), default=None)
        wide = []
    for group, ascii_only in ((narrow, True), (wide, False)):
        candidates = [(k, p) for p, k in first.items() if p.isascii() or not ascii_only]
        if not group or not candidates:
            continue
        members = [texts[i] for i in group]
        joined = "\x00".join(members)
        starts = [0]
        for text in members[:-1]:
            starts.append(starts[-1] + len(text) + 1)
        bounds = [*starts[1:], len(joined) + 1]
        find = joined.find
        for k, phrase in candidates:  # in list order: a text's first hit is its answer
            at = find(phrase)
            while at >= 0:
                doc = bisect_right(starts, at) - 1
                if found[group[doc]] is None:
                    found[group[doc]] = k
                at = find(phrase, bounds[doc])  # this text is done with this phrase
    return [None if k is None else phrases[k] for k in found]

"""Units and shingles for near-duplicate detection, for every script, computed in numpy.

Peers treat a run of Han characters as one "word", so a Chinese paragraph is one or two units and its
near copies share no shingle (measured-here.md: 0.11-0.66 recall on Chinese near copies). Here a text
is cut into *units*:

- scripts written with spaces (Latin, Cyrillic, Hangul, Arabic, Devanagari, ...): words, i.e. maximal runs
  of letters, digits and combining marks; punctuation, symbols and any amount of whitespace separate them;
- scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Myanmar, Khmer): every character is
  a unit of its own, so ``k`` consecutive characters make a shingle as ``k`` words do in English.

Texts are NFKC-normalised and casefolded first, so width and case variants give the same units.

Speed: the units of a whole batch of texts are found and hashed without a Python loop over tokens. The
batch is joined, turned into an array of code points, each code point is classified through a lookup
table, unit boundaries come from comparing neighbours, a unit's hash is a polynomial over its code points
taken from one prefix sum, and a shingle's hash combines ``k`` unit hashes. 64-bit arithmetic wraps (the
modulus is 2^64); the MurmurHash3 finalizer mixes the results; the top 32 bits are kept.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

SEPARATOR, WORD, CHAR_UNIT = 0, 1, 2

# Scripts written without spaces between words: each character is a unit.
_CHAR_UNIT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana (NFKC maps most of them to full width)
    (0x20000, 0x323AF),  # CJK extensions B-H
)

_U64 = np.uint64
_M64 = 0xFFFFFFFFFFFFFFFF
# Odd multipliers: the polynomial base for a unit's code points and one weight per shingle position.
_BASE = 0x9E3779B97F4A7C15
_BASE_INV = pow(_BASE, -1, 1 << 64)
_POSITION_WEIGHTS = np.array(
    [(0xC2B2AE3D27D4EB4F * (2 * i + 1) + 0x165667B19E3779F9 * i) & _M64 | 1 for i in range(64)], dtype=_U64
)


_IDENTITY_CATEGORIES = frozenset({"Cn", "Co", "Cs"})


_TABLES_FILE = "shingle_tables.npz"  # in curation/data; written by scripts/make_shingle_tables.py


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code point: its NFKC+casefold image when that is one code point (``fold``), whether the text
    needs the full Python normalisation instead (``slow``: expansions such as ligatures and ß, combining
    marks that may compose or reorder), and its class.

    Folding code point by code point equals ``unicodedata.normalize("NFKC", text).casefold()`` whenever no
    slow code point occurs, and is ~10x faster on CJK text (full-width punctuation is not NFKC).

    The tables ship precomputed for the Unicode version of the Python that wrote them (loading costs ~15 ms;
    building them is a Python loop over 1.1M code points, ~0.2-0.5 CPU-s, paid by every worker process).
    Under another Unicode version they are built here, so they always match this ``unicodedata``."""
    shipped = load_shipped_tables()
    if shipped is not None:
        return shipped
    return build_tables()


def load_shipped_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The precomputed tables from the package data, or None (missing, or another Unicode version)."""
    from importlib import resources

    try:
        raw = resources.files("curation.data").joinpath(_TABLES_FILE).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None
    import io

    with np.load(io.BytesIO(raw)) as data:
        if str(data["unidata_version"]) != unicodedata.unidata_version:
            return None
        size = 0x110000
        fold = np.arange(size, dtype=np.uint32)
        fold[data["fold_from"]] = data["fold_to"]
        slow = np.unpackbits(data["slow_bits"], count=size).astype(bool)
        classes = data["classes"].astype(np.uint8)
    for table in (fold, slow, classes):
        table.flags.writeable = False
    return fold, slow, classes


def save_tables(path: str) -> None:
    """Write :func:`build_tables` to ``path`` in the shipped format (scripts/make_shingle_tables.py)."""
    fold, slow, classes = build_tables()
    changed = np.flatnonzero(fold != np.arange(len(fold), dtype=np.uint32)).astype(np.uint32)
    np.savez_compressed(
        path, unidata_version=np.array(unicodedata.unidata_version), fold_from=changed, fold_to=fold[changed],
        slow_bits=np.packbits(slow), classes=classes,
    )


def build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tables` computed from ``unicodedata`` (the reference; slow)."""
    size = 0x110000
    fold = np.arange(size, dtype=np.uint32)
    slow = np.zeros(size, dtype=bool)
    classes = np.zeros(size, dtype=np.uint8)
    category = unicodedata.category
    is_normalized, normalize, combining = unicodedata.is_normalized, unicodedata.normalize, unicodedata.combining
    for cp in range(size):
        c = chr(cp)
        cat = category(c)
        if cat in _IDENTITY_CATEGORIES:
            continue  # unassigned, private use, surrogates: separators that fold to themselves (~85% of cps)
        if c.isalnum() or cat[0] == "M":  # marks keep Indic and Thai words whole
            classes[cp] = WORD
        image = (c if is_normalized("NFKC", c) else normalize("NFKC", c)).casefold()
        if len(image) == 1:
            fold[cp] = ord(image)
        else:
            slow[cp] = True  # expands (ligatures, ß) or vanishes
        if combining(c):
            slow[cp] = True  # NFKC may compose or reorder marks: only the full normalisation is right
    slow[0x1100:0x1200] = True  # conjoining Hangul jamo compose into syllables
    for lo, hi in _CHAR_UNIT_RANGES:
        segment = classes[lo : hi + 1]
        segment[segment == WORD] = CHAR_UNIT
    classes[ord("_")] = SEPARATOR
    classes[0] = SEPARATOR
    for table in (fold, slow, classes):
        table.flags.writeable = False
    return fold, slow, classes


def char_classes() -> np.ndarray:
    """Class of every code point (SEPARATOR, WORD or CHAR_UNIT), indexed by the folded code point."""
    return _tables()[2]


def normalise_for_near(text: str) -> str:
    """NFKC and casefold: what units are cut from (reference implementation of the fast path)."""
    # is_normalized is a quick check, ~40x cheaper than normalize on text that is already NFKC (most text).
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


_SLOW_BIT = np.uint32(1 << 31)
_CLASS_SHIFT = np.uint32(22)
_CODE_MASK = np.uint32((1 << 21) - 1)


@lru_cache(maxsize=1)
def _coded_table() -> np.ndarray:
    """The three tables in one (uint32 per code point): bits 0-20 the folded code point, 22-23 the class of
    the folded code point, 31 ``slow``. One gather per character instead of three (~8 ns each on a busy
    machine: the tables do not fit in cache)."""
    fold, slow, classes = _tables()
    coded = fold | (classes[fold].astype(np.uint32) << _CLASS_SHIFT)
    coded[slow] |= _SLOW_BIT
    coded.flags.writeable = False
    return coded


def _folded_code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """NFKC+casefold of the texts joined by a separator, as code points, and where each text starts.

    A table lookup, except for texts holding a character whose image is not one code point: those go
    through :func:`normalise_for_near` first."""
    coded, starts = _coded_code_points(texts)
    return coded & _CODE_MASK, starts


def _coded_code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_folded_code_points` as :func:`_coded_table` entries (folded code point and its class)."""
    table = _coded_table()
    cps = _code_points("\x00".join(texts))
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    coded = table[cps]
    if len(coded) and coded.max() >= _SLOW_BIT:
        hits = np.flatnonzero(coded >= _SLOW_BIT)
        needs = set(np.searchsorted(np.cumsum(lengths), hits, side="right").tolist())
        texts = [normalise_for_near(t) if i in needs else t for i, t in enumerate(texts)]
        cps = _code_points("\x00".join(texts))
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        coded = table[cps] & ~_SLOW_BIT  # folded once more, as a text without slow code points is
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return coded, starts


def fold_text(text: str) -> str:
    """``normalise_for_near(text)`` (NFKC + casefold), fast: ASCII needs only ``lower``; other text is
    folded through the table unless it holds a slow code point."""
    if text.isascii():
        return text.lower()
    fold, slow, _ = _tables()
    cps = _code_points(text)
    if slow[cps].any():
        return normalise_for_near(text)
    return fold[cps].tobytes().decode("utf-32-le", "surrogatepass")


def fold_texts(texts: Sequence[str]) -> list[str]:
    """``[fold_text(t) for t in texts]``, with one table lookup and one decode for all non-ASCII texts."""
    out = list(texts)
    wide: list[int] = []
    for i, text in enumerate(out):
        if text.isascii():
            out[i] = text.lower()
        else:
            wide.append(i)
    if wide:
        cps, starts = _folded_code_points([out[i] for i in wide])
        joined = cps.tobytes().decode("utf-32-le", "surrogatepass")
        # Text j fills joined[starts[j]:starts[j + 1] - 1] (a separator follows each text), whatever it holds.
        ends = np.append(starts[1:], len(cps) + 1) - 1
        for i, start, end in zip(wide, starts.tolist(), ends.tolist(), strict=True):
            out[i] = joined[start:end]
    return out


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


class _Powers:
    """Cached powers of the polynomial base and of its inverse (mod 2^64), grown on demand."""

    def __init__(self) -> None:
        self.pow = np.ones(1, dtype=_U64)
        self.inv = np.ones(1, dtype=_U64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.pow) < n:
            size = max(n, 2 * len(self.pow), 1 << 16)
            pw = np.full(size, _BASE, dtype=_U64)
            pw[0] = 1
            iv = np.full(size, _BASE_INV, dtype=_U64)
            iv[0] = 1
            self.pow = np.cumprod(pw, dtype=_U64)
            self.inv = np.cumprod(iv, dtype=_U64)
        return self.pow[:n], self.inv[:n]


_POWERS = _Powers()


def _unit_spans(cps: np.ndarray, cls: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of every unit in an array of code points (``cls``: their classes, if known)."""
    if cls is None:
        cls = char_classes()[cps]
    word = cls == WORD
    unit = cls == CHAR_UNIT
    before = np.zeros_like(word)
    before[1:] = word[:-1]
    after = np.zeros_like(word)
    after[:-1] = word[1:]
    starts = np.flatnonzero(unit | (word & ~before))
    ends = np.flatnonzero(unit | (word & ~after)) + 1
    return starts, ends


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: lone surrogates (possible in JSON read by the stdlib) must not crash dedup.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def tokens(text: str) -> list[str]:
    """The units of a text: casefolded words, and single characters for Han, Kana, Thai and the like."""
    cps, _ = _folded_code_points([text])
    norm = cps.tobytes().decode("utf-32-le", "surrogatepass")
    starts, ends = _unit_spans(cps)
    return [norm[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def batch_shingle_hashes(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the ``k``-unit shingles of many texts at once, as (hashes uint32, offsets int64).

    The shingles of text ``i`` are ``hashes[offsets[i]:offsets[i + 1]]`` (not deduplicated: MinHash does
    not need it). A text with fewer than ``k`` units gives one shingle of all its units; a text with no
    unit (only punctuation or emoji) gives none.
    """
    if k < 1 or k > len(_POSITION_WEIGHTS):
        raise ValueError(f"shingle size must be 1..{len(_POSITION_WEIGHTS)}, got {k}")
    n = len(texts)
    offsets = np.zeros(n + 1, dtype=np.int64)
    if n == 0:
        return np.zeros(0, dtype=np.uint32), offsets
    coded, text_starts = _coded_code_points(texts)  # texts are joined by a separator: no unit spans two
    cps = coded & _CODE_MASK
    starts, ends = _unit_spans(cps, (coded >> _CLASS_SHIFT).astype(np.uint8))
    n_units = len(starts)
    if n_units == 0:
        return np.zeros(0, dtype=np.uint32), offsets
    pw, inv = _POWERS.get(len(cps) + 1)
    prefix = np.empty(len(cps) + 1, dtype=_U64)
    prefix[0] = 0
    np.multiply(cps, pw[: len(cps)], out=prefix[1:])  # in place: half the passes of astype, then *, then cumsum
    np.cumsum(prefix[1:], out=prefix[1:])
    unit_hash = _fmix64((prefix[ends] - prefix[starts]) * inv[starts])

    doc = np.searchsorted(text_starts, starts, side="right") - 1
    units_per_doc = np.bincount(doc, minlength=n)
    first_unit = np.zeros(n, dtype=np.int64)
    np.cumsum(units_per_doc[:-1], out=first_unit[1:])

    # shingle j = units j..j+k-1 of the same text; short texts keep one shingle of all their units.
    acc = np.zeros(n_units, dtype=_U64)
    for m in range(k):
        same = np.zeros(n_units, dtype=bool)
        same[: n_units - m] = doc[m:] == doc[: n_units - m]
        term = np.zeros(n_units, dtype=_U64)
        term[: n_units - m] = unit_hash[m:] * _POSITION_WEIGHTS[m]
        acc += np.where(same, term, _U64(0))
    full = np.zeros(n_units, dtype=bool)
    if n_units >= k:
        full[: n_units - k + 1] = doc[k - 1 :] == doc[: n_units - k + 1]
    short_docs = np.flatnonzero((units_per_doc > 0) & (units_per_doc < k))
    full[first_unit[short_docs]] = True
    keep = np.flatnonzero(full)
    hashes = (_fmix64(acc[keep]) >> _U64(32)).astype(np.uint32)
    counts = np.bincount(doc[keep], minlength=n)
    np.cumsum(counts, out=offsets[1:])
    return hashes, offsets


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """The distinct hashed ``k``-unit shingles of one text (sorted uint32)."""
    hashes, _ = batch_shingle_hashes([text], k)
    return np.unique(hashes)

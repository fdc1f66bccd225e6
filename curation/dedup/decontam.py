"""Decontamination: find training records that contain an evaluation (reference) item.

The rule (precision first, since a flagged record is removed):

- A reference item is a canonical record (or a plain string, taken as one question). It is indexed by
  its whole dedup text and by each of its user turns.
- A training record is probed by its whole dedup text and by each of its user turns, because benchmark
  items usually enter training data as one user turn inside a longer chat.
- A probe matches an indexed entry when their exact keys are equal (NFKC, casefold, whitespace collapsed),
  or when their estimated Jaccard over k-unit shingles is >= ``threshold`` (0.8 by default: stricter than
  dedup's 0.7, because removing a record for contamination must be justified).
- Turns and reference texts shorter than ``min_turn_units`` units are matched only exactly *as whole
  texts*, never as turns: "Thank you!" or "Hi" occurs in both training and evaluation data without being
  contamination.

- An evaluation *question* (a reference's user turn, or a string reference) embedded in a longer prompt, or
  with a number changed, is found by containment: the share of the question's distinct ``ngram``-unit
  n-grams that occur anywhere in the training record. At or above ``containment`` (0.3) it is contaminated.
  MetaMath's GSM8K_Backward rows are test questions with a number replaced by x, the question turned round
  and a sentence added: their Jaccard with the question is far below 0.8 (7 of 613 were caught), their
  containment 0.2-0.8 (593 of 613 caught at 0.3). Records of 14 unrelated real datasets (15,000 records)
  hold at most 0.06 of any GSM8K test question. N-grams that many questions share (a benchmark's template)
  count for none of them.

Not caught: an item paraphrased or translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from curation.dedup.config import DecontaminationConfig
from curation.dedup.minhash import is_empty, text_signatures
from curation.dedup.near import recall_bands
from curation.dedup.shingles import batch_shingle_hashes, tokens
from curation.dedup.text import dedup_text, exact_key, user_turn_texts


@dataclass(frozen=True, slots=True)
class Match:
    """Why a record is contaminated: which reference, how similar, exact or near, through which probe."""

    ref_id: str
    similarity: float
    kind: Literal["exact", "near", "contained"]
    probe: Literal["text", "turn"]


# An n-gram in more questions than this (and than this share of them) is template, not item text.
_TEMPLATE_MIN_QUESTIONS, _TEMPLATE_SHARE = 5, 0.005
# A question followed by its lettered options ("\n\nA. 3\nB. 4"), as the multiple-choice reader writes MMLU and
# ARC: a training copy of the question without its options must still be found.
_OPTIONS_BLOCK = re.compile(r"\n\n(?:\(?[A-Z0-9]{1,2}[.):] [^\n]*(?:\n|\Z)){2,}\Z")


def without_options(text: str) -> str | None:
    """The text before a trailing block of lettered options, or None when it ends in none."""
    found = _OPTIONS_BLOCK.search(text)
    return text[: found.start()].strip() or None if found else None

_Bounds = list[tuple[np.ndarray, np.ndarray]]  # per band: (first, end) index positions per signature


def _band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    from curation.dedup.near import _band_hashes

    return np.stack([_band_hashes(signatures[:, b * rows : (b + 1) * rows]) for b in range(bands)], axis=1)


class ReferenceIndex:
    """Exact keys and MinHash signatures of reference items, with a numpy LSH index over them."""

    def __init__(self, config: DecontaminationConfig | None = None) -> None:
        self.config = config or DecontaminationConfig()
        self.bands, self.rows = recall_bands(self.config.threshold, self.config.num_perm)
        self.ref_ids: list[str] = []
        self.exact: dict[bytes, int] = {}  # exact key -> reference number (whole texts and long turns)
        self.entry_ref = np.zeros(0, dtype=np.int64)
        self.signatures = np.zeros((0, self.config.num_perm), dtype=np.uint32)
        self._index_questions([])
        self._band_sorted: list[tuple[np.ndarray, np.ndarray]] = []

    # ---- building ----------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        items: Iterable[dict[str, Any] | str],
        *,
        ids: Sequence[str] | None = None,
        config: DecontaminationConfig | None = None,
    ) -> ReferenceIndex:
        """Index reference items (canonical records or strings); ids default to the record's ``id`` or
        ``ref-<n>``."""
        index = cls(config)
        texts: list[str] = []
        owners: list[int] = []
        items_questions: list[tuple[int, str]] = []  # (reference number, question) for containment
        for n, item in enumerate(items):
            if isinstance(item, str):
                ref_id, whole, turns = f"ref-{n}", item, [item]
            else:
                ref_id, whole, turns = str(item.get("id") or f"ref-{n}"), dedup_text(item), user_turn_texts(item)
                turns = [*turns, *(stem for stem in map(without_options, turns) if stem)]
            if ids is not None:
                ref_id = ids[n]
            number = len(index.ref_ids)
            index.ref_ids.append(ref_id)
            index.exact.setdefault(exact_key(whole), number)
            for text in dict.fromkeys([whole, *turns]):
                if index._long_enough(text):
                    index.exact.setdefault(exact_key(text), number)
                    texts.append(text)
                    owners.append(number)
            items_questions.extend((number, turn) for turn in dict.fromkeys(turns) if index._long_enough(turn))
        index.entry_ref = np.asarray(owners, dtype=np.int64)
        index._index_questions(items_questions)
        index.signatures = index._sign(texts)
        keys = _band_keys(index.signatures, index.bands, index.rows)
        index._band_sorted = []
        for b in range(index.bands):
            order = np.argsort(keys[:, b], kind="stable")
            index._band_sorted.append((keys[order, b], order))
        return index

    def __len__(self) -> int:
        return len(self.ref_ids)

    def _index_questions(self, questions: Sequence[tuple[int, str]]) -> None:
        """Each question's distinct n-gram hashes, sorted, with the question they belong to."""
        self.question_ref = np.asarray([ref for ref, _ in questions], dtype=np.int64)
        self.gram_hash = np.zeros(0, dtype=np.uint32)
        self.gram_question = np.zeros(0, dtype=np.int64)
        self.question_grams = np.zeros(len(questions), dtype=np.int64)
        if not questions or self.config.containment <= 0:
            return
        hashes, offsets = batch_shingle_hashes([q for _, q in questions], self.config.ngram)
        owner = np.repeat(np.arange(len(questions), dtype=np.int64), np.diff(offsets))
        codes = np.unique((owner.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64))
        question, gram = (codes >> np.uint64(32)).astype(np.int64), (codes & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        # An n-gram many questions share is the benchmark's template ("The following are multiple choice
        # questions about"), not an item: a training record quoting the template holds none of the items.
        _, where, shared = np.unique(gram, return_inverse=True, return_counts=True)
        own = shared[where] <= max(_TEMPLATE_MIN_QUESTIONS, int(len(questions) * _TEMPLATE_SHARE))
        question, gram = question[own], gram[own]
        self.question_grams = np.bincount(question, minlength=len(questions))
        order = np.argsort(gram, kind="stable")
        self.gram_hash, self.gram_question = gram[order], question[order]

    def contained(self, texts: Sequence[str]) -> list[tuple[int, float] | None]:
        """Per text, (reference number, containment) of the evaluation question it holds the largest share of,
        when that share reaches ``containment``; None otherwise."""
        out: list[tuple[int, float] | None] = [None] * len(texts)
        if not len(self.gram_hash) or not texts:
            return out
        hashes, offsets = batch_shingle_hashes(texts, self.config.ngram)
        if not len(hashes):
            return out
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(offsets))
        hit = np.isin(hashes, self.gram_hash)
        if not hit.any():
            return out
        codes = np.unique((doc[hit].astype(np.uint64) << np.uint64(32)) | hashes[hit].astype(np.uint64))
        doc_of, gram = (codes >> np.uint64(32)).astype(np.int64), (codes & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        lo = np.searchsorted(self.gram_hash, gram, side="left")
        hi = np.searchsorted(self.gram_hash, gram, side="right")
        width = hi - lo
        pair_doc = np.repeat(doc_of, width)
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(width)[:-1])), width)
        pair_question = self.gram_question[starts + np.arange(len(pair_doc))]
        n_questions = len(self.question_grams)
        pairs, counts = np.unique(pair_doc * n_questions + pair_question, return_counts=True)
        share = counts / self.question_grams[pairs % n_questions]
        for code, value in zip(pairs.tolist(), share.tolist(), strict=True):
            i, question = divmod(code, n_questions)
            best = out[i]
            if value >= self.config.containment and (best is None or value > best[1]):
                out[i] = (int(self.question_ref[question]), float(value))
        return out

    def _long_enough(self, text: str) -> bool:
        return len(tokens(text)) >= self.config.min_turn_units

    def _sign(self, texts: Sequence[str]) -> np.ndarray:
        return text_signatures(
            texts, shingle_size=self.config.shingle_size, num_perm=self.config.num_perm, seed=self.config.seed
        )

    # ---- probing -----------------------------------------------------------------------------------
    def probes(self, record: dict[str, Any] | str) -> tuple[list[str], list[bytes]]:
        """The texts to sign for near matching (whole text and long user turns) and the exact keys to look
        up (whole text always; long user turns), for one training record."""
        if isinstance(record, str):
            return ([record] if self._long_enough(record) else []), [exact_key(record)]
        whole = dedup_text(record)
        near = [whole] if self._long_enough(whole) else []
        keys = [exact_key(whole)]
        for turn in dict.fromkeys(user_turn_texts(record)):
            if self._long_enough(turn):
                near.append(turn)
                keys.append(exact_key(turn))
        return near, keys

    def query(self, exact_keys: Sequence[bytes], signatures: np.ndarray, bounds: _Bounds | None = None
              ) -> Match | None:
        """The best match for one record's probes: any exact key hit first (the whole text's key is the
        first one), else the most similar near match >= threshold; None when clean. ``bounds``: where the
        signatures' band keys fall in each band's sorted index, when the caller looked up a whole batch."""
        for position, key in enumerate(exact_keys):
            ref = self.exact.get(key)
            if ref is not None:
                return Match(self.ref_ids[ref], 1.0, "exact", "text" if position == 0 else "turn")
        if len(signatures) == 0 or len(self.entry_ref) == 0:
            return None
        probe, entry = self._candidates(np.asarray(signatures, dtype=np.uint32), bounds)
        if len(probe) == 0:
            return None
        sims = _cross_similarity(signatures, self.signatures, probe, entry)
        best = int(np.argmax(sims))
        if sims[best] < np.float32(self.config.threshold):
            return None
        return Match(self.ref_ids[int(self.entry_ref[entry[best]])], float(sims[best]), "near",
                     "text" if probe[best] == 0 else "turn")  # fmt: skip

    def query_record(self, record: dict[str, Any] | str) -> Match | None:
        return self.query_records([record])[0]

    def _whole(self, record: dict[str, Any] | str) -> str:
        return record if isinstance(record, str) else dedup_text(record)

    def query_records(self, records: Sequence[dict[str, Any] | str]) -> list[Match | None]:
        """Batch form of :meth:`query_record`: all probes of all records are signed in one go."""
        probes = [self.probes(r) for r in records]
        flat = [t for near, _ in probes for t in near]
        sigs = self._sign(flat) if flat else np.zeros((0, self.config.num_perm), np.uint32)
        bounds = self._bounds(sigs)  # row by row, so a record's slice equals what it would get alone
        out: list[Match | None] = []
        lo = 0
        for near, keys in probes:
            hi = lo + len(near)
            out.append(self.query(keys, sigs[lo:hi], [(start[lo:hi], end[lo:hi]) for start, end in bounds]))
            lo = hi
        unmatched = [i for i, match in enumerate(out) if match is None]
        if unmatched and len(self.gram_hash):
            for i, found in zip(unmatched, self.contained([self._whole(records[i]) for i in unmatched]),
                                strict=True):
                if found is not None:
                    out[i] = Match(self.ref_ids[found[0]], found[1], "contained", "turn")
        return out

    def _bounds(self, signatures: np.ndarray) -> _Bounds:
        """Per band, the range of index entries whose band key equals each signature's."""
        keys = _band_keys(signatures, self.bands, self.rows)
        return [(np.searchsorted(sorted_keys, keys[:, b], side="left"),
                 np.searchsorted(sorted_keys, keys[:, b], side="right"))
                for b, (sorted_keys, _order) in enumerate(self._band_sorted)]  # fmt: skip

    def _candidates(self, signatures: np.ndarray, bounds: _Bounds | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probe, entry) pairs sharing a band; empty signatures never match."""
        if bounds is None:
            bounds = self._bounds(signatures)
        found_p: list[np.ndarray] = []
        found_e: list[np.ndarray] = []
        live = ~is_empty(signatures)
        for (_sorted_keys, order), (lo, hi) in zip(self._band_sorted, bounds, strict=True):
            for p in np.flatnonzero((hi > lo) & live):
                found_e.append(order[lo[p] : hi[p]])
                found_p.append(np.full(hi[p] - lo[p], p, dtype=np.int64))
        if not found_p:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        codes = np.unique(np.concatenate(found_p) * len(self.entry_ref) + np.concatenate(found_e))
        return codes // len(self.entry_ref), codes % len(self.entry_ref)


def _cross_similarity(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    return np.count_nonzero(a[ia] == b[ib], axis=1).astype(np.float32) / np.float32(a.shape[1])

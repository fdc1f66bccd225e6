"""Agreement between reviewers on the records both decided, and the conflicts an admin resolves."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from .store import ReviewStore


@dataclass(frozen=True, slots=True)
class PairAgreement:
    a: str
    b: str
    both: int  # records both reviewers gave a verdict
    agree: int
    percent: float  # 0..100 (0 when both is 0)
    kappa: float | None  # Cohen's kappa; None when undefined (no overlap, or chance agreement is 1)


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items."""
    n = len(pairs)
    if not n:
        return None
    labels = sorted({x for p in pairs for x in p})
    observed = sum(a == b for a, b in pairs) / n
    expected = sum((sum(a == k for a, _ in pairs) / n) * (sum(b == k for _, b in pairs) / n) for k in labels)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(verdicts: dict[str, dict[str, str]]) -> list[PairAgreement]:
    """Per reviewer pair (sorted by name), over the records both decided."""
    reviewers = sorted({r for by in verdicts.values() for r in by})
    out = []
    for a, b in combinations(reviewers, 2):
        pairs = [(by[a], by[b]) for by in verdicts.values() if a in by and b in by]
        agree = sum(x == y for x, y in pairs)
        out.append(PairAgreement(a, b, len(pairs), agree, round(100.0 * agree / len(pairs), 1) if pairs else 0.0,
                                 cohen_kappa(pairs)))  # fmt: skip
    return out


def conflicts(store: ReviewStore, *, include_resolved: bool = False) -> list[tuple[str, dict[str, str], str | None]]:
    """(record id, {reviewer: verdict}, resolution) for each record whose reviewers disagree."""
    resolved = store.resolutions()
    out = []
    for rid, by in sorted(store.reviewer_verdicts().items()):
        if len(set(by.values())) > 1 and (include_resolved or rid not in resolved):
            out.append((rid, by, resolved.get(rid)))
    return out


__all__ = ["PairAgreement", "agreement", "cohen_kappa", "conflicts"]

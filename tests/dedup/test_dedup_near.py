from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from curation.dedup.config import NearDedupConfig
from curation.dedup.minhash import text_signatures
from curation.dedup.near import (
    candidate_probability,
    connected_components,
    exact_duplicates,
    find_clusters,
    recall_bands,
)
from curation.dedup.text import dedup_text, exact_key
from curation.synthetic import make_corpus

CFG = NearDedupConfig()


def _dedup(records: list[dict[str, Any]], keep: str = "first", **kw: Any) -> tuple[np.ndarray, Any]:
    texts = [dedup_text(r) for r in records]
    exact = exact_duplicates([exact_key(t) for t in texts])
    sigs = text_signatures(texts, shingle_size=CFG.shingle_size, num_perm=CFG.num_perm, seed=CFG.seed)
    bands, rows = CFG.lsh_params()
    near = find_clusters(sigs, threshold=CFG.threshold, bands=bands, rows=rows, keep=keep, active=exact < 0, **kw)
    return exact, near


@pytest.fixture(scope="module")
def corpus(sentence_pool: dict[str, list[str]]) -> tuple[list[dict[str, Any]], dict[str, Any], np.ndarray, Any]:
    pool = sentence_pool
    # more copies than the default so every (kind, language) group has enough members to measure
    records, truth = make_corpus(4000, pool, seed=11, exact_rate=0.05, variant_rate=0.05, near_rate=0.2)
    exact, near = _dedup(records)
    return records, truth, exact, near


def test_synthetic_corpus_recall_and_false_drops(corpus: Any) -> None:
    records, truth, exact, near = corpus
    copies = {int(i): tuple(v) for i, v in truth["copies"].items()}
    caught: dict[str, list[bool]] = {}
    for i, (original, kind) in copies.items():
        hit = bool(exact[i] >= 0 or (near.duplicate_of[i] >= 0 and near.cluster[i] == near.cluster[original]))
        group = f"near-{truth['language'][i]}" if kind == "near" else kind
        caught.setdefault(group, []).append(hit)
    rate = {group: float(np.mean(hits)) for group, hits in caught.items()}
    assert rate["exact"] == 1.0 and rate["variant"] == 1.0, rate
    assert len(caught["near-en"]) > 300 and len(caught["near-zh"]) > 80
    assert rate["near-en"] >= 0.95 and rate["near-zh"] >= 0.95, rate
    distinct = [i for i in range(len(records)) if i not in copies]
    dropped = [i for i in distinct if exact[i] >= 0 or near.duplicate_of[i] >= 0]
    assert len(dropped) / len(distinct) < 0.005, dropped
    # every dropped near copy says which record survives and how similar it is
    dups = np.flatnonzero(near.duplicate_of >= 0)
    assert np.all(near.duplicate_of[near.duplicate_of[dups]] < 0)
    assert np.all(near.similarity[dups] > 0.3) and np.all(np.isnan(near.similarity[near.survivor]))


def test_deterministic(corpus: Any) -> None:
    records, _, exact, near = corpus
    exact2, near2 = _dedup(records[:])
    assert np.array_equal(exact, exact2)
    for field in ("cluster", "duplicate_of"):
        assert np.array_equal(getattr(near, field), getattr(near2, field))


def _tiny_signatures() -> np.ndarray:
    base = "the committee agreed to publish the annual report on renewable energy investments next spring"
    texts = [
        base,
        base + " with tables",  # longer near copy
        base.replace("annual", "yearly"),
        "a completely different conversation about cooking pasta with garlic olive oil and fresh basil leaves",
    ]
    return text_signatures(texts, shingle_size=3, num_perm=128, seed=1)


def test_keep_policies_choose_the_survivor() -> None:
    sigs = _tiny_signatures()
    lengths = np.array([10, 30, 12, 5])
    first = find_clusters(sigs, threshold=0.5, keep="first")
    assert first.duplicate_of.tolist() == [-1, 0, 0, -1]
    assert first.cluster.tolist() == [0, 0, 0, -1]
    longest = find_clusters(sigs, threshold=0.5, keep="longest", lengths=lengths)
    assert longest.duplicate_of.tolist() == [1, -1, 1, -1]
    quality = find_clusters(sigs, threshold=0.5, keep="quality", quality=np.array([0.2, 0.1, 0.9, 1.0]))
    assert quality.duplicate_of.tolist() == [2, 2, -1, -1]
    assert 0.5 <= quality.similarity[0] < 1.0
    with pytest.raises(ValueError, match="needs lengths"):
        find_clusters(sigs, threshold=0.5, keep="longest")


def test_inactive_and_empty_records_never_cluster() -> None:
    sigs = _tiny_signatures()
    result = find_clusters(sigs, threshold=0.5, active=np.array([True, False, False, True]))
    assert result.duplicate_of.tolist() == [-1, -1, -1, -1]
    empty = text_signatures(["!!!", "???", "..."], shingle_size=3)
    assert find_clusters(empty, threshold=0.5).n_duplicates == 0


def test_candidates_are_verified() -> None:
    sigs = _tiny_signatures()
    # one band of one row proposes nearly every pair; verification must keep the distinct text apart
    loose = find_clusters(sigs, threshold=0.7, bands=128, rows=1)
    assert loose.candidate_pairs >= 3 and loose.duplicate_of[3] == -1


def test_recall_bands_propose_pairs_at_the_threshold() -> None:
    bands, rows = recall_bands(0.7, 128)
    assert (bands, rows) == (25, 5)
    assert candidate_probability(0.7, bands, rows) >= 0.98 and candidate_probability(0.3, bands, rows) < 0.1


def test_exact_duplicates_policies() -> None:
    keys = [exact_key(t) for t in ("a b", "A  B", "c", "a b ", "c")]
    assert exact_duplicates(keys).tolist() == [-1, 0, -1, 0, 2]
    assert exact_duplicates(keys, "longest", lengths=np.array([3, 4, 1, 4, 1])).tolist() == [1, -1, -1, 1, 2]
    assert exact_duplicates(np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(5, 16)).tolist() == [
        -1, 0, -1, 0, 2,
    ]  # fmt: skip


def test_connected_components_chain() -> None:
    labels = connected_components(6, np.array([[4, 5], [3, 4], [0, 1]]))
    assert labels.tolist() == [0, 0, 2, 3, 3, 3]


def test_centre_clustering_does_not_chain() -> None:
    # A~B and B~C, but A and C are not similar: C must survive (components would drop it with A).
    from curation.dedup.near import centre_clusters

    edges = np.array([[0, 1], [1, 2]])
    sims = np.array([0.8, 0.75], dtype=np.float32)
    centre, sim = centre_clusters(3, edges, sims, np.arange(3))
    assert centre.tolist() == [0, 0, -1] and sim[1] == np.float32(0.8) and np.isnan(sim[2])
    # best-first order decides the centre: B first claims both A and C
    centre, sim = centre_clusters(3, edges, sims, np.array([1, 0, 2]))
    assert centre.tolist() == [1, 1, 1] and sim.tolist()[0] == pytest.approx(0.8)


def test_every_near_drop_is_similar_to_its_survivor(corpus: Any) -> None:
    _records, _truth, _exact, near = corpus
    dups = np.flatnonzero(near.duplicate_of >= 0)
    assert len(dups) > 300
    assert np.all(near.similarity[dups] >= np.float32(CFG.threshold))
    # the reported similarity is the survivor's, recomputed from the signatures
    assert np.all(near.duplicate_of[near.duplicate_of[dups]] < 0)

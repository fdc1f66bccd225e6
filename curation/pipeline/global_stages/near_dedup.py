"""Near dedup as a global stage: MinHash LSH candidates, verified, greedy centre clusters (no chains).

Every record it drops names a survivor it is itself similar to at or above the threshold (see
``curation.dedup.near.centre_clusters``); the similarity in rejects.jsonl is to that survivor.
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

import numpy as np

from curation.dedup.config import NearDedupConfig
from curation.dedup.near import find_clusters
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable

REPORTED_CLUSTERS = 10


class NearDedupStage(GlobalStage):
    name: ClassVar[str] = "near_dedup"

    def __init__(self, config: NearDedupConfig) -> None:
        self.config = config

    def decide(self, table: KeyTable) -> Decision:
        n = len(table)
        if n == 0 or table.signatures is None:
            return Decision()
        bands, rows = self.config.lsh_params()
        result = find_clusters(
            table.signatures, threshold=self.config.threshold, bands=bands, rows=rows, keep=self.config.keep,
            lengths=table.lengths, quality=table.quality, active=table.alive,
        )
        drops = {}
        for idx in np.flatnonzero(result.duplicate_of >= 0).tolist():
            sim = float(result.similarity[idx])
            drops[idx] = GlobalDrop("near_duplicate", f"near duplicate (similarity {sim:.2f} to the kept record)",
                                    int(result.duplicate_of[idx]), sim)
        members: dict[int, list[int]] = defaultdict(list)
        for idx in np.flatnonzero(result.cluster >= 0).tolist():
            members[int(result.cluster[idx])].append(idx)
        largest = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:REPORTED_CLUSTERS]
        clusters = []
        for cid, idxs in largest:
            keep = next((i for i in idxs if result.duplicate_of[i] < 0), idxs[0])
            sims = [float(result.similarity[i]) for i in idxs if i != keep]
            clusters.append({"id": cid, "size": len(idxs), "keep": keep, "members": idxs[:20],
                             "min_similarity": round(min(sims), 4) if sims else None})
        return Decision(drops=drops, cluster=result.cluster, clusters=clusters)

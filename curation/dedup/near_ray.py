"""Near dedup's heavy steps as Ray tasks: LSH band keys and buckets per group of bands, candidate verification
per chunk of pairs, spread over the cluster; the greedy centre clustering stays on the driver (sequential,
a few bytes per record).

The signatures go into the object store once, in row chunks (read from the memmap's file by tasks on the
driver's node, or put from an in-memory matrix): tasks on any node read their rows from there (no shared
file system needed) and the driver never holds more than one chunk. Every step is the local one
(``curation.dedup.near``) on the same rows, and results are merged in a fixed order, so the clusters are
identical to a local run. Used by ``NearDedupStage`` when a Ray session is up (``runner.executor: ray``
keeps it through phase 2) and the table is large enough.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curation.dedup import near


class ChunkRefs:
    """Row access (``block``, ``take``, like ``near.SignatureRows``) to signatures stored as Ray object refs,
    one per chunk of ``chunk_rows`` rows. Picklable: the refs travel, the rows are fetched where read."""

    def __init__(self, refs: list[Any], n: int, num_perm: int, chunk_rows: int) -> None:
        self.refs, self.n, self.num_perm, self.chunk_rows = refs, n, num_perm, chunk_rows

    @classmethod
    def put(cls, reader: near.SignatureRows, chunk_rows: int) -> ChunkRefs:
        """Store the rows in chunks. A file (a memmap) is read by tasks pinned to this node, so the chunks are
        written into the object store by them and never pass through the driver's memory (pages the driver
        writes there would count in its RSS); an in-memory matrix is put from here."""
        import ray

        starts = range(0, reader.n, chunk_rows)
        if reader.path is not None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
            read = ray.remote(num_cpus=1)(_read_chunk).options(scheduling_strategy=here)
            refs = [read.remote(reader, a, min(a + chunk_rows, reader.n)) for a in starts]
        else:
            refs = [ray.put(np.ascontiguousarray(reader.block(a, min(a + chunk_rows, reader.n)))) for a in starts]
        return cls(refs, reader.n, reader.num_perm, chunk_rows)

    def buffer(self, rows: int) -> None:
        return None

    def block(self, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        import ray

        c, offset = divmod(a, self.chunk_rows)
        if offset + (b - a) > self.chunk_rows:
            raise ValueError("blocks must lie inside one stored chunk")
        return ray.get(self.refs[c])[offset : offset + b - a]

    def take(self, rows: np.ndarray) -> np.ndarray:
        import ray

        out = np.empty((len(rows), self.num_perm), dtype=np.uint32)
        chunk = rows // self.chunk_rows
        bounds = np.flatnonzero(np.r_[True, np.diff(chunk) != 0, True])  # rows ascending: chunk runs
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            c = int(chunk[lo])
            out[lo:hi] = ray.get(self.refs[c])[rows[lo:hi] - c * self.chunk_rows]
        return out


def _read_chunk(reader: near.SignatureRows, a: int, b: int) -> np.ndarray:
    return reader.block(a, b)


def _band_codes(rows: ChunkRefs, index: np.ndarray, bands: list[int], band_rows: int) -> np.ndarray:
    return near.codes_for_bands(rows, index, bands, band_rows, rows.chunk_rows)


def _similarity(rows: ChunkRefs, codes: np.ndarray, chunk_pairs: int) -> np.ndarray:
    return near.code_similarity(rows, codes, chunk_pairs)


def find_clusters_on_ray(signatures: np.ndarray, *, threshold: float, bands: int, rows: int,
                         keep: near.KeepPolicy = "first", lengths: np.ndarray | None = None,
                         quality: np.ndarray | None = None, active: np.ndarray | None = None,
                         verify_tasks: int | None = None, guard: np.ndarray | None = None) -> near.ClusterResult:
    """``near.find_clusters`` with candidate generation (one task per group of ``near.BANDS_PER_PASS`` bands)
    and verification (``verify_tasks`` chunks of pairs; default two per CPU of the cluster) as Ray tasks."""
    import ray

    reader = near.SignatureRows(signatures)
    n, num_perm = reader.n, reader.num_perm
    if bands * rows > num_perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
    chunk_rows = near.CHUNK_ROWS
    index = near.active_rows(reader, active)
    stored = ChunkRefs.put(reader, chunk_rows)
    index_ref = ray.put(index)
    band_task = ray.remote(num_cpus=1)(_band_codes)
    parts = [band_task.remote(stored, index_ref, group, rows) for group in near.band_groups(bands)]
    codes = near.distinct(ray.get(parts))  # in band-group order: the same codes whatever finished first
    del parts, index_ref
    tasks = verify_tasks or max(1, 2 * int(ray.cluster_resources().get("CPU", 1)))
    step = max(near.PAIR_CHUNK, -(-len(codes) // tasks))
    sim_task = ray.remote(num_cpus=1)(_similarity)
    pending = [sim_task.remote(stored, codes[lo : lo + step], near.PAIR_CHUNK) for lo in range(0, len(codes), step)]
    sims = np.concatenate(ray.get(pending)) if pending else np.zeros(0, dtype=np.float32)
    del pending, stored
    return near.cluster_verified(n, codes, sims, threshold, keep=keep, lengths=lengths, quality=quality,
                                 guard=guard)

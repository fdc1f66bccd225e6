"""Semantic dedup as a global stage: near-paraphrases found with static embeddings (model2vec), off by default.

Workers embed each kept record's compared text (the text near dedup compares: user and assistant turns) with
a model2vec ``StaticModel`` loaded from a folder the user gives (nothing downloads); the main process then
keeps, in the keep-policy order, each record whose cosine similarity to every record kept before it is under
the threshold, and drops the others as ``semantic_duplicate`` of the kept record they are most similar to.
Like near dedup's centre clusters this never chains: every dropped record is itself similar to its survivor.

Enable it with a model folder, e.g. ``minishlab/potion-base-8M`` fetched once with
``huggingface-cli download minishlab/potion-base-8M --local-dir models/potion-base-8M``::

    semantic_dedup: {enabled: true, model: models/potion-base-8M, threshold: 0.95}

Cost: the comparison is exact (blocks of survivors x candidates), O(kept x survivors); fine to ~10^5 records
per run on one machine. Past that, an approximate index (semhash, vicinity) is the next step (docs/SCALE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from curation.dedup.config import SemanticDedupConfig
from curation.dedup.near import priority_order
from curation.errors import ConfigError, MissingExtraError
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable

if TYPE_CHECKING:
    from curation.config import RunConfig

_BLOCK = 1024


class SemanticDedupStage(GlobalStage):
    name: ClassVar[str] = "semantic_dedup"
    needs_keys: ClassVar[bool] = True

    def __init__(self, config: SemanticDedupConfig) -> None:
        self.config = config
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:  # workers load their own model
        return {"config": self.config, "_model": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.config, self._model = state["config"], None

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            from model2vec import StaticModel
        except ImportError:
            raise MissingExtraError("model2vec", "semantic") from None
        folder = Path(self.config.model or "")
        if not self.config.model or not (folder / "config.json").is_file():
            raise ConfigError(f"no model2vec model in {str(folder)!r}", where="semantic_dedup.model",
                              hint="download one first (huggingface-cli download minishlab/potion-base-8M "
                                   "--local-dir models/potion-base-8M) and set semantic_dedup.model to its folder")
        self._model = StaticModel.from_pretrained(str(folder), force_download=False)

    def keys(self, records: list[dict[str, Any]]) -> np.ndarray:
        from curation.dedup.text import near_text

        self.load()
        if not records:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        texts = [near_text(r)[: self.config.max_chars] for r in records]
        vectors = np.asarray(self._model.encode(texts, use_multiprocessing=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def decide(self, table: KeyTable) -> Decision:
        vectors = table.extra.get(self.name)
        rows = np.flatnonzero(table.alive)
        if vectors is None or len(rows) == 0:
            return Decision()
        order = rows[priority_order(len(rows), self.config.keep, lengths=table.lengths[rows],
                                    quality=table.quality[rows])]
        survivors: list[int] = []
        kept = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        drops: dict[int, GlobalDrop] = {}
        for start in range(0, len(order), _BLOCK):
            block = order[start:start + _BLOCK]
            against_kept = vectors[block] @ kept.T if len(survivors) else np.zeros((len(block), 0), np.float32)
            within = vectors[block] @ vectors[block].T
            block_kept: list[int] = []  # positions in block kept so far
            for pos, row in enumerate(block.tolist()):
                best, best_row = -1.0, -1
                if against_kept.shape[1]:
                    j = int(np.argmax(against_kept[pos]))
                    best, best_row = float(against_kept[pos, j]), survivors[j]
                if block_kept:
                    sims = within[pos, block_kept]
                    j = int(np.argmax(sims))
                    if float(sims[j]) > best:
                        best, best_row = float(sims[j]), int(block[block_kept[j]])
                if best >= self.config.threshold:
                    drops[row] = GlobalDrop("semantic_duplicate",
                                            f"paraphrase (cosine {best:.2f}) of the kept record", best_row, best)
                else:
                    block_kept.append(pos)
            survivors.extend(int(block[p]) for p in block_kept)
            kept = vectors[survivors]
        return Decision(drops=drops)


def build(config: RunConfig) -> SemanticDedupStage | None:
    settings = config.semantic_dedup  # type: ignore[attr-defined] - added from the registry
    return SemanticDedupStage(settings) if settings.enabled else None

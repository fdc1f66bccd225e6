"""Dedup and decontamination settings, plugged into the run config by the pipeline.

Defaults were chosen by measurement on the synthetic corpus (``curation.synthetic``, 20,000 conversations
from the shared sentence pool, planted exact / whitespace-case / near copies; scripts/bench_dedup.py):

- ``shingle_size=3``: with units that are words, or single characters for Chinese and Japanese, near copies
  (1-3 units edited) keep a true Jaccard >= 0.7 for 99.4% (English) and 100% (Chinese) of them at k=3,
  against 95.8% / 100% at k=5, while distinct conversations that share a system prompt stay below 0.68
  for every k from 2 to 5. k=2 scores the same on this corpus but character bigrams are common Chinese
  words, so unrelated Chinese texts would share far more shingles.
- ``threshold=0.7``: the most similar pair of *distinct* conversations measured 0.68; at 0.65 twelve
  distinct conversations (0.07%) were dropped, at 0.7 one, while near-copy recall fell by under 1 point.
- ``num_perm=128``: 112 lost 1.8 points of English near-copy recall to estimator noise (the standard error
  at J=0.7 is 0.040 with 128 slots); 128 x uint32 keeps 1M signatures at 512 MB.
- ``bands``/``rows`` left empty: :func:`curation.dedup.near.recall_bands` picks them (25 x 5 at 0.7/128)
  so that a pair at the threshold is proposed 99% of the time; verification removes the false candidates.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

KeepPolicy = Literal["longest", "quality", "first"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ExactDedupConfig(_Config):
    """Exact duplicates after NFKC, casefolding and whitespace collapsing (``curation.dedup.text``)."""

    enabled: bool = True
    keep: KeepPolicy = Field("first", description="which copy survives: longest text, best quality, first seen")


class PrefixDedupConfig(_Config):
    """Conversations that are the opening turns of a longer one (``curation.pipeline.global_stages.prefix_dedup``)."""

    enabled: bool = Field(True, description="drop a conversation whose turns, up to its last reply, open a longer "
                          "kept one with the same system prompt and tools (a chat logged after every turn, "
                          "ToolBench's steps): the longer one trains every reply the shorter has")


class NearDedupConfig(_Config):
    """Near duplicates: MinHash over k-unit shingles, LSH candidates verified by estimated Jaccard."""

    enabled: bool = True
    shingle_size: int = Field(3, ge=1, le=64, description="units per shingle (words; characters for CJK/Thai)")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (4 bytes each per record)")
    threshold: float = Field(0.7, gt=0.0, le=1.0, description="estimated Jaccard at or above which two match")
    bands: int | None = Field(None, ge=1, description="LSH bands; empty: chosen from threshold for recall")
    rows: int | None = Field(None, ge=1, description="rows per band; set together with bands")
    keep: KeepPolicy = "first"
    seed: int = Field(1, ge=0, le=2**32 - 1, description="MinHash permutation seed (datasketch's default is 1)")
    shared_line_df: float = Field(
        0.2, ge=0.0, le=1.0, description="lines found in at least this share of a file's records (templated "
        "preambles, canned replies) are left out of the comparison (curation.dedup.boilerplate); 0 keeps them")
    shared_line_sample: int = Field(2000, ge=10, description="records read per file to find shared lines")
    same_numbers: bool = Field(
        True, description="two records are near duplicates only if their user turns hold the same numbers: "
        "'Compute sin 135°' and 'Compute tan 45°' under one figure are two problems, and so are '\\sin 30^\\circ' "
        "and '\\cos 30^\\circ' (the LaTeX functions count too; curation.dedup.near)")
    same_pair_answers: bool = Field(
        True, description="two preference pairs are near duplicates only if their chosen and rejected answers are "
        "the same (whitespace and case aside): pairs ranking other answers to one long question teach other "
        "preferences, though the shared question makes them look alike")

    @model_validator(mode="after")
    def _bands_fit(self) -> Self:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither (then they are chosen from the threshold)")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def lsh_params(self) -> tuple[int, int]:
        from curation.dedup.near import recall_bands

        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return recall_bands(self.threshold, self.num_perm)


class DecontaminationConfig(_Config):
    """Drop training records that contain evaluation items (see ``curation.dedup.decontam``)."""

    enabled: bool = True
    paths: list[str] = Field(default_factory=list, description="evaluation/reference files, any input format")
    threshold: float = Field(0.8, gt=0.0, le=1.0, description="near match: estimated Jaccard at or above")
    shingle_size: int = Field(3, ge=1, le=64)
    num_perm: int = Field(128, ge=16, le=1024)
    seed: int = Field(1, ge=0, le=2**32 - 1)
    min_turn_units: int = Field(8, ge=1, description="user turns shorter than this are not matched on their own")
    containment: float = Field(
        0.3, ge=0.0, le=1.0,
        description="a record holding this share of an evaluation question's n-grams (`ngram` units in a row) is "
                    "contaminated even inside a longer prompt (MetaMath's rewritten GSM8K questions); 0 turns it off")
    ngram: int = Field(8, ge=2, le=32, description="units (words, or Han/Kana characters) per n-gram of containment")


class SemanticDedupConfig(BaseModel):
    """Semantic dedup: drop near-paraphrases by static-embedding cosine similarity (needs curation[semantic])."""

    model_config = ConfigDict(extra="forbid", defer_build=True, validate_assignment=True)

    enabled: bool = Field(default=False, description="Off by default; needs `model`.")
    model: str | None = Field(default=None, description="Folder of a model2vec StaticModel (save_pretrained layout).")
    threshold: float = Field(default=0.95, gt=0, le=1, description="Cosine similarity at or above which a record "
                             "is a paraphrase of a kept one.")
    keep: KeepPolicy = Field(default="first", description="Which copy survives.")
    max_chars: int = Field(default=4000, gt=0, description="Characters of each record's text that are embedded.")

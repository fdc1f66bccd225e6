"""Deduplication and decontamination: exact keys, CJK-aware shingles, batched MinHash, verified LSH."""

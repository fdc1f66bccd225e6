"""Compact columns for the main process: a few bytes per record instead of Python objects.

The runner keeps one row per kept record (and one id per input record) for the whole run, so at 10M
records every Python object per row costs gigabytes. These containers hold numpy arrays grown in chunks,
strings as one bytes blob plus offsets, small vocabularies (language, source, stratum) as codes into a
name table, and the set of ids already used as 64-bit hashes with an exact check on a hash hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import xxhash


class GrowArray:
    """A 1-d (or fixed-width 2-d) numpy column appended to in chunks; ``view()`` is the filled part."""

    def __init__(self, dtype: Any, width: int | None = None, capacity: int = 1024) -> None:
        shape = (capacity,) if width is None else (capacity, width)
        self._data = np.zeros(shape, dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, values: Any) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self._n + len(values)
        if need > len(self._data):
            grown = np.zeros((max(need, int(len(self._data) * 1.5) + 1024), *self._data.shape[1:]),
                             dtype=self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : need] = values
        self._n = need

    def view(self) -> np.ndarray:
        return self._data[: self._n]

    def freeze(self) -> np.ndarray:
        """The filled part as its own array (the spare capacity is given back)."""
        self._data = self._data[: self._n].copy()
        return self._data


class Codes:
    """A column of short strings from a small vocabulary: uint16 codes and the name table."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}
        self.codes = GrowArray(np.uint16)

    def code(self, name: str) -> int:
        code = self._code.get(name)
        if code is None:
            code = self._code[name] = len(self.names)
            self.names.append(name)
        return code

    def extend(self, names: Iterable[str]) -> None:
        self.codes.extend([self.code(n) for n in names])

    def __len__(self) -> int:
        return len(self.codes)


class CodedStrings(Sequence[str]):
    """A read-only ``Sequence[str]`` over codes and their names (the key table's strata)."""

    def __init__(self, codes: np.ndarray, names: list[str]) -> None:
        self._codes, self._names = codes, names

    def __len__(self) -> int:
        return len(self._codes)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._names[c] for c in self._codes[i].tolist()]
        return self._names[int(self._codes[i])]


class StringStore(Sequence[str]):
    """Strings as one UTF-8 blob plus int64 offsets (ids: ~20 bytes each instead of ~70 as Python strings)."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = GrowArray(np.int64)

    def append_many(self, values: Iterable[str]) -> None:
        ends = []
        blob = self._blob
        for value in values:
            blob += value.encode("utf-8", "surrogatepass")
            ends.append(len(blob))
        self._ends.extend(ends)

    def __len__(self) -> int:
        return len(self._ends)

    def _get(self, i: int) -> str:
        ends = self._ends.view()
        start = int(ends[i - 1]) if i > 0 else 0
        return self._blob[start : int(ends[i])].decode("utf-8", "surrogatepass")

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._get(i)

    def __iter__(self) -> Iterator[str]:
        return (self._get(j) for j in range(len(self)))


class RowView(Sequence[str]):
    """The strings of some rows of a store, in row order (the key table's ids: kept records only)."""

    def __init__(self, store: StringStore, rows: np.ndarray) -> None:
        self._store, self._rows = store, rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._store[int(r)] for r in self._rows[i]]
        return self._store[int(self._rows[i])]


class GroupKeys(Sequence[tuple[int, ...]]):
    """Per row the split group keys as a tuple of ints, stored as an (n, k) uint64 array (0: no key)."""

    def __init__(self, keys: np.ndarray) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, i: int) -> tuple[int, ...]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[int, ...]]: ...
    def __getitem__(self, i: int | slice) -> tuple[int, ...] | list[tuple[int, ...]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return tuple(k for k in self._keys[i].tolist() if k)


def group_matrix(groups: Sequence[tuple[int, ...]], width: int) -> np.ndarray:
    """Rows of group keys (tuples of nonzero ints, at most ``width`` each) as an (n, width) uint64 array."""
    out = np.zeros((len(groups), width), dtype=np.uint64)
    for i, keys in enumerate(groups):
        if keys:
            out[i, : len(keys)] = keys
    return out


def _hash(value: str) -> int:
    return xxhash.xxh64_intdigest(value.encode("utf-8", "surrogatepass"))


class UniqueIds:
    """Gives every record a unique id in reading order: the first use of an id keeps it, later ones get
    ``~2``, ``~3``... Holds all ids given (``store``) and their 64-bit hashes in sorted runs (16 bytes per id);
    a hash hit is checked against the stored strings, so a hash collision never renames a record."""

    def __init__(self) -> None:
        self.store = StringStore()
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, positions in store)
        self._pending: dict[int, list[int]] = {}  # this batch's ids: hash -> positions

    def _seen(self, value: str, h: int, maybe_old: bool) -> bool:
        for pos in self._pending.get(h, ()):
            if self.store[pos] == value:
                return True
        if maybe_old:
            for hashes, positions in self._runs:
                key = np.uint64(h)
                lo, hi = int(np.searchsorted(hashes, key, "left")), int(np.searchsorted(hashes, key, "right"))
                for pos in positions[lo:hi].tolist():
                    if self.store[pos] == value:
                        return True
        return False

    def _add(self, value: str, h: int) -> None:
        self._pending.setdefault(h, []).append(len(self.store))
        self.store.append_many((value,))

    def assign(self, bases: Sequence[str]) -> list[str]:
        """The unique id of each base id, in order (a batch: hashes are looked up in one vectorised pass)."""
        hashes = [_hash(b) for b in bases]
        maybe = np.zeros(len(bases), dtype=bool)
        if self._runs and bases:
            wanted = np.asarray(hashes, dtype=np.uint64)
            for run, _pos in self._runs:
                at = np.minimum(np.searchsorted(run, wanted), len(run) - 1)
                maybe |= run[at] == wanted
        out: list[str] = []
        maybe_list = maybe.tolist()
        for base, h, old in zip(bases, hashes, maybe_list, strict=True):
            if not old and h not in self._pending:  # the common case: an id never seen
                self._pending[h] = [len(self.store)]
                self.store.append_many((base,))
                out.append(base)
                continue
            uid, uh = base, h
            n = 2
            while self._seen(uid, uh, old or self._maybe_old(uh)):
                uid = f"{base}~{n}"
                uh = _hash(uid)
                old = False
                n += 1
            self._add(uid, uh)
            out.append(uid)
        self._flush()
        return out

    def _maybe_old(self, h: int) -> bool:
        key = np.uint64(h)
        for run, _pos in self._runs:
            at = min(int(np.searchsorted(run, key)), len(run) - 1)
            if int(run[at]) == h:
                return True
        return False

    def _flush(self) -> None:
        if not self._pending:
            return
        items = [(h, p) for h, ps in self._pending.items() for p in ps]
        self._pending = {}
        hashes = np.fromiter((h for h, _ in items), dtype=np.uint64, count=len(items))
        positions = np.fromiter((p for _, p in items), dtype=np.int64, count=len(items))
        order = np.argsort(hashes, kind="stable")
        self._runs.append((hashes[order], positions[order]))
        # Merge runs of similar size (a log-structured merge): lookups stay O(log n) runs, merging O(n log n).
        while len(self._runs) >= 2 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (h1, p1), (h2, p2) = self._runs[-2], self._runs[-1]
            hashes, positions = np.concatenate([h1, h2]), np.concatenate([p1, p2])
            order = np.argsort(hashes, kind="stable")
            self._runs[-2:] = [(hashes[order], positions[order])]


__all__ = ["CodedStrings", "Codes", "GroupKeys", "GrowArray", "RowView", "StringStore", "UniqueIds",
           "group_matrix"]

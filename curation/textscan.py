"""One scan of a text for many literal strings, with Aho-Corasick when pyahocorasick (the ``fast`` extra) is
installed: a substring test per literal is the cost that dominates phrase and trigger checks on ordinary text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

V = TypeVar("V")


def literal_scanner(words: dict[str, V]) -> Callable[[str], Iterator[V]] | None:
    """``text -> values of every word found`` (overlapping matches included, in text order), or None without
    pyahocorasick, in which case callers keep their plain loop over the words."""
    try:
        import ahocorasick  # noqa: PLC0415 - optional accelerator
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for word, value in words.items():
        automaton.add_word(word, value)
    automaton.make_automaton()
    scan = automaton.iter

    def found(text: str) -> Iterator[V]:
        return (value for _end, value in scan(text))

    return found

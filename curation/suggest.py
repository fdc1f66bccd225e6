"""'Did you mean ...?' for a name the user mistyped (config keys, formats, models, exporters, backends)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one choice is close to ``word``, else an empty string."""
    if not isinstance(word, str) or not word:
        return ""
    options = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""

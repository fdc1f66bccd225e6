"""The whole extension surface: exporters and trainer backends register here.

Built-ins and third-party packages use the same path: an entry point in the group
``curation.exporters`` or ``curation.trainers`` that names a class. ``get_exporter("openai")``
loads it on first use, so a missing optional dependency of one backend never breaks another.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .errors import CurationError

EXPORTER_GROUP = "curation.exporters"
TRAINER_GROUP = "curation.trainers"

# Extra registrations made at run time (tests, notebooks): group -> name -> class.
_registered: dict[str, dict[str, Any]] = {EXPORTER_GROUP: {}, TRAINER_GROUP: {}}


def register(group: str, name: str, cls: Any) -> None:
    """Register a class under a name without an installed entry point (tests and scripts use this)."""
    _registered[group][name] = cls


def unregister(group: str, name: str) -> None:
    _registered[group].pop(name, None)


def available(group: str) -> list[str]:
    names = {ep.name for ep in entry_points(group=group)} | set(_registered[group])
    return sorted(names)


def load(group: str, name: str) -> Any:
    if name in _registered[group]:
        return _registered[group][name]
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    kind = "exporter" if group == EXPORTER_GROUP else "trainer backend"
    from .suggest import did_you_mean

    raise CurationError(
        f"unknown {kind} {name!r}{did_you_mean(name, available(group))}",
        hint=f"choose one of: {', '.join(available(group)) or '(none installed)'}",
    )


def get_exporter(name: str) -> Any:
    return load(EXPORTER_GROUP, name)


def get_trainer(name: str) -> Any:
    return load(TRAINER_GROUP, name)

"""Human review of a run: the decision store and applying decisions to the run folder."""

from __future__ import annotations

from .apply import ApplyResult, apply_decisions
from .store import (
    Decision,
    Progress,
    QueueFilter,
    ReviewRecord,
    ReviewStore,
    export_decisions,
    import_decisions,
    load_decisions,
)

__all__ = [
    "ApplyResult",
    "Decision",
    "Progress",
    "QueueFilter",
    "ReviewRecord",
    "ReviewStore",
    "apply_decisions",
    "export_decisions",
    "import_decisions",
    "load_decisions",
]

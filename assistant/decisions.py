"""Decisions as records: every resolution, motion, vote and action, kept in the catalogue's
SQLite file and changed in the same transaction as the file's chunks.

(Interface first; the extraction lands with the decisions register work.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import Filters


@dataclass(frozen=True)
class Decision:
    id: str
    source: str  # path as given to ingest
    page: int
    council: str
    committee: str
    meeting: str
    date: str  # ISO or ""
    item: str
    title: str
    kind: str  # resolution | motion | vote | action | consent
    text: str  # the decision words, verbatim
    outcome: str | None = None  # approved, agreed, noted, deferred, refused, carried, failed, withdrawn
    mover: str = ""
    seconder: str = ""
    ayes: int | None = None
    noes: int | None = None
    abstentions: int | None = None
    absent: int | None = None
    vote_names: dict = field(default_factory=dict)  # {"ayes": [...], "noes": [...], ...}
    action_owner: str = ""
    chunk_id: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    date: str
    council: str
    committee: str
    item: str
    title: str
    kind: str  # "decision" | "discussion"
    text: str  # verbatim quote
    source: str
    page: int
    chunk_id: str = ""
    outcome: str | None = None


class DecisionRegister:
    """Reads the decisions kept beside the index."""

    def __init__(self, catalog):
        self.catalog = catalog

    def list(self, filters: Filters = Filters(), outcome: str = "", text: str = "", limit: int = 200) -> list[Decision]:
        return []

    def history(self, topic: str, filters: Filters = Filters()) -> list[TimelineEntry]:
        return []


def decision_hooks(index) -> tuple:
    """Hooks run inside each file's catalogue transaction: hook(db, path, chunks, segments)."""
    return ()

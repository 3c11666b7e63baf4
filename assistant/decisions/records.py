"""What the register stores and shows: a `Decision` (one resolution, motion, vote or action,
verbatim, with where it was made and how it was decided) and a `TimelineEntry` (one dated
line of an item's history). Plain data, no database: every other decisions module builds on
these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    # resolution | motion | vote | action | consent, and `item` for an outcome printed with
    # an item's heading and decided by no recorded motion ("Not heard.", "Continued to ...")
    kind: str
    text: str  # the decision words, verbatim (a substring of the chunk's text when chunk_id is set)
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
    # added with the register
    path: str = ""  # absolute path, the catalogue's identity of the file
    page_end: int = 0
    unanimous: bool = False  # "unanimous" was recorded, with or without a count
    vote_text: str = ""  # the vote when it was recorded in a later paragraph than the motion, verbatim
    refs: tuple = ()  # report, file, resolution, ordinance and item numbers the text names
    ordinal: int = 0  # position in its file

    def vote_summary(self) -> str:
        """'4-1', '5-0, 1 absent', 'unanimous', or ''."""
        if self.ayes is None:
            return "unanimous" if self.unanimous else ""
        out = f"{self.ayes}-{self.noes or 0}"
        if self.abstentions:
            out += f", {self.abstentions} abst."
        if self.absent:
            out += f", {self.absent} absent"
        return out

    def to_json(self) -> dict:
        data = asdict(self)
        data["refs"] = list(self.refs)
        data["vote"] = self.vote_summary()
        return data


@dataclass(frozen=True)
class TimelineEntry:
    date: str  # the meeting's ISO date, or "" when the minutes do not state it
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
    # added with the register
    when: str = ""  # what to show: "26 September 2024", "date not stated (the text mentions June 2023)", ...
    date_basis: str = "meeting"  # meeting | inferred (from what the text says) | reported (by later minutes) | not stated
    sort_date: str = ""  # ISO used for ordering ("" = placed last)
    decision_id: str = ""
    decision_kind: str = ""  # the Decision's kind for decisions
    mover: str = ""
    seconder: str = ""
    vote: str = ""
    action_owner: str = ""
    link: str = ""  # why it belongs to the thread: "topic", "reference Resolution No. 15543", "reported"
    reported_in: str = ""  # for a reported decision: the committee whose minutes report it
    latest: bool = False  # the latest dated decision in the timeline
    ordinal: int = 0  # position in its file (orders entries of one meeting)

    def to_json(self) -> dict:
        return asdict(self)


__all__ = ["Decision", "TimelineEntry"]

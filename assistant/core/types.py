"""The typed outputs of each stage. Frozen dataclasses, no third-party types."""

from __future__ import annotations

from dataclasses import dataclass, field

from .dates import date_to_int  # noqa: F401 - re-exported: stores and the register use it from here
from .filters import Filters  # noqa: F401 - re-exported: the rule and its forms live in filters.py

# The parts of an agenda item a chunk can be.
SECTION_KINDS = ("heading", "discussion", "resolution", "action", "motion", "vote", "procedural")
DECISION_KINDS = ("resolution", "action", "motion", "vote")


@dataclass(frozen=True)
class Page:
    number: int  # 1-based physical page; 1 for a text file
    text: str  # running headers and footers removed
    header: str = ""  # the running header that was removed (it often carries the date)


@dataclass(frozen=True)
class Document:
    """One file as read: its pages and what is known about it."""

    source: str  # the path as given to ingest
    kind: str  # pdf, html, text
    pages: tuple[Page, ...]
    sha256: str
    metadata: dict = field(default_factory=dict)  # from the folder's manifest: council, committee, date, item, title, url, ...
    title: str = ""  # the document's own title (HTML <title>, Markdown front matter), not an item title
    published: str = ""  # a publication date the file states (front matter), never taken as the meeting date
    notes: tuple[str, ...] = ()  # what was left out in reading, said in the ingest summary


@dataclass(frozen=True)
class Segment:
    """A run of text with one place in the minutes' structure."""

    text: str
    kind: str  # one of SECTION_KINDS
    page_start: int
    page_end: int
    council: str = ""
    committee: str = ""
    meeting: str = ""  # e.g. "Regular Meeting"
    date: str = ""  # ISO YYYY-MM-DD, or ""
    item: str = ""  # item number as printed, e.g. "19-330" or "24"
    title: str = ""  # the item's title
    council_from: str = ""  # where council, committee and date came from: manifest, text, title or file name
    committee_from: str = ""
    date_from: str = ""


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str  # the minutes' words
    embed_text: str  # header + text: what is embedded and searched
    source: str
    page_start: int
    page_end: int
    section: str
    council: str = ""
    committee: str = ""
    meeting: str = ""
    date: str = ""
    item: str = ""
    title: str = ""
    ordinal: int = 0  # position in its document
    council_from: str = ""  # manifest, text, title or file name
    committee_from: str = ""
    date_from: str = ""
    # The day the file says it was published (front matter, a manifest's "published"), never
    # taken as the meeting date: the meeting was on or before it.
    published: str = ""

    def provenance(self) -> dict:
        """Where each meeting field came from, for the fields that are known."""
        return {k: v for k, v in (("council", self.council_from), ("committee", self.committee_from),
                                  ("date", self.date_from)) if v}
    access: str = "public"  # or "restricted": exempt items, for members and officers only (see access.py)

    def metadata(self) -> dict:
        """Flat metadata for stores (no None values; date also as an int for ranges). `access`
        is there only when restricted, so the metadata of public chunks is as it always was."""
        meta = {
            "source": self.source,
            "page_start": self.page_start,
            "page_end": self.page_end,
            "section": self.section,
            "council": self.council,
            "committee": self.committee,
            "meeting": self.meeting,
            "date": self.date,
            "date_int": date_to_int(self.date),
            "item": self.item,
            "title": self.title,
            "ordinal": self.ordinal,
            "council_from": self.council_from,
            "committee_from": self.committee_from,
            "date_from": self.date_from,
        }
        if self.access != "public":
            meta["access"] = self.access
        if self.published:
            meta["published"] = self.published
        return meta

    @classmethod
    def from_stored(cls, chunk_id: str, text: str, embed_text: str, meta: dict) -> "Chunk":
        return cls(
            id=chunk_id,
            text=text,
            embed_text=embed_text,
            source=meta.get("source", ""),
            page_start=int(meta.get("page_start", 1)),
            page_end=int(meta.get("page_end", 1)),
            section=meta.get("section", "discussion"),
            council=meta.get("council", ""),
            committee=meta.get("committee", ""),
            meeting=meta.get("meeting", ""),
            date=meta.get("date", ""),
            item=meta.get("item", ""),
            title=meta.get("title", ""),
            published=meta.get("published", ""),
            ordinal=int(meta.get("ordinal", 0)),
            council_from=meta.get("council_from", ""),
            committee_from=meta.get("committee_from", ""),
            date_from=meta.get("date_from", ""),
            access=meta.get("access", "public"),
        )


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score, higher is better
    rank: int  # 1-based
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_similarity: float | None = None  # cosine similarity of the dense match


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    quote: str  # the supporting words, verbatim from chunk.text


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with [n] markers
    refused: bool
    citations: tuple[Citation, ...] = ()
    closest: tuple[Hit, ...] = ()  # shown when refused
    standalone_query: str = ""
    filters: Filters = Filters()
    mode: str = "extractive"
    timings_ms: dict = field(default_factory=dict)
    hits: tuple[Hit, ...] = ()  # what retrieval returned, best first (for evaluation and the UI)

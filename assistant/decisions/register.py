"""The decision register: every resolution, motion, vote and action, kept in the catalogue's
SQLite file and changed in the same transaction as the file's chunks.

- storage: a `decisions` table beside `chunks`, replaced or deleted by the ingest hook inside
  each file's transaction (the rows come from `extract`), so re-ingest, change and removal
  keep it in step. Files indexed before the register existed (or by an older extractor) are
  brought up to date when `decision_hooks(index)` is called, i.e. at the start of every
  `minutes ingest`. The tables are made and changed by the numbered `MIGRATIONS`, recorded
  in the catalogue's `schema_migrations` (component "decisions"), never dropped;
- reading: `DecisionRegister.list` and `.history` (the timeline is built in `history`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path

from ..index.catalog import Migration, migrate
from ..core.errors import MinutesError
from ..core.filters import Filters, sql_where
from ..ingest.readers import read_document
from ..ingest.structure import parse
from ..core.injection import hostile
from ..index.lexical import LexicalIndex
from ..core.types import Chunk, Segment, date_to_int
from .extract import decision_id, extract, locate, references
from .history import build_history
from .records import Decision, TimelineEntry

EXTRACTOR_VERSION = "d1"  # bump when extraction changes: stored records are re-extracted


# ---- storage ----------------------------------------------------------------------------

COLUMNS = (
    "id", "path", "source", "page", "page_end", "council", "committee", "meeting", "date", "date_int", "item",
    "title", "kind", "text", "outcome", "mover", "seconder", "ayes", "noes", "abstentions", "absent",
    "vote_names", "unanimous", "action_owner", "chunk_id", "vote_text", "refs", "ordinal",
)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY, path TEXT NOT NULL, source TEXT NOT NULL, "
    "page INTEGER, page_end INTEGER, council TEXT, committee TEXT, meeting TEXT, date TEXT, date_int INTEGER, "
    "item TEXT, title TEXT, kind TEXT, text TEXT, outcome TEXT, mover TEXT, seconder TEXT, ayes INTEGER, "
    "noes INTEGER, abstentions INTEGER, absent INTEGER, vote_names TEXT, unanimous INTEGER, action_owner TEXT, "
    "chunk_id TEXT, vote_text TEXT, refs TEXT, ordinal INTEGER)",
    "CREATE INDEX IF NOT EXISTS decisions_by_path ON decisions(path)",
    "CREATE INDEX IF NOT EXISTS decisions_by_date ON decisions(date_int)",
    "CREATE TABLE IF NOT EXISTS decision_files (path TEXT PRIMARY KEY, version TEXT NOT NULL)",
)
INTEGER_COLUMNS = {"page", "page_end", "date_int", "ayes", "noes", "abstentions", "absent", "unanimous", "ordinal"}


def _register_tables(db: sqlite3.Connection) -> None:
    """The decisions and decision_files tables. On a file from before migrations were recorded
    they may already be there: as this code made them (nothing to do), or, from an earlier
    layout, short of columns, which are added (empty) and the files marked for re-extraction
    (the next ingest replaces their rows), so no row is lost."""
    have = [r[1] for r in db.execute("PRAGMA table_info(decisions)")]
    missing = [c for c in COLUMNS if have and c not in have]
    for column in missing:
        db.execute(f"ALTER TABLE decisions ADD COLUMN {column} {'INTEGER' if column in INTEGER_COLUMNS else 'TEXT'}")
    for statement in SCHEMA:
        db.execute(statement)
    if missing:
        db.execute("DELETE FROM decision_files")


# Numbered, in order, never edited once released: a change of columns is a new migration at
# the end (ALTER TABLE decisions ADD COLUMN ...; with EXTRACTOR_VERSION bumped when the stored
# records must be extracted again to fill it).
MIGRATIONS = (
    Migration(1, "decisions and decision_files tables", _register_tables),
)


def ensure_schema(db: sqlite3.Connection) -> None:
    """Bring the register's tables up to date (inside the caller's transaction, if any):
    the migrations the file has not recorded are applied, in order."""
    migrate(db, "decisions", MIGRATIONS)


def decisions_for(path: str, chunks: list[Chunk], segments: list[Segment]) -> list[Decision]:
    """The decisions in one file, each tied to the chunk that holds its words."""
    if not chunks or not segments:
        return []
    source = chunks[0].source
    out, seen = [], {}
    for ordinal, f in enumerate(extract(segments)):
        chunk, quote = locate(f.text, f.seg, chunks)
        if hostile(quote):  # orders to the assistant, or script URLs, are not decisions of a council
            continue
        v = f.vote
        out.append(Decision(
            id=decision_id(source, f.item, f.kind, quote, seen),
            source=source, page=f.seg.page_start, council=f.seg.council, committee=f.seg.committee,
            meeting=f.seg.meeting, date=f.seg.date, item=f.item, title=f.title, kind=f.kind, text=quote,
            outcome=f.outcome, mover=f.mover, seconder=f.seconder, ayes=v.ayes, noes=v.noes,
            abstentions=v.abstentions, absent=v.absent, vote_names=dict(v.names), action_owner=f.owner,
            chunk_id=chunk.id if chunk else "", path=path, page_end=f.seg.page_end, unanimous=v.unanimous,
            vote_text=f.extra_text, refs=tuple(references(f"{f.title} {quote}")), ordinal=ordinal,
        ))
    return out


def _row(d: Decision) -> tuple:
    values = asdict(d)
    values["date_int"] = date_to_int(d.date)
    values["vote_names"] = json.dumps(d.vote_names, ensure_ascii=False)
    values["refs"] = json.dumps(list(d.refs), ensure_ascii=False)
    values["unanimous"] = int(d.unanimous)
    return tuple(values[c] for c in COLUMNS)


def _decision(row: sqlite3.Row | tuple) -> Decision:
    data = dict(zip(COLUMNS, row))
    data.pop("date_int")
    data["vote_names"] = json.loads(data["vote_names"] or "{}")
    data["refs"] = tuple(json.loads(data["refs"] or "[]"))
    data["unanimous"] = bool(data["unanimous"])
    return Decision(**data)


def write_decisions(db: sqlite3.Connection, path: str, decisions: list[Decision], mark: bool = True) -> None:
    """Replace one file's decisions (inside the caller's transaction)."""
    ensure_schema(db)
    db.execute("DELETE FROM decisions WHERE path=?", (path,))
    db.execute("DELETE FROM decision_files WHERE path=?", (path,))
    if decisions:
        marks = ",".join("?" * len(COLUMNS))
        db.executemany(f"INSERT OR REPLACE INTO decisions({','.join(COLUMNS)}) VALUES({marks})", [_row(d) for d in decisions])
    if mark:
        db.execute("INSERT OR REPLACE INTO decision_files(path, version) VALUES(?, ?)", (path, EXTRACTOR_VERSION))


def decisions_hook(db: sqlite3.Connection, path: str, chunks: list[Chunk], segments: list[Segment]) -> None:
    """Runs inside the file's catalogue transaction: indexed -> replace, skipped or removed -> delete.
    A failure to extract never fails the file's ingest: it is reported, the file is left
    without records and is tried again by the next ingest."""
    try:
        found = decisions_for(path, chunks, segments)
    except Exception as exc:  # noqa: BLE001 - extraction must not lose the file's chunks
        print(f"minutes: decisions not extracted from {path}: {exc!r}", file=sys.stderr)
        write_decisions(db, path, [], mark=False)
        return
    write_decisions(db, path, found, mark=bool(chunks))


def decision_hooks(index) -> tuple:
    """Hooks run inside each file's catalogue transaction: hook(db, path, chunks, segments).
    Also brings the records of files indexed earlier (before the register, or by an older
    extractor) up to date, so the register matches the index once ingest has run."""
    backfill(index, progress=sys.stderr.isatty())
    return (decisions_hook,)


def stale_files(catalog) -> list[tuple[str, str, dict]]:
    """(path, source, metadata) of indexed files whose records are missing or out of date."""
    if not getattr(catalog, "read_only", False):  # a read-only index is read as it is
        with catalog.connect() as db:
            ensure_schema(db)
    rows = catalog._conn().execute(
        "SELECT f.path, f.source, f.metadata FROM files f LEFT JOIN decision_files d ON d.path = f.path "
        "WHERE f.status = 'indexed' AND (d.version IS NULL OR d.version != ?) ORDER BY f.path",
        (EXTRACTOR_VERSION,),
    ).fetchall()
    return [(r[0], r[1], json.loads(r[2] or "{}")) for r in rows]


def backfill(index, progress: bool = False) -> int:
    """Extract decisions for indexed files that have none (or old ones), re-reading them from
    disk. Files that changed or vanished since they were indexed are left to the ingest."""
    catalog = index.catalog if hasattr(index, "catalog") else index
    done = 0
    stale = stale_files(catalog)
    if progress and stale:
        from tqdm import tqdm

        stale = tqdm(stale, desc="decisions (files indexed earlier)", unit="file", file=sys.stderr, dynamic_ncols=True)
    for path, source, meta in stale:
        record = catalog.file(path)
        if meta.get("chunker", "structure") != "structure":
            with catalog.connect() as db:
                write_decisions(db, path, [])
            continue
        if record is None or not os.path.exists(path):
            continue
        try:
            doc = read_document(Path(path), source)
        except MinutesError:
            continue
        if doc.sha256 != record.sha256:
            continue
        chunks = catalog.chunks_of(path)
        with catalog.connect() as db:
            write_decisions(db, path, decisions_for(path, chunks, parse(doc)))
        done += 1
    return done


# ---- reading ------------------------------------------------------------------------------

class DecisionRegister:
    """Reads the decisions kept beside the index. `DecisionRegister(index.catalog)` reads the
    table; pass the index too (or `DecisionRegister.of(index)`) so history can use its BM25."""

    def __init__(self, catalog, index=None):
        if hasattr(catalog, "catalog"):  # given the index itself
            catalog, index = catalog.catalog, catalog
        self.catalog = catalog
        self.index = index
        self._lexical = index.lexical if index is not None else None
        if not getattr(catalog, "read_only", False):  # a read-only index is read as it is
            with catalog.connect() as db:
                ensure_schema(db)

    @classmethod
    def of(cls, index) -> "DecisionRegister":
        return cls(index.catalog, index)

    @property
    def lexical(self):
        if self._lexical is None:
            self._lexical = LexicalIndex(self.catalog, self.catalog.db_path.with_suffix(".bm25"))
        return self._lexical

    def _query(self, where: str = "", params: tuple = (), order: str = "", limit: int = 0) -> list[Decision]:
        sql = f"SELECT {','.join(COLUMNS)} FROM decisions"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order or '(date_int = 0), date_int DESC, source, ordinal'}"
        if limit and limit > 0:
            sql += f" LIMIT {int(limit)}"
        return [_decision(r) for r in self.catalog._conn().execute(sql, params).fetchall()]

    def list(self, filters: Filters = Filters(), outcome: str = "", text: str = "", limit: int = 200) -> list[Decision]:
        """Decisions, latest meeting first (undated last), limited by committee, council, dates,
        outcome and words the decision text, item or title contains."""
        where, params = sql_where(filters)
        if outcome:
            where.append("outcome = ?")
            params.append(outcome.lower())
        for word in (text or "").split():
            where.append("(text || ' ' || title || ' ' || item || ' ' || action_owner) LIKE ?")
            params.append(f"%{word}%")
        return self._query(" AND ".join(where), tuple(params), limit=limit)

    def all(self, filters: Filters = Filters()) -> list[Decision]:
        where, params = sql_where(filters)
        return self._query(" AND ".join(where), tuple(params), order="source, ordinal")

    def get(self, decision_id: str) -> Decision | None:
        found = self._query("id = ?", (decision_id,))
        return found[0] if found else None

    def in_chunks(self, chunk_ids) -> list[Decision]:
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self._query(f"chunk_id IN ({marks})", tuple(ids), order="source, ordinal")

    def of_file(self, path_or_source: str) -> list[Decision]:
        return self._query("path = ? OR source = ?", (path_or_source, path_or_source), order="ordinal")

    def chunk(self, chunk_id: str) -> Chunk | None:
        found = self.lexical.chunk(chunk_id)
        if found is not None:
            return found
        row = self.catalog._conn().execute(
            "SELECT id, text, embed_text, metadata FROM chunks WHERE id=?", (chunk_id,)
        ).fetchone()
        return Chunk.from_stored(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def find_chunk(self, source: str, quote: str) -> Chunk | None:
        """A chunk of `source` whose text holds `quote` verbatim."""
        if not quote:
            return None
        # Through the file's row: chunks are indexed by path, so this reads one file's chunks
        # instead of the metadata of every chunk in the index (176 ms at 118k chunks).
        db = self.catalog._conn()
        paths = [r[0] for r in db.execute("SELECT path FROM files WHERE source = ?", (source,))]
        rows = [row for path in paths for row in db.execute(
            "SELECT id, text, embed_text, metadata FROM chunks WHERE path = ? AND instr(text, ?) > 0 ORDER BY ordinal",
            (path, quote[:80]))]
        for r in rows:
            if quote in r[1]:
                return Chunk.from_stored(r[0], r[1], r[2], json.loads(r[3]))
        return None

    def count(self) -> int:
        return self.catalog._conn().execute("SELECT COUNT(*) FROM decisions").fetchone()[0]

    def history(self, topic: str, filters: Filters = Filters()) -> list[TimelineEntry]:
        """An item's decisions and discussions across meetings and committees, dated, oldest
        first; entries whose date the minutes do not state come last, marked so."""
        return build_history(self, topic, filters).entries


__all__ = [
    "EXTRACTOR_VERSION", "DecisionRegister", "decision_hooks", "decisions_hook", "decisions_for", "write_decisions",
    "stale_files", "backfill",
]

"""The catalogue: a SQLite file beside the index that records every ingested file and
chunk. It is what ingest compares against to skip unchanged files, what BM25 is built
from, and what dense hits are resolved against (a vector with no catalogue row is ignored).
Its tables are made and changed by numbered migrations (`migrate`), recorded in the file's
`schema_migrations` table, so a catalogue written by older code is brought up to date in
place when it is opened, never dropped; the decision register keeps its own tables the same way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..core.errors import MinutesError
from ..core.types import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,          -- absolute path: the identity of a file
    source TEXT NOT NULL,           -- the path as given to ingest, shown in citations
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    status TEXT NOT NULL,           -- indexed | skipped
    reason TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks(path);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# ---- schema migrations ----------------------------------------------------------------------
# Each family of tables (the catalogue's own, "catalog"; the decision register's, "decisions")
# has a list of numbered migrations. Opening a writable catalogue applies the ones not yet
# recorded in `schema_migrations`, in order, each in the same transaction as its record. A
# change of columns is a new migration at the end of the list (an ALTER TABLE, or a copy into
# a new table), never an edit of an old one, so every catalogue reaches the same shape.

MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, "
    "name TEXT NOT NULL, applied_at REAL NOT NULL, PRIMARY KEY (component, version))"
)


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, 3, ... within its component
    name: str  # what it does, recorded with it
    apply: Callable[[sqlite3.Connection], None]  # statement by statement: never commits


def statements(script: str) -> Callable[[sqlite3.Connection], None]:
    """A migration that runs the statements of a script one by one (executescript would
    commit the transaction the migration runs in)."""
    def apply(db: sqlite3.Connection) -> None:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
    return apply


def schema_version(db: sqlite3.Connection, component: str) -> int:
    """The last migration of `component` recorded in the file (0: none, or no record at all)."""
    try:
        row = db.execute("SELECT MAX(version) FROM schema_migrations WHERE component = ?", (component,)).fetchone()
    except sqlite3.OperationalError:  # no schema_migrations table: a file from before migrations
        return 0
    return row[0] or 0


def migrate(db: sqlite3.Connection, component: str, migrations: tuple[Migration, ...]) -> list[int]:
    """Apply `component`'s migrations that the file has not recorded, in order, and record
    each. Runs inside the caller's transaction when there is one, else in one of its own that
    takes the write lock first (so two processes opening the file at once apply each
    migration once). Returns the versions applied; [] when the file was up to date."""
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise ValueError(f"{component} migrations must be numbered 1, 2, 3, ... in order")
    if schema_version(db, component) >= len(migrations):
        return []
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    db.execute(MIGRATIONS_TABLE)
    done = schema_version(db, component)  # again, now that no one else can write
    applied = []
    for m in migrations[done:]:
        m.apply(db)
        db.execute("INSERT INTO schema_migrations(component, version, name, applied_at) VALUES(?, ?, ?, ?)",
                   (component, m.version, m.name, time.time()))
        applied.append(m.version)
    return applied


CATALOG_MIGRATIONS = (
    # the tables as they were before migrations were recorded: on such a file, a no-op
    Migration(1, "files, chunks and state tables", statements(SCHEMA)),
)


@dataclass(frozen=True)
class FileRecord:
    path: str
    source: str
    sha256: str
    size: int
    mtime: float
    status: str
    reason: str
    pages: int
    chunks: int
    metadata: dict


class Catalog:
    """Opened for writing, or read-only when its folder cannot be written (an index on a
    read-only mount still answers questions; anything that would change it says why not)."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self._local = threading.local()
        self._ro_uri = ""
        self.public_only = False
        self.read_only = db_path.exists() and not writable(db_path)
        if self.read_only:
            self._open_read_only()
            return
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            with self.connect() as db:
                migrate(db, "catalog", CATALOG_MIGRATIONS)
        except (OSError, sqlite3.Error) as exc:
            raise MinutesError(f"cannot open the index catalogue {db_path}: {exc}") from exc

    def _open_read_only(self) -> None:
        base = "file:" + str(self.db_path.resolve()).replace("?", "%3f").replace("#", "%23")
        for uri in (base + "?mode=ro", base + "?mode=ro&immutable=1"):
            # plain read-only needs the WAL's shared-memory file; on a read-only mount without
            # one, the file is read as it is (immutable)
            try:
                conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=True)
                conn.execute("SELECT COUNT(*) FROM files").fetchone()
                conn.close()
                self._ro_uri = uri
                return
            except sqlite3.Error as last:
                error = last
        raise MinutesError(f"cannot read the index catalogue {self.db_path}: {error}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._ro_uri:
                conn = sqlite3.connect(self._ro_uri, uri=True, timeout=30)
            else:
                conn = sqlite3.connect(self.db_path, timeout=30)
                if not self.public_only:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if self.public_only:
                _hide_restricted(conn)
            if self.read_only:
                conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
        return conn

    def public_view(self) -> "Catalog":
        """The same catalogue as a public user sees it, read-only: every query made through it
        (chunks, files, decisions, counts) sees public rows only, however it is written."""
        view = object.__new__(Catalog)
        view.db_path, view._ro_uri = self.db_path, self._ro_uri
        view._local = threading.local()
        view.read_only, view.public_only = True, True
        return view

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A transaction: committed on success, rolled back on any error or interrupt."""
        self.require_writable()
        conn = self._conn()
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    def require_writable(self) -> None:
        if self.read_only:
            raise MinutesError(f"the index at {self.db_path.parent} is read-only here: it answers questions, "
                               "but adding or changing documents needs write access to its folder")

    # ---- state ------------------------------------------------------------------------

    def get_state(self, key: str, default: str = "") -> str:
        row = self._conn().execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO state(key, value) VALUES('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def set_state(self, key: str, value: str) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO state(key, value) VALUES(?, ?)", (key, value))

    def generation(self) -> int:
        """Goes up whenever the set of chunks changes."""
        return int(self.get_state("generation", "0"))

    # ---- files ------------------------------------------------------------------------

    def file(self, path: str) -> FileRecord | None:
        row = self._conn().execute(
            "SELECT path, source, sha256, size, mtime, status, reason, pages, chunks, metadata FROM files WHERE path=?",
            (path,),
        ).fetchone()
        return _file_record(row) if row else None

    def files(self) -> list[FileRecord]:
        rows = self._conn().execute(
            "SELECT path, source, sha256, size, mtime, status, reason, pages, chunks, metadata FROM files ORDER BY path"
        ).fetchall()
        return [_file_record(r) for r in rows]

    def chunk_ids(self, path: str) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT id FROM chunks WHERE path=?", (path,))}

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT id FROM chunks")}

    def record_indexed(self, rec: FileRecord, chunks: list[Chunk], hooks=()) -> None:
        """Replace a file's row and chunks in one transaction. `hooks` get (db, path, chunks)
        inside it, so tables kept beside the chunks (decisions) change with them."""
        with self.connect() as db:
            db.execute("DELETE FROM chunks WHERE path=?", (rec.path,))
            _upsert_file(db, rec)
            db.executemany(
                "INSERT OR REPLACE INTO chunks(id, path, ordinal, text, embed_text, metadata) VALUES(?,?,?,?,?,?)",
                [(c.id, rec.path, c.ordinal, c.text, c.embed_text, json.dumps(c.metadata())) for c in chunks],
            )
            for hook in hooks:
                hook(db, rec.path, chunks)
            self._bump(db)

    def record_skipped(self, rec: FileRecord, hooks=()) -> None:
        with self.connect() as db:
            had = db.execute("SELECT COUNT(*) FROM chunks WHERE path=?", (rec.path,)).fetchone()[0]
            db.execute("DELETE FROM chunks WHERE path=?", (rec.path,))
            _upsert_file(db, rec)
            for hook in hooks:
                hook(db, rec.path, [])
            if had:
                self._bump(db)

    def remove(self, path: str, hooks=()) -> None:
        with self.connect() as db:
            db.execute("DELETE FROM chunks WHERE path=?", (path,))
            db.execute("DELETE FROM files WHERE path=?", (path,))
            for hook in hooks:
                hook(db, path, [])
            self._bump(db)

    # ---- chunks -----------------------------------------------------------------------

    def chunks(self) -> list[Chunk]:
        rows = self._conn().execute(
            "SELECT c.id, c.text, c.embed_text, c.metadata FROM chunks c ORDER BY c.path, c.ordinal"
        ).fetchall()
        return [Chunk.from_stored(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def chunks_of(self, path: str) -> list[Chunk]:
        rows = self._conn().execute(
            "SELECT id, text, embed_text, metadata FROM chunks WHERE path=? ORDER BY ordinal", (path,)
        ).fetchall()
        return [Chunk.from_stored(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def stats(self) -> dict:
        db = self._conn()
        files = dict(db.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall())
        return {
            "files_indexed": files.get("indexed", 0),
            "files_skipped": files.get("skipped", 0),
            "chunks": db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
            "pages": db.execute("SELECT COALESCE(SUM(pages), 0) FROM files").fetchone()[0],
            "last_ingest": float(self.get_state("last_ingest_finished", "0") or 0),
            "committees": [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT json_extract(metadata, '$.committee') AS c FROM chunks WHERE c != '' ORDER BY c"
                )
            ],
            "councils": [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT json_extract(metadata, '$.council') AS c FROM chunks WHERE c != '' ORDER BY c"
                )
            ],
            "date_range": db.execute(
                "SELECT MIN(NULLIF(json_extract(metadata, '$.date'), '')), MAX(json_extract(metadata, '$.date')) FROM chunks"
            ).fetchone(),
        }


RESTRICTED_CHUNK = "json_extract(metadata, '$.access') = 'restricted'"


def _hide_restricted(conn: sqlite3.Connection) -> None:
    """Temporary views named like the tables shadow them on this connection (SQLite looks in
    `temp` before `main`), so no query made through it can reach a restricted row."""
    conn.executescript(f"""
        CREATE TEMP VIEW IF NOT EXISTS chunks AS SELECT * FROM main.chunks WHERE NOT coalesce({RESTRICTED_CHUNK}, 0);
        CREATE TEMP VIEW IF NOT EXISTS files AS SELECT * FROM main.files
            WHERE coalesce(json_extract(metadata, '$.file_access'), '') != 'restricted';
    """)
    has_decisions = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone()
    if has_decisions:
        conn.execute(f"""CREATE TEMP VIEW IF NOT EXISTS decisions AS SELECT * FROM main.decisions d
            WHERE (coalesce(d.chunk_id, '') != '' AND d.chunk_id IN (SELECT id FROM temp.chunks))
               OR (coalesce(d.chunk_id, '') = '' AND d.path NOT IN (SELECT path FROM main.chunks WHERE {RESTRICTED_CHUNK})
                   AND d.path IN (SELECT path FROM temp.files))""")


def writable(path: Path) -> bool:
    """Whether the file and its folder can be written (False on a read-only mount, even for root)."""
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _file_record(row) -> FileRecord:
    return FileRecord(*row[:9], metadata=json.loads(row[9]))


def _upsert_file(db: sqlite3.Connection, rec: FileRecord) -> None:
    db.execute(
        "INSERT OR REPLACE INTO files(path, source, sha256, size, mtime, status, reason, pages, chunks, metadata, ingested_at)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
        (rec.path, rec.source, rec.sha256, rec.size, rec.mtime, rec.status, rec.reason, rec.pages, rec.chunks,
         json.dumps(rec.metadata), time.time()),
    )

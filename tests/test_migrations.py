"""Schema migrations: a catalogue written before migrations were recorded opens with the new
code without losing a row, the versions are recorded, a second open changes nothing, and a
register table of an earlier layout gains its missing columns instead of being dropped.

The old files are built by hand with the statements the code used before migrations (copied
here verbatim), so the tests do not depend on the code they check.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.index.catalog import CATALOG_MIGRATIONS, Catalog, Migration, migrate, schema_version, statements
from assistant.decisions.register import COLUMNS, MIGRATIONS, DecisionRegister, stale_files

# The catalogue's tables as `Catalog` made them with executescript before migrations.
OLD_CATALOG = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0, metadata TEXT NOT NULL DEFAULT '{}', ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE, ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, embed_text TEXT NOT NULL, metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks(path);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# The register's tables as `ensure_schema` made them before migrations.
OLD_REGISTER = """
CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY, path TEXT NOT NULL, source TEXT NOT NULL,
    page INTEGER, page_end INTEGER, council TEXT, committee TEXT, meeting TEXT, date TEXT, date_int INTEGER,
    item TEXT, title TEXT, kind TEXT, text TEXT, outcome TEXT, mover TEXT, seconder TEXT, ayes INTEGER,
    noes INTEGER, abstentions INTEGER, absent INTEGER, vote_names TEXT, unanimous INTEGER, action_owner TEXT,
    chunk_id TEXT, vote_text TEXT, refs TEXT, ordinal INTEGER);
CREATE INDEX IF NOT EXISTS decisions_by_path ON decisions(path);
CREATE INDEX IF NOT EXISTS decisions_by_date ON decisions(date_int);
CREATE TABLE IF NOT EXISTS decision_files (path TEXT PRIMARY KEY, version TEXT NOT NULL);
"""
PATH = "/minutes/2024-09-26.txt"


def _old_catalogue(db_path: Path, register: str = OLD_REGISTER, decision_columns=COLUMNS) -> None:
    """A catalogue with one file, two chunks, a state row, two decisions and their file mark."""
    db = sqlite3.connect(db_path)
    db.executescript(OLD_CATALOG + register)
    meta = {"source": "2024-09-26.txt", "council": "Herefordshire Council", "committee": "Cabinet",
            "date": "2024-09-26", "page_start": 1, "page_end": 1, "item": "24", "title": "Improvement plan"}
    db.execute("INSERT INTO files VALUES(?,?,?,?,?,?,?,?,?,?,?)",
               (PATH, "2024-09-26.txt", "ab" * 32, 1234, 1.5, "indexed", "", 1, 2, "{}", 2.5))
    for n in range(2):
        db.execute("INSERT INTO chunks VALUES(?,?,?,?,?,?)",
                   (f"c{n}", PATH, n, f"chunk {n} text", f"embed {n}", json.dumps(dict(meta, ordinal=n))))
    db.execute("INSERT INTO state VALUES('generation', '7')")
    for n in range(2):
        row = {c: None for c in decision_columns}
        row.update(id=f"d{n}", path=PATH, source="2024-09-26.txt", page=1, council="Herefordshire Council",
                   committee="Cabinet", date="2024-09-26", date_int=20240926, item="24", title="Improvement plan",
                   kind="resolution", text=f"Resolved that {n}", outcome="approved", vote_names="{}", unanimous=0,
                   refs="[]", ordinal=n, chunk_id="c0")
        row = {k: v for k, v in row.items() if k in decision_columns}
        db.execute(f"INSERT INTO decisions({','.join(row)}) VALUES({','.join('?' * len(row))})", tuple(row.values()))
    db.execute("INSERT INTO decision_files VALUES(?, 'd1')", (PATH,))
    db.commit()
    db.close()


def _dump(db_path: Path, table: str) -> list[tuple]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        db.close()


def test_a_catalogue_from_before_migrations_opens_migrated_with_every_row(tmp_path):
    db_path = tmp_path / "catalog.sqlite"
    _old_catalogue(db_path)
    before = {t: _dump(db_path, t) for t in ("files", "chunks", "state", "decisions", "decision_files")}

    catalog = Catalog(db_path)
    register = DecisionRegister(catalog)

    after = {t: _dump(db_path, t) for t in before}
    assert after == before  # no row lost or changed, the register's marks included
    assert register.count() == 2 and [d.text for d in register.of_file(PATH)] == ["Resolved that 0", "Resolved that 1"]
    assert [c.id for c in catalog.chunks_of(PATH)] == ["c0", "c1"] and catalog.generation() == 7
    recorded = [r[:3] for r in _dump(db_path, "schema_migrations")]
    assert recorded == [("catalog", 1, CATALOG_MIGRATIONS[0].name), ("decisions", 1, MIGRATIONS[0].name)]
    assert stale_files(catalog) == []  # records made by this extractor stay: nothing to extract again


def test_opening_again_is_a_no_op(tmp_path):
    db_path = tmp_path / "catalog.sqlite"
    _old_catalogue(db_path)
    DecisionRegister(Catalog(db_path))
    first = {t: _dump(db_path, t) for t in ("schema_migrations", "files", "chunks", "decisions", "decision_files")}
    schema = _dump(db_path, "sqlite_master")

    DecisionRegister(Catalog(db_path))

    assert {t: _dump(db_path, t) for t in first} == first  # same versions, same applied_at, same rows
    assert _dump(db_path, "sqlite_master") == schema
    db = sqlite3.connect(db_path)
    assert migrate(db, "catalog", CATALOG_MIGRATIONS) == [] and migrate(db, "decisions", MIGRATIONS) == []
    assert not db.in_transaction  # the up-to-date check writes nothing
    db.close()


def test_a_new_catalogue_is_made_by_the_migrations(tmp_path):
    db_path = tmp_path / "new" / "catalog.sqlite"
    catalog = Catalog(db_path)
    DecisionRegister(catalog)
    db = sqlite3.connect(db_path)
    assert schema_version(db, "catalog") == len(CATALOG_MIGRATIONS)
    assert schema_version(db, "decisions") == len(MIGRATIONS)
    assert tuple(r[1] for r in db.execute("PRAGMA table_info(decisions)")) == COLUMNS
    db.close()


def test_a_register_of_an_earlier_layout_gains_its_columns_instead_of_being_dropped(tmp_path):
    db_path = tmp_path / "catalog.sqlite"
    older = [c for c in COLUMNS if c not in ("vote_text", "refs", "ordinal")]
    register = OLD_REGISTER.replace(", vote_text TEXT, refs TEXT, ordinal INTEGER", "")
    _old_catalogue(db_path, register=register, decision_columns=older)

    catalog = Catalog(db_path)
    reader = DecisionRegister(catalog)

    db = sqlite3.connect(db_path)
    assert {r[1] for r in db.execute("PRAGMA table_info(decisions)")} == set(COLUMNS)
    db.close()
    assert sorted(d.text for d in reader.all()) == ["Resolved that 0", "Resolved that 1"]  # rows kept
    # their file is extracted again by the next ingest, which fills the new columns
    assert [path for path, _, _ in stale_files(catalog)] == [PATH]


def test_migrations_apply_in_order_once_each_and_roll_back_together_on_failure(tmp_path):
    db = sqlite3.connect(tmp_path / "x.sqlite")
    calls = []
    steps = (
        Migration(1, "make t", statements("CREATE TABLE t (a TEXT); INSERT INTO t VALUES('one')")),
        Migration(2, "add b", lambda c: (calls.append(2), c.execute("ALTER TABLE t ADD COLUMN b TEXT"))),
    )
    assert migrate(db, "test", steps) == [1, 2]
    db.commit()
    assert migrate(db, "test", steps) == [] and calls == [2]

    broken = steps + (Migration(3, "fails", statements("INSERT INTO t VALUES('two', 'x'); SELECT * FROM nowhere")),)
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, "test", broken)
    db.rollback()
    assert schema_version(db, "test") == 2 and db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1

    with pytest.raises(ValueError):
        migrate(db, "test", (steps[1], steps[0]))
    db.close()

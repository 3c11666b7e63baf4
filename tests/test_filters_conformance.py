"""One table of filter cases, run against every form of the rule (assistant/core/filters.py), each
through the real part that uses it, as a document store's conformance tests do:

- predicate: `Filters.accepts` on each row's metadata;
- chroma: `chroma_where` in `get(where=...)` on an embedded Chroma collection holding the rows
  (through ChromaStore, with tiny fixed vectors), after the Retriever spells council and
  committee as the index does (`Retriever.as_stored`: Chroma compares exactly);
- bm25: `LexicalIndex.search` over the rows (every row holds the searched word, so a row is
  found exactly when the mask keeps it);
- sql: `DecisionRegister.all` over one decision record per row.

Cases marked public run as a public user sees the index: `accepts(public_only=True)`, the
public BM25 view, dense ids resolved through it (as fusion does), and the register read
through the catalogue's public view. No model is loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.index.catalog import Catalog, FileRecord
from assistant.decisions import Decision, DecisionRegister, write_decisions
from assistant.core.filters import Filters, chroma_where
from assistant.index.lexical import LexicalIndex, PublicLexical
from assistant.retrieve.hybrid import Retriever
from assistant.index.store import ChromaStore
from assistant.core.types import Chunk

# id: (council, committee, date, access)
ROWS = {
    "ala-cc": ("City of Alameda", "City Council", "2019-06-04", "public"),
    "ala-pb": ("City of Alameda", "Planning Board", "2019-03-11", "public"),
    "ala-pb-undated": ("City of Alameda", "Planning Board", "", "public"),
    "nor-cab": ("Norfolk County Council", "Cabinet", "2021-05-31", "public"),
    "nor-cab-exempt": ("Norfolk County Council", "Cabinet", "2021-06-01", "restricted"),
    "nor-cab-undated": ("Norfolk County Council", "Cabinet", "", "public"),
    "nor-pb": ("Norfolk County Council", "Planning Board", "2016-12-31", "public"),
    "mon-exec": ("Cyngor Sir Ynys Môn", "Pwyllgor Gwaith", "2020-02-29", "public"),
    "unlabelled": ("", "", "", "public"),
}
ALL = set(ROWS)
UNDATED = {"ala-pb-undated", "nor-cab-undated", "unlabelled"}
EXEMPT = {"nor-cab-exempt"}

# (name, filters, public user, the rows it keeps)
CASES = [
    ("no filters", Filters(), False, ALL),
    ("undated admitted, no range", Filters(include_undated=True), False, ALL),
    ("council", Filters(council="City of Alameda"), False, {"ala-cc", "ala-pb", "ala-pb-undated"}),
    ("council in other case", Filters(council="CITY OF alameda"), False, {"ala-cc", "ala-pb", "ala-pb-undated"}),
    ("council with a non-ASCII letter", Filters(council="cyngor sir ynys môn"), False, {"mon-exec"}),
    ("council not in the index", Filters(council="Nowhere Parish Council"), False, set()),
    ("council named in part", Filters(council="Alameda"), False, set()),
    ("committee across councils", Filters(committee="planning board"), False,
     {"ala-pb", "ala-pb-undated", "nor-pb"}),
    ("council and committee", Filters(council="City of Alameda", committee="Planning Board"), False,
     {"ala-pb", "ala-pb-undated"}),
    ("council and another's committee", Filters(council="City of Alameda", committee="Cabinet"), False, set()),
    ("since, inclusive", Filters(since="2019-06-04"), False, {"ala-cc", "nor-cab", "nor-cab-exempt", "mon-exec"}),
    ("since the last day", Filters(since="2021-06-01"), False, {"nor-cab-exempt"}),
    ("since after every date", Filters(since="2022-01-01"), False, set()),
    ("since after every date, undated admitted", Filters(since="2022-01-01", include_undated=True), False, UNDATED),
    ("until, inclusive", Filters(until="2019-06-04"), False, {"ala-cc", "ala-pb", "nor-pb"}),
    ("until, undated admitted", Filters(until="2019-06-04", include_undated=True), False,
     {"ala-cc", "ala-pb", "nor-pb"} | UNDATED),
    ("until the first day", Filters(until="2016-12-31"), False, {"nor-pb"}),
    ("a leap day range", Filters(since="2020-02-29", until="2020-02-29"), False, {"mon-exec"}),
    ("a year", Filters(since="2019-01-01", until="2019-12-31"), False, {"ala-cc", "ala-pb"}),
    ("a year, undated admitted", Filters(since="2019-01-01", until="2019-12-31", include_undated=True), False,
     {"ala-cc", "ala-pb"} | UNDATED),
    ("since later than until", Filters(since="2021-01-01", until="2019-01-01"), False, set()),
    ("since later than until, undated admitted", Filters(since="2021-01-01", until="2019-01-01",
                                                         include_undated=True), False, UNDATED),
    ("council and since, undated admitted", Filters(council="City of Alameda", since="2019-04-01",
                                                    include_undated=True), False, {"ala-cc", "ala-pb-undated"}),
    ("committee and until", Filters(committee="cabinet", until="2021-05-31"), False, {"nor-cab"}),
    ("everything", Filters(council="norfolk county council", committee="CABINET", since="2021-05-01",
                           until="2021-06-30", include_undated=True), False,
     {"nor-cab", "nor-cab-exempt", "nor-cab-undated"}),
    # a public user: restricted rows are never kept, whatever the filters
    ("public: no filters", Filters(), True, ALL - EXEMPT),
    ("public: council", Filters(council="Norfolk County Council"), True, {"nor-cab", "nor-cab-undated", "nor-pb"}),
    ("public: since the last day", Filters(since="2021-06-01"), True, set()),
    ("public: a range, undated admitted", Filters(since="2021-05-01", until="2021-06-30", include_undated=True),
     True, {"nor-cab"} | UNDATED),
]


def _chunk(row_id: str, row: tuple) -> Chunk:
    council, committee, date, access = row
    text = f"The budget for {row_id} was discussed."
    return Chunk(id=row_id, text=text, embed_text=text, source=f"{row_id}.txt", page_start=1, page_end=1,
                 section="motion", council=council, committee=committee, meeting="Regular Meeting", date=date,
                 item="1", title="Budget", access=access)


class Stores:
    """The rows in every store, built once: catalogue (and BM25 over it), register, Chroma."""

    def __init__(self, folder: Path, rows: dict = ROWS):
        self.chunks = [_chunk(row_id, row) for row_id, row in rows.items()]
        self.catalog = Catalog(folder / "index.sqlite")
        for chunk in self.chunks:
            path = str(folder / chunk.source)
            record = FileRecord(path=path, source=chunk.source, sha256=chunk.id, size=1, mtime=0.0,
                                status="indexed", reason="", pages=1, chunks=1, metadata={})
            decision = Decision(id=f"d-{chunk.id}", source=chunk.source, page=1, council=chunk.council,
                                committee=chunk.committee, meeting=chunk.meeting, date=chunk.date, item=chunk.item,
                                title=chunk.title, kind="motion", text=chunk.text, outcome="carried",
                                chunk_id=chunk.id, path=path)
            self.catalog.record_indexed(record, [chunk], hooks=(
                lambda db, p, _chunks, d=decision: write_decisions(db, p, [d]),))
        self.lexical = LexicalIndex(self.catalog, folder / "index.bm25")
        self.public = PublicLexical(self.lexical, self.catalog.public_view())
        self.retriever = Retriever(settings=None, embedder=None, store=None, lexical=self.lexical)
        self.store = ChromaStore("conformance", folder)
        vectors = np.array([[1.0, i / 10, 0.5] for i in range(len(self.chunks))])
        self.store.upsert(self.chunks, vectors)

    def predicate(self, filters: Filters, public: bool) -> set[str]:
        return {c.id for c in self.chunks if filters.accepts(c.metadata(), public_only=public)}

    def chroma(self, filters: Filters, public: bool) -> set[str]:
        where = chroma_where(self.retriever.as_stored(filters))
        found = set(self.store._open().get(where=where, include=[])["ids"])
        if public:  # dense hits count only when the public view resolves them (Retriever.fuse)
            found = {i for i in found if self.public.chunk(i) is not None}
        return found

    def bm25(self, filters: Filters, public: bool) -> set[str]:
        lexical = self.public if public else self.lexical
        return {i for i, _score in lexical.search("budget", len(self.chunks), filters)}

    def sql(self, filters: Filters, public: bool) -> set[str]:
        register = DecisionRegister(self.catalog.public_view() if public else self.catalog)
        return {d.chunk_id for d in register.all(filters)}


FORMS = ("predicate", "chroma", "bm25", "sql")


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Stores:
    return Stores(tmp_path_factory.mktemp("filters-conformance"))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, filters, public, expected", CASES, ids=[c[0] for c in CASES])
def test_every_form_keeps_the_rows_the_table_says(stores, form, name, filters, public, expected):
    assert getattr(stores, form)(filters, public) == expected


def test_the_table_reaches_every_part_of_the_rule():
    """Each field, alone and together, with and without undated minutes and a public user."""
    filters = [c[1] for c in CASES]
    for field in ("council", "committee", "since", "until"):
        assert any(getattr(f, field) for f in filters), field
    assert any(f.include_undated and (f.since or f.until) for f in filters)
    assert any(f.council and f.committee and f.since and f.until and f.include_undated for f in filters)
    assert any(c[2] for c in CASES) and any(not c[2] for c in CASES)
    kept = set().union(*(c[3] for c in CASES))
    assert kept == ALL and any(EXEMPT <= c[3] for c in CASES if not c[2])  # a filter alone never hides exempt rows


# Where the forms are known to part (behaviour kept as it was; each xfail turns into a failure,
# strict, once the forms agree):
# - SQLite's lower() folds ASCII letters only, so the register misses a council named with a
#   non-ASCII capital that the index spells in lower case;
# - the Retriever gives Chroma one spelling per name, so when the index spells one committee
#   two ways (differing in case only), dense search finds the passages of one spelling only.
TWO_SPELLINGS = {
    "pb-title": ("City of Alameda", "Planning Board", "2019-03-11", "public"),
    "pb-capitals": ("City of Alameda", "PLANNING BOARD", "2019-04-08", "public"),
}


@pytest.mark.xfail(strict=True, reason="SQLite's lower() folds ASCII only")
def test_the_register_ignores_the_case_of_a_non_ascii_letter(stores):
    assert stores.sql(Filters(council="CYNGOR SIR YNYS MÔN"), False) == {"mon-exec"}


def test_the_other_forms_ignore_the_case_of_a_non_ascii_letter(stores):
    for form in ("predicate", "chroma", "bm25"):
        assert getattr(stores, form)(Filters(council="CYNGOR SIR YNYS MÔN"), False) == {"mon-exec"}, form


@pytest.fixture(scope="module")
def two_spellings(tmp_path_factory) -> Stores:
    return Stores(tmp_path_factory.mktemp("filters-two-spellings"), TWO_SPELLINGS)


@pytest.mark.parametrize("form", [
    pytest.param("chroma", marks=pytest.mark.xfail(strict=True, reason="one spelling per name reaches Chroma")),
    "predicate", "bm25", "sql",
])
def test_one_committee_spelled_two_ways_is_one_committee(two_spellings, form):
    assert getattr(two_spellings, form)(Filters(committee="planning board"), False) == set(TWO_SPELLINGS)

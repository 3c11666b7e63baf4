"""What a search is limited to, and the one place that says how: `Filters` (council,
committee, a date range, and whether a date range admits undated minutes), written out in
each form the stores need.

- `Filters.accepts(meta)`: the rule itself, as a Python predicate over chunk metadata;
- `chroma_where(filters)`: the Chroma `where` clause of the dense search;
- `mask(filters, columns)`: a boolean array over `Columns` (the BM25 index's chunks);
- `sql_where(filters)`: clauses and parameters over a table with `council`, `committee` and
  `date_int` columns (the decision register).

The rule: council and committee match whole names, ignoring case (Chroma compares exactly, so
the Retriever spells them as the index does before they reach it); `since` and `until` are
inclusive ISO dates compared on `date_int` (YYYYMMDD, 0 when the minutes state no date); an
undated passage is outside any range unless `include_undated`, and then it is inside every
range. Empty fields do not filter.

Access is not a filter: a restricted passage (`access` = "restricted" in its metadata)
passes any `Filters`; a public user's view hides it (`public_only` here, and the catalogue's
public view for SQL). tests/test_filters_conformance.py runs one table of cases against all
four forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .dates import date_to_int

RESTRICTED = "restricted"  # the access level of exempt passages (see access.py)


@dataclass(frozen=True)
class Filters:
    """What a search is limited to. Empty fields do not filter."""

    council: str = ""
    committee: str = ""
    since: str = ""  # ISO date, inclusive
    until: str = ""  # ISO date, inclusive
    include_undated: bool = False  # a date range a question implies also admits undated minutes

    def is_empty(self) -> bool:
        return not (self.council or self.committee or self.since or self.until)

    def accepts(self, meta: dict, public_only: bool = False) -> bool:
        """Whether a passage with this metadata (Chunk.metadata()) is within the filters; with
        `public_only`, a restricted passage never is."""
        if public_only and is_restricted(meta):
            return False
        if self.council and meta.get("council", "").lower() != self.council.lower():
            return False
        if self.committee and meta.get("committee", "").lower() != self.committee.lower():
            return False
        if not (self.since or self.until):
            return True
        day = int(meta.get("date_int", 0) or 0)
        if day == 0 and self.include_undated:
            return True
        if self.since and day < date_to_int(self.since):
            return False
        if self.until and (day == 0 or day > date_to_int(self.until)):
            return False
        return True


def is_restricted(meta: dict) -> bool:
    """For members and officers only (only restricted chunks carry `access` in their metadata)."""
    return meta.get("access") == RESTRICTED


# ---- Chroma -------------------------------------------------------------------------------

def chroma_where(filters: Filters) -> dict | None:
    """Filters as a Chroma `where` clause (exact council/committee, date range on date_int)."""
    clauses: list[dict] = []
    if filters.council:
        clauses.append({"council": filters.council})
    if filters.committee:
        clauses.append({"committee": filters.committee})
    dates: list[dict] = []
    if filters.since:
        dates.append({"date_int": {"$gte": date_to_int(filters.since)}})
    if filters.until:
        dates.append({"date_int": {"$lte": date_to_int(filters.until)}})
        dates.append({"date_int": {"$gt": 0}})
    if dates:
        in_range = dates[0] if len(dates) == 1 else {"$and": dates}
        clauses.append({"$or": [in_range, {"date_int": 0}]} if filters.include_undated else in_range)
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# ---- arrays (BM25) ------------------------------------------------------------------------

class Columns:
    """The fields the filters read, one array each over a list of chunks (in its order)."""

    def __init__(self, council: Iterable[str], committee: Iterable[str], date_int: Iterable[int],
                 restricted: Iterable[bool]):
        import numpy as np

        self.council = np.array([c.lower() for c in council], dtype=object)
        self.committee = np.array([c.lower() for c in committee], dtype=object)
        self.date_int = np.array(list(date_int), dtype=np.int64)
        self.restricted = np.array(list(restricted), dtype=bool)

    @classmethod
    def of_chunks(cls, chunks: list) -> "Columns":
        return cls([c.council for c in chunks], [c.committee for c in chunks],
                   [date_to_int(c.date) for c in chunks], [c.access == RESTRICTED for c in chunks])

    def __len__(self) -> int:
        return len(self.date_int)


def mask(filters: Filters, columns: Columns, public_only: bool = False):
    """A boolean array of the rows within the filters (and, with `public_only`, not restricted),
    or None when every row is."""
    import numpy as np

    out = None
    if not filters.is_empty():
        out = np.ones(len(columns), dtype=bool)
        if filters.council:
            out &= columns.council == filters.council.lower()
        if filters.committee:
            out &= columns.committee == filters.committee.lower()
        in_range = np.ones(len(columns), dtype=bool)
        if filters.since:
            in_range &= columns.date_int >= date_to_int(filters.since)
        if filters.until:
            in_range &= (columns.date_int <= date_to_int(filters.until)) & (columns.date_int > 0)
        if filters.include_undated:
            in_range |= columns.date_int == 0
        out &= in_range
    if public_only and columns.restricted.any():
        out = ~columns.restricted if out is None else out & ~columns.restricted
    return out


# ---- SQL ----------------------------------------------------------------------------------

def sql_where(filters: Filters) -> tuple[list[str], list]:
    """Filters as SQL clauses (to be joined with AND) and their parameters, over the columns
    `council`, `committee` and `date_int`."""
    where, params = [], []
    if filters.council:
        where.append("lower(council) = lower(?)")
        params.append(filters.council)
    if filters.committee:
        where.append("lower(committee) = lower(?)")
        params.append(filters.committee)
    dated, dated_params = [], []
    if filters.since:
        dated.append("date_int >= ?")
        dated_params.append(date_to_int(filters.since))
    if filters.until:
        dated.append("date_int > 0 AND date_int <= ?")
        dated_params.append(date_to_int(filters.until))
    if dated:  # undated rows only when the filters admit them
        clause = " AND ".join(dated)
        where.append(f"(date_int = 0 OR ({clause}))" if filters.include_undated else clause)
        params.extend(dated_params)
    return where, params

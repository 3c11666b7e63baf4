"""Finding and normalising dates in minutes (US and UK forms)."""

from __future__ import annotations

import re
from datetime import date

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for m in names
}
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
US_DATE = re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
UK_DATE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s*(\d{4})\b", re.I)  # "3 May2006" too
NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MONTH_YEAR = re.compile(_MONTH + r"\s+(\d{4})", re.I)


def date_to_int(iso: str) -> int:
    """'2019-06-04' -> 20190604; unknown dates -> 0."""
    return int(iso.replace("-", "")) if iso and len(iso) == 10 else 0


def _iso(y: int, m: int, d: int) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return ""


def find_dates(text: str, day_first: bool = True) -> list[tuple[int, str]]:
    """Every full date in `text` as (offset, ISO), in reading order. A date is only a date
    when the calendar has it (31 June is not). Numeric dates are read day first (UK)."""
    found = []
    for pattern, order in ((ISO_DATE, "ymd"), (US_DATE, "mdy"), (UK_DATE, "dmy"), (NUMERIC_DATE, "num")):
        for m in pattern.finditer(text):
            if order == "ymd":
                iso = _iso(int(m[1]), int(m[2]), int(m[3]))
            elif order == "mdy":
                iso = _iso(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
            elif order == "dmy":
                iso = _iso(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
            else:
                a, b = int(m[1]), int(m[2])
                iso = _iso(int(m[3]), b, a) if day_first else _iso(int(m[3]), a, b)
            if iso:
                found.append((m.start(), iso))
    return sorted(found)


def find_date(text: str, day_first: bool = True) -> str:
    """The first full date in `text` as ISO, or ''."""
    found = find_dates(text, day_first)
    return found[0][1] if found else ""


def human_date(iso: str) -> str:
    """'2024-09-26' -> '26 September 2024'."""
    if not iso:
        return ""
    y, m, d = (int(p) for p in iso.split("-"))
    return f"{d} {date(y, m, d).strftime('%B')} {y}"

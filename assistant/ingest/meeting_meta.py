"""Meeting metadata from what a person would read: council, committee (board, commission,
district ...) and meeting date, found in the title block of the first page, in the
document's own title (HTML <title>, Markdown front matter) and in the file name, each with
where it came from.

The rules are general, not written for one council: a body is a run of capitalised words
that ends in a body noun ("West Dereham Parish Council", "Planning Board", "Cork County
Council") or names a city or county ("City of Alameda"); a meeting date is a full date
(day, month and year, checked by the calendar) in the title block, preferring one that
follows a weekday or "held on". Nothing is invented: a field that cannot be found stays
empty. A folder's manifest always wins over anything found here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.dates import find_date, find_dates
from ..core.types import Document

# Where a field came from, shown beside it in search, answers and the sources panel.
FROM_MANIFEST, FROM_TEXT, FROM_TITLE, FROM_FILE_NAME = "manifest", "text", "title", "file name"

TITLE_BLOCK_LINES = 8  # non-empty lines at the top of the first page that can be its title block
TITLE_BLOCK_CHARS = 600  # a title block run into one long line is cut here
# The title block ends where the record starts: the attendance list or the first business.
RECORD_STARTS = re.compile(
    r"\b(?:present|in attendance|attendance|apologies|members present|roll call|councillors present|"
    r"also present|chair(?:man|person)?\s*:)\s*[:.\-–]?", re.I)

BODY_NOUNS = (r"(?:Council|Committee|Sub-?Committee|Board|Commission|Cabinet|Authority|Panel|Forum|Assembly|"
              r"Executive|Trust|Association|Parish Meeting|Town Meeting|Select Board|Board of Supervisors|"
              r"Board of Aldermen|Board of Education|Board of Trustees)")
_NOT_NAME = (r"(?!(?:Held|On|At|In|Minutes|Meeting|Draft|Dated?|Which|That|To|Was|Were|Is|Monday|Tuesday|Wednesday|"
             r"Thursday|Friday|Saturday|Sunday)\b)")
_WORD = _NOT_NAME + r"[A-Z][\w'’.&-]*"
_CAP = rf"(?:{_WORD}|&|and|of|for|the|on|upon|in|de|la)"
_OF_PLACE = rf"(?:\s+(?:of|for)\s+(?:the\s+)?{_WORD}(?:\s+(?:and\s+)?{_WORD}){{0,3}})?"
# A run of capitalised words ending in a body noun, optionally followed by "of <Place>".
BODY = re.compile(rf"(?<![\w'’])((?:{_WORD}\s+)(?:{_CAP}\s+){{0,7}}?{BODY_NOUNS}{_OF_PLACE}|{BODY_NOUNS}{_OF_PLACE})(?![\w'’])")
PLACE_BODY = re.compile(r"\b((?:City|County|Town|Village|Borough|Township|Municipality) of\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})")
MEETING_OF = re.compile(r"\bmeeting\s+of\s+(?:the\s+)?", re.I)
LEADING_NOISE = re.compile(r"^(?:(?:the|a|an|minutes?|draft|unconfirmed|approved|confirmed|record|of|for|from|annual|"
                           r"ordinary|extraordinary|regular|special|adjourned|joint|full|meeting|notes?|"
                           r"january|february|march|april|may|june|july|august|september|october|november|december|"
                           r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+)+", re.I)
COUNCIL_LIKE = re.compile(r"\bCouncil$|^(?:City|County|Town|Village|Borough|Township|Municipality) of\b|\bParish Meeting$"
                          r"|\bTown Meeting$", re.I)
WEEKDAY_OR_HELD = re.compile(
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|held|meeting|dated?|on)\W*$", re.I)
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


@dataclass(frozen=True)
class Found:
    value: str
    source: str  # FROM_MANIFEST, FROM_TEXT, FROM_TITLE or FROM_FILE_NAME


def split_front_matter(text: str) -> tuple[dict, str]:
    """Markdown front matter ('---' key: value lines '---') and the text after it."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    fields = {}
    for line in m[1].split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "-")):
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[m.end():]


def title_block(doc: Document) -> list[str]:
    """The first non-empty lines of the first page, up to where the record starts."""
    if not doc.pages:
        return []
    lines: list[str] = []
    for line in doc.pages[0].text.split("\n"):
        line = re.sub(r"\s+", " ", line).strip()
        if not line:
            continue
        start = RECORD_STARTS.search(line)
        if start and start.start() == 0:
            break
        if start and start.start() > 0:
            line = line[: start.start()].strip()
        lines.append(line[:TITLE_BLOCK_CHARS])
        if start and start.start() > 0 or len(lines) >= TITLE_BLOCK_LINES:
            break
    return lines


def meeting_date(lines: list[str]) -> str:
    """The meeting date of a title block: the first full date that follows a weekday,
    'held' or 'on' ('held on Monday, 23rd May, 2016'), else the first full date in it."""
    first = ""
    for line in lines:
        for start, iso in find_dates(line):
            if WEEKDAY_OR_HELD.search(line[max(0, start - 30):start]):
                return iso
            first = first or iso
    return first


TRAILING_NOISE = re.compile(r"\s+(?:held|on|at|in the|dated?)\b.*$", re.I)  # "... Parish Council Held On Thursday ..."
YEAR_FIRST = re.compile(r"^(?:19|20)\d\d\s+")  # "2008 Annual Wereham Parish Council"


def tidy_body(raw: str) -> str:
    """A body's name without what a title line adds around it: leading 'Minutes of the June
    meeting of the', a year or an 'Annual', trailing 'held on Thursday ...'; upper case in title case."""
    return _tidy_body(TRAILING_NOISE.sub("", raw))


def _tidy_body(raw: str) -> str:
    body = LEADING_NOISE.sub("", YEAR_FIRST.sub("", raw.strip(" ,.;:-–"))).strip(" ,.;:-–")
    if body.isupper() or sum(c.isupper() for c in body) > 0.7 * sum(c.isalpha() for c in body):
        body = " ".join(w if len(w) <= 2 and w.isupper() and w not in ("OF", "AND", "THE", "ON", "IN", "FOR") else w.capitalize()
                        for w in body.split())
        body = re.sub(r"\b(Of|And|The|For|On|In)\b", lambda m: m[0].lower(), body)
        body = body[:1].upper() + body[1:]
    return re.sub(r"\s+", " ", body)


def _caseless(text: str) -> str:
    """Upper-case words in title case and joining words in lower case, so one rule finds
    'STOKE FERRY PARISH COUNCIL', 'Board Of Zoning Appeals' and 'Cork County Council'.
    Keeps the length, so a span found here is the same span of the original."""
    text = re.sub(r"[A-Z][A-Z'’&.-]+", lambda m: m[0].capitalize(), text)
    return re.sub(r"\b(?:Of|And|The|For|On|In|Upon)\b", lambda m: m[0].lower(), text)


def bodies(text: str) -> list[str]:
    """Bodies a line of a title block names, the body a 'meeting of' introduces first."""
    found: list[str] = []
    probe = _caseless(text)
    source = text if len(probe) == len(text) else probe
    m = MEETING_OF.search(probe)
    starts = ([m.end()] if m else []) + [0]
    for start in starts:
        part = probe[start:]
        for match in list(BODY.finditer(part)) + list(PLACE_BODY.finditer(part)):
            body = _tidy_body(source[start + match.start(1):start + match.end(1)])
            bare = len(body.split()) == 1 and body.lower() not in ("cabinet", "executive")
            if body and not bare and body not in found:
                found.append(body)
    return found


def council_and_committee(names: list[str]) -> tuple[str, str]:
    """Sort the named bodies into the council (a council, or a city or county) and the
    committee (board, commission, cabinet, panel ...). A bare 'Parish Council' or 'City
    Council' with no place names no council."""
    council = committee = ""
    for name in names:
        generic = re.fullmatch(r"(?:The\s+)?(?:City|County|Town|Parish|Borough|District|Community|Village)?\s*Council", name, re.I)
        if COUNCIL_LIKE.search(name):
            if not council and not generic:
                council = name
        elif not committee:
            committee = name
    return council, committee


def date_from_file_name(name: str) -> str:
    """'2019-03-11.pdf', 'minutes-2016-05-23.html', '19-03-11 minutes.pdf', '20190311.pdf'."""
    stem = Path(name).stem
    m = re.search(r"(?<!\d)((?:19|20)\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)", stem)
    if m:
        return find_date(f"{m[1]}-{m[2]}-{m[3]}")
    m = re.search(r"(?<!\d)(\d\d)[-_.](0[1-9]|1[0-2])[-_.](0[1-9]|[12]\d|3[01])(?!\d)", stem)
    if m:
        return find_date(f"20{m[1]}-{m[2]}-{m[3]}")
    return ""


def discover(doc: Document) -> dict[str, Found]:
    """council, committee and date of a document's (first) meeting, each with its source.
    The manifest wins; then the first page's title block; then the document's own title;
    then, for the date, the file name."""
    found: dict[str, Found] = {}
    for key in ("council", "committee", "date"):
        if doc.metadata.get(key):
            found[key] = Found(str(doc.metadata[key]), FROM_MANIFEST)
    block = title_block(doc)
    candidates = [(block, FROM_TEXT)]
    if doc.title:
        candidates.append(([doc.title], FROM_TITLE))
    for lines, source in candidates:
        if "date" not in found:
            when = meeting_date(lines)
            if when:
                found["date"] = Found(when, source)
        names = [name for line in lines for name in bodies(line)]
        council, committee = council_and_committee(names)
        if council and "council" not in found:
            found["council"] = Found(council, source)
        if committee and "committee" not in found:
            found["committee"] = Found(committee, source)
    if "date" not in found and doc.pages:  # a running header or footer ("Regular Meeting ... June 4, 2019")
        when = meeting_date([line for page in doc.pages[:2] for line in page.header.split(" | ")])
        if when:
            found["date"] = Found(when, FROM_TEXT)
    if "date" not in found:
        when = date_from_file_name(doc.source)
        if when:
            found["date"] = Found(when, FROM_FILE_NAME)
    return found

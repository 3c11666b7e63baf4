"""The structure of minutes: meetings, agenda items, and the parts of an item.

Works on English committee minutes (ModernGov pages: "Agenda item", "Resolved that",
"Action -", "The Board agreed to note the report") and on US council minutes (numbered
items "(19-123) Recommendation to ...", "X moved approval ... Y seconded the motion, which
carried by the following voice vote: Ayes: ..."), where one file can hold several meetings.
The output is a flat list of Segments in reading order; a decision (a resolution with its
lettered points, a motion with its vote) is one Segment, never split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.dates import find_date
from ..core.types import Document, Segment
from .meeting_meta import FROM_FILE_NAME, FROM_MANIFEST, FROM_TEXT, bodies, discover, tidy_body

# ---- patterns -------------------------------------------------------------------------

MEETING_TITLE = re.compile(r"^\s*MINUTES OF THE\s+(?P<title>.+?MEETING)\b", re.I)
# "(05-081)", "(*15-189)", "(10-332A)", and in a joint meeting's minutes the body's code after
# the number: "(09-320 CC)", "(11-043 CIC)" (as decisions' ITEM_HEAD reads them)
US_ITEM = re.compile(r"^\s*\(\s*\*?\s*(?P<num>\d{2,4}\s?-\s?\d{1,4}[A-Z]?(?:\s+[A-Z]{2,5})?)\s*\)\s*(?P<rest>.*)", re.S)
AGENDA_ITEM_LABEL = re.compile(r"^\s*agenda item\s*$", re.I)
MODGOV_MEETING = re.compile(
    r"^\s*Meeting:\s*(?P<date>\d{1,2}/\d{1,2}/\d{4})\s*-\s*(?P<committee>.+?)\s*\(Item\s*(?P<item>[\w.]+)\)", re.I
)
NUMBERED_HEADING = re.compile(r"^\s*(?P<num>\d{1,3}[a-z]?)\.?\s+(?P<title>[A-Z][^.]{3,140})$")
COUNCIL_LINE = re.compile(
    r"^\s*(?P<council>[A-Z][A-Za-z .'&-]{1,60}?\s(?:City|County|Borough|District|Town|Parish)?\s?Council)\s*$"
)
UPPER_HEADING = re.compile(r"^[A-Z0-9][A-Z0-9 ,&'’/()\-–.:]{3,90}$")

RESOLUTION_START = re.compile(
    r"^\s*(?:it was\s+)?(?:resolved|agreed|decided)\b"
    r"|^\s*(?:RESOLVED|DECISION|DECIDED|AGREED)\b"
    r"|^\s*the\s+(?:[\w'’-]+\s+){0,6}?(?:board|committee|council|cabinet|panel|sub-committee|forum|commission)"
    r"\s+(?:agreed|resolved|decided|noted|approved|endorsed|recommended)\b"
    r"|^\s*the recommendations?\s+(?:was|were)\s+(?:proposed|moved|approved|agreed|carried)"
    r"|^\s*recommendations?\s+(?:approved|agreed|carried)",
    re.I,
)
ACTION_START = re.compile(r"^\s*actions?\s*(?:[-–—:]|point)", re.I)
MOTION = re.compile(r"\b(?:moved|move[sd]?\s+to|made a motion|motion (?:was )?made)\b", re.I)
VOTE = re.compile(
    r"seconded the motion|\bmotion\b.{0,80}\b(?:carried|failed|passed|lost)\b|\b(?:carried|failed) by\b"
    r"|^\s*(?:ayes|noes|nays|abstentions?)\s*[:\-–]|\broll call vote\b|\bby (?:a |the following )?(?:unanimous )?(?:voice |roll call )?vote\b",
    re.I,
)
LIST_ITEM = re.compile(r"^\s*(?:\(?[a-z]{1,2}\)|\(?[ivx]{1,4}\)|\(?\d{1,2}[.)]|[-•·–*])\s+", re.I)
PROCEDURAL = re.compile(
    r"^\s*(?:roll call|present:|absent:|convened|the meeting was|there being no further business|respectfully submitted"
    r"|the agenda for this meeting|mayor [\w ]+ (?:convened|adjourned)|(?:mayor|chair)\b.{0,40}\badjourned)",
    re.I,
)
# The paragraph of a PDF that opens the report out of closed session: a part of its own, under this title.
# (decisions/wording.py's CLOSED_REPORT_WORDS is a different rule: a passage that reports a decision made there.)
CLOSED_REPORT_OPENING = re.compile(r"^\s*(?:following the closed session|the city clerk announced that:?$)", re.I)
CLOSED_REPORT_TITLE = "Closed Session Report"
NAMED_SECTION = re.compile(r"^\s*(?:adjournment|roll call|consent calendar|closed session|oral communications.*|"
                           r"council referrals|council communications|city manager communications|agenda changes)\s*$", re.I)
SECTION_WORDS = 12  # an agenda section heading is at most this many words
MEETING_TITLE_WORDS = 40  # a mixed-case meeting title paragraph is at most this many words
ITEM_TITLE_WORDS = 40  # an item's title is cut to this many words
CLASSIFY_HEAD = 400  # characters of a paragraph read for a motion
VOTE_PARAGRAPHS = 3  # vote paragraphs after a motion kept with it
SKIP_LINES = re.compile(r"^\s*(?:supporting documents:?|additional documents:?|minutes:?)\s*$", re.I)


@dataclass
class _Para:
    text: str
    page_start: int
    page_end: int


@dataclass
class _State:
    council: str = ""
    committee: str = ""
    meeting: str = ""
    date: str = ""
    item: str = ""
    title: str = ""
    council_from: str = ""  # where each of council, committee and date came from (meeting_meta.FROM_*)
    committee_from: str = ""
    date_from: str = ""


# A sentence about an earlier meeting ("Minutes of the last meeting were agreed") is no title.
SENTENCE_VERB = re.compile(r"\b(?:was|were|had|has|have|been|be|is|are|agreed|approved|signed)\b", re.I)
BODY_NOUN = re.compile(r"\b(?:council|committee|board|commission|cabinet|authority|panel|forum|assembly|"
                       r"executive|trust|association|supervisors|aldermen|trustees)\b", re.I)


# ---- paragraphs -----------------------------------------------------------------------


def paragraphs(doc: Document) -> list[_Para]:
    """PDF text: blank-line separated, joined across a page break mid-sentence.
    Text and HTML: one paragraph a line (those files do not wrap lines)."""
    paras: list[_Para] = []
    if doc.kind != "pdf":
        for page in doc.pages:
            for line in page.text.split("\n"):
                if line.strip() and not SKIP_LINES.match(line):
                    paras.append(_Para(_norm(line), page.number, page.number))
        return paras
    for page in doc.pages:
        blocks = [part for block in re.split(r"\n\s*\n", page.text) for part in _split_at_meeting_title(block)]
        for i, block in enumerate(blocks):
            text = _norm(" ".join(block.split("\n")))
            if not text:
                continue
            if i == 0 and paras and _continues(paras[-1].text, text):
                paras[-1] = _Para(paras[-1].text + " " + text, paras[-1].page_start, page.number)
            else:
                paras.append(_Para(text, page.number, page.number))
    return paras


def _split_at_meeting_title(block: str) -> list[str]:
    """A meeting title printed right under the page's own header lines, with no blank line
    between them ("Special Meeting / Alameda City Council / November 7, 2007 / MINUTES OF
    THE SPECIAL CITY COUNCIL MEETING"), starts a paragraph of its own."""
    lines = block.split("\n")
    for n, line in enumerate(lines[1:], 1):
        if MEETING_TITLE.match(line) and line.upper() == line:
            return ["\n".join(lines[:n]), "\n".join(lines[n:])]
    return [block]


def _norm(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


def _continues(previous: str, first: str) -> bool:
    """True when a page break fell inside a paragraph."""
    if US_ITEM.match(first) or UPPER_HEADING.match(first) or MEETING_TITLE.match(first):
        return False
    return not re.search(r"[.:;!?”\"]\s*$", previous) or first[:1].islower()


# ---- the parser -----------------------------------------------------------------------


def parse(doc: Document) -> list[Segment]:
    """Split a document into Segments that carry meeting, item and section."""
    return _Parser(doc).run()


class _Parser:
    """One pass over a document's paragraphs. Each `_on_*` step looks at the paragraph at
    `self.i`: when it is what the step reads, the step emits its Segments, moves `self.i` past
    the paragraphs it took and returns True; otherwise it returns False and the next step
    looks. The last step (an item's body) takes every paragraph the others leave."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.meta = doc.metadata
        self.state, self.named_date = _initial_state(doc)
        self.page_header_date = {page.number: find_date(page.header, day_first=False) for page in doc.pages}
        self.paras = paragraphs(doc)
        self.out: list[Segment] = []
        self.i = 0
        self.expect_title = False

    def run(self) -> list[Segment]:
        steps = (self._on_meeting_title, self._on_modgov_meeting, self._on_agenda_item_label, self._on_expected_title,
                 self._on_us_item, self._on_modgov_numbered_title, self._on_closed_session_report,
                 self._on_section_heading, self._on_body)
        while self.i < len(self.paras):
            para = self.paras[self.i]
            next(step for step in steps if step(para))
        return self.out

    def _emit(self, text: str, kind: str, first: _Para, last: _Para) -> None:
        self.out.append(_segment(text, kind, first, last, self.state))

    def _on_meeting_title(self, para: _Para) -> bool:
        text, state, meta = para.text, self.state, self.meta
        m = MEETING_TITLE.match(text)
        if not (m and _is_meeting_title(m["title"], text)):
            return False
        title_words = m["title"].strip()
        state.meeting = title_words.title()
        if not meta.get("committee"):
            named = tidy_body(_committee_from_meeting(title_words) or _known_body(text)
                              or next((b for b in bodies(text) if BODY_NOUN.search(b)), ""))
            if named and BODY_NOUN.search(named):
                state.committee, state.committee_from = named, FROM_TEXT
        when = self.page_header_date.get(para.page_start) or find_date(text, day_first=False)
        if not when and self.i + 1 < len(self.paras):
            when = find_date(self.paras[self.i + 1].text, day_first=False)
        if not meta.get("date"):
            if self.named_date:
                state.date, state.date_from = self.named_date, FROM_FILE_NAME
            elif when:
                state.date, state.date_from = when, FROM_TEXT
        self.named_date = ""
        state.item, state.title = "", ""
        self._emit(text, "procedural", para, para)
        self.i += 1
        return True

    def _on_modgov_meeting(self, para: _Para) -> bool:
        """'Meeting: 26/09/2024 - Cabinet (Item 24)' over a ModernGov item page: no Segment."""
        state, meta = self.state, self.meta
        m = MODGOV_MEETING.match(para.text)
        if not m:
            return False
        if not meta.get("date") and find_date(m["date"]):
            state.date, state.date_from = find_date(m["date"]), FROM_TEXT
        if not meta.get("committee"):
            state.committee, state.committee_from = m["committee"].strip(), FROM_TEXT
        state.item = meta.get("item") or m["item"]
        self.i += 1
        return True

    def _on_agenda_item_label(self, para: _Para) -> bool:
        if not AGENDA_ITEM_LABEL.match(para.text):
            return False
        self.expect_title = True
        self.i += 1
        return True

    def _on_expected_title(self, para: _Para) -> bool:
        if not self.expect_title:
            return False
        self.expect_title = False
        if US_ITEM.match(para.text):  # "AGENDA ITEM" over "(20-437) Recommendation ...": an item, below
            return False
        self.state.title = self.meta.get("title") or para.text
        self._emit(para.text, "heading", para, para)
        self.i += 1
        return True

    def _on_us_item(self, para: _Para) -> bool:
        m = US_ITEM.match(para.text)
        if not m:
            return False
        self.state.item = re.sub(r"\s", "", m["num"])  # "09-320CC", as the decision records write it
        self.state.title = _item_title(m["rest"])
        self._emit(para.text, "heading", para, para)
        self.i += 1
        return True

    def _on_modgov_numbered_title(self, para: _Para) -> bool:
        state = self.state
        if not (self.doc.kind != "pdf" and (state.title or state.item) and _modgov_numbered_title(para.text, state)):
            return False
        # With no manifest the numbered heading of the item named by "Meeting: ... (Item 24)"
        # is where its title is read.
        heading_title = NUMBERED_HEADING.match(para.text)["title"]
        state.title = state.title or re.sub(r"\s+PDF\s+[\d.]+\s*[KM]B\s*$", "", heading_title)
        self._emit(para.text, "heading", para, para)
        self.i += 1
        return True

    def _on_closed_session_report(self, para: _Para) -> bool:
        if not (self.doc.kind == "pdf" and CLOSED_REPORT_OPENING.match(para.text)):
            return False
        self.state.item, self.state.title = "", CLOSED_REPORT_TITLE
        self._emit(para.text, "discussion", para, para)
        self.i += 1
        return True

    def _on_section_heading(self, para: _Para) -> bool:
        """An agenda section heading (CONSENT CALENDAR, CLOSED SESSION): what follows until
        the next numbered item belongs to it."""
        text = para.text
        if not ((UPPER_HEADING.match(text) or NAMED_SECTION.match(text)) and len(text.split()) <= SECTION_WORDS
                and not text.rstrip().endswith(".")):
            return False
        if self.doc.kind == "pdf" or not self.state.title:
            self.state.item, self.state.title = "", text.title()
        self._emit(text, "heading", para, para)
        self.i += 1
        return True

    def _on_body(self, para: _Para) -> bool:
        """A paragraph of an item, by its kind; a resolution or action keeps its list, a motion
        its second and vote."""
        text, i, paras = para.text, self.i, self.paras
        kind = classify(text)
        if kind in ("resolution", "action"):
            j = i + 1
            while j < len(paras) and (LIST_ITEM.match(paras[j].text) or _is_continuation(paras[j - 1].text)):
                if US_ITEM.match(paras[j].text) or ACTION_START.match(paras[j].text) and kind == "resolution":
                    break
                if RESOLUTION_START.match(paras[j].text) and kind == "action":
                    break
                j += 1
        elif kind == "motion":
            # A motion stays whole with its second and its vote.
            j = i + 1
            while j < len(paras) and j <= i + VOTE_PARAGRAPHS and classify(paras[j].text) == "vote":
                j += 1
        else:
            if kind == "discussion" and not self.state.item and not self.state.title and PROCEDURAL.match(text):
                kind = "procedural"
            self._emit(text, kind, para, para)
            self.i += 1
            return True
        block = paras[i:j]
        self._emit("\n".join(p.text for p in block), kind, block[0], block[-1])
        self.i = j
        return True


def _initial_state(doc: Document) -> tuple[_State, str]:
    """The state a document starts in, from its metadata, what its text says of itself and
    its running lines; and the date its file name gives its first meeting ('' if none)."""
    meta = doc.metadata
    found = discover(doc)
    header_council = "" if meta.get("council") else tidy_body(_council_from_headers(doc))
    # A file named after its meeting date (2019-06-04.pdf) dates its first meeting, whatever
    # a typo in its title or running header says; later meetings in it go by their own.
    named_date = "" if meta.get("date") else _date_from_name(doc.source)
    state = _State(item=str(meta.get("item", "") or ""), title=meta.get("title", ""))
    # The title block names the council better than a running line does ("Minutes of the
    # January meeting of Wretton Parish Council" is a heading, not a council); a running line
    # ("Alameda City Council" over every page) beats the document's title.
    if "council" in found and (found["council"].source in (FROM_MANIFEST, FROM_TEXT) or not header_council):
        state.council, state.council_from = found["council"].value, found["council"].source
    elif header_council:
        state.council, state.council_from = header_council, FROM_TEXT
    if "committee" in found:
        state.committee, state.committee_from = found["committee"].value, found["committee"].source
    if named_date:
        state.date, state.date_from = named_date, FROM_FILE_NAME
    elif "date" in found:
        state.date, state.date_from = found["date"].value, found["date"].source
    return state, named_date


def _is_meeting_title(title_words: str, text: str) -> bool:
    """'MINUTES OF THE REGULAR CITY COUNCIL MEETING ...' or 'Minutes of the meeting of the
    Wereham Parish Council held on ...', not 'Minutes of the last meeting were agreed.'"""
    if title_words.isupper():
        return True
    return len(text.split()) <= MEETING_TITLE_WORDS and not SENTENCE_VERB.search(text)


def classify(text: str) -> str:
    """The kind of one paragraph: resolution, action, motion, vote, procedural or discussion."""
    if ACTION_START.match(text):
        return "action"
    if RESOLUTION_START.match(text):
        return "resolution"
    head = text[:CLASSIFY_HEAD]
    if MOTION.search(head) and re.search(r"\b(?:moved|motion)\b", head, re.I):
        return "motion"
    if VOTE.search(text):
        return "vote"
    if PROCEDURAL.match(text):
        return "procedural"
    return "discussion"


def _is_continuation(text: str) -> bool:
    """A resolution that ends with a colon introduces the list that follows."""
    return text.rstrip().endswith(":")


def _segment(text: str, kind: str, first: _Para, last: _Para, state: _State) -> Segment:
    return Segment(
        text=text,
        kind=kind,
        page_start=first.page_start,
        page_end=last.page_end,
        council=state.council,
        committee=state.committee,
        meeting=state.meeting,
        date=state.date,
        item=state.item,
        title=state.title,
        council_from=state.council_from if state.council else "",
        committee_from=state.committee_from if state.committee else "",
        date_from=state.date_from if state.date else "",
    )


OUTCOME_TAIL = re.compile(
    r"\s*(?:Accepted|Approved|Adopted|Introduced|Ratified|Not heard|Withdrawn|Continued[^.]*|Postponed[^.]*|"
    r"Final passage[^.]*)\.?\s*$",
    re.I,
)


def _item_title(rest: str) -> str:
    """The title of a US item: its heading without the trailing outcome word, cut short."""
    title = OUTCOME_TAIL.sub("", rest.strip())
    words = title.split()
    return " ".join(words[:ITEM_TITLE_WORDS]) + (" …" if len(words) > ITEM_TITLE_WORDS else "")


def _modgov_numbered_title(text: str, state: _State) -> bool:
    """'24 Children and Young persons’ Improvement Plan – progress update PDF 235 KB'."""
    m = NUMBERED_HEADING.match(text)
    if not m or (state.item and m["num"] != state.item):
        return False
    return _simplify(state.title)[:20] in _simplify(m["title"]) or not state.title


def _simplify(text: str) -> str:
    return re.sub(r"\W+", " ", text).lower().strip()


def _committee_from_meeting(title: str) -> str:
    """'SPECIAL JOINT CITY COUNCIL AND ALAMEDA PUBLIC FINANCE AUTHORITY MEETING' -> 'City Council'."""
    upper = title.upper()
    if _known_body(upper):
        return _known_body(upper)
    words = re.sub(r"\b(?:SPECIAL|REGULAR|ADJOURNED|JOINT|CONTINUED|MEETING|OF THE)\b", " ", upper)
    return _norm(words).title()


def _known_body(text: str) -> str:
    """'MINUTES OF THE SPECIAL MEETING OF THE CITY COUNCIL ...' -> 'City Council'."""
    upper = text.upper()
    for body in ("CITY COUNCIL", "COUNTY COUNCIL", "BOARD OF SUPERVISORS", "CABINET", "PLANNING COMMISSION"):
        if body in upper:
            return body.title()
    return ""


def _council_from_headers(doc: Document) -> str:
    for page in doc.pages[:3]:
        # A running line can carry more after the name: "Alameda City Council 2September 20,
        # 2011" (page number and date), "Alameda City Council, Community Improvement".
        running = [re.split(r",|\s(?=\d)", line)[0] for line in page.header.split(" | ")]
        for line in running + page.text.split("\n")[:6]:
            m = COUNCIL_LINE.match(line)
            if m:
                return _norm(m["council"])
    return ""


def _date_from_name(source: str) -> str:
    """A file named after its meeting date (2019-06-04.pdf)."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", Path(source).name)
    return find_date(m[1]) if m else ""

"""An item's history: the decisions and discussions about one matter across meetings and
committees, as a dated timeline with a citation for every entry.

Linking, in order: the topic's words (BM25 over the catalogue's chunks, weighted by how rare
each word is), report / file / resolution / ordinance / item numbers that the matched
passages name (every other passage naming the same number joins the thread), and item
titles. Meeting dates come from the index; when the minutes do not state one, the entry is
placed by the latest date its text mentions as past ("after June 2023"), or last, marked
"date not stated". A decision that later minutes report with a date ("agreed by Cabinet in
December 2022") is an entry of its own, dated by what they say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from ..answer.evidence import META_WORDS
from ..answer.query import SMALL_WORDS
from ..core.dates import MONTHS, human_date
from ..core.labels import meeting_label
from ..core.types import Chunk, Filters
from .extract import references
from .records import TimelineEntry

MAX_ENTRIES = 40
PASSAGES_SEARCHED = 120  # BM25 hits read for the topic
PASSAGE_FLOOR = 0.5  # the least share of the topic's weighted words a passage must hold ...
PASSAGE_SHARE = 0.75  # ... or this share of the best passage's coverage, when that is higher
PHRASE_BONUS = 0.2  # added to a text's coverage when it holds the topic's words as a phrase
TITLE_WEIGHT = 2.0  # an item whose title holds the topic counts this much for its council
REFERENCES_FOLLOWED = 20  # report, resolution and item numbers whose other passages join the thread
DECISION_FLOOR = 0.6  # a decision's own coverage needed (or the passage threshold, when lower)
ORDINAL_SPAN = 10000  # entry order: a chunk's ordinal * this + the decision's ordinal in the file
ITEM_NUMBER = re.compile(r"(?:^|\n)\s*(?:\*{3}\s*)?\(\s*\*?\s*(\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2})\s*[/)]")
SENTENCE = re.compile(r"(?<=[.!?;])[\"”’)]?\s+(?=[A-Z(\"“‘\[])")
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
FULL_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+((?:19|20)\d\d)\b|\b{_MONTH}\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b")
MONTH_YEAR = re.compile(rf"\b{_MONTH},?\s+((?:19|20)\d\d)\b")
FUTURE = re.compile(
    r"\b(?:will|would|shall|next|due\s+to|expected|anticipated|planned|scheduled|by\s+the\s+end|no\s+later\s+than|"
    r"upcoming|forthcoming|until|deadline|target)\b",
    re.I,
)
REPORTED = re.compile(
    r"\b(?:was|were|had\s+been|has\s+been)\s+(?P<verb>agreed|approved|endorsed|adopted|signed\s+off|ratified|resolved)"
    r"\s+by\s+(?:the\s+)?(?P<body>[^.;]{3,90}?)\s+(?:in|on)\s+(?P<when>(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    rf"{_MONTH},?\s+(?:\d{{1,2}},?\s+)?(?:19|20)\d\d)",
    re.I,
)


@dataclass
class History:
    topic: str
    entries: list = field(default_factory=list)  # TimelineEntry, oldest first
    council: str = ""  # the council whose thread this is ("" when unknown)
    other_councils: dict = field(default_factory=dict)  # council -> entries left out

    @property
    def latest(self):
        return next((e for e in self.entries if e.latest), None)

    def to_json(self) -> dict:
        return {
            "topic": self.topic,
            "council": self.council,
            "entries": [dict(e.to_json(), n=n) for n, e in enumerate(self.entries, 1)],
            "latest": next((n for n, e in enumerate(self.entries, 1) if e.latest), None),
            "other_councils": self.other_councils,
        }


class _Topic:
    """The topic's stemmed words weighted by rarity, and its plain phrase."""

    def __init__(self, lexical, topic: str):
        self.lexical = lexical
        words = [w for w in re.findall(r"[\w$£'’-]+", topic.lower()) if w not in SMALL_WORDS]
        content = [w for w in words if w not in META_WORDS] or words
        self.query = " ".join(content)
        self.phrase = _plain_spaced(" ".join(content))
        self.is_phrase = len(self.phrase.split()) > 1
        terms = lexical.terms(self.query)
        self.terms = list(dict.fromkeys(terms))
        lexical.ensure_current()
        self.weights = {t: lexical.idf(t) for t in self.terms}
        self.total = sum(self.weights.values()) or 1.0

    def coverage(self, text: str) -> float:
        if not self.terms:
            return 0.0
        present = set(self.lexical.terms(text))
        score = sum(w for t, w in self.weights.items() if t in present) / self.total
        if self.is_phrase and self.has_phrase(text):
            score += PHRASE_BONUS
        return score

    def has_phrase(self, text: str) -> bool:
        return self.is_phrase and self.phrase in _plain_spaced(text)


def _plain(text: str) -> str:
    return re.sub(r"[^\w\s]", " ", text.lower().replace("’", "'")).replace("  ", " ")


def _plain_spaced(text: str) -> str:
    return re.sub(r"\s+", " ", _plain(text))


def build_history(register, topic: str, filters: Filters = Filters(), max_entries: int = MAX_ENTRIES) -> History:
    """The topic's timeline: the passages about it (1), kept to one council (2), joined by the
    passages naming the same numbers (3), made into entries (4), the most relevant of which are
    kept and dated (5)."""
    lexical = register.lexical
    t = _Topic(lexical, topic)
    history = History(topic)
    if not t.terms:
        return history
    kept, threshold = _topic_passages(lexical, t, filters)
    if not kept:
        return history
    council = _choose_council(history, kept, t, filters)
    refs = _add_referenced(register, kept, threshold, council, filters)
    entries = _entries(register, kept, t, threshold, refs)
    chosen = _date_by_text(register, _most_relevant(entries, max_entries))
    chosen.sort(key=_order)
    latest = _latest(chosen)
    history.entries = [replace(e, latest=True) if e is latest else e for e in chosen]
    return history


def _topic_passages(lexical, t: _Topic, filters: Filters) -> tuple[dict[str, tuple[float, Chunk, str]], float]:
    """1. The passages about the topic, {chunk id: (coverage, chunk, link)}, with the coverage
    they had to reach: at least PASSAGE_FLOOR, and PASSAGE_SHARE of the best passage's."""
    scored: dict[str, tuple[float, Chunk, str]] = {}
    for chunk_id, _score in lexical.search(t.query, PASSAGES_SEARCHED, filters):
        chunk = lexical.chunk(chunk_id)
        if chunk is None:
            continue
        cov = t.coverage(f"{chunk.title} {chunk.item} {chunk.text}")
        scored[chunk_id] = (cov, chunk, "topic")
    if t.is_phrase and any(t.has_phrase(c[1].title + " " + c[1].text) for c in scored.values()):
        # the topic's words as a phrase ('improvement plan') where some passages have it
        scored = {cid: sc for cid, sc in scored.items() if t.has_phrase(sc[1].title + " " + sc[1].text)}
    best = max((s[0] for s in scored.values()), default=0.0)
    threshold = max(PASSAGE_FLOOR, PASSAGE_SHARE * best)
    return {cid: s for cid, s in scored.items() if s[0] >= threshold}, threshold


def _choose_council(history: History, kept: dict, t: _Topic, filters: Filters) -> str:
    """2. The council whose thread it is (most meeting items about it, titles counting
    TITLE_WEIGHT times); the others' passages leave `kept` and are counted and named."""
    weight: dict[str, float] = {}
    seen_items: set = set()
    for cov, chunk, _ in sorted(kept.values(), key=lambda s: -s[0]):
        key = (chunk.council, chunk.source, chunk.item or chunk.title)
        if not chunk.council or key in seen_items:
            continue
        seen_items.add(key)
        factor = TITLE_WEIGHT if t.has_phrase(chunk.title) else 1.0
        weight[chunk.council] = weight.get(chunk.council, 0.0) + cov * factor
    council = filters.council or (max(weight, key=lambda c: (weight[c], c)) if weight else "")
    history.council = council
    for cid, (cov, chunk, _) in list(kept.items()):
        if council and chunk.council and chunk.council.lower() != council.lower():
            history.other_councils[chunk.council] = history.other_councils.get(chunk.council, 0) + 1
            del kept[cid]
    return council


def _add_referenced(register, kept: dict, threshold: float, council: str, filters: Filters) -> dict[str, str]:
    """3. Passages that name the same report, resolution, ordinance or item numbers join
    `kept`. Returns the references found, {reference: first chunk id naming it}."""
    refs: dict[str, str] = {}
    for cov, chunk, _ in kept.values():
        for ref in references(chunk.text):
            refs.setdefault(ref, chunk.id)
    for ref in list(refs)[:REFERENCES_FOLLOWED]:
        for chunk in _chunks_naming(register, ref):
            if chunk.id in kept or not filters.accepts(chunk.metadata()):
                continue
            if council and chunk.council and chunk.council.lower() != council.lower():
                continue
            kept[chunk.id] = (threshold, chunk, f"reference {ref}")
    return refs


def _entries(register, kept: dict, t: _Topic, threshold: float, refs: dict) -> list[tuple[float, TimelineEntry]]:
    """4. (relevance, entry) for each meeting item: its relevant decisions (wherever on the
    item they are recorded), or its best passage; and earlier decisions its minutes report."""
    by_chunk: dict[str, list] = {}
    for d in register.in_chunks(kept):
        by_chunk.setdefault(d.chunk_id, []).append(d)
    by_item: dict[tuple, list] = {}
    for source in {chunk.source for _, chunk, _ in kept.values()}:
        for d in register.of_file(source):
            if d.item:
                by_item.setdefault((source, d.item), []).append(d)
    ordinal_of = {cid: sc[1].ordinal for cid, sc in kept.items()}
    groups: dict[tuple, list[tuple[float, Chunk, str]]] = {}
    for cov, chunk, link in kept.values():
        groups.setdefault((chunk.source, chunk.date, chunk.meeting, chunk.item or chunk.title), []).append((cov, chunk, link))
    entries = []
    for (source, _date, _meeting, _item), members in groups.items():
        members.sort(key=lambda m: (-m[0], m[1].ordinal))
        found = _item_decisions(source, members, by_chunk, by_item, t, threshold, refs)
        if found:
            for own, d, link in found:
                ordinal = ordinal_of.get(d.chunk_id, 0) * ORDINAL_SPAN + d.ordinal
                entries.append((own, replace(_decision_entry(d, link), ordinal=ordinal)))
        else:
            cov, chunk, link = members[0]
            entries.append((cov, replace(_discussion_entry(chunk, t, link), ordinal=chunk.ordinal * ORDINAL_SPAN)))
        entries.extend((cov, e) for cov, e in _reported([m[1] for m in members], t, threshold))
    return entries


def _item_decisions(source: str, members: list, by_chunk: dict, by_item: dict, t: _Topic, threshold: float,
                    refs: dict) -> list[tuple[float, object, str]]:
    """(relevance, decision, link) of one meeting item's decisions that are about the topic:
    those in its passages, and those recorded on the item numbers its passages print."""
    candidates = {}
    for cov, chunk, link in sorted(members, key=lambda m: m[1].ordinal):
        for d in by_chunk.get(chunk.id, []):
            candidates.setdefault(d.id, (d, link))
    link = members[0][2]
    numbers = {members[0][1].item} if members[0][1].item else set()
    for _, chunk, _ in members:  # item headings printed in the passages ('(22-186 A) Resolution ...')
        numbers.update(re.sub(r"\s", "", m[1]) for m in ITEM_NUMBER.finditer(chunk.text))
    for number in numbers:
        for d in by_item.get((source, number), []):
            candidates.setdefault(d.id, (d, link))
    found = []
    for d, link in candidates.values():
        own = t.coverage(f"{d.title} {d.item} {d.text}")
        linked = link.startswith("reference") and any(r in d.refs for r in refs)
        if own >= min(threshold, DECISION_FLOOR) or linked:
            found.append((own, d, link))
    return found


def _most_relevant(entries: list[tuple[float, TimelineEntry]], max_entries: int) -> list[TimelineEntry]:
    """5a. The most relevant entries, at most `max_entries`."""
    entries.sort(key=lambda ce: -ce[0])
    return [e for _, e in entries[:max_entries]]


def _date_by_text(register, chosen: list[TimelineEntry]) -> list[TimelineEntry]:
    """5b. Entries whose minutes state no date, placed after the latest date their text
    mentions as past."""
    dated_by_text: dict[str, tuple[str, str]] = {}
    for i, e in enumerate(chosen):
        if e.date_basis == "not stated":
            if e.source not in dated_by_text:
                dated_by_text[e.source] = _date_from_text(register, e.source)
            sort_date, mentioned = dated_by_text[e.source]
            if sort_date:
                chosen[i] = replace(e, date_basis="inferred", sort_date=sort_date + "~",
                                    when=f"date not stated (after {mentioned}, by the dates its text mentions)")
    return chosen


def _order(e) -> tuple:
    return (0 if e.sort_date else 1, e.sort_date or "", e.source, e.ordinal, e.page)


def _latest(entries: list):
    """The latest dated decision (not an action) in the timeline."""
    dated = [e for e in entries if e.kind == "decision" and e.sort_date and e.decision_kind != "action"]
    return dated[-1] if dated else None


def _when(date: str) -> tuple[str, str, str]:
    if date:
        return human_date(date), "meeting", date
    return "date not stated", "not stated", ""


def _decision_entry(d, link: str):
    when, basis, sort_date = _when(d.date)
    return TimelineEntry(
        date=d.date, council=d.council, committee=d.committee, item=d.item, title=d.title, kind="decision",
        text=d.text, source=d.source, page=d.page, chunk_id=d.chunk_id, outcome=d.outcome, when=when,
        date_basis=basis, sort_date=sort_date, decision_id=d.id, decision_kind=d.kind, mover=d.mover,
        seconder=d.seconder, vote=d.vote_summary(), action_owner=d.action_owner, link=link,
    )


def _sentences(text: str) -> list[str]:
    out = []
    for para in text.split("\n"):
        for sentence in SENTENCE.split(para.strip()):
            sentence = sentence.strip()
            if len(sentence) > 3:
                out.append(sentence if len(sentence) <= 420 else sentence[:420].rsplit(" ", 1)[0])
    return out


def _discussion_entry(chunk: Chunk, t: _Topic, link: str):
    title = _plain_spaced(chunk.title)
    sentences = [s for s in _sentences(chunk.text) if len(s) >= 40 and _plain_spaced(s) not in title
                 and title not in _plain_spaced(s)[: len(title) + 12]]
    sentences = sentences or _sentences(chunk.text) or [chunk.text[:300]]
    quote = max(sentences, key=lambda s: (t.coverage(s), -chunk.text.find(s)))
    when, basis, sort_date = _when(chunk.date)
    return TimelineEntry(
        date=chunk.date, council=chunk.council, committee=chunk.committee, item=chunk.item, title=chunk.title,
        kind="discussion", text=quote, source=chunk.source, page=chunk.page_start, chunk_id=chunk.id, when=when,
        date_basis=basis, sort_date=sort_date, link=link,
    )


def _reported(chunks: list[Chunk], t: _Topic, threshold: float) -> list:
    """'The improvement plan was agreed by Children’s Scrutiny and Cabinet in December 2022':
    an earlier decision that these minutes report, dated by what they say."""
    out = []
    for chunk in chunks:
        for sentence in _sentences(chunk.text):
            m = REPORTED.search(sentence)
            if not m or FUTURE.search(sentence[: m.start()]):
                continue
            cov = t.coverage(sentence)
            if cov < min(threshold, DECISION_FLOOR):
                continue
            sort_date, shown = _parse_when(m["when"])
            if not sort_date:
                continue
            out.append((cov, TimelineEntry(
                date="", council=chunk.council, committee=m["body"].strip(), item="", title=chunk.title,
                kind="decision", text=sentence, source=chunk.source, page=chunk.page_start, chunk_id=chunk.id,
                outcome=_reported_outcome(m["verb"]), when=f"{shown} (reported in later minutes)",
                date_basis="reported", sort_date=sort_date, decision_kind="reported", link="reported",
                reported_in=chunk.committee, ordinal=chunk.ordinal * ORDINAL_SPAN,
            )))
    return out


def _reported_outcome(verb: str) -> str:
    verb = verb.lower()
    return "agreed" if verb.startswith(("agreed", "signed")) else "approved"


def _parse_when(text: str) -> tuple[str, str]:
    """('2022-12', 'December 2022') or ('2024-09-26', '26 September 2024')."""
    m = FULL_DATE.search(text)
    if m:
        if m[1]:
            day, month, year = int(m[1]), MONTHS[m[2].lower()], int(m[3])
        else:
            month, day, year = MONTHS[m[4].lower()], int(m[5]), int(m[6])
        iso = f"{year:04d}-{month:02d}-{day:02d}"
        try:
            return iso, human_date(iso)
        except ValueError:
            return "", ""
    m = MONTH_YEAR.search(text)
    if m:
        return f"{int(m[2]):04d}-{MONTHS[m[1].lower()]:02d}", f"{m[1].title()} {m[2]}"
    return "", ""


def _date_from_text(register, source: str) -> tuple[str, str]:
    """The latest date an undated file's text mentions as past: ('2023-06', 'June 2023')."""
    rows = register.catalog._conn().execute(
        "SELECT text FROM chunks WHERE json_extract(metadata, '$.source') = ? ORDER BY ordinal", (source,)
    ).fetchall()
    best = ("", "")
    for (text,) in rows:
        for sentence in _sentences(text):
            if FUTURE.search(sentence):
                continue
            for pattern in (FULL_DATE, MONTH_YEAR):
                for m in pattern.finditer(sentence):
                    found = _parse_when(m[0])
                    if found[0] and found[0] > best[0]:
                        best = found
    return best


def _chunks_naming(register, ref: str) -> list[Chunk]:
    """Chunks whose text names a reference ('Resolution No. 15543', 'Item 19-342')."""
    kind, _, number = ref.partition(" ")
    if kind == "Item":
        patterns = [f"%({number})%", f"%(*{number})%", f"%no. {number}%", f"%nos. {number}%", f"%and {number}]%"]
    else:
        patterns = [f"%{kind} No. {number}%", f"%{kind} No {number}%", f"%{kind} Number {number}%"]
    where = " OR ".join("text LIKE ?" for _ in patterns)
    rows = register.catalog._conn().execute(
        f"SELECT id, text, embed_text, metadata FROM chunks WHERE {where} LIMIT 30", patterns
    ).fetchall()
    return [Chunk.from_stored(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def label_of(e) -> str:
    """Whose words: 'Herefordshire Council, Cabinet, 26 September 2024, item 24 (Title)'."""
    committee = getattr(e, "reported_in", "") if getattr(e, "date_basis", "") == "reported" else e.committee
    return meeting_label(e.council, committee, e.date, e.item, e.title)


__all__ = ["History", "build_history", "label_of"]

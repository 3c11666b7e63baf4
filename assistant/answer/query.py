"""Understanding a question: its intent, the filters it states plainly, and — for a
follow-up — a standalone version built from the conversation."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace

from ..core.dates import MONTHS, US_DATE, UK_DATE, find_date
from ..retrieve.hybrid import GENERIC_BODY_WORDS
from ..core.types import Filters

INTENTS = [
    # A question that opens by asking for a number or a date wants that, whatever else it says.
    ("amount", re.compile(r"^\s*(?:how much|how many|for how much|what (?:was|is|were) the (?:amount|cost|price|value|sum))\b", re.I)),
    ("vote", re.compile(r"\b(vote[sd]?|voting|moved|mover|second(?:ed|er)|ayes?|noes?|nays?|motion|abstain\w*|unanimous\w*)\b", re.I)),
    ("when", re.compile(r"^\s*(when|what date|which date|on what date)\b", re.I)),
    ("decision", re.compile(r"\b(resolv\w*|resolution|decid\w*|decision|agree\w*|approv\w*|adopt\w*|endors\w*|outcome|conclu\w*|authoriz\w*|authoris\w*)\b", re.I)),
    ("who", re.compile(r"^\s*(who|whom|which (?:councillor|councilmember|member|officer|person))\b", re.I)),
    ("amount", re.compile(r"\b(how much|how many|amount|cost|price|budget|\$|£|fee)\b", re.I)),
    ("action", re.compile(r"\b(action|actions|follow[- ]up|undert\w+|to do)\b", re.I)),
]
ANAPHORA = re.compile(
    r"\b(it|its|that|this|these|those|they|them|their|he|she|him|her|there|then|the same|the item|the motion|"
    r"the plan|the report|the decision|the resolution)\b",
    re.I,
)
FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|and what|but)\b", re.I)
CONTENT_WORD = re.compile(r"[A-Za-z0-9$£][\w$£'’.,-]*")
SMALL_WORDS = set(
    """a an the and or but of to in on at for by with from about as is are was were be been being do did does
    what which who whom whose when where why how that this these those it its they them their there then than
    any some all can could would should will shall may might must has have had not no yes please tell me us
    say said also just""".split()
)


@dataclass(frozen=True)
class QueryPlan:
    question: str
    standalone: str
    filters: Filters  # hard: set by the user (CLI flags, the chat's filter boxes); they exclude
    intent: str  # vote | decision | when | who | amount | action | general
    is_follow_up: bool = False
    prefer: Filters = Filters()  # soft: a council, committee or dates the question names; they rank
    # The words whose presence in a passage shows it addresses the question. For a follow-up
    # (without the LLM's rewrite): the question and the conversation's last question, not the
    # words of the last answer that `standalone` also carries to find the same passages.
    topic: str = ""
    # When the question names two or more meetings (two dates, two councils): what it names
    # of each, searched for one by one so the answer can quote each; `prefer` then spans them.
    parts: tuple[Filters, ...] = ()

    @property
    def topic_text(self) -> str:
        return self.topic or self.standalone

    def for_part(self, part: Filters) -> "QueryPlan":
        return replace(self, prefer=part, parts=())


def intent_of(question: str) -> str:
    for name, pattern in INTENTS:
        if pattern.search(question):
            return name
    return "general"


def content_words(text: str) -> list[str]:
    return [w.strip(".,'’").lower() for w in CONTENT_WORD.findall(text) if w.strip(".,'’").lower() not in SMALL_WORDS]


def normalise_history(history) -> list[dict]:
    """Accept [{"role", "content"}] or Gradio-style [[user, assistant], ...]."""
    out: list[dict] = []
    for turn in history or []:
        if isinstance(turn, dict):
            content = turn.get("content")
            if isinstance(content, list):  # gradio multimodal message
                content = " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
            if turn.get("role") in ("user", "assistant") and content:
                out.append({"role": turn["role"], "content": str(content)})
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            if turn[0]:
                out.append({"role": "user", "content": str(turn[0])})
            if turn[1]:
                out.append({"role": "assistant", "content": str(turn[1])})
    return out


def is_follow_up(question: str, history: list[dict]) -> bool:
    if not any(t["role"] == "user" for t in history):
        return False
    return bool(ANAPHORA.search(question) or FOLLOW_UP_START.match(question) or len(content_words(question)) <= 2)


def stated_filters(question: str, committees: list[str], councils: list[str]) -> Filters:
    """Filters the question states plainly: a committee or council known to the index, a
    date, a month, a year, or a range of years."""
    lowered = " " + re.sub(r"[^\w\s&]", " ", question.lower()) + " "
    council = _longest_mention(lowered, councils, distinctive=True)
    # A council's full meeting is often recorded with the council as its committee too:
    # a name the question gives once is the council, not also a committee.
    committee = _longest_mention(lowered, [c for c in committees if c.lower() != council.lower()])
    since, until = date_range(question)
    return Filters(council=council, committee=committee, since=since, until=until, include_undated=bool(since or until))




def _name_pattern(name: str, distinctive: bool) -> str:
    """How a question writes a known name ('' for a name with no words). With `distinctive`,
    a council is also recognised by its own words alone ('Herefordshire' for 'Herefordshire Council')."""
    words = re.sub(r"[^\w\s&]", " ", name.lower()).split()
    if distinctive:
        words = [w for w in words if w not in GENERIC_BODY_WORDS] or words
    return r"\b" + r"\s+".join(re.escape(w) for w in words) + r"(?:s|'s|’s)?\b" if words else ""


def _mentions(lowered: str, names: list[str], distinctive: bool = False) -> list[str]:
    """The known names the question mentions, in the order it mentions them; a name inside a
    longer one found is not counted again."""
    found: list[tuple[int, int, str]] = []
    for name in sorted(names, key=len, reverse=True):
        pattern = _name_pattern(name, distinctive)
        for m in re.finditer(pattern, lowered) if pattern else ():
            if not any(a <= m.start() and m.end() <= b for a, b, _ in found):
                found.append((m.start(), m.end(), name))
    return list(dict.fromkeys(name for _, _, name in sorted(found)))


def _longest_mention(lowered: str, names: list[str], distinctive: bool = False) -> str:
    """The longest known name the question mentions."""
    found = ""
    for name in names:
        pattern = _name_pattern(name, distinctive)
        if pattern and re.search(pattern, lowered) and len(name) > len(found):
            found = name
    return found


MEETING_DAY = re.compile(
    r"\b(?:on|held on|dated|meeting of|meeting on)\s+((?:\w+day,?\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+\w+,?\s+\d{4}|\w+\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}))",
    re.I,
)
YEAR_RANGE = re.compile(r"\bbetween\s+((?:19|20)\d\d)\s+and\s+((?:19|20)\d\d)\b", re.I)
SINCE_YEAR = re.compile(r"\b(?:since|after|from)\s+((?:19|20)\d\d)\b", re.I)
BEFORE_YEAR = re.compile(r"\b(?:before|until|prior to)\s+((?:19|20)\d\d)\b", re.I)
MONTH_YEAR = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)\s+((?:19|20)\d\d)\b", re.I
)
OPENS_RANGE = ("since", "after", "from")
CLOSES_RANGE = ("until", "till", "before", "prior to", "by")
LONE_YEAR = re.compile(r"\b(?:in|during|of|for)\s+((?:19|20)\d\d)\b(?!\s*-)", re.I)
# A financial year ("FY 2012-2013", "2019/20", "2012-13"): its budget or precept is set in the
# first year and amended up to the end of the second. It is what a decision is about, not when
# the meeting was, so it names no meeting part and gives way to a month the question names.
TWO_YEARS = re.compile(r"\b((?:19|20)\d\d)\s*[-/–]\s*((?:19|20)?\d\d)\b(?![-/–]\d)")


def financial_years(question: str) -> list[tuple[str, str]]:
    """(since, until) of each financial year named: two years running, the second perhaps in
    two digits (so an ISO date's '2019-03' is not one)."""
    found = []
    for m in TWO_YEARS.finditer(question):
        first, second = int(m[1]), m[2]
        if (int(second) if len(second) == 4 else first // 100 * 100 + int(second)) == first + 1:
            found.append((f"{first}-01-01", f"{first + 1}-12-31"))
    return found


def date_range(question: str) -> tuple[str, str]:
    m = MEETING_DAY.search(question)
    if m:
        day = find_date(m[1], day_first=True)
        if day:
            return day, day
    m = YEAR_RANGE.search(question)
    if m:
        a, b = sorted((int(m[1]), int(m[2])))
        return f"{a}-01-01", f"{b}-12-31"
    m = MONTH_YEAR.search(question)
    if m:
        month, year = MONTHS[m[1].lower()], int(m[2])
        first, last = f"{year}-{month:02d}-01", f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        # "since March 2019" opens a range, "until May 2021" closes one; neither is the meeting's month.
        leading = question[:m.start()].rstrip().lower()
        if leading.endswith(OPENS_RANGE):
            return first, ""
        if leading.endswith(CLOSES_RANGE):
            return "", last
        return first, last
    years = financial_years(question)
    if years:
        return years[0]
    since = SINCE_YEAR.search(question)
    before = BEFORE_YEAR.search(question)
    if since or before:
        return (f"{since[1]}-01-01" if since else "", f"{int(before[1]) - 1}-12-31" if before else "")
    m = LONE_YEAR.search(question)
    if m:
        return f"{m[1]}-01-01", f"{m[1]}-12-31"
    return "", ""


PART_YEAR = re.compile(r"\b(?:in|during|of|for|the)\s+((?:19|20)\d\d)\b(?![-/–])", re.I)


def date_mentions(question: str) -> list[tuple[str, str]]:
    """Every meeting date the question names, as (since, until), in the order named: a day, a
    month or a year ('in March 2006, and ... in January 2009'). None for a question that names
    a range ('between 2006 and 2009', 'since 2019'): that is one span, not several meetings."""
    if YEAR_RANGE.search(question) or SINCE_YEAR.search(question) or BEFORE_YEAR.search(question):
        return []
    found: list[tuple[int, int, str, str]] = []
    for m in MEETING_DAY.finditer(question):
        day = find_date(m[1], day_first=True)
        if day:
            found.append((m.start(1), m.end(1), day, day))
    for m in MONTH_YEAR.finditer(question):
        if question[:m.start()].rstrip().lower().endswith(OPENS_RANGE + CLOSES_RANGE):
            return []
        month, year = MONTHS[m[1].lower()], int(m[2])
        found.append((m.start(), m.end(), f"{year}-{month:02d}-01",
                      f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"))
    for m in PART_YEAR.finditer(question):
        found.append((m.start(1), m.end(1), f"{m[1]}-01-01", f"{m[1]}-12-31"))
    kept: list[tuple[int, int, str, str]] = []
    for start, end, since, until in found:  # the most precise reading of each place wins
        if not any(start < b and a < end for a, b, _, _ in kept):
            kept.append((start, end, since, until))
    return list(dict.fromkeys((since, until) for _, _, since, until in sorted(kept)))


def meeting_parts(question: str, stated: Filters, councils: list[str]) -> tuple[Filters, ...]:
    """The meetings a question names when it names more than one, each as a preference:
    two councils ('the Herefordshire and Plymouth minutes'), or else two dates ('in 2016, and
    ... in 2018'). Empty when it names one (or none)."""
    lowered = " " + re.sub(r"[^\w\s&]", " ", question.lower()) + " "
    named = _mentions(lowered, councils, distinctive=True)
    if len(named) > 1:
        return tuple(replace(stated, council=c, include_undated=False) for c in named)
    dates = date_mentions(question)
    if len(dates) > 1:
        return tuple(replace(stated, since=a, until=b, include_undated=False) for a, b in dates)
    return ()


def span(parts: tuple[Filters, ...]) -> Filters:
    """One preference covering all the parts: what they share, and their dates end to end."""
    def shared(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else ""

    sinces = [p.since for p in parts]
    untils = [p.until for p in parts]
    return Filters(council=shared([p.council for p in parts]), committee=shared([p.committee for p in parts]),
                   since=min(sinces) if all(sinces) else "", until=max(untils) if all(untils) else "")


def merge_filters(explicit: Filters, stated: Filters) -> Filters:
    """Filters set by the user (chat controls, CLI flags) win; the question fills the rest."""
    return Filters(
        council=explicit.council or stated.council,
        committee=explicit.committee or stated.committee,
        since=explicit.since or stated.since,
        until=explicit.until or stated.until,
        include_undated=stated.include_undated and not (explicit.since or explicit.until),
    )


def plan_query(question: str, history, explicit: Filters, committees: list[str], councils: list[str],
               condense=None) -> QueryPlan:
    """Intent, filters and a standalone question. `condense(history, question)` is the
    LLM's rewrite when one is configured; without it, the follow-up is joined with the
    conversation's last question."""
    turns = normalise_history(history)
    follow_up = is_follow_up(question, turns)
    stated = stated_filters(question, committees, councils)
    standalone = topic = question
    if follow_up:
        previous_questions = [t["content"] for t in turns if t["role"] == "user"]
        inherited = Filters()
        for earlier in previous_questions:
            inherited = merge_filters(stated_filters(earlier, committees, councils), inherited)
        stated = merge_filters(stated, inherited)
        rewritten = condense(turns, question) if condense else ""
        standalone = rewritten or f"{question} ({previous_questions[-1]} {_gist(turns)})".replace(" )", ")")
        topic = rewritten or f"{question} ({previous_questions[-1]})"
    intent = intent_of(question)
    if intent == "general" and follow_up:
        intent = intent_of(standalone)
    # What the question names only ranks: minutes that do not state their body or date (or
    # state it in a form not recognised) must still be found. Only what the user set excludes.
    explicit_dates = bool(explicit.since or explicit.until)
    prefer = Filters(
        committee="" if explicit.committee else stated.committee,
        council="" if explicit.council else stated.council,
        since="" if explicit_dates else stated.since,
        until="" if explicit_dates else stated.until,
    )
    parts = meeting_parts(question, prefer, councils) if not (explicit.council or explicit_dates) else ()
    if parts:
        prefer = span(parts)
    return QueryPlan(question, standalone, explicit, intent, follow_up, prefer, topic, parts)


def _gist(turns: list[dict], words: int = 30) -> str:
    """The first words the last answer quoted (or of the answer, when it quoted nothing):
    what 'it' most likely is."""
    answers = [t["content"] for t in turns if t["role"] == "assistant"]
    if not answers:
        return ""
    quoted = re.findall(r"“([^”]+)”", answers[-1])
    text = " ".join(quoted) if quoted else re.sub(r"\[\d+\]", " ", answers[-1])
    return " ".join(text.split()[:words])

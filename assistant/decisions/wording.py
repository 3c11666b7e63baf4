"""How the minutes word what was decided, apart from motions and votes: the patterns that
recognise an item's heading ('(19-123) Recommendation to ... Adopted.'), consent-calendar and
closed-session paragraphs, consensus, English resolutions and actions; and the functions that
read an outcome from that wording (`heading_outcome`, `resolution_outcome`), an action's owner
(`action_owner`) and the report, resolution or item numbers a passage names (`references`).
"""

from __future__ import annotations

import re

from .names import TITLES, clean_name, pdf_word


ITEM_HEAD = re.compile(
    r"^\s*(?P<stars>\*{3}\s*)?\(\s*(?P<star>\*)?\s*(?P<num>\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2})(?:\s*/[^)]{0,40})?\s*\)\s*(?P<rest>.*)",
    re.S,
)
HEAD_OUTCOME = re.compile(  # a sentence of its own at the end of the heading, capitalised
    r"(?:^|(?<=[.;:”\"’)\]])\s*)(?P<word>Not\s+[Hh]eard|Not\s+[Aa]dopted|Not\s+[Ii]ntroduced|Not\s+[Aa]ccepted|"
    r"Not\s+[Aa]pproved|Accepted|Approved|Adopted|Introduced|Finally\s+[Pp]assed|Final\s+[Pp]assage\s+[Aa]pproved|"
    r"Withdrawn|Denied|Rejected|Continued(?:\s+to\s+[^.;]{0,80})?|Postponed(?:\s+to\s+[^.;]{0,80})?|Held\s+[Oo]ver|Tabled)"
    r"\s*(?:[.;](?:\s*and)?)?\s*$"
)
RATIFIED = re.compile(r"^\s*Ratified\b", re.I)
EMBEDDED_ITEM = re.compile(  # '... Introduced; and (20-134 A) Introduction of ...' joined across a page break
    r"(?:;\s*and|;|(?<=[.”\"])(?=\s))\s+(?=\(\s*\*?\s*\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2}(?:\s*/[^)]{0,40})?\s*\)\s*[A-Z“\"])"
)
STRONG_CONSENT = re.compile(
    r"\bmoved\s+(?:approval|adoption)\s+of\s+(?:the\s+)?(?:remainder\s+of\s+(?:the\s+)?)?consent\s+(?:calendar|agenda)", re.I
)
PAGE_FURNITURE = re.compile(  # 'Joint Meeting Alameda City Council, ... Agency to (*12-588 CC) ...'
    r"^(?:(?:[A-Z][\w,.&'’-]*|and|of|to|the|for|\d+)\s+){2,24}(?=\(\s*\*?\s*\d{2,4}\s?-)"
)
CONSENT_MOTION = re.compile(r"consent\s+calendar|consent\s+agenda", re.I)
MEETING_START = re.compile(r"^\s*(?:\d{1,3}\s+)?MINUTES OF THE\b", re.I)
CLOSED_SESSION_START = re.compile(r"adjourned to closed session|^\s*(?:adjournment to\s+)?closed session\s*$", re.I)
# A passage that reports what was decided in closed session (ingest/structure.py's CLOSED_REPORT_OPENING
# is the other rule: the paragraph where that report starts a part of its own).
CLOSED_REPORT_WORDS = re.compile(r"^\s*following the closed session|closed session report", re.I)
NO_VOTE = re.compile(r"\bno (?:vote|action) (?:was )?taken\b|\bwith no vote\b|\bno vote was taken\b|\bno action\b", re.I)
RECORDED_VOTE = re.compile(
    rf"\bby\s+(?:a\s+|the\s+following\s+(?:\w+\s+)?)?(?:{pdf_word('unanimous')}\s+)?(?:voice\s+|roll\s+call\s+)?votes?\b|"
    rf"\bunanimously\s+voted\b|\bvoted\s+unanimously\b|\bAyes\s*:\s*\d",
    re.I,
)
REGARDING = re.compile(r"(?:^|[;.,]\s*(?:and\s+)?|\bthat:?\s+)\b(?=regarding\b)", re.I)
CONSENSUS = re.compile(
    r"\b(?:(?:was|were)\s+(?:approved|accepted|adopted|agreed)\s+by\s+consensus|by\s+consensus,?\s+(?:the\s+)?Council\s+"
    r"(?:agreed|approved|directed|concurred)|(?:a\s+)?majority\s+of\s+(?:the\s+)?Council\s+(?:concurred|agreed|"
    r"expressed\s+support|voted)|(?:the\s+)?Council\s+consensus\s+(?:was|is)|Council\s+voted\s+(?:as\s+follows|unanimously))",
    re.I,
)
RECOMMENDATION_PUT = re.compile(
    r"^\s*the\s+recommendations?\s+(?:was|were)\s+(?:proposed|moved)|^\s*recommendations?\s+(?:approved|agreed|carried)", re.I
)
ACTION_LINE = re.compile(r"^\s*actions?\s*(?:[-–—:]|point)\s*(?P<body>.*)", re.I | re.S)
UNDERTOOK = re.compile(
    rf"(?:^|(?<=[.;!?])\s+)(?P<sentence>(?P<who>(?:{TITLES}\s+)?[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){{0,2}})\s+"
    r"(?:undertook|agreed|offered|promised|committed)\s+to\s+(?!the\b|a\b|an\b|this\b|that\b|it\b|its\b|their\b)"
    r"[a-z][^.;!?]*[.;!?]?)"
)
PROCEDURAL_AGREEMENT = re.compile(r"\b(?:motion|amend\w*|second\w*|friendly|include)\b", re.I)
BODY_WORDS = re.compile(
    r"\b(?:board|committee|council|cabinet|panel|forum|commission|group|members?|officers?|staff|it|they|he|she|"
    r"the chair|chair|everyone|all)\b",
    re.I,
)


def heading_outcome(rest: str) -> tuple[str | None, str]:
    """('approved'|'deferred'|'refused'|'withdrawn'|None, the outcome words) of an item heading."""
    if RATIFIED.match(rest):
        return "approved", "Ratified"
    m = HEAD_OUTCOME.search(rest.strip())
    if not m:
        return None, ""
    word = re.sub(r"\s+", " ", m["word"]).strip()
    low = word.lower()
    if low.startswith(("not heard", "continued", "postponed", "held over", "tabled")):
        return "deferred", word
    if low.startswith(("not ", "denied", "rejected")):
        return "refused", word
    if low.startswith("withdrawn"):
        return "withdrawn", word
    return "approved", word


def resolution_outcome(text: str) -> str:
    """The outcome an English resolution or agreement records."""
    low = text.lower()
    if re.search(r"\b(?:defer(?:red)?|postponed?|adjourned)\b", low):
        return "deferred"
    if re.search(r"\b(?:refused?|reject(?:ed)?|declined?|not approved|not agreed)\b", low):
        return "refused"
    if re.search(r"\bwithdr[ae]wn?\b", low):
        return "withdrawn"
    if re.match(r"\s*(?:it\s+was\s+)?resolved\b|\s*decision\b|\s*decided\b", low):
        return "approved"
    if re.search(r"\b(?:agreed|resolved|decided)\s+to\s+note\b|\bnoted\s+the\b|^\s*the\s+[\w\s'’-]*?\bnoted\b", low):
        return "noted"
    if re.search(r"\b(?:approved|endorsed|adopted|carried)\b", low):
        return "approved"
    return "agreed"


def action_owner(body: str) -> str:
    """'David Mehaffey to speak to NHS colleagues ...' -> 'David Mehaffey'."""
    m = re.match(r"\s*(?P<who>.{2,80}?)\s+(?:to|will|would|should|agreed to|undertook to)\s+\w", body)
    if not m:
        return ""
    who = m["who"].strip(" :-–—,")
    if re.match(r"(?i)^(?:the\s+)?(?:chair|clerk|officers?|director|head of|cabinet member|all|members?)\b", who):
        return who
    return clean_name(who) or (who if len(who.split()) <= 6 and who[:1].isupper() else "")


def references(text: str) -> list[str]:
    """Report, file, resolution, ordinance and paragraph numbers that name a matter."""
    refs = []
    for m in re.finditer(
        r"\b(Resolution|Ordinance|Report|File|Case|Minute|Reference|Ref)\.?\s+(?:No\.?|Number|#)\s*([A-Z]{0,4}[\d][\w/.-]*\w)", text, re.I
    ):
        refs.append(f"{m[1].title()} {m[2]}")
    for m in re.finditer(r"\bparagraph\s+nos?\.\s*((?:\d{2}-\d{1,4}[A-Z]?(?:,?\s*(?:and\s+)?)?)+)", text, re.I):
        refs.extend(f"Item {n}" for n in re.findall(r"\d{2}-\d{1,4}[A-Z]?", m[1]))
    return list(dict.fromkeys(refs))

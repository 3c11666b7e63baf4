"""Votes, movers and seconders: `parse_vote` reads the outcome and the vote a motion or vote
paragraph records (roll calls, 'Ayes: ... – 3. Noes: ...' labels, 'unanimous voice vote – 5',
English '6 in favour, 1 against') into a `Vote`, and `mover_of` / `seconder_of` name who moved
and who seconded ('Vice Mayor Knox White moved ...', 'seconded by Cllr Smith').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .names import NAME_WORD, TITLES, clean_name, pdf_word, split_names


@dataclass(frozen=True)
class Vote:
    outcome: str | None = None  # carried | failed | None
    ayes: int | None = None
    noes: int | None = None
    abstentions: int | None = None
    absent: int | None = None
    names: dict = field(default_factory=dict)  # {"ayes": [...], "noes": [...], "abstentions": [...], "absent": [...]}
    unanimous: bool = False

    @property
    def recorded(self) -> bool:
        return self.outcome is not None or self.ayes is not None or self.unanimous


OUTCOME_WORD = re.compile(
    rf"\b(?P<w>{pdf_word('carried')}|{pdf_word('passed')}|{pdf_word('failed')}|{pdf_word('lost')}|{pdf_word('defeated')})\b", re.I
)
LABEL = re.compile(
    r"(?<![\w-])(?P<label>Ayes?|Noes|Nays?|Abstentions?|Abstain(?:ed|ing)?|Absent|Recus(?:ed|als?))\s*:\s*", re.I
)
ROLL_ENTRY = re.compile(
    rf"(?P<name>{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}})\s*:\s*(?P<v>Ayes?|No|Nay|Abstain(?:ed)?|Abstention|Absent|Recused?)\b"
)
UNANIMOUS_COUNT = re.compile(
    rf"{pdf_word('unanimous')}(?:ly)?\s*(?:{pdf_word('voice')}\s*|{pdf_word('roll')}\s+{pdf_word('call')}\s*)?{pdf_word('vote')}?s?\s*[–—-]?\s*(?P<n>\d+)\b",
    re.I,
)
UNANIMOUS = re.compile(rf"\b{pdf_word('unanimous')}(?:ly)?\b|\bwithout dissent\b|\bnem(?:ine)?\.?\s*con", re.I)
ENGLISH_COUNTS = {
    "ayes": re.compile(r"(\d+)\s+(?:votes?\s+)?(?:for|in favour|in favor)\b", re.I),
    "noes": re.compile(r"(\d+)\s+(?:votes?\s+)?against\b", re.I),
    "abstentions": re.compile(r"(\d+)\s+abstentions?\b", re.I),
}
BARE_AYES = re.compile(  # 'voice vote: Councilmembers A, B and C – 3. Noes: ...'
    r"\bvot(?:e|es|ed)(?:\s+as\s+follows)?\s*[:–—-]\s*(?!Ayes|Noes)(?P<body>(?:Councilmembers?|Council\s?members?|Mayor|Vice\s+Mayor)\b[^.:\]]*?)"
    r"\s*[–—-]\s*(?P<n>\d+)"
)
BARE_COUNT = re.compile(rf"\b{pdf_word('vote')}\s*[–—-]\s*(?P<n>\d+)\s*(?:\.|$)")
_LABEL_KEY = {"aye": "ayes", "ayes": "ayes", "noes": "noes", "nay": "noes", "nays": "noes", "no": "noes"}


def _label_key(label: str) -> str:
    low = label.lower()
    if low in _LABEL_KEY:
        return _LABEL_KEY[low]
    if low.startswith("abst"):
        return "abstentions"
    if low.startswith("recus"):
        return "absent"
    return "absent"


def parse_vote(text: str) -> Vote:
    """The outcome and the vote recorded in a motion or vote paragraph.

    'which carried by unanimous voice vote – 5' -> carried, ayes 5, noes 0;
    'Councilmembers Daysog: No; Knox White: Aye; ... Ayes: 4. Noes: 1.' -> names and counts;
    'Ayes: Councilmembers deHaan, Tam and Mayor Johnson – 3. Abstentions: Commissioner Torrey – 1.'
    Counts that are not recorded stay None; once ayes are known, unrecorded noes are 0."""
    outcome = _outcome_word(text)
    counts: dict[str, int | None] = {"ayes": None, "noes": None, "abstentions": None, "absent": None}
    names: dict[str, list[str]] = {}
    _roll_call(text, names)
    _labelled(text, counts, names)
    unanimous = bool(UNANIMOUS.search(text))
    _unlabelled_counts(text, counts, names)
    if outcome is None and counts["ayes"] is not None and re.search(r"\bvot(?:e|ed)\b", text, re.I):
        noes = counts["noes"] or 0
        outcome = "carried" if counts["ayes"] > noes else None
    return Vote(outcome, counts["ayes"], counts["noes"], counts["abstentions"], counts["absent"],
                {k: v for k, v in names.items() if v}, unanimous)


def _outcome_word(text: str) -> str | None:
    """'carried' or 'failed' as the paragraph words it (the last such word counts), or
    'carried' for a unanimous '... was approved'."""
    outcome = None
    for m in OUTCOME_WORD.finditer(text):
        word = re.sub(r"\s", "", m["w"]).lower()
        outcome = "carried" if word in ("carried", "passed") else "failed"
    if outcome is None and re.search(r"\b(?:was|were)\b[^.;]{0,40}?\b(?:approved|agreed|adopted)\b", text, re.I) \
            and UNANIMOUS.search(text):
        outcome = "carried"
    return outcome


def _roll_call(text: str, names: dict[str, list[str]]) -> None:
    """Roll call: 'Daysog: No; Knox White: Aye; ...' -> names by how they voted."""
    for m in ROLL_ENTRY.finditer(text):
        name = clean_name(m["name"])
        if not name or name.lower().rstrip("s") in ("aye", "noe", "abstention", "absent", "recusal"):
            continue
        key = _label_key(m["v"]) if m["v"].lower() not in ("abstain", "abstained", "abstention") else "abstentions"
        names.setdefault(key, []).append(name)


def _labelled(text: str, counts: dict[str, int | None], names: dict[str, list[str]]) -> None:
    """Labels: 'Ayes: 4.' or 'Ayes: Councilmembers A, B and Mayor C – 3.'"""
    labels = list(LABEL.finditer(text))
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        body = text[m.end():end]
        body = re.split(r"(?<=\d)\s*[.;,]|\]|\n|(?<=\.)\s+(?=[A-Z])", body, maxsplit=1)[0] if body else ""
        key = _label_key(m["label"])
        number = re.fullmatch(r"\s*(\d+)\s*\.?\s*", body)
        if number:
            counts[key] = int(number[1])
            continue
        tail = re.search(r"[–—-]\s*(\d+)\s*$", body.strip())
        who = split_names(body) if not re.fullmatch(r"\s*(?i:none)\.?\s*", body) else []
        if re.fullmatch(r"\s*(?i:none)\.?\s*", body):
            counts[key] = 0
        elif tail:
            counts[key] = int(tail[1])
        if who and key not in names:
            names[key] = who
            if counts[key] is None:
                counts[key] = len(who)


def _unlabelled_counts(text: str, counts: dict[str, int | None], names: dict[str, list[str]]) -> None:
    """Counts written without labels, tried in order until the ayes are known: 'unanimous
    vote – 5', 'voice vote: Councilmembers A, B and C – 3', 'vote – 5', '6 in favour, 1
    against', or the number of names recorded. Once ayes are known, unrecorded noes are 0."""
    m = UNANIMOUS_COUNT.search(text)
    if m and counts["ayes"] is None:
        counts["ayes"] = int(m["n"])
        counts["noes"] = counts["noes"] or 0
    if counts["ayes"] is None and "ayes" not in names:
        bare = BARE_AYES.search(text)
        if bare:
            counts["ayes"] = int(bare["n"])
            names["ayes"] = split_names(bare["body"])
    if counts["ayes"] is None and not names:
        bare = BARE_COUNT.search(text)  # 'carried by the following voice vote – 5.' (no names printed)
        if bare:
            counts["ayes"], counts["noes"] = int(bare["n"]), counts["noes"] or 0
    if counts["ayes"] is None:
        for key, pattern in ENGLISH_COUNTS.items():
            found = pattern.search(text)
            if found:
                counts[key] = int(found[1])
    if counts["ayes"] is None and names.get("ayes"):
        counts["ayes"] = len(names["ayes"])
        if counts["noes"] is None:
            counts["noes"] = len(names.get("noes", []))
        if counts["abstentions"] is None and names.get("abstentions"):
            counts["abstentions"] = len(names["abstentions"])
    if counts["ayes"] is not None and counts["noes"] is None:
        counts["noes"] = 0


# ---- movers and seconders ------------------------------------------------------------

MOVED = re.compile(rf"\b(?:{pdf_word('moved')}|made\s+(?:a|the)\s+motion|{pdf_word('moves')})\b", re.I)
MOVED_BY = re.compile(rf"\b(?:moved|proposed)\s+by\s+(?P<who>(?:{TITLES}\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})")
SECONDED = re.compile(rf"\b{pdf_word('seconded')}\b(?!\s+by)", re.I)
SECONDED_BY = re.compile(rf"\bseconded\s+by\s+(?P<who>(?:{TITLES}\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})")


def _who_before(text: str, at: int) -> str:
    """The name written just before position `at` ('... Vice Mayor Knox White moved')."""
    head = text[:at]
    head = re.split(r"(?:[.;:!?]\s+|\n|\*\*\*|\)\s+|,\s+)", head)[-1]
    return clean_name(head)


SUBJECT = re.compile(
    rf"(?:^|(?<=[.!?]\s))\s*(?P<who>{TITLES}\s+{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}}?)\s+(?:stated|said|noted|suggested|"
    r"expressed|commented|thanked|outlined|discussed|requested|inquired|concurred|withdrew|amended|clarified|indicated|"
    r"explained|asked|agreed|offered|read|thereafter)\b"
)


def mover_of(text: str) -> str:
    m = MOVED.search(text)
    if m:
        name = _who_before(text, m.start())
        if name:
            return name
        if re.search(r"(?:;|,\s*and|\band)\s*$", text[: m.start()]):
            # 'Councilmember Oddie stated ...; moved adoption of the resolutions.'
            subject = [s for s in SUBJECT.finditer(text[: m.start()])]
            if subject:
                return clean_name(subject[-1]["who"])
    m = MOVED_BY.search(text)
    return clean_name(m["who"]) if m else ""


def seconder_of(text: str) -> str:
    for m in SECONDED.finditer(text):
        name = _who_before(text, m.start())
        if name:
            return name
    m = SECONDED_BY.search(text)
    return clean_name(m["who"]) if m else ""

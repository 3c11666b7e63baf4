"""What kind of answer a question asks for (a count, a day, a person, a vote's mover or tally)
and where it is: quotes on the right matter that lack it do not answer ("how many members
voted?" answered by "note the development of version two of the plan"), and the passages of
an item that hold it come first for a vote question."""

from __future__ import annotations

import re
from dataclasses import replace

from ..core.types import Hit
from .evidence import DAY_MONTH, TALLY

COUNT_QUESTION = re.compile(r"^\s*(?:how (?:many|much)|what (?:amount|percentage|proportion|number|sum))\b", re.I)
NAME_QUESTION = re.compile(r"^\s*(?:who|whom)\b|\bwhat is the name\b|\bname of\b", re.I)
PERSON = re.compile(
    # a title, then initials if any ("Mr. D George", "Cllr. R. Crisp"), then a name
    r"\b(?:Councillor|Councilmember|Cllr|Mayor|Vice Mayor|Mr|Mrs|Ms|Miss|Dr|Commissioner|Member)\.?\s+"
    r"(?:[A-Z]\.?\s+){0,3}[A-Z][\w'’-]+"
    r"|\b(?:[A-Z]\.\s?){1,3}[A-Z][a-z'’-]{2,}\b"  # initials and a surname: "B. Glover", "R.J. Smith"
    r"|\b(?!(?:The|This|That|A|An)\b)[A-Z][a-z]+(?:\s+[A-Z][a-z'’-]+)+\s+(?:\(|stated|said|moved|seconded|proposed|introduced|asked|answered|responded|"
    r"noted|commented|gave|presented|confirmed|explained|undertook|discussed|to\s)"
    # a first name and a surname with no title ("Hanson Hom", "Tyler Savage"), not a place or a body
    r"|\b(?!(?:The|This|That|These|City|County|Town|Council|Mayor|Vice|Planning|Public|General|North|South|East|West|"
    r"New|Old|Park|Item|Resolution|Ordinance)\b)(?![A-Z][a-z]+(?:ment|ing|tion|sion|ices|ance|ence|ity|ness)\b)"
    # (a first name is not a common noun: "Services Improvement", "Monitoring Visit")
    r"[A-Z][a-z]{2,}\s+(?:[A-Z]\.\s+)?(?!(?:Board|Council|Commission|"
    r"Committee|Street|Avenue|Road|Lane|Plan|Project|Park|Hall|Agency|Authority|Department|Services|Report|Meeting|"
    r"Centre|Center|Fund|Trust|Club|Church|School|Way|Drive|Place|Close|Green|Farm|House|Court)\b)[A-Z][a-z'’-]{2,}\b"
)
ROLE = re.compile(
    r"\b(?:cabinet member|corporate director|director|chair(?:man|person)?|deputy leader|leader|manager|clerk|"
    r"attorney|officer|councillors?|councilmembers?|mayor)\b",
    re.I,
)


ORGANISATION = re.compile(
    r"\b[A-Z][\w&.'’-]*(?:\s+(?:[A-Z][\w&.'’-]*|of|and|&))*\s+(?:Council|Ltd|Limited|Company|Agency|Trust|"
    r"Partnership|Association|Services|Group|Inc|LLC|Corporation|Authority|Board|Commission|Department|Society|"
    r"Club|Church|School|Bank|Police|Partners)\b")


PERSON_ACT = re.compile(r"\b(?:second\w*|propos\w*|mov(?:ed|es|er)|chair(?:s|ed)?|elected|co-opted|"
                        r"appointed)\b", re.I)

NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
                r"thousand|million|half|unanimous\w*|all|none|no")
NUMBER = re.compile(rf"\d[\d,.]*\d|\d|\b(?:{NUMBER_WORDS})\b", re.I)
# A day: "13th July", "May 15", "28/11/2019", "2019-03-11".
DAY_DATE = re.compile(rf"\b(?:{DAY_MONTH})\b"
                      r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b(?:19|20)\d\d-\d\d-\d\d\b", re.I)
# Any date's numbers, which count nothing: a day, a month's year, a year or a fiscal year ("2019/20").
DATE_NUMBERS = re.compile(rf"{DAY_DATE.pattern}|\b(?:19|20)\d\d(?:[/-]\d\d(?:\d\d)?)?\b", re.I)
DAY_QUESTION = re.compile(r"^\s*(?:on|for)?\s*(?:what|which) (?:date|day)\b", re.I)


def holds_a_count(question: str, text: str) -> bool:
    """A number that could answer 'how many/much': not a date's, and not one the question states
    itself ("version two", "Phase 2")."""
    stated = {n.lower().strip(".,") for n in NUMBER.findall(question)}
    return any(n.lower().strip(".,") not in stated for n in NUMBER.findall(DATE_NUMBERS.sub(" ", text)))


def answer_type_present(question: str, quotes: list[str]) -> bool:
    """A 'how many' question needs a number in the quotes (not a date's or the question's own);
    'on what date' a day; a 'who' question a person, a role or an organisation ('Dorset County
    Council', 'C.G.M. Ltd.'), and 'who moved, seconded, chaired ...' a person by name."""
    text = " ".join(quotes)
    if COUNT_QUESTION.search(question) and not holds_a_count(question, text):
        return False
    if DAY_QUESTION.search(question) and not DAY_DATE.search(text):
        return False
    if not NAME_QUESTION.search(question):
        return True
    if PERSON_ACT.search(question):  # who moved, seconded, chaired: a person, named
        return bool(PERSON.search(text))
    return bool(PERSON.search(text) or ROLE.search(text) or ORGANISATION.search(text))


# What a vote question asks for, and the passages that hold it: who moved or seconded, or
# how the vote went.
ASKS_MOVER = re.compile(r"\b(?:moved|mover|made (?:a|the|that) motion|second(?:ed|er)|propos\w*)\b", re.I)
MOVER = re.compile(r"\b(?:moved|seconded|proposed)\b", re.I)
ASKS_TALLY = re.compile(r"\b(?:vote[sd]?|voting|unanimous\w*|abstain\w*|ayes?|noes|nays?|against|in favou?r)\b", re.I)
VOTE_OUTCOME = re.compile(rf"{TALLY.pattern}|\bcarried\b(?!\s+(?:out|forward|over)\b)"  # not "work carried out"
                          r"|\b(?:roll call|voice vote|show of hands)\b", re.I)


def vote_answers_first(question: str, hits: list[Hit]) -> list[Hit]:
    """Within each agenda item, the passages that hold what a vote question asks for (the
    motion's mover and seconder, the tally) take the places of the item's other passages, the
    item's last first, since the last motion and vote settle it: an item's heading or discussion
    is often found first, but the motion and the vote answer 'who moved it?' and 'was it
    unanimous?'. Items keep their places among each other, and passages of no known item (no
    item number or heading) keep theirs."""
    wanted = [kind for asks, kind in ((ASKS_MOVER, MOVER), (ASKS_TALLY, VOTE_OUTCOME)) if asks.search(question)]
    if not wanted:
        return hits
    places: dict[tuple[str, str], list[int]] = {}
    for position, hit in enumerate(hits):
        if hit.chunk.item or hit.chunk.title:
            places.setdefault((hit.chunk.source, hit.chunk.item or hit.chunk.title), []).append(position)

    def answering_first(position: int) -> tuple[int, int]:
        held = sum(bool(kind.search(hits[position].chunk.text)) for kind in wanted)
        return (-held, -hits[position].chunk.ordinal if held else position)

    ordered = list(hits)
    for positions in places.values():
        for position, taken in zip(positions, sorted(positions, key=answering_first)):
            ordered[position] = hits[taken]
    return [replace(h, rank=rank) for rank, h in enumerate(ordered, 1)]

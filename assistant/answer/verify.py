"""Checking an LLM's answer against the passages it cites, sentence by sentence.

Citation numbers that match no passage are removed; a sentence with no valid citation, or
whose content words and numbers are not found in the passages it cites, is dropped.
What remains is returned with the list of passages actually cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..core.injection import hostile, instructs
from .query import SMALL_WORDS

CITE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])|(?<=\])\s+(?=[A-Z“\"(])|\n+")
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
SUPPORT_NEEDED = 0.6
MIN_CHECKABLE_WORDS = 2
DECISION_CLAIM = re.compile(r"\b(resolv\w*|decid\w*|agreed|approv\w*|adopt\w*|endors\w*|carried|voted)\b", re.I)


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # the sentence as kept (invalid numbers removed)
    cited: tuple[int, ...]
    supported: bool
    reason: str = ""


@dataclass
class CheckedAnswer:
    text: str
    cited: list[int] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)

    @property
    def dropped(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if not s.supported]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text.strip()) if s and s.strip()]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


def check_sentence(sentence: str, passages: dict[int, str], terms: Callable[[str], list[str]],
                   headers: dict[int, str] | None = None, decisions: set[int] | None = None) -> SentenceCheck:
    """Check one sentence. `passages` are the numbered passage texts; words found only in a
    passage's `headers` (committee, date, title) are not counted as support, so a sentence
    that only repeats a header says nothing checkable. A sentence that says something was
    resolved, agreed or approved must cite a passage that records a decision (`decisions`).
    A sentence with no valid citation is attributed to the one passage that supports it,
    when there is one."""
    headers = headers or {}
    cited: list[int] = []
    for group in CITE.findall(sentence):
        for n in (int(x) for x in group.split(",")):
            if n in passages and n not in cited:
                cited.append(n)

    def keep_valid(m: re.Match) -> str:
        valid = [x.strip() for x in m[1].split(",") if int(x) in passages]
        return "".join(f"[{v}]" for v in valid)

    cleaned = re.sub(r"\s+([.,;:])", r"\1", CITE.sub(keep_valid, sentence)).strip()
    body = CITE.sub("", cleaned).strip()
    if hostile(body):
        return SentenceCheck(cleaned, tuple(cited), False, "instructs or addresses the reader instead of answering")
    orders = [s for n in (cited or passages) for s in split_sentences(passages[n]) if instructs(s)]
    if any(_reproduces(body, order, terms) for order in orders):
        return SentenceCheck(cleaned, tuple(cited), False, "repeats orders written in a passage")
    if not cited:
        scored = [(_support(body, [n], passages, headers, terms)[0], n) for n in passages]
        best = max(scored, default=(0.0, 0))
        if best[0] < SUPPORT_NEEDED:
            return SentenceCheck(cleaned, (), False, "cites no passage, and no passage supports it")
        cited = [best[1]]
        cleaned = re.sub(r"([.!?]?)$", lambda m: f" [{best[1]}]{m[1]}", cleaned, count=1)
    found, checkable = _support(body, cited, passages, headers, terms)
    if checkable < MIN_CHECKABLE_WORDS and not _numbers(body):
        return SentenceCheck(cleaned, tuple(cited), False, "says nothing checkable beyond a header")
    if found < SUPPORT_NEEDED:
        return SentenceCheck(cleaned, tuple(cited), False, f"only {found:.0%} of its words are in the cited passages")
    support_numbers = _numbers(" ".join(passages[n] + " " + headers.get(n, "") for n in cited))
    missing = [n for n in _numbers(body) if n not in support_numbers]
    if missing:
        return SentenceCheck(cleaned, tuple(cited), False, f"numbers not in the cited passages: {', '.join(missing)}")
    if decisions is not None and DECISION_CLAIM.search(body) and not set(cited) & decisions:
        return SentenceCheck(cleaned, tuple(cited), False, "claims a decision, but cites no passage that records one")
    return SentenceCheck(cleaned, tuple(cited), True)


def _reproduces(sentence: str, order: str, terms) -> bool:
    """Whether `sentence` says again most of what an order in a passage says."""
    mine = {t for t in terms(sentence) if len(t) > 2}
    theirs = {t for t in terms(order) if len(t) > 2}
    return bool(mine) and len(mine & theirs) >= max(2, 0.6 * len(mine))


def _support(body: str, cited: list[int], passages: dict[int, str], headers: dict[int, str], terms) -> tuple[float, int]:
    """(share of the sentence's checkable words found in the cited passages, how many words
    were checkable). Words that stand in the cited headers are neither support nor checkable."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", body) if w.lower() not in SMALL_WORDS]
    header_terms = set(terms(" ".join(headers.get(n, "") for n in cited)))
    stems = [t for t in terms(" ".join(words)) if len(t) > 2 and t not in header_terms]
    if not stems:
        return 1.0, 0
    support_terms = set(terms(" ".join(passages[n] for n in cited)))
    return sum(1 for t in stems if t in support_terms) / len(stems), len(stems)


def check_answer(text: str, passages: dict[int, str], terms: Callable[[str], list[str]],
                 headers: dict[int, str] | None = None, decisions: set[int] | None = None) -> CheckedAnswer:
    checks = [check_sentence(s, passages, terms, headers, decisions) for s in split_sentences(text)]
    kept = [c for c in checks if c.supported]
    cited: list[int] = []
    for c in kept:
        for n in c.cited:
            if n not in cited:
                cited.append(n)
    return CheckedAnswer(" ".join(c.text for c in kept), cited, checks)

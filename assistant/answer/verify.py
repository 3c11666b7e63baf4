"""Checking an LLM's answer against the passages it cites, sentence by sentence.

Citation numbers that match no passage are removed; a sentence with no valid citation, or
whose content words and numbers are not found in the passages it cites, is dropped.
What remains is returned with the list of passages actually cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .query import SMALL_WORDS

CITE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])|(?<=\])\s+(?=[A-Z“\"(])|\n+")
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
SUPPORT_NEEDED = 0.6


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


def check_sentence(sentence: str, passages: dict[int, str], terms: Callable[[str], list[str]]) -> SentenceCheck:
    cited: list[int] = []
    for group in CITE.findall(sentence):
        for n in (int(x) for x in group.split(",")):
            if n in passages and n not in cited:
                cited.append(n)

    def keep_valid(m: re.Match) -> str:
        valid = [x.strip() for x in m[1].split(",") if int(x) in passages]
        return "".join(f"[{v}]" for v in valid)

    cleaned = re.sub(r"\s+([.,;:])", r"\1", CITE.sub(keep_valid, sentence)).strip()
    body = CITE.sub("", cleaned)
    if not cited:
        return SentenceCheck(cleaned, (), False, "cites no passage that exists")
    support = " ".join(passages[n] for n in cited)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", body) if w.lower() not in SMALL_WORDS]
    stems = [t for t in terms(" ".join(words)) if len(t) > 2]
    support_terms = set(terms(support))
    if stems:
        found = sum(1 for t in stems if t in support_terms) / len(stems)
        if found < SUPPORT_NEEDED:
            return SentenceCheck(cleaned, tuple(cited), False, f"only {found:.0%} of its words are in the cited passages")
    support_numbers = _numbers(support)
    missing = [n for n in _numbers(body) if n not in support_numbers]
    if missing:
        return SentenceCheck(cleaned, tuple(cited), False, f"numbers not in the cited passages: {', '.join(missing)}")
    if not stems and not _numbers(body):
        return SentenceCheck(cleaned, tuple(cited), False, "says nothing checkable")
    return SentenceCheck(cleaned, tuple(cited), True)


def check_answer(text: str, passages: dict[int, str], terms: Callable[[str], list[str]]) -> CheckedAnswer:
    checks = [check_sentence(s, passages, terms) for s in split_sentences(text)]
    kept = [c for c in checks if c.supported]
    cited: list[int] = []
    for c in kept:
        for n in c.cited:
            if n not in cited:
                cited.append(n)
    return CheckedAnswer(" ".join(c.text for c in kept), cited, checks)

"""Extractive answers: quotations from the best passages, each said to be whose words they
are and cited. Nothing is stated that is not a quotation or a metadata field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dates import human_date
from ..types import DECISION_KINDS, Citation, Hit
from . import prompts
from .evidence import Unit, Weigher, units
from .query import QueryPlan

DECISION_INTENTS = ("decision", "vote", "action")
OUTCOME_WORDS = re.compile(
    r"\b(Accepted|Approved|Adopted|Introduced|Ratified|carried|failed|resolved|agreed|noted?|authorized|authorised|"
    r"endorsed|Not heard|withdrawn|continued|postponed)\b",
    re.I,
)
VOTE_WORDS = re.compile(r"\b(moved|seconded|Ayes?|Noes|Nays?|Abstentions?|Absent|carried|failed|unanimous|roll call)\b")
MONEY = re.compile(r"[$£€]\s?\d|\b\d[\d,]*(?:\.\d+)?\s*(?:million|thousand|percent|%)", re.I)
NAME = re.compile(r"\b(?:Councillor|Councilmember|Cllr|Mayor|Vice Mayor|Mr|Ms|Mrs|Dr)\.?\s+[A-Z]|\b[A-Z][a-z]+ [A-Z][a-z]+\b")


@dataclass(frozen=True)
class Draft:
    """An extractive answer before it becomes an Answer: text with [n] and its citations."""

    text: str
    citations: tuple[Citation, ...]
    no_decision: bool = False


def label(hit: Hit) -> str:
    """Whose words: 'Herefordshire Council, Cabinet, 26 September 2024, item 24 (Title)'."""
    c = hit.chunk
    committee = c.committee if c.committee and c.committee.lower() not in c.council.lower() else ""
    parts = [p for p in (c.council, committee) if p]
    if c.meeting and "special" in c.meeting.lower():
        parts.append("special meeting")
    parts.append(human_date(c.date) if c.date else "meeting date not stated")
    where = ", ".join(parts)
    title = c.title if len(c.title) <= 90 else c.title[:88].rsplit(" ", 1)[0] + " …"
    if c.item and title:
        where += f", item {c.item} ({title})"
    elif c.item:
        where += f", item {c.item}"
    elif title:
        where += f" ({title})"
    return where


def score_units(weigher: Weigher, hits: list[Hit], plan: QueryPlan) -> list[Unit]:
    scored: list[Unit] = []
    best_fused = hits[0].score if hits else 1.0
    for hit in hits:
        prior = 0.25 * hit.score / best_fused
        title_cov = weigher.coverage(f"{hit.chunk.title} {hit.chunk.item}")
        for text in units(hit, vote_blocks=plan.intent == "vote", resolution_blocks=plan.intent in DECISION_INTENTS):
            score = weigher.coverage(text) + 0.3 * title_cov + prior
            if plan.intent in DECISION_INTENTS and (hit.chunk.section in DECISION_KINDS or OUTCOME_WORDS.search(text)):
                score += 0.25
            if plan.intent == "vote" and VOTE_WORDS.search(text):
                score += 0.3 + 0.1 * min(3, len(VOTE_WORDS.findall(text)))
            if plan.intent == "amount" and MONEY.search(text):
                score += 0.3
            if plan.intent == "who" and NAME.search(text):
                score += 0.15
            if plan.intent == "action" and hit.chunk.section == "action":
                score += 0.3
            if len(text) < 25:
                score -= 0.2
            if "\n" in text:  # a whole resolution or motion block beats its parts
                score += 0.05
            scored.append(Unit(hit, text, score))
    scored.sort(key=lambda u: -u.score)
    return scored


def choose(scored: list[Unit], max_quotes: int) -> list[Unit]:
    """The best unit, and others close to it; no unit that repeats one already chosen."""
    if not scored:
        return []
    chosen = [scored[0]]
    for unit in scored[1:]:
        if len(chosen) >= max_quotes or unit.score < 0.7 * scored[0].score:
            break
        if any(unit.text in c.text or c.text in unit.text for c in chosen):
            continue
        if sum(1 for c in chosen if c.hit.chunk.id == unit.hit.chunk.id) >= 2:
            continue
        chosen.append(unit)
    return chosen


def compose(chosen: list[Unit], lead: str = "", start: int = 1, citations: list[Citation] | None = None) -> tuple[str, list[Citation]]:
    """'Label: “quote” [n]' lines, grouped by passage in order of first use."""
    citations = list(citations or [])
    numbers: dict[str, int] = {}
    lines = [lead] if lead else []
    groups: dict[str, list[Unit]] = {}
    for unit in chosen:
        groups.setdefault(unit.hit.chunk.id, []).append(unit)
    for chunk_id, group in groups.items():
        hit = group[0].hit
        quotes = []
        for unit in sorted(group, key=lambda u: hit.chunk.text.find(u.text)):
            n = len(citations) + start
            citations.append(Citation(n=n, chunk=hit.chunk, quote=unit.text))
            numbers[chunk_id] = n
            quotes.append(f"“{_one_line(unit.text)}” [{n}]")
        lines.append(f"{label(hit)}: " + " … ".join(quotes))
    return "\n".join(lines), citations


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def extractive_answer(weigher: Weigher, hits: list[Hit], plan: QueryPlan, max_quotes: int) -> Draft:
    """Quote the passages that answer. For decision questions, when the passages about the
    topic record no decision, say so and give the nearest recorded decisions, each under
    its own meeting."""
    if plan.intent in DECISION_INTENTS:
        covered = [(weigher.hit_coverage(h), h) for h in hits]
        best_cov = max((cov for cov, _ in covered), default=0.0)
        on_topic = [h for cov, h in covered if cov >= 0.75 * best_cov and cov > 0]
        decisions = [h for h in on_topic if _records_decision(h)]
        if on_topic and not decisions:
            topic_units = choose(score_units(weigher, on_topic[:2], plan), 1)
            text, citations = compose(topic_units, lead=prompts.NO_DECISION)
            others = [h for h in hits if _records_decision(h) and h.chunk.id not in {u.hit.chunk.id for u in topic_units}]
            nearest = _best_per_hit(score_units(weigher, others[:3], plan), 2)
            if nearest:
                more, citations = compose(nearest, lead=prompts.NEAREST_DECISIONS, start=1, citations=citations)
                text = f"{text}\n{more}"
            return Draft(text, tuple(citations), no_decision=True)
        if decisions:
            hits = decisions + [h for h in hits if h not in decisions]
    chosen = choose(score_units(weigher, hits[:5], plan), max_quotes)
    text, citations = compose(chosen)
    return Draft(text, tuple(citations))


def _records_decision(hit: Hit) -> bool:
    c = hit.chunk
    return c.section in DECISION_KINDS or bool(
        re.search(r"\b(Accepted|Approved|Adopted|Introduced|Ratified)\.", c.text)
        or re.search(r"\b(resolved|agreed to|authorized|authorised)\b", c.text, re.I)
    )


def _best_per_hit(scored: list[Unit], limit: int) -> list[Unit]:
    out, seen = [], set()
    for unit in scored:
        if unit.hit.chunk.id in seen:
            continue
        seen.add(unit.hit.chunk.id)
        out.append(unit)
        if len(out) == limit:
            break
    return out

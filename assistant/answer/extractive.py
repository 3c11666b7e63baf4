"""Extractive answers: quotations from the best passages, each said to be whose words they
are and cited. Nothing is stated that is not a quotation or a metadata field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.labels import meeting_label
from ..core.types import DECISION_KINDS, Citation, Hit
from . import prompts
from .evidence import AMOUNT, Unit, Weigher, local_context, units
from ..core.injection import hostile
from ..retrieve.hybrid import contradicts
from .query import QueryPlan

DECISION_INTENTS = ("decision", "vote", "action")
OUTCOME_WORDS = re.compile(
    r"\b(Accepted|Approved|Adopted|Introduced|Ratified|carried|failed|resolved|agreed|noted?|authorized|authorised|"
    r"endorsed|Not heard|withdrawn|continued|postponed)\b",
    re.I,
)
VOTE_WORDS = re.compile(r"\b(moved|seconded|Ayes?|Noes|Nays?|Abstentions?|Absent|carried|failed|unanimous|roll call)\b")
DECISION_SENTENCE = re.compile(
    r"^\s*(?:it was\s+)?(?:resolved|agreed|decided)\b|\b(?:agreed to|resolved that|resolved to|voted to|"
    r"moved (?:approval|adoption|introduction|acceptance)|seconded the motion|authorized|authorised|approved unanimously)\b",
    re.I,
)
DATE_WORDS = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|(?:19|20)\d\d|"
    r"\d{1,2}/\d{1,2}/\d{2,4}|last (?:summer|winter|spring|autumn|year|month|week)|this week|next week)\b"
)
ASKS_NUMBERED_ACT = re.compile(r"\b(?:which|what)\s+(?:resolution|ordinance)s?\b|\b(?:resolution|ordinance) numbers?\b", re.I)
NUMBERED_ACT = re.compile(r"\b(?:Resolution|Ordinance)\s+No\.?\s*\d")
ASKS_AGAINST = re.compile(r"\b(?:against|voted no|opposed|dissent\w*|unanimous\w*|noes|nays)\b", re.I)
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
    return meeting_label(c.council, c.committee, c.date, c.item, c.title,
                         special=bool(c.meeting and "special" in c.meeting.lower()))


OFF_MEETING = 0.6  # a passage from another council, or a meeting months from the dates the question names


def score_units(weigher: Weigher, hits: list[Hit], plan: QueryPlan) -> list[Unit]:
    scored: list[Unit] = []
    best_fused = hits[0].score if hits else 1.0
    asks_number = bool(ASKS_NUMBERED_ACT.search(plan.question))
    asks_against = bool(ASKS_AGAINST.search(plan.question))
    for hit in hits:
        prior = 0.25 * hit.score / best_fused
        title_cov = weigher.coverage(f"{hit.chunk.title} {hit.chunk.item}")
        title = hit.chunk.title.strip()
        off_meeting = contradicts(plan.prefer, hit.chunk.metadata())
        for text in units(hit, vote_blocks=plan.intent == "vote", resolution_blocks=plan.intent in DECISION_INTENTS):
            if hostile(text):  # passages are data: their orders to the assistant are never quoted or shown a model
                continue
            coverage = weigher.coverage(text)
            context_cov = weigher.coverage(local_context(hit.chunk.text, text))
            decision_words = DECISION_SENTENCE.search(text) or OUTCOME_WORDS.search(text[-40:])
            if plan.intent in DECISION_INTENTS and decision_words:
                # A decision is about its item: its title, or the heading or sentence that
                # introduces it, speaks for it.
                coverage = max(coverage, title_cov, context_cov)
            score = coverage + 0.3 * title_cov + prior
            if plan.intent in DECISION_INTENTS and decision_words:
                score += 0.25
            if title and (text.strip(" .") == title.strip(" .") or text.strip(" .") in title):
                score -= 0.3  # the title alone is no answer: the label already shows it
            if plan.intent == "when" and DATE_WORDS.search(text):
                score += 0.25
            if asks_number and NUMBERED_ACT.search(text):
                score += 0.35
            if asks_against and re.search(r"\b(?:Noes|Nays|voted no|No\b:)", text):
                score += 0.3
            if plan.intent == "vote" and VOTE_WORDS.search(text):
                score += 0.3 + 0.1 * min(3, len(VOTE_WORDS.findall(text)))
            if plan.intent == "amount" and AMOUNT.search(text):
                score += 0.3
            if plan.intent == "who" and NAME.search(text):
                score += 0.15
            if plan.intent == "action" and hit.chunk.section == "action":
                score += 0.3
            if len(text) < 25:
                score -= 0.2
            if "\n" in text:  # a whole resolution or motion block beats its parts
                score += 0.05
            if off_meeting:
                score *= OFF_MEETING
            scored.append(Unit(hit, text, score))
    scored.sort(key=lambda u: -u.score)
    return scored


def choose(scored: list[Unit], max_quotes: int) -> list[Unit]:
    """The best unit, and others close to it; no unit that repeats one already chosen."""
    if not scored:
        return []
    chosen = [scored[0]]
    best = scored[0]
    for unit in scored[1:]:
        if len(chosen) >= max_quotes or unit.score < 0.7 * best.score:
            break
        same_item = (unit.hit.chunk.source, unit.hit.chunk.item, unit.hit.chunk.title) == (
            best.hit.chunk.source, best.hit.chunk.item, best.hit.chunk.title)
        if not same_item and unit.score < 0.85 * best.score:
            continue
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
        topic_items = {_item_key(h) for h in on_topic if h.chunk.item or h.chunk.title}
        # A decision counts when it is on the topic itself or belongs to an agenda item that is.
        decisions = [h for h in hits if records_decision(h) and (h in on_topic or _item_key(h) in topic_items)]
        if on_topic and not decisions:
            topic_units = choose(score_units(weigher, on_topic[:2], plan), 1)
            text, citations = compose(topic_units, lead=prompts.NO_DECISION)
            others = [h for h in hits if records_decision(h) and h.chunk.id not in {u.hit.chunk.id for u in topic_units}]
            if not plan.prefer.is_empty():  # the body the question names comes first, alone if it has any
                named = [h for h in others if plan.prefer.accepts(h.chunk.metadata())]
                others = named or others
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


def _item_key(hit: Hit) -> tuple:
    c = hit.chunk
    return (c.source, c.meeting, c.date, c.item, c.title)


def records_decision(hit: Hit) -> bool:
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

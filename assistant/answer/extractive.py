"""Extractive answers: quotations from the best passages, each said to be whose words they
are and cited. Nothing is stated that is not a quotation or a metadata field."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..core.labels import meeting_label
from ..core.text import one_line
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


def merge_drafts(drafts: list[Draft]) -> Draft:
    """One answer from the answers to each part of a question: the parts' texts in turn, with
    their citations numbered anew (a quote that two parts share is cited once)."""
    citations: list[Citation] = []
    texts: list[str] = []
    for draft in drafts:
        numbers = {}
        for c in draft.citations:
            same = next((k for k in citations if k.chunk.id == c.chunk.id and k.quote == c.quote), None)
            if same is None:
                same = replace(c, n=len(citations) + 1)
                citations.append(same)
            numbers[c.n] = same.n
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{numbers.get(int(m[1]), m[1])}]", draft.text)
        if text not in texts:
            texts.append(text)
    return Draft("\n\n".join(texts), tuple(citations), no_decision=all(d.no_decision for d in drafts))


def label(hit: Hit) -> str:
    """Whose words: 'Herefordshire Council, Cabinet, 26 September 2024, item 24 (Title)'."""
    c = hit.chunk
    return meeting_label(c.council, c.committee, c.date, c.item, c.title,
                         special=bool(c.meeting and "special" in c.meeting.lower()))


OFF_MEETING = 0.6  # a passage from another council, or a meeting months from the dates the question names


@dataclass(frozen=True)
class UnitWeights:
    """What a quotable unit's score is made of, besides the share of the question's topic it
    holds (weighted by rarity): each bonus applies when the unit holds what the question asks
    for. Set by hand on the seeds and checked on Alameda and Norfolk (README, Evaluation)."""

    prior: float = 0.25  # times the passage's fused score over the best one's
    title: float = 0.3  # times the coverage of the agenda item's title
    decision: float = 0.25  # a decision sentence, for decision, vote and action questions
    title_only: float = -0.3  # the title alone is no answer: the label already shows it
    date: float = 0.25  # a date, for "when" questions
    numbered_act: float = 0.35  # "Resolution No. 123", for "which resolution" questions
    against: float = 0.3  # who voted no, for "who voted against"
    vote: float = 0.3  # vote words, for vote questions ...
    vote_word: float = 0.1  # ... and this much for each of up to VOTE_WORDS_COUNTED of them
    amount: float = 0.3  # an amount, for "how much"
    name: float = 0.15  # a person's name, for "who"
    action: float = 0.3  # an action passage, for action questions
    short: float = -0.2  # a unit under SHORT_UNIT characters
    block: float = 0.05  # a whole resolution or motion block beats its parts


UNIT_WEIGHTS = UnitWeights()
VOTE_WORDS_COUNTED = 3
SHORT_UNIT = 25
VOTED_NO = re.compile(r"\b(?:Noes|Nays|voted no|No\b:)")


def score_units(weigher: Weigher, hits: list[Hit], plan: QueryPlan) -> list[Unit]:
    """Every quotable unit of the hits (sentences, and motion or resolution blocks for the
    questions that want them), scored by how much of the question it holds and whether it
    holds the kind of answer asked for (UnitWeights), best first. Units from another council
    or a meeting months from the dates the question names are weighed down (OFF_MEETING);
    units that address the assistant (injection.hostile) are never scored."""
    scored: list[Unit] = []
    best_fused = hits[0].score if hits else 1.0
    asks = _Asks(number=bool(ASKS_NUMBERED_ACT.search(plan.question)), against=bool(ASKS_AGAINST.search(plan.question)))
    for hit in hits:
        title_cov = weigher.coverage(f"{hit.chunk.title} {hit.chunk.item}")
        off_meeting = contradicts(plan.prefer, hit.chunk.metadata())
        for text in units(hit, vote_blocks=plan.intent == "vote", resolution_blocks=plan.intent in DECISION_INTENTS):
            if hostile(text):  # passages are data: their orders to the assistant are never quoted or shown a model
                continue
            score = _unit_score(weigher, hit, text, plan, asks, title_cov, hit.score / best_fused)
            if off_meeting:
                score *= OFF_MEETING
            scored.append(Unit(hit, text, score))
    scored.sort(key=lambda u: -u.score)
    return scored


@dataclass(frozen=True)
class _Asks:
    """What the question asks for beyond its intent, read once per question."""

    number: bool  # "which resolution", "resolution number"
    against: bool  # "who voted against", "was it unanimous"


def _unit_score(weigher: Weigher, hit: Hit, text: str, plan: QueryPlan, asks: _Asks, title_cov: float,
                fused_share: float) -> float:
    w = UNIT_WEIGHTS
    coverage = weigher.coverage(text)
    decision_words = DECISION_SENTENCE.search(text) or OUTCOME_WORDS.search(text[-40:])
    deciding = plan.intent in DECISION_INTENTS and bool(decision_words)
    if deciding:
        # A decision is about its item: its title, or the heading or sentence that
        # introduces it, speaks for it.
        coverage = max(coverage, title_cov, weigher.coverage(local_context(hit.chunk.text, text)))
    score = coverage + w.title * title_cov + w.prior * fused_share
    title = hit.chunk.title.strip()
    if deciding:
        score += w.decision
    if title and (text.strip(" .") == title.strip(" .") or text.strip(" .") in title):
        score += w.title_only
    if plan.intent == "when" and DATE_WORDS.search(text):
        score += w.date
    if asks.number and NUMBERED_ACT.search(text):
        score += w.numbered_act
    if asks.against and VOTED_NO.search(text):
        score += w.against
    if plan.intent == "vote" and VOTE_WORDS.search(text):
        score += w.vote + w.vote_word * min(VOTE_WORDS_COUNTED, len(VOTE_WORDS.findall(text)))
    if plan.intent == "amount" and AMOUNT.search(text):
        score += w.amount
    if plan.intent == "who" and NAME.search(text):
        score += w.name
    if plan.intent == "action" and hit.chunk.section == "action":
        score += w.action
    if len(text) < SHORT_UNIT:
        score += w.short
    if "\n" in text:  # a whole resolution or motion block beats its parts
        score += w.block
    return score


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
            quotes.append(f"“{one_line(unit.text)}” [{n}]")
        lines.append(f"{label(hit)}: " + " … ".join(quotes))
    return "\n".join(lines), citations


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
            # The decisions first, then the passages on the topic, which a decision in the
            # same item must not push out of the passages quoted from (a tally is often
            # minuted in the item's text, in no decision section).
            first = decisions + [h for h in on_topic if h not in decisions]
            hits = first + [h for h in hits if h not in first]
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

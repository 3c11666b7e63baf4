"""Answers from the decision records. For resolve / decide / vote / who-moved / when
questions, the matching record is quoted verbatim and cited; "what is the latest position on
X" uses the item's history and says which decision is the latest.

`decision_answer(register, plan, hits)` returns an extractive Draft, or None when no record
matches the question's topic (the caller then answers from the passages as usual).
Every quote is a verbatim substring of the cited chunk's text.
"""

from __future__ import annotations

import re

from ..answer.evidence import Weigher
from ..answer.extractive import Draft
from ..core.dates import human_date
from ..retrieve.hybrid import contradicts, preference_factor
from ..core.text import one_line
from ..core.types import Citation, Filters, date_to_int
from .history import build_history, label_of

RECORD_INTENTS = ("decision", "vote", "who", "when")
LATEST = re.compile(
    r"\b(?:latest|most\s+recent|current(?:ly)?|up[- ]to[- ]date|newest|last)\b.{0,30}\b(?:position|status|decision|"
    r"update|state|resolution|word)\b|\bwhere\s+(?:are\s+we|do\s+we\s+stand|does\s+\w+\s+stand|do\s+things\s+stand)\b"
    r"|\bwhat\s+is\s+the\s+latest\b",
    re.I,
)
MOVER_QUESTION = re.compile(r"\b(?:mov(?:e|ed|er)|second(?:ed|er)?|propos(?:e|ed|er))\b", re.I)
MIN_COVERAGE = 0.5  # the least share of the question's weighted words the best record must hold
HIT_SHARE = 0.6  # ... and at least this share of the best retrieved passage's coverage (of the first TOP_HITS)
TOP_HITS = 5
NEAR_BEST = 0.9  # further records kept when their coverage is this close to the best's
SEARCHED = 30  # BM25 hits of the question searched for records beside the retrieved passages
ACTION_PENALTY = 0.3  # taken off an action's coverage when the question asks for no action
VOTE_BONUS = 0.1  # added for a record with a mover or a vote when the question asks how it was voted
RANK_PENALTY = 0.002  # taken off per place of the record's passage in the retrieval order ...
UNRANKED = 50  # ... counted as this place when its passage was not retrieved


def is_latest_question(text: str) -> bool:
    return bool(LATEST.search(text or ""))


def decision_answer(register, plan, hits) -> Draft | None:
    """A Draft quoting the matching decision record, or None."""
    if is_latest_question(plan.question) or (plan.is_follow_up and is_latest_question(plan.standalone)):
        return latest_answer(register, plan)
    if plan.intent not in RECORD_INTENTS:
        return None
    records = matching_records(register, plan, hits)
    if not records:
        return None
    return _record_draft(register, plan, records)


# ---- which records answer -----------------------------------------------------------------

def _weigher(register, plan):
    return Weigher(register.lexical, plan)


def _meta(d) -> dict:
    return {"council": d.council, "committee": d.committee, "date_int": date_to_int(d.date)}


def matching_records(register, plan, hits, limit: int = 3) -> list:
    """Records about the question's topic, best first: from the retrieved passages, and from a
    BM25 search of the topic with the question's filters."""
    weigher = _weigher(register, plan)
    if not weigher.terms:
        return []
    chunk_ids = [h.chunk.id for h in hits]
    chunk_ids += [cid for cid, _ in register.lexical.search(plan.standalone, SEARCHED, plan.filters)]
    rank = {cid: i for i, cid in enumerate(dict.fromkeys(chunk_ids))}
    records = [d for d in register.in_chunks(rank) if plan.filters.accepts(_meta(d))]
    if not records:
        return []
    wants_action = bool(re.search(r"\baction|undert\w+|follow[- ]up|to do\b", plan.question, re.I))
    wants_mover = MOVER_QUESTION.search(plan.question) is not None
    scored = []
    for d in records:
        if d.outcome is None and d.kind != "action":
            continue  # a motion with no recorded outcome decides nothing
        if contradicts(plan.prefer, _meta(d)):
            continue  # another council's, or a meeting months from the one asked about: the passages may still answer
        cov = weigher.coverage(f"{d.title} {d.item} {d.text} {d.action_owner} {d.committee}")
        if d.kind == "action" and not wants_action and plan.intent != "who":
            cov -= ACTION_PENALTY
        if plan.intent == "vote" and (d.mover or d.ayes is not None or d.unanimous):
            cov += VOTE_BONUS
        if plan.intent == "who":
            if wants_mover and not (d.mover or d.seconder):
                continue
            if not wants_mover and not (d.action_owner or d.mover):
                continue
        # The body and dates the question names rank the records; they exclude none.
        scored.append(((cov - RANK_PENALTY * rank.get(d.chunk_id, UNRANKED)) * preference_factor(plan.prefer, _meta(d)), cov, d))
    if not scored:
        return []
    scored.sort(key=lambda s: -s[0])
    best_score, best_cov, best = scored[0]
    top_hit = max((weigher.hit_coverage(h) for h in hits[:TOP_HITS]), default=0.0)
    if best_cov < MIN_COVERAGE or best_cov < HIT_SHARE * top_hit:
        return []
    chosen = [best]
    for score, cov, d in scored[1:]:
        if len(chosen) >= limit:
            break
        same_item = d.source == best.source and (d.item, d.title) == (best.item, best.title)
        if cov >= NEAR_BEST * best_cov and (same_item or plan.intent == "decision") and d.text not in {c.text for c in chosen}:
            chosen.append(d)
    return chosen


# ---- composing ----------------------------------------------------------------------------------

def _cite(register, record_or_entry, quote: str, citations: list) -> int | None:
    """Add a citation whose quote is verbatim in the chunk; its number, or None."""
    chunk = register.chunk(record_or_entry.chunk_id) if record_or_entry.chunk_id else None
    if chunk is None or quote not in chunk.text:
        chunk = register.find_chunk(record_or_entry.source, quote)
    if chunk is None:
        return None
    for c in citations:
        if c.chunk.id == chunk.id and c.quote == quote:
            return c.n
    n = len(citations) + 1
    citations.append(Citation(n=n, chunk=chunk, quote=quote))
    return n


def vote_words(d) -> str:
    """'the motion carried: Ayes 4 (Knox White, Oddie, Vella, Ezzy Ashcraft), Noes 1 (Daysog)'."""
    parts = []
    for key, label in (("ayes", "Ayes"), ("noes", "Noes"), ("abstentions", "Abstentions"), ("absent", "Absent")):
        count = getattr(d, key)
        names = d.vote_names.get(key) or []
        if count is None and not names:
            continue
        text = f"{label} {count if count is not None else len(names)}"
        if names:
            text += f" ({', '.join(names)})"
        parts.append(text)
    if not parts and d.unanimous:
        parts.append("unanimous (no count recorded)")
    return ", ".join(parts)


def record_facts(d) -> str:
    """What the record says besides its words: outcome, mover, seconder, vote, owner."""
    bits = []
    if d.kind == "action":
        return f"Action for {d.action_owner}." if d.action_owner else ""
    if d.outcome:
        bits.append(f"Outcome: {d.outcome}")
    if d.mover:
        bits.append(f"moved by {d.mover}" + (f", seconded by {d.seconder}" if d.seconder else ""))
    elif d.seconder:
        bits.append(f"seconded by {d.seconder}")
    votes = vote_words(d)
    if votes:
        bits.append(f"vote: {votes}")
    if d.kind == "consent":
        bits.append("enacted with the consent calendar")
    return ("; ".join(bits) + ".") if bits else ""


def _record_draft(register, plan, records) -> Draft | None:
    citations: list[Citation] = []
    lines = []
    for d in records:
        n = _cite(register, d, d.text, citations)
        if n is None:
            continue
        where = label_of(d)
        line = f"{where}: “{one_line(d.text)}” [{n}]"
        if d.vote_text and (plan.intent in ("vote", "who") or d.kind == "consent"):
            quote = d.vote_text.split("\n")[-1] if d.kind != "consent" else d.vote_text
            m = _cite(register, d, quote, citations) if quote else None
            if m is not None:
                line += f" … “{one_line(quote)}” [{m}]"
        facts = record_facts(d)
        if plan.intent in ("vote", "who") and facts:
            line = f"{facts}\n{line}"
        elif facts:
            line = f"{line}\n{facts}"
        if plan.intent == "when":
            when = f"On {human_date(d.date)}" if d.date else "The minutes do not state the meeting date"
            line = f"{when}: {line}"
        lines.append(line)
    if not citations:
        return None
    return Draft("\n".join(lines), tuple(citations))


def latest_answer(register, plan) -> Draft | None:
    """'What is the latest position on X?': the latest dated decision in X's history, what
    came after it without a decision, and decisions whose date the minutes do not state."""
    history = build_history(register, plan.standalone, plan.filters if isinstance(plan.filters, Filters) else Filters())
    entries = history.entries
    latest = history.latest
    if not entries:
        return None
    citations: list[Citation] = []
    lines = []
    if latest is not None:
        n = _cite(register, latest, latest.text, citations)
        if n is not None:
            lines.append(f"The latest recorded decision on this — {latest.when}: {label_of(latest)}"
                         f"{_by(latest)}: “{one_line(latest.text)}” [{n}]")
        i = entries.index(latest)
        earlier = [e for e in entries[:i] if e.kind == "decision" and e.decision_kind != "action"][-1:]
        for e in earlier:
            m = _cite(register, e, e.text, citations)
            if m is not None:
                lines.append(f"Before it, {e.when}: {label_of(e)}{_by(e)}: “{one_line(e.text)}” [{m}]")
        later = [e for e in entries[i + 1:] if e.sort_date > latest.sort_date and e.decision_kind != "action"][:1]
        for e in later:
            m = _cite(register, e, e.text, citations)
            if m is not None:
                what = "considered it again, with no decision recorded in these minutes" if e.kind == "discussion" else "recorded"
                lines.append(f"After it, {e.when}: {label_of(e)} {what}: “{one_line(e.text)}” [{m}]")
    else:
        dated = [e for e in entries if e.sort_date]
        if dated:
            e = dated[-1]
            m = _cite(register, e, e.text, citations)
            if m is not None:
                lines.append(f"No dated decision was found on this. The latest dated entry, {e.when}: {label_of(e)}: "
                             f"“{one_line(e.text)}” [{m}]")
    undated = [e for e in entries if not e.sort_date and e.kind == "decision" and e.decision_kind != "action"][:2]
    for e in undated:
        m = _cite(register, e, e.text, citations)
        if m is not None:
            lines.append(f"Not placed in time (the minutes do not state the date): {label_of(e)}: “{one_line(e.text)}” [{m}]")
    if not citations:
        return None
    return Draft("\n".join(lines), tuple(citations))


def _by(e) -> str:
    return f" (reported decision of {e.committee})" if e.date_basis == "reported" and e.committee else ""

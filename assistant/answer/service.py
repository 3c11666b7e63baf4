"""The answer service: question (+ history) -> retrieval -> extractive or LLM answer ->
checked citations -> Answer. One object, models loaded once, shared by CLI, chat and eval."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from ..core.config import Settings
from ..core.text import one_line, shorten
from ..retrieve.minutes_index import MinutesIndex
from ..core.types import DECISION_KINDS, Answer, Citation, Filters, Hit
from . import prompts
from .answer_kind import answer_type_present, vote_answers_first
from .evidence import AMOUNT, Weigher, local_context, rerank_by_coverage, units
from .extractive import (ASKS_NUMBERED_ACT, NUMBERED_ACT, Draft, extractive_answer, label, merge_drafts, records_decision,
                         score_units)
from ..retrieve.hybrid import contradicts
from .query import QueryPlan, plan_query
from .verify import check_answer

EXPANDING_INTENTS = ("decision", "vote", "action", "who", "when")
DECISIONS_FIRST = ("vote",)  # the motion and the vote are the answer itself (a resolution's number and name sit in the heading)
# What the local model reads: the best sentence of each of the best three passages, at most
# LLM_PASSAGE_CHARS each. First token on the seeds: median 1.2 s, p95 1.6 s, against 2.0 s and
# 2.4 s with four passages whole; fact recall 0.42 against 0.38 (README, Benchmark).
LLM_PASSAGES = 3
LLM_PASSAGE_CHARS = 300
SENTENCES_PER_PASSAGE = 1


@dataclass(frozen=True)
class Event:
    """What ask_stream yields: text deltas while the answer is made, then the Answer."""

    kind: str  # "delta" | "answer"
    text: str = ""
    answer: Answer | None = None


def relevance(weigher: Weigher, similarity: dict[str, float], draft: Draft, prefer: Filters = Filters(),
              in_parts: bool = False) -> float:
    """Whether the passages the answer would quote address the question: the mean of four
    signals, weighed alike (equal weights had the best leave-one-set-out balanced accuracy over
    the seeds, Alameda and Norfolk sets; see README, Evaluation):
    - the rarity-weighted share of the question's topic words in the best single quote (with
      its agenda item's title), in all the quotes together, and in the best quoted passage;
    - the dense similarity of the closest quoted passage to the question (`similarity`: chunk
      id to cosine, for the quoted passages however they were found).
    Labels (council, committee, date) do not count: the body and dates a question names rank
    passages instead (see Weigher), so minutes that do not state them are judged on their words.
    Quoted passages that contradict the council or dates the question names (see `contradicts`)
    are left out of all four; when every one does, all are judged and the score is cut to
    CONTRADICTED. Halved when the quotes lack the kind of answer asked for (a number, a day,
    a person: see answer_kind). A question `in_parts` (two meetings named) is answered by
    quotes from each, so no single quote or passage need hold it all: the quotes and the
    passages are judged together. Compared with the refusal threshold, which is calibrated on
    the evaluation sets."""
    if not draft.citations:
        return 0.0
    # Quotes from another council, or from a meeting months away from the dates the question
    # names, do not speak for the meeting asked about: the rest are judged alone.
    citations = [c for c in draft.citations if not contradicts(prefer, c.chunk.metadata())]
    agreement = 1.0 if citations else CONTRADICTED
    citations = citations or draft.citations
    pieces = [f"{c.chunk.title} {local_context(c.chunk.text, c.quote)} {c.quote}" for c in citations]
    if weigher.terms:
        passages = [f"{c.chunk.title} {c.chunk.text}" for c in citations]
        all_quotes = weigher.coverage(" ".join(pieces))
        best_quote = all_quotes if in_parts else max(weigher.coverage(p) for p in pieces)
        best_passage = weigher.coverage(" ".join(passages)) if in_parts else max(weigher.coverage(p) for p in passages)
    else:
        best_quote = all_quotes = best_passage = 0.5
    closest = max((similarity.get(c.chunk.id, 0.0) for c in citations), default=0.0)
    score = (best_quote + all_quotes + best_passage + closest) / 4
    if not answer_type_present(weigher.question, [c.quote for c in citations]):
        score *= 0.5
    return score * agreement


# A decision record's answer states the outcome, mover and vote as well as its words: it gives
# way to the passages' answer only when theirs addresses the question by this much more.
RECORD_MARGIN = 0.05
CONTRADICTED = 0.6  # relevance kept when every quoted passage states another body or date than the question


def wanted_kind(plan: QueryPlan) -> re.Pattern | None:
    """What a passage that answers must hold, when the question says: a resolution's number
    for 'which resolution ...?', an amount for 'how much ...?'."""
    if ASKS_NUMBERED_ACT.search(plan.question):
        return NUMBERED_ACT
    return AMOUNT if plan.intent == "amount" else None


def bring_in_item_passages(retriever, plan: QueryPlan, hits: list[Hit]) -> list[Hit]:
    """The passages of the best hits' agenda items that hold the kind of answer asked for:
    for "which resolution ...?" the item's heading, which states its number and name, first;
    for decision, vote, action, who and when questions the item's motion, vote, resolution
    and action passages (before its discussion for vote questions)."""
    if ASKS_NUMBERED_ACT.search(plan.question):
        return retriever.expand_items(hits, ("heading",), decisions_first=True)
    if plan.intent in EXPANDING_INTENTS:
        return retriever.expand_items(hits, DECISION_KINDS, decisions_first=plan.intent in DECISIONS_FIRST)
    return hits


def interleave(rankings: list[list[Hit]]) -> list[Hit]:
    """The best of each ranking in turn, each passage once."""
    merged: dict[str, Hit] = {}
    for row in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if row < len(ranking):
                merged.setdefault(ranking[row].chunk.id, ranking[row])
    return list(merged.values())


def asks_about_a_decision(plan: QueryPlan, is_latest_question: Callable[[str], bool]) -> bool:
    """Questions the decision records answer: what was resolved or decided, how the vote went,
    who moved it, when it was decided, and the latest position on a matter (which
    `is_latest_question`, the record answerer's, recognises)."""
    from .query import INTENTS

    if is_latest_question(plan.question):
        return True
    if ASKS_NUMBERED_ACT.search(plan.question):
        return False  # "which resolution?": the item's heading carries the number, the record does not
    if plan.intent in ("decision", "vote"):
        return True
    wording = dict(INTENTS)
    return plan.intent in ("who", "when") and bool(
        wording["decision"].search(plan.question) or wording["vote"].search(plan.question))


@dataclass(frozen=True)
class RecordAnswerer:
    """What the decision records lend the service, given by whoever builds it (the app layer
    passes `assistant.decisions.answerer.RECORDS`), so this layer imports nothing above it."""

    answer: Callable  # (register, plan, hits) -> Draft | None: a draft quoting the matching record
    is_latest_question: Callable[[str], bool]  # "what is the latest position on ...?"
    register_of: Callable  # index -> the decision register kept beside it


class AnswerService:
    """`records`: the decision records' answerer; None answers from the passages alone."""

    def __init__(self, settings: Settings, index: MinutesIndex, llm=None, records: RecordAnswerer | None = None):
        self.settings = settings
        self.index = index
        self._llm = llm
        self.records = records

    @classmethod
    def open(cls, settings: Settings, index: MinutesIndex | None = None,
             records: RecordAnswerer | None = None) -> "AnswerService":
        return cls(settings, index or MinutesIndex.open(settings), records=records)

    @property
    def llm(self):
        if self._llm is None:
            from .llm import LLMAnswerer

            self._llm = LLMAnswerer(self.settings)
        return self._llm

    @property
    def register(self):
        """The decision records kept beside the index (answers quote them when they match)."""
        if getattr(self, "_register", None) is None:
            self._register = self.records.register_of(self.index)
        return self._register

    @property
    def mode(self) -> str:
        return self.settings.answer.answer_mode

    def with_mode(self, mode: str) -> "AnswerService":
        """The same index and models, another answer mode."""
        return AnswerService(self.settings.model_copy(update={"answer_mode": mode}), self.index, self._llm, self.records)

    def warm(self) -> None:
        self.index.embedder.embed(["warm up"])
        self.index.lexical.ensure_current()
        if self.mode == "llm":
            self.llm.warm()

    # ---- asking -----------------------------------------------------------------------

    def ask(self, question: str, history=None, filters: Filters = Filters()) -> Answer:
        answer = None
        for event in self.ask_stream(question, history, filters):
            if event.kind == "answer":
                answer = event.answer
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history=None, filters: Filters = Filters()) -> Iterator[Event]:
        timings: dict = {}
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            yield Event("answer", answer=Answer(question, "Please ask a question about the minutes.", True, mode=self.mode))
            return
        stats = self._known_names()
        condense = self.llm.condense if self.mode == "llm" and history else None
        plan = plan_query(question, history, filters, stats["committees"], stats["councils"], condense=condense)
        timings["plan"] = _ms(started)
        t0 = time.perf_counter()
        weigher = Weigher(self.index.lexical, plan)
        if plan.parts:
            # Several meetings named: each is searched for and answered on its own, and the
            # answer holds each part's quotes; it is judged as a whole against the question.
            searched = [self._search(plan.for_part(part), weigher, timings) for part in plan.parts]
            hits = interleave(searched)
        else:
            hits = self._search(plan, weigher, timings)
        timings["retrieve"] = _ms(t0)
        t0 = time.perf_counter()
        draft, score = None, 0.0
        if hits and plan.parts:
            drafts = [self._draft(plan.for_part(part), weigher, part_hits)[0]
                      for part, part_hits in zip(plan.parts, searched) if part_hits]
            draft = merge_drafts([d for d in drafts if d is not None]) if any(drafts) else None
            score = self._judged(plan, weigher, draft) if draft else 0.0
        elif hits:
            draft, score = self._draft(plan, weigher, hits)
        timings["extractive"] = _ms(t0)
        timings["relevance"] = round(score, 3)

        if draft is None or score < self.settings.answer.refusal_threshold:
            answer = self._refusal(plan, hits)
            yield Event("delta", answer.text)
            yield Event("answer", answer=self._finish(answer, started, timings, hits))
            return

        if self.mode != "llm" or draft.no_decision:
            # When the passages on the topic record no decision, a small model tends to present
            # the nearest decision as the answer: the extractive answer says it as it is.
            mode = "extractive" if self.mode != "llm" else "llm (no decision recorded on the topic: extractive answer given)"
            for piece in _pieces(draft.text):
                yield Event("delta", piece)
            answer = Answer(question, draft.text, False, draft.citations, (), plan.standalone, plan.filters, mode)
            yield Event("answer", answer=self._finish(answer, started, timings, hits))
            return

        yield from self._llm_answer(plan, hits, weigher, draft, started, timings)

    def _search(self, plan: QueryPlan, weigher: Weigher, timings: dict) -> list[Hit]:
        """The passages for `plan`: the hybrid search ranked by what the question names, put in
        order by how much of the question they hold, with their items' decision passages."""
        hits = self.index.retriever.search(plan.standalone, plan.filters, k=self.settings.retrieval.top_k, timings=timings,
                                           prefer=plan.prefer)
        hits = rerank_by_coverage(weigher, hits, self.settings.retrieval.coverage_rerank, wanted_kind(plan))
        hits = bring_in_item_passages(self.index.retriever, plan, hits)
        return vote_answers_first(plan.question, hits) if plan.intent == "vote" else hits

    def _draft(self, plan: QueryPlan, weigher: Weigher, hits: list[Hit]) -> tuple[Draft | None, float]:
        """The answer to quote, and how well it addresses the question: the decision record's,
        or the passages' when no record matches or when theirs addresses it clearly better (a
        record of another matter's decision, say)."""
        draft, score = None, 0.0
        if self.records is not None and asks_about_a_decision(plan, self.records.is_latest_question):
            draft = self.records.answer(self.register, plan, hits)
            score = self._judged(plan, weigher, draft) if draft else 0.0
        from_passages = extractive_answer(weigher, hits, plan, self.settings.answer.max_quotes)
        passage_score = self._judged(plan, weigher, from_passages) if from_passages else 0.0
        if draft is None or passage_score > score + RECORD_MARGIN:
            draft, score = from_passages, passage_score
        return draft, score

    def _judged(self, plan: QueryPlan, weigher: Weigher, draft: Draft) -> float:
        """How well the passages `draft` quotes address the question (see `relevance`)."""
        similarity = self.index.retriever.similarities(plan.standalone, [c.chunk.id for c in draft.citations])
        score = relevance(weigher, similarity, draft, plan.prefer, in_parts=bool(plan.parts))
        if plan.is_follow_up:
            # Judged on the questions alone, or with the last answer's words too: quotes
            # that hold those stay on the passage the conversation is about.
            judge = Weigher(self.index.lexical, plan, judging=True)
            score = max(score, relevance(judge, similarity, draft, plan.prefer, in_parts=bool(plan.parts)))
        return score

    def _llm_answer(self, plan: QueryPlan, hits, weigher, draft: Draft, started, timings) -> Iterator[Event]:
        passages, by_number = [], {}
        for n, hit in enumerate(hits[:LLM_PASSAGES], 1):
            best = [u.text for u in score_units(weigher, [hit], plan)[:SENTENCES_PER_PASSAGE]]
            ordered = sorted(best, key=hit.chunk.text.find)
            text = shorten(" … ".join(one_line(u) for u in ordered), LLM_PASSAGE_CHARS)
            passages.append((n, label(hit), text))
            by_number[n] = (hit, text)
        t0 = time.perf_counter()
        raw, first = [], None
        for token in self.llm.stream_answer(plan.standalone, passages):
            if first is None:
                first = time.perf_counter()
                timings["llm_first_token"] = round((first - t0) * 1000, 1)
            raw.append(token)
            yield Event("delta", token)
        timings["llm"] = _ms(t0)
        generated = "".join(raw).strip()
        checked = check_answer(
            generated,
            {n: text for n, (_, text) in by_number.items()},
            self.index.lexical.terms,
            headers={n: label(hit) for n, (hit, _) in by_number.items()},
            decisions={n for n, (hit, _) in by_number.items() if records_decision(hit)},
        )
        if prompts.NOT_FOUND.lower() in generated.lower() or not checked.cited:
            # Nothing the model said survives the check: give the extractive answer instead.
            answer = Answer(plan.question, draft.text, False, draft.citations, (), plan.standalone, plan.filters,
                            "llm (checked: nothing supported, extractive answer given)")
            yield Event("answer", answer=self._finish(answer, started, timings, hits))
            return
        renumber = {old: new for new, old in enumerate(checked.cited, 1)}
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{renumber[int(m[1])]}]" if int(m[1]) in renumber else "", checked.text)
        citations = []
        for old in checked.cited:
            hit, passage_text = by_number[old]
            sentences = [s for s in checked.sentences if s.supported and old in s.cited]
            citations.append(Citation(renumber[old], hit.chunk, _supporting_quote(hit, " ".join(s.text for s in sentences), self.index.lexical.terms)))
        mode = "llm" if not checked.dropped else f"llm (checked: {len(checked.dropped)} unsupported sentence(s) removed)"
        answer = Answer(plan.question, text, False, tuple(citations), (), plan.standalone, plan.filters, mode)
        yield Event("answer", answer=self._finish(answer, started, timings, hits))

    def _refusal(self, plan: QueryPlan, hits: list[Hit]) -> Answer:
        text = prompts.NOT_FOUND
        closest = hits[:3]
        if not hits and not plan.filters.is_empty():
            text += " " + prompts.FILTERS_MATCH_NOTHING.format(filters=describe_filters(plan.filters))
            closest = self.index.retriever.search(plan.standalone, Filters(), k=3)
        return Answer(plan.question, text, True, (), tuple(closest), plan.standalone, plan.filters, self.mode)

    def _finish(self, answer: Answer, started: float, timings: dict, hits=()) -> Answer:
        note = self._filters_note(answer.filters)
        text = f"{answer.text}\n\n{note}" if note else answer.text
        timings["total"] = _ms(started)
        return replace(answer, text=text, timings_ms=timings, hits=tuple(hits))

    def _filters_note(self, filters: Filters) -> str:
        """Filters the user set exclude: the answer says what they left out."""
        if filters.is_empty():
            return ""
        excluded, undated = self.index.lexical.excluded_documents(self.index.retriever.as_stored(filters))
        if not excluded:
            return ""
        return prompts.FILTERS_EXCLUDED.format(
            filters=describe_filters(filters), excluded=excluded,
            undated=prompts.UNDATED_EXCLUDED.format(undated=undated) if undated else "")

    def _known_names(self) -> dict:
        generation = self.index.catalog.generation()
        cached = getattr(self, "_names_cache", None)
        if cached and cached[0] == generation:
            return cached[1]
        stats = self.index.catalog.stats()
        names = {"committees": stats["committees"], "councils": stats["councils"]}
        self._names_cache = (generation, names)
        return names

    # ---- output -----------------------------------------------------------------------

    def to_json(self, answer: Answer) -> dict:
        return {
            "question": answer.question,
            "answer": answer.text,
            "refused": answer.refused,
            "citations": [citation_json(c) for c in answer.citations],
            "closest": [
                {"source": h.chunk.source, "page": h.chunk.page_start, "council": h.chunk.council,
                 "committee": h.chunk.committee, "date": h.chunk.date, "item": h.chunk.item, "title": h.chunk.title,
                 "provenance": h.chunk.provenance(), "text": h.chunk.text[:300]}
                for h in answer.closest
            ],
            "standalone_question": answer.standalone_query,
            "filters": {k: v for k, v in vars(answer.filters).items() if v},
            "mode": answer.mode,
            "timings_ms": answer.timings_ms,
        }

    def to_text(self, answer: Answer) -> str:
        lines = [answer.text]
        if answer.citations:
            lines.append("\nSources:")
            for c in answer.citations:
                ch = c.chunk
                lines.append(f"[{c.n}] {label_of(ch)} — {ch.source}, page {ch.page_start}")
                lines.append(f"    “{one_line(c.quote)}”")
        if answer.refused and answer.closest:
            lines.append("\n" + prompts.CLOSEST_MATCHES)
            for h in answer.closest:
                lines.append(f"- {label_of(h.chunk)} — {h.chunk.source}, page {h.chunk.page_start}")
        return "\n".join(lines)


def label_of(chunk) -> str:
    return label(Hit(chunk=chunk, score=0.0, rank=0))


def citation_json(c: Citation) -> dict:
    ch = c.chunk
    return {
        "n": c.n,
        "source": ch.source,
        "page": ch.page_start,
        "page_end": ch.page_end,
        "council": ch.council,
        "committee": ch.committee,
        "date": ch.date,
        "item": ch.item,
        "title": ch.title,
        "section": ch.section,
        "provenance": ch.provenance(),
        "quote": c.quote,
    }


def describe_filters(filters: Filters) -> str:
    parts = []
    if filters.council:
        parts.append(f"council {filters.council}")
    if filters.committee:
        parts.append(f"committee {filters.committee}")
    if filters.since or filters.until:
        parts.append(f"dates {filters.since or '…'} to {filters.until or '…'}")
    return ", ".join(parts)


def _supporting_quote(hit: Hit, sentence: str, terms) -> str:
    """The unit of the passage that best supports what the model said (verbatim)."""
    wanted = set(terms(sentence))
    best, best_score = hit.chunk.text[:300], -1.0
    for unit in units(hit):
        have = set(terms(unit))
        score = len(wanted & have) / (len(have) ** 0.5 or 1)
        if score > best_score:
            best, best_score = unit, score
    return best


def _pieces(text: str, size: int = 40) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)

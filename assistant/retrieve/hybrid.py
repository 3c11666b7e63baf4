"""Hybrid retrieval: dense (Chroma) and lexical (BM25) results fused by weighted
reciprocal rank, with the same filters applied in both parts."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from ..core.config import Settings
from ..index.embedding import Embedder
from ..index.lexical import LexicalIndex
from ..index.store import ChromaStore
from ..core.types import Filters, Hit
from ..index.vectors import VectorMatrix

PREFERENCE_BOOST = 1.5  # a passage of the body and dates the question names counts as much as 1.5 of another
ITEM_NUMBER_BOOST = 2.0
ITEM_NUMBER = re.compile(r"\b(\d{2,4}-\d{1,4}[A-Z]?)\b")


# Words that name no particular body: a body is told from another, and recognised in a
# question, by its other words ("minute" too: a title block read as "Minute of the Special City
# Council" must not make every question about minutes a question about that body).
GENERIC_BODY_WORDS = {"council", "city", "county", "borough", "district", "town", "parish", "community", "village",
                      "metropolitan", "annual", "ordinary", "extraordinary", "special", "regular", "full", "meeting",
                      "minute", "minutes", "draft", "record", "of", "the", "and", "&"}


def same_body(a: str, b: str) -> bool:
    """Two spellings of one body: the distinctive words of one hold those of the other
    ('West Dereham Annual Parish Council' and 'West Dereham Parish Council'; 'Northwold and
    Whittington Parish Council' and 'Northwold Parish Council'), or the names are equal."""
    if a.lower() == b.lower():
        return True
    words_a = set(re.findall(r"\w+", a.lower())) - GENERIC_BODY_WORDS
    words_b = set(re.findall(r"\w+", b.lower())) - GENERIC_BODY_WORDS
    return bool(words_a and words_b) and (words_a <= words_b or words_b <= words_a)


def preference_factor(prefer: Filters, meta: dict) -> float:
    """How much a passage matches what the question names (council, committee, dates): each
    named field counts 1 when the passage has it, 0.5 when the passage does not say (an
    undated or unlabelled passage stays a fair candidate), 0 when it says otherwise; the
    mean scales PREFERENCE_BOOST. Never 0: a preference ranks, it does not exclude."""
    marks = []
    for field in ("council", "committee"):
        wanted = getattr(prefer, field)
        if wanted:
            have = meta.get(field) or ""
            marks.append(0.5 if not have else float(same_body(have, wanted)))
    if prefer.since or prefer.until:
        day = int(meta.get("date_int", 0) or 0)
        marks.append(0.5 if day == 0 else float(Filters(since=prefer.since, until=prefer.until).accepts(meta)))
    if not marks:
        return 1.0
    return 1.0 + (PREFERENCE_BOOST - 1.0) * sum(marks) / len(marks)


DATE_SLACK_DAYS = 62  # a date in a question is often the event's, reported at a meeting a month or two later


def contradicts(prefer: Filters, meta: dict) -> bool:
    """The passage states a council other than the one named, or a meeting date well away
    from the dates named; or, with no meeting date, it was published well before them (its
    meeting was no later). A committee is not compared: a question names one as often for what
    happened to it ("appointed to the Planning Board") as for where it met."""
    if prefer.council and meta.get("council") and not same_body(meta["council"], prefer.council):
        return True
    day = int(meta.get("date_int", 0) or 0)
    if (prefer.since or prefer.until) and day:
        since = _shift(prefer.since, -DATE_SLACK_DAYS)
        until = _shift(prefer.until, DATE_SLACK_DAYS)
        return not Filters(since=since, until=until).accepts(meta)
    if prefer.since and meta.get("published"):
        return meta["published"] < _shift(prefer.since, -DATE_SLACK_DAYS)
    return False


def _shift(iso: str, days: int) -> str:
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat() if iso else ""


QUERY_VECTORS_KEPT = 32


@dataclass
class Retriever:
    settings: Settings
    embedder: Embedder
    store: ChromaStore
    lexical: LexicalIndex
    vectors: VectorMatrix | None = None  # None: dense search asks Chroma (a server)
    _query_vectors: dict = field(default_factory=dict, repr=False)
    _query_vectors_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def search(self, query: str, filters: Filters = Filters(), k: int | None = None, mode: str | None = None,
               timings: dict | None = None, prefer: Filters | None = None) -> list[Hit]:
        """Hybrid search. `filters` are hard; `prefer` (a committee or council the question
        names) lifts matching passages without excluding the rest."""
        k = k or self.settings.retrieval.top_k
        mode = mode or self.settings.retrieval.retrieval_mode
        n = max(self.settings.retrieval.candidates, k)
        filters = self.as_stored(filters)
        started = time.perf_counter()
        # Dates the question names: a second search limited to passages in that range or
        # with no date at all, fused with the first, so the range is searched in depth in a
        # large index while passages from other dates stay candidates.
        prefer = prefer or Filters()
        dated = None
        if (prefer.since or prefer.until) and not (filters.since or filters.until):
            dated = replace(filters, since=prefer.since, until=prefer.until, include_undated=True)
        dense, lexical = [], []
        if mode in ("hybrid", "dense"):
            vector = self.query_vector(query)
            t_embed = time.perf_counter()
            dense = [self._dense(vector, n, filters)]
            if dated is not None:
                dense.append(self._dense(vector, n, dated))
            t_dense = time.perf_counter()
            if timings is not None:
                timings["embed_query"] = round((t_embed - started) * 1000, 1)
                timings["dense"] = round((t_dense - t_embed) * 1000, 1)
        if mode in ("hybrid", "lexical"):
            t0 = time.perf_counter()
            lexical = [self.lexical.search(query, n, filters)]
            if dated is not None:
                lexical.append(self.lexical.search(query, n, dated))
            if timings is not None:
                timings["lexical"] = round((time.perf_counter() - t0) * 1000, 1)
        return self.fuse(dense, lexical, k, prefer, items=set(ITEM_NUMBER.findall(query)))

    def _dense(self, vector, n: int, filters: Filters) -> list:
        """Dense matches: from the in-memory matrix for an embedded index, filtered by the
        same mask as BM25; from Chroma itself when it is a server."""
        if self.vectors is None:
            return self.store.query(vector, n, filters)
        return self.vectors.search(vector, n, self.lexical.within(filters))

    def query_vector(self, query: str):
        """The query's embedding; the last few are kept, as an answer asks for it twice
        (search, then the similarity of the quoted passages)."""
        with self._query_vectors_lock:
            vector = self._query_vectors.get(query)
        if vector is None:
            vector = self.embedder.embed([query])[0]
            with self._query_vectors_lock:
                if len(self._query_vectors) >= QUERY_VECTORS_KEPT:
                    self._query_vectors.pop(next(iter(self._query_vectors)))
                self._query_vectors[query] = vector
        return vector

    def similarities(self, query: str, chunk_ids) -> dict[str, float]:
        """Cosine similarity of the query to each chunk's stored vector, whether or not the
        dense search found the chunk (BM25 and item expansion bring in passages it did not)."""
        stored = self.store.vectors(list(dict.fromkeys(chunk_ids)))
        if not stored:
            return {}
        vector = self.query_vector(query)
        return {i: float(np.dot(vector, v)) for i, v in stored.items()}

    def expand_items(self, hits: list[Hit], kinds: tuple[str, ...], top: int = 5, decisions_first: bool = False) -> list[Hit]:
        """Bring in the decision passages (motion, vote, resolution, action) of the agenda
        items the best hits belong to, right after them: the answer to 'who moved it' or
        'what was resolved' often sits in another chunk of the same item. With
        `decisions_first` (vote questions) they go before a hit that is the item's heading,
        listing or discussion, last first, and are moved up even when the search found them
        lower: the last motion and vote settle the item."""
        found = {h.chunk.id for h in hits}
        placed: set[str] = set()
        out: list[Hit] = []
        for position, hit in enumerate(hits):
            if hit.chunk.id in placed:
                continue  # moved up beside its item's best hit
            placed.add(hit.chunk.id)
            siblings = []
            if position < top and (hit.chunk.item or hit.chunk.title):
                for sibling in self.lexical.item_chunks(hit.chunk):
                    if sibling.section in kinds and sibling.id not in placed and (decisions_first or sibling.id not in found):
                        placed.add(sibling.id)
                        siblings.append(Hit(chunk=sibling, score=hit.score, rank=0))
            if decisions_first and siblings and hit.chunk.section not in kinds:
                out.extend(siblings[::-1] + [hit])  # the item's last motion and vote, which settle it, before its discussion or listing
            else:
                out.append(hit)
                out.extend(replace(s, score=hit.score * 0.99) for s in siblings)
        return [replace(h, rank=i) for i, h in enumerate(out, 1)]

    def as_stored(self, filters: Filters) -> Filters:
        """Council and committee as the index spells them: BM25 and Filters.accepts ignore
        case, Chroma's `where` does not, so 'cabinet' must become 'Cabinet' for every mode
        to filter alike."""
        if not (filters.council or filters.committee):
            return filters
        generation = self.lexical.catalog.generation()
        cached = getattr(self, "_spelled", None)
        if cached is None or cached[0] != generation:  # built once per change of the index
            spellings: dict[str, str] = {}
            for chunk in self.lexical.all_chunks():
                for value in (chunk.council, chunk.committee):
                    spellings.setdefault(value.lower(), value)
            self._spelled = cached = (generation, spellings)
        spelled = cached[1]
        return replace(filters, council=spelled.get(filters.council.lower(), filters.council),
                       committee=spelled.get(filters.committee.lower(), filters.committee))

    def fuse(self, dense: list[list], lexical: list[list], k: int, prefer: Filters | None = None,
             items: set[str] = frozenset()) -> list[Hit]:
        """Weighted reciprocal rank fusion of ranked lists (dense matches, and BM25 (id,
        score) pairs). Dense ids the catalogue does not know (left by an interrupted ingest)
        are dropped."""
        rrf = self.settings.retrieval.rrf_k
        scores: dict[str, float] = {}
        dense_rank, lexical_rank, similarity = {}, {}, {}
        for ranking in dense:
            for rank, match in enumerate(ranking, 1):
                dense_rank[match.id] = min(rank, dense_rank.get(match.id, rank))
                similarity[match.id] = match.similarity
                scores[match.id] = scores.get(match.id, 0.0) + self.settings.retrieval.dense_weight / (rrf + rank)
        for ranking in lexical:
            for rank, (chunk_id, _score) in enumerate(ranking, 1):
                lexical_rank[chunk_id] = min(rank, lexical_rank.get(chunk_id, rank))
                scores[chunk_id] = scores.get(chunk_id, 0.0) + self.settings.retrieval.lexical_weight / (rrf + rank)
        if items:  # an item or report number the query names exactly outweighs looser matches
            for chunk_id in list(scores):
                chunk = self.lexical.chunk(chunk_id)
                if chunk is not None and chunk.item.upper() in items:
                    scores[chunk_id] *= ITEM_NUMBER_BOOST
        if prefer is not None and not prefer.is_empty():
            for chunk_id in list(scores):
                chunk = self.lexical.chunk(chunk_id)
                if chunk is not None:
                    scores[chunk_id] *= preference_factor(prefer, chunk.metadata())
        hits = []
        for chunk_id, score in sorted(scores.items(), key=lambda kv: -kv[1]):
            chunk = self.lexical.chunk(chunk_id)
            if chunk is None:
                continue
            hits.append(
                Hit(
                    chunk=chunk,
                    score=score,
                    rank=len(hits) + 1,
                    dense_rank=dense_rank.get(chunk_id),
                    lexical_rank=lexical_rank.get(chunk_id),
                    dense_similarity=similarity.get(chunk_id),
                )
            )
            if len(hits) == k:
                break
        return hits

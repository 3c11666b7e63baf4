"""Hybrid retrieval: dense (Chroma) and lexical (BM25) results fused by weighted
reciprocal rank, with the same filters applied in both parts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .config import Settings
from .embedding import Embedder
from .lexical import LexicalIndex
from .store import ChromaStore
from .types import Filters, Hit


@dataclass
class Retriever:
    settings: Settings
    embedder: Embedder
    store: ChromaStore
    lexical: LexicalIndex

    def search(self, query: str, filters: Filters = Filters(), k: int | None = None, mode: str | None = None,
               timings: dict | None = None) -> list[Hit]:
        k = k or self.settings.top_k
        mode = mode or self.settings.retrieval_mode
        n = max(self.settings.candidates, k)
        started = time.perf_counter()
        dense, lexical = [], []
        if mode in ("hybrid", "dense"):
            vector = self.embedder.embed([query])[0]
            t_embed = time.perf_counter()
            dense = self.store.query(vector, n, filters)
            t_dense = time.perf_counter()
            if timings is not None:
                timings["embed_query"] = round((t_embed - started) * 1000, 1)
                timings["dense"] = round((t_dense - t_embed) * 1000, 1)
        if mode in ("hybrid", "lexical"):
            t0 = time.perf_counter()
            lexical = self.lexical.search(query, n, filters)
            if timings is not None:
                timings["lexical"] = round((time.perf_counter() - t0) * 1000, 1)
        return self.fuse(dense, lexical, k)

    def fuse(self, dense, lexical, k: int) -> list[Hit]:
        """Weighted reciprocal rank fusion. Dense ids the catalogue does not know (left by
        an interrupted ingest) are dropped."""
        rrf = self.settings.rrf_k
        scores: dict[str, float] = {}
        dense_rank, lexical_rank, similarity = {}, {}, {}
        for rank, match in enumerate(dense, 1):
            dense_rank[match.id] = rank
            similarity[match.id] = match.similarity
            scores[match.id] = scores.get(match.id, 0.0) + self.settings.dense_weight / (rrf + rank)
        for rank, (chunk_id, _score) in enumerate(lexical, 1):
            lexical_rank[chunk_id] = rank
            scores[chunk_id] = scores.get(chunk_id, 0.0) + self.settings.lexical_weight / (rrf + rank)
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

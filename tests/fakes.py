"""Fakes for fast logic tests: no model, no Chroma, no files.

- `HashingEmbedder`: a deterministic embedder, a hashed bag of lower-cased words (a word's
  slot is fixed by its md5), unit length; texts sharing words are close. The same vectors as
  the copy in `assistant/index/embedding.py`, which no code of the assistant itself uses.
- `MemoryLexical`: what the retriever, the weigher and the decision answers ask of
  `LexicalIndex` (chunk by id, an item's chunks, terms and their rarity, a keyword search
  with the filters), over a list of chunks in memory.
- `MemoryStore`: what the retriever asks of `ChromaStore` (query with filters, stored
  vectors), by cosine similarity in numpy.
- `MemoryIndex`: the three parts and a real `Retriever` over them.
- `ScriptedChatModel`: a chat model that replies from a script and records what it was sent
  (`LLMAnswerer(settings, model=ScriptedChatModel([...]))`).
- `MemoryRegister`: the part of `DecisionRegister` the record answers read.
- `chunk(...)`: a Chunk with only the fields a test cares about.

Where a fake stands for a real part, its behaviour follows the real one's contract (filters
through `Filters.accepts`, ranked lists best first), not its scores.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assistant.core.config import Settings
from assistant.retrieve.hybrid import Retriever
from assistant.index.store import DenseMatch
from assistant.core.types import Chunk, Filters


def chunk(id: str, text: str = "", *, source: str = "minutes.txt", section: str = "discussion", item: str = "",
          title: str = "", council: str = "", committee: str = "", date: str = "", meeting: str = "",
          ordinal: int = 0, page: int = 1) -> Chunk:
    text = text or f"passage {id}"
    return Chunk(id=id, text=text, embed_text=f"{title}\n{text}" if title else text, source=source, page_start=page,
                 page_end=page, section=section, council=council, committee=committee, meeting=meeting, date=date,
                 item=item, title=title, ordinal=ordinal)


class HashingEmbedder:
    """A deterministic stand-in for the model: hashed bag of lower-cased words. Records the
    texts of each call in `calls`."""

    dimension = 384
    name = "hashing-test"

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dimension] += 1.0
            norm = math.sqrt(float((out[row] ** 2).sum())) or 1.0
            out[row] /= norm
        return out

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def warm(self) -> None:
        pass


class _Catalog:
    """The catalogue's generation counter, which the retriever keys its spelling cache on."""

    def __init__(self):
        self.read_only = False
        self._generation = 0

    def generation(self) -> int:
        return self._generation


class MemoryLexical:
    """LexicalIndex's reading side over chunks in memory. Terms are lower-cased words (no
    stemming); `search` scores a chunk by the summed rarity of the query's terms it has."""

    def __init__(self, chunks: Sequence[Chunk] = ()):
        self.catalog = _Catalog()
        self._chunks: list[Chunk] = []
        self.add(chunks)

    def add(self, chunks: Sequence[Chunk]) -> None:
        self._chunks.extend(chunks)
        self.catalog._generation += 1

    def ensure_current(self) -> None:
        pass

    def terms(self, text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    def frequency(self, term: str) -> int:
        return sum(term in set(self.terms(c.embed_text)) for c in self._chunks)

    def idf(self, term: str) -> float:
        n = max(1, len(self._chunks))
        df = self.frequency(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def chunk(self, chunk_id: str) -> Chunk | None:
        return next((c for c in self._chunks if c.id == chunk_id), None)

    def item_chunks(self, chunk: Chunk) -> list[Chunk]:
        key = (chunk.source, chunk.meeting, chunk.date, chunk.item, chunk.title)
        same = [c for c in self._chunks if (c.source, c.meeting, c.date, c.item, c.title) == key]
        return sorted(same, key=lambda c: c.ordinal)

    def all_chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def search(self, query: str, n: int, filters: Filters, public_only: bool = False) -> list[tuple[str, float]]:
        wanted = set(self.terms(query))
        scored = []
        for c in self._chunks:
            if not filters.accepts(c.metadata(), public_only=public_only):
                continue
            score = sum(self.idf(t) for t in wanted & set(self.terms(c.embed_text)))
            if score > 0:
                scored.append((c.id, score))
        scored.sort(key=lambda s: -s[1])
        return scored[:n]


class MemoryStore:
    """ChromaStore's query side: cosine similarity over vectors kept in a dict."""

    def __init__(self):
        self._vectors: dict[str, np.ndarray] = {}
        self._meta: dict[str, dict] = {}

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        for c, v in zip(chunks, vectors):
            self._vectors[c.id] = np.asarray(v, dtype=np.float32)
            self._meta[c.id] = c.metadata()

    def count(self) -> int:
        return len(self._vectors)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self._vectors[i] for i in ids if i in self._vectors}

    def query(self, vector: np.ndarray, n: int, filters: Filters) -> list[DenseMatch]:
        found = [(i, float(np.dot(vector, v))) for i, v in self._vectors.items() if filters.accepts(self._meta[i])]
        found.sort(key=lambda s: -s[1])
        return [DenseMatch(id=i, similarity=s) for i, s in found[:n]]


@dataclass
class MemoryIndex:
    """Chunks embedded with the fake embedder, with the real Retriever over them."""

    settings: Settings = field(default_factory=Settings)
    embedder: HashingEmbedder = field(default_factory=HashingEmbedder)
    store: MemoryStore = field(default_factory=MemoryStore)
    lexical: MemoryLexical = field(default_factory=MemoryLexical)

    def __post_init__(self):
        self.retriever = Retriever(self.settings, self.embedder, self.store, self.lexical)

    @classmethod
    def of(cls, chunks: Sequence[Chunk], **settings) -> "MemoryIndex":
        index = cls(settings=Settings(**settings))
        index.add(chunks)
        return index

    def add(self, chunks: Sequence[Chunk]) -> None:
        chunks = list(chunks)
        self.lexical.add(chunks)
        self.store.upsert(chunks, self.embedder.embed([c.embed_text for c in chunks]))


@dataclass
class _Reply:
    content: str


class ScriptedChatModel:
    """A chat model that answers from a script: `invoke` returns the next reply, `stream`
    yields it word by word. What it was sent is kept in `sent` (lists of messages)."""

    def __init__(self, replies: Sequence[str]):
        self.replies = list(replies)
        self.sent: list[list] = []

    def _next(self, messages) -> str:
        self.sent.append(list(messages))
        if not self.replies:
            raise AssertionError("the script has no more replies")
        return self.replies.pop(0)

    def invoke(self, messages) -> _Reply:
        return _Reply(self._next(messages))

    def stream(self, messages):
        for piece in re.findall(r"\S+\s*", self._next(messages)):
            yield _Reply(piece)


class MemoryRegister:
    """What the record answers read of a DecisionRegister: its BM25 (`lexical`), records by
    the chunks that hold them, and chunks by id or by a quote."""

    def __init__(self, lexical: MemoryLexical, decisions: Sequence = ()):
        self.lexical = lexical
        self.decisions = list(decisions)

    def in_chunks(self, chunk_ids) -> list:
        ids = set(chunk_ids)
        return sorted((d for d in self.decisions if d.chunk_id in ids), key=lambda d: (d.source, d.ordinal))

    def of_file(self, path_or_source: str) -> list:
        return [d for d in self.decisions if path_or_source in (d.path, d.source)]

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.lexical.chunk(chunk_id)

    def find_chunk(self, source: str, quote: str) -> Chunk | None:
        return next((c for c in self.lexical.all_chunks() if c.source == source and quote and quote in c.text), None)

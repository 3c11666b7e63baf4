"""The BM25 index (bm25s), kept beside the vector index and rebuilt from the catalogue
whenever the catalogue's generation has moved on (so an interrupted ingest never leaves
it out of step: the next search or ingest brings it up to date)."""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from .catalog import Catalog
from ..core.filters import Columns, Filters, mask
from ..core.types import Chunk

STOPWORDS = "en"
TERM = re.compile(r"[a-z0-9$£][a-z0-9_$£]*")


class LexicalIndex:
    def __init__(self, catalog: Catalog, folder: Path):
        self.catalog = catalog
        self.folder = folder
        self._lock = threading.Lock()
        self._generation = -1
        self._retriever = None
        self._chunks: list[Chunk] = []
        self._by_id: dict[str, int] = {}
        self._stemmer = None

    # ---- building ---------------------------------------------------------------------

    def _tokenize(self, texts: list[str]):
        import bm25s

        if self._stemmer is None:
            import Stemmer

            self._stemmer = Stemmer.Stemmer("english")
        return bm25s.tokenize(
            [normalise(t) for t in texts], stopwords=STOPWORDS, stemmer=self._stemmer, show_progress=False
        )

    def ensure_current(self) -> None:
        """Load or rebuild so the index matches the catalogue."""
        generation = self.catalog.generation()
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            if not self._load(generation):
                self._build(generation)

    def _build(self, generation: int) -> None:
        import bm25s

        chunks = self.catalog.chunks()
        retriever = None
        if chunks:
            retriever = bm25s.BM25()
            retriever.index(self._tokenize([c.embed_text for c in chunks]), show_progress=False)
            if not getattr(self.catalog, "read_only", False):  # a read-only index keeps it in memory
                self._save(retriever, chunks, generation)
        self._set(retriever, chunks, generation)

    def _save(self, retriever, chunks: list[Chunk], generation: int) -> None:
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        retriever.save(str(tmp))
        (tmp / "chunk_ids.json").write_text(json.dumps({"generation": generation, "ids": [c.id for c in chunks]}))
        if self.folder.exists():
            import shutil

            shutil.rmtree(self.folder)
        tmp.rename(self.folder)

    def _load(self, generation: int) -> bool:
        marker = self.folder / "chunk_ids.json"
        if not marker.exists():
            return False
        try:
            saved = json.loads(marker.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        if saved.get("generation") != generation:
            return False
        import bm25s

        chunks = {c.id: c for c in self.catalog.chunks()}
        if set(saved["ids"]) != set(chunks):
            return False
        self._set(bm25s.BM25.load(str(self.folder)), [chunks[i] for i in saved["ids"]], generation)
        return True

    def _set(self, retriever, chunks: list[Chunk], generation: int) -> None:
        self._df = self._document_frequencies(chunks, generation)
        self._retriever = retriever
        self._chunks = chunks
        self._by_id = {c.id: i for i, c in enumerate(chunks)}
        self._by_item: dict[tuple, list[int]] = {}
        for i, c in enumerate(chunks):
            if c.item or c.title:
                self._by_item.setdefault((c.source, c.meeting, c.date, c.item, c.title), []).append(i)
        self._columns = Columns.of_chunks(chunks)  # what the filters read (filters.mask)
        self._source = np.array([c.source for c in chunks], dtype=object)
        self._generation = generation

    def _document_frequencies(self, chunks: list[Chunk], generation: int) -> dict[str, int]:
        cache = self.folder / "df.json"
        if cache.exists():
            try:
                saved = json.loads(cache.read_text())
                if saved.get("generation") == generation and saved.get("n") == len(chunks):
                    return saved["df"]
            except (OSError, json.JSONDecodeError):
                pass
        df: Counter[str] = Counter()
        for chunk in chunks:
            df.update(set(self.terms(chunk.embed_text)))
        if self.folder.exists() and not getattr(self.catalog, "read_only", False):  # a read-only index: in memory
            cache.write_text(json.dumps({"generation": generation, "n": len(chunks), "df": df}))
        return dict(df)

    def terms(self, text: str) -> list[str]:
        """Stemmed, lower-cased words and numbers (single digits kept: 'phase 2')."""
        if self._stemmer is None:
            import Stemmer

            self._stemmer = Stemmer.Stemmer("english")
        words = TERM.findall(normalise(text).lower())
        return self._stemmer.stemWords(words)

    def frequency(self, term: str) -> int:
        """In how many chunks a stemmed term occurs."""
        self.ensure_current()
        return self._df.get(term, 0)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term; unseen terms weigh most."""
        self.ensure_current()
        n = max(1, len(self._chunks))
        df = self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    # ---- searching --------------------------------------------------------------------

    def chunk(self, chunk_id: str) -> Chunk | None:
        self.ensure_current()
        i = self._by_id.get(chunk_id)
        return self._chunks[i] if i is not None else None

    def item_chunks(self, chunk: Chunk) -> list[Chunk]:
        """Every chunk of the same agenda item of the same meeting, in document order."""
        self.ensure_current()
        key = (chunk.source, chunk.meeting, chunk.date, chunk.item, chunk.title)
        return [self._chunks[i] for i in self._by_item.get(key, [])]

    def all_chunks(self) -> list[Chunk]:
        self.ensure_current()
        return list(self._chunks)

    def generation(self) -> int:
        """The catalogue generation the loaded index was built for."""
        return self._generation

    def chunk_ids(self) -> list[str]:
        """Chunk ids in the index's row order (what `within` masks line up with)."""
        self.ensure_current()
        return [c.id for c in self._chunks]

    def within(self, filters: Filters, public_only: bool = False):
        """The rows the filters (and, with `public_only`, access) allow, or None for all."""
        self.ensure_current()
        return mask(filters, self._columns, public_only)

    def search(self, query: str, n: int, filters: Filters, public_only: bool = False) -> list[tuple[str, float]]:
        self.ensure_current()
        if self._retriever is None:
            return []
        tokens = self._tokenize([query])
        ids = tokens.ids[0] if hasattr(tokens, "ids") else tokens[0]
        vocab_inv = {v: k for k, v in tokens.vocab.items()}
        words = [vocab_inv[i] for i in ids if i in vocab_inv]
        if not words:
            return []
        scores = self._retriever.get_scores(words)
        within = mask(filters, self._columns, public_only)
        if within is not None:
            scores = np.where(within, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self._chunks[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def excluded_documents(self, filters: Filters, public_only: bool = False) -> tuple[int, int]:
        """How many documents the filters leave out entirely, and how many of those state no
        meeting date (a date filter cannot know whether they would have matched). With
        `public_only`, restricted passages are not counted at all."""
        self.ensure_current()
        columns = self._columns
        within = mask(filters, columns) if self._chunks else None
        if within is None:
            return 0, 0
        visible = ~columns.restricted if public_only else np.ones(len(self._chunks), dtype=bool)
        kept = set(self._source[within & visible])
        dated = set(self._source[(columns.date_int > 0) & visible])
        left_out = set(self._source[visible]) - kept
        return len(left_out), len(left_out - dated)


class PublicLexical:
    """The BM25 index as a public user sees it: the same loaded index (nothing is rebuilt), with
    restricted chunks never found, looked up, listed or expanded into. Every retrieval path of
    the Retriever goes through `search`, `chunk` and `item_chunks`, so none can return one."""

    def __init__(self, base: LexicalIndex, catalog):
        self.base = base
        self.catalog = catalog  # the catalogue's public view

    def __getattr__(self, name):  # terms, idf, ensure_current, ...: shared with the base
        return getattr(self.base, name)

    def search(self, query: str, n: int, filters: Filters, public_only: bool = True) -> list[tuple[str, float]]:
        return self.base.search(query, n, filters, public_only=True)

    def within(self, filters: Filters, public_only: bool = True):
        return self.base.within(filters, public_only=True)

    def chunk(self, chunk_id: str) -> Chunk | None:
        found = self.base.chunk(chunk_id)
        return found if found is not None and found.access != "restricted" else None

    def item_chunks(self, chunk: Chunk) -> list[Chunk]:
        return [c for c in self.base.item_chunks(chunk) if c.access != "restricted"]

    def all_chunks(self) -> list[Chunk]:
        return [c for c in self.base.all_chunks() if c.access != "restricted"]

    def excluded_documents(self, filters: Filters, public_only: bool = True) -> tuple[int, int]:
        return self.base.excluded_documents(filters, public_only=True)


def normalise(text: str) -> str:
    """Keep item and report numbers searchable as one token: '19-330' -> '19_330'."""
    return re.sub(r"(\d)-(\d)", r"\1_\2", text.replace("’", "'"))

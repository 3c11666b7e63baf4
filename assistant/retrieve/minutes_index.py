"""The index as one object: catalogue, vectors, BM25 and the retriever, opened from Settings.
Nothing heavy happens here until it is used (the model loads on the first embed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..index.catalog import Catalog, FileRecord
from ..core.config import Settings
from ..index.embedding import Embedder, TokenCounter, make_embedder
from ..index.identity import collection_name, embedding_identity, resolved_backend
from ..core.errors import MinutesError
from ..index.lexical import LexicalIndex
from .hybrid import Retriever
from ..index.store import ChromaStore
from ..index.vectors import VectorMatrix


@dataclass
class MinutesIndex:
    settings: Settings
    embedder: Embedder
    catalog: Catalog
    store: ChromaStore
    lexical: LexicalIndex
    retriever: Retriever = field(init=False)

    # What ingest builds with, handed over with the index so that ingest imports neither the
    # catalogue nor the embedder: the row written per file, and the token counter a reader
    # process makes for the chunker (a class: it crosses to the process by name).
    file_record = FileRecord
    token_counter = TokenCounter

    def __post_init__(self) -> None:
        # An embedded index searches its vectors in memory; a Chroma server searches its own.
        vectors = None if self.settings.index.chroma_url else VectorMatrix(
            self.store, self.lexical, Path(self.settings.index.index_dir) / f"{collection_name(self.settings)}.vectors.npy")
        self.retriever = Retriever(self.settings, self.embedder, self.store, self.lexical, vectors)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, create: bool = True) -> "MinutesIndex":
        """`create=False` for commands that only read: a missing index is an error, not a new folder."""
        embedder = embedder or make_embedder(settings)
        # The embedder's own backend names the index, so its vectors never join another kind's;
        # the settings kept with the index say that backend too, for everything named after it.
        backend = getattr(embedder, "backend", None)
        if backend and backend != resolved_backend(settings):
            settings = settings.model_copy(update={"embedding_backend": backend})
        name = collection_name(settings)
        folder = Path(settings.index.index_dir)
        if folder.exists() and not folder.is_dir():
            raise MinutesError(f"the index folder {folder} is a file: give --index (or MINUTES_INDEX_DIR) a folder")
        if not create and not (folder / f"{name}.sqlite").is_file():
            others = sorted(p.stem for p in folder.glob("minutes-*.sqlite")) if folder.is_dir() else []
            hint = (f"; it holds {', '.join(others)}, built with other embedding or chunking settings "
                    f"(this run uses {embedding_identity(settings)}, chunk settings "
                    f"{settings.index.embed_max_tokens}/{settings.index.chunker}: see MINUTES_EMBEDDING_BACKEND)") if others else ""
            raise MinutesError(f"there is no index at {folder}{hint}: run `minutes ingest PATH` first"
                               + (" (or point --index at an existing one)" if not folder.exists() else ""))
        catalog = Catalog(folder / f"{name}.sqlite")
        store = ChromaStore(name, folder, settings.index.chroma_url, embedding_identity(settings),
                            read_only=catalog.read_only)
        lexical = LexicalIndex(catalog, folder / f"{name}.bm25")
        return cls(settings, embedder, catalog, store, lexical)

    def view(self, level: str) -> "MinutesIndex":
        """The index as a user of `level` sees it: officers see all of it; public users see
        public text only (catalogue, BM25 and every hit resolved through them)."""
        from ..core.access import LEVELS, OFFICER
        from ..index.lexical import PublicLexical

        if level not in LEVELS:
            raise MinutesError(f"unknown access level {level!r}: use {' or '.join(LEVELS)}")
        if level == OFFICER or getattr(self, "public_only", False):
            return self
        cached = self.__dict__.get("_public")
        if cached is None:
            catalog = self.catalog.public_view()
            cached = MinutesIndex(self.settings, self.embedder, catalog, self.store, PublicLexical(self.lexical, catalog))
            cached.retriever.vectors = self.retriever.vectors  # one matrix: public searches mask restricted rows
            cached.public_only = True
            self.__dict__["_public"] = cached
        return cached

    def is_empty(self) -> bool:
        return self.catalog.stats()["chunks"] == 0

    def require_chunks(self, then: str = "run `minutes ingest PATH` first") -> "MinutesIndex":
        """The index itself, or the error a command that reads it gives when it holds nothing: `then` says what to do."""
        if self.is_empty():
            raise MinutesError(f"the index at {self.settings.index.index_dir} is empty: {then}")
        return self

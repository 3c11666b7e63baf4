"""The index as one object: catalogue, vectors, BM25 and the retriever, opened from Settings.
Nothing heavy happens here until it is used (the model loads on the first embed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .catalog import Catalog
from .config import Settings
from .embedding import Embedder, SentenceTransformerEmbedder
from .lexical import LexicalIndex
from .retrieve import Retriever
from .store import ChromaStore


@dataclass
class MinutesIndex:
    settings: Settings
    embedder: Embedder
    catalog: Catalog
    store: ChromaStore
    lexical: LexicalIndex
    retriever: Retriever = field(init=False)

    def __post_init__(self) -> None:
        self.retriever = Retriever(self.settings, self.embedder, self.store, self.lexical)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> "MinutesIndex":
        embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model, settings.embedding_model_path, settings.embed_batch_size,
            settings.embed_max_tokens,
        )
        name = settings.collection_name()
        folder = settings.index_dir
        catalog = Catalog(folder / f"{name}.sqlite")
        store = ChromaStore(name, folder, settings.chroma_url, settings.embedding_model)
        lexical = LexicalIndex(catalog, folder / f"{name}.bm25")
        return cls(settings, embedder, catalog, store, lexical)

    def is_empty(self) -> bool:
        return self.catalog.stats()["chunks"] == 0

"""The vector store: the only module that imports chromadb.

Embedded (`PersistentClient` in the index folder) by default, or a Chroma server
(`HttpClient`) when a URL is set. Telemetry is off; embeddings are always passed in, so
Chroma's own default embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import numpy as np

from ..core.errors import MinutesError
from ..core.filters import Filters, chroma_where
from ..core.types import Chunk

UPSERT_BATCH = 1000
FILTER_FIELDS = ("source", "council", "committee", "date_int", "access")


@dataclass(frozen=True)
class DenseMatch:
    id: str
    similarity: float  # cosine similarity, 1 is identical


class ChromaStore:
    def __init__(self, collection: str, index_dir: Path, url: str = "", model_name: str = "", read_only: bool = False):
        self.collection_name = collection
        self.index_dir = index_dir
        self.url = url
        self.model_name = model_name
        self.read_only = read_only  # the index folder cannot be written (a read-only mount, say)
        self._collection = None
        self._client = None
        self._lock = threading.Lock()

    def _open(self):
        with self._lock:
            if self._collection is not None:
                return self._collection
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            try:
                if self.url:
                    parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
                    self._client = chromadb.HttpClient(
                        host=parsed.hostname or "127.0.0.1",
                        port=parsed.port or 8000,
                        ssl=parsed.scheme == "https",
                        settings=chroma_settings,
                    )
                else:
                    path = self.index_dir / "chroma"
                    if self.read_only:
                        path = _scratch_copy(path)
                    else:
                        path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self._collection = self._client.get_or_create_collection(
                    self.collection_name,
                    embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedding_model": self.model_name or "unknown"},
                )
            except Exception as exc:  # connection refused, bad path, incompatible server
                where = self.url or str(self.index_dir)
                raise MinutesError(f"cannot open the Chroma index at {where}: {exc}") from exc
            return self._collection

    def count(self) -> int:
        return self._open().count()

    def ids(self) -> set[str]:
        collection = self._open()
        out: set[str] = set()
        offset = 0
        while True:
            batch = collection.get(include=[], limit=5000, offset=offset)["ids"]
            out.update(batch)
            if len(batch) < 5000:
                return out
            offset += len(batch)

    def existing(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), UPSERT_BATCH):
            found.update(self._open().get(ids=list(ids[start : start + UPSERT_BATCH]), include=[])["ids"])
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks (those the store has)."""
        if not ids:
            return {}
        got = self._open().get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """The vectors, with the fields a `where` filter reads (chroma_where). The text and the
        rest of each chunk live in the catalogue: stored here too, Chroma also indexed every text
        for its own full-text search, which was half the cost of an upsert (4.98 s against
        2.54 s for 4,000 Alameda chunks) and never used."""
        collection = self._open()
        for start in range(0, len(chunks), UPSERT_BATCH):
            part = chunks[start : start + UPSERT_BATCH]
            collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + UPSERT_BATCH].tolist(),
                metadatas=[filter_fields(c) for c in part],
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), UPSERT_BATCH):
            self._open().delete(ids=ids[start : start + UPSERT_BATCH])

    def query(self, vector: np.ndarray, n: int, filters: Filters) -> list[DenseMatch]:
        collection = self._open()
        total = collection.count()
        if total == 0:
            return []
        result = collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, total),
            where=chroma_where(filters),
            include=["distances"],
        )
        return [
            DenseMatch(id=i, similarity=1.0 - float(d))
            for i, d in zip(result["ids"][0], result["distances"][0])
        ]


def filter_fields(chunk: Chunk) -> dict:
    """What Chroma keeps of a chunk beside its vector: the fields its `where` filters read
    (a Chroma server filters there; the embedded index filters in memory), and the source."""
    meta = chunk.metadata()
    return {key: meta[key] for key in FILTER_FIELDS if key in meta}


def _scratch_copy(path: Path) -> Path:
    """Chroma cannot open a folder it cannot write, even to read: a read-only index is read
    from a copy in the temporary folder, removed when the process ends. The index is unchanged."""
    import atexit
    import shutil
    import tempfile

    if not path.is_dir():
        raise MinutesError(f"the read-only index at {path.parent} has no vectors ({path} is missing)")
    scratch = Path(tempfile.mkdtemp(prefix="minutes-readonly-"))
    atexit.register(shutil.rmtree, scratch, True)
    try:
        shutil.copytree(path, scratch / "chroma")
    except OSError as exc:
        raise MinutesError(f"the index at {path.parent} is read-only and its vectors cannot be copied to "
                           f"{scratch} to be read: {exc}") from exc
    return scratch / "chroma"


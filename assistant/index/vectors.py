"""Dense search over an in-memory copy of the index's vectors, for the embedded index.

Chroma stays the store of record: ingest writes vectors there, and a Chroma server is
queried directly. But an embedded Chroma query costs tens of milliseconds at 100k vectors,
and more with a `where` filter; an exact dot product over a float32 matrix of the same
vectors takes a few, and filters become the same boolean mask BM25 uses (`filters.mask`),
so both parts of the hybrid search filter alike. The matrix's rows follow the BM25 index's
chunk order; it is saved beside the index (`<name>.vectors.npy`) with the catalogue
generation it was built for, and rebuilt from Chroma when the catalogue changes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .lexical import LexicalIndex
    from .store import ChromaStore, DenseMatch

FETCH_BATCH = 5000  # vectors read from Chroma at a time when the matrix is built


class VectorMatrix:
    def __init__(self, store: "ChromaStore", lexical: "LexicalIndex", path: Path):
        self.store = store
        self.lexical = lexical
        self.path = path  # <name>.vectors.npy; its generation and row ids beside it in .json
        self._lock = threading.Lock()
        self._generation = -1
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._present = np.zeros(0, dtype=bool)  # rows whose chunk has a vector in Chroma
        self._ids: list[str] = []

    def search(self, vector: np.ndarray, n: int, within: np.ndarray | None) -> list["DenseMatch"]:
        """The n chunks closest to `vector` (cosine: vectors are unit length), among those
        `within` allows (None: all)."""
        from .store import DenseMatch

        self._ensure_current()
        if not self._ids:
            return []
        scores = self._matrix @ vector.astype(np.float32)
        allowed = self._present if within is None else (self._present & within)
        scores = np.where(allowed, scores, -np.inf)
        count = int(allowed.sum())
        n = min(n, count)
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [DenseMatch(id=self._ids[i], similarity=float(scores[i])) for i in top]

    def _ensure_current(self) -> None:
        self.lexical.ensure_current()
        generation = self.lexical.generation()
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            ids = self.lexical.chunk_ids()
            if not self._load(generation, ids):
                self._build(generation, ids)

    def _build(self, generation: int, ids: list[str]) -> None:
        dimension = 0
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), FETCH_BATCH):
            found.update(self.store.vectors(ids[start:start + FETCH_BATCH]))
        if found:
            dimension = len(next(iter(found.values())))
        matrix = np.zeros((len(ids), dimension), dtype=np.float32)
        present = np.zeros(len(ids), dtype=bool)
        for row, chunk_id in enumerate(ids):
            vector = found.get(chunk_id)
            if vector is not None:
                matrix[row] = vector
                present[row] = True
        self._set(generation, ids, matrix, present)
        if not getattr(self.lexical.catalog, "read_only", False):  # a read-only index keeps it in memory
            self._save(generation, ids, matrix, present)

    def _save(self, generation: int, ids: list[str], matrix: np.ndarray, present: np.ndarray) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp.npy")
        np.save(tmp, matrix)
        tmp.replace(self.path)
        meta = {"generation": generation, "ids": ids, "present": present.tolist()}
        meta_tmp = self.path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(meta))
        meta_tmp.replace(self.path.with_suffix(".json"))

    def _load(self, generation: int, ids: list[str]) -> bool:
        try:
            meta = json.loads(self.path.with_suffix(".json").read_text())
            if meta.get("generation") != generation or meta.get("ids") != ids:
                return False
            matrix = np.load(self.path)
        except (OSError, ValueError):
            return False
        if matrix.shape[0] != len(ids):
            return False
        self._set(generation, ids, matrix, np.asarray(meta["present"], dtype=bool))
        return True

    def _set(self, generation: int, ids: list[str], matrix: np.ndarray, present: np.ndarray) -> None:
        self._ids, self._matrix, self._present = ids, matrix, present
        self._generation = generation

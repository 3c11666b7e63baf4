"""The in-memory dense search of an embedded index (assistant/index/vectors.py): exact nearest
neighbours, the same filter mask as BM25, chunks without a vector never returned, and the
matrix saved beside the index and rebuilt when the catalogue changes. The real path (Chroma
and the model) is exercised by test_search, test_security and test_preferences; these are
the logic's own cases, with a small store and BM25 stand-in."""

from __future__ import annotations

import numpy as np

from assistant.index.vectors import VectorMatrix


class StoreStandIn:
    def __init__(self, vectors: dict[str, list[float]]):
        self.stored = {k: np.asarray(v, dtype=np.float32) for k, v in vectors.items()}
        self.reads = 0

    def vectors(self, ids):
        self.reads += 1
        return {i: self.stored[i] for i in ids if i in self.stored}


class LexicalStandIn:
    class catalog:  # noqa: N801 - mimics the attribute
        read_only = False

    def __init__(self, ids: list[str], generation: int = 1):
        self.ids, self._generation = ids, generation

    def ensure_current(self):
        pass

    def generation(self):
        return self._generation

    def chunk_ids(self):
        return list(self.ids)


def unit(*values):
    v = np.asarray(values, dtype=np.float32)
    return (v / np.linalg.norm(v)).tolist()


VECTORS = {"a": unit(1, 0, 0), "b": unit(0.9, 0.1, 0), "c": unit(0, 1, 0), "d": unit(0, 0, 1)}


def test_exact_neighbours_in_order_within_the_mask(tmp_path):
    matrix = VectorMatrix(StoreStandIn(VECTORS), LexicalStandIn(["a", "b", "c", "d"]), tmp_path / "x.vectors.npy")
    query = np.asarray(unit(1, 0.05, 0), dtype=np.float32)
    assert [m.id for m in matrix.search(query, 3, None)] == ["a", "b", "c"]
    within = np.array([False, True, True, False])
    assert [m.id for m in matrix.search(query, 3, within)] == ["b", "c"]
    assert matrix.search(query, 3, np.zeros(4, dtype=bool)) == []
    best = matrix.search(query, 1, None)[0]
    assert abs(best.similarity - float(np.dot(query, VECTORS["a"]))) < 1e-6


def test_a_chunk_without_a_vector_is_never_returned(tmp_path):
    store = StoreStandIn({k: v for k, v in VECTORS.items() if k != "a"})
    matrix = VectorMatrix(store, LexicalStandIn(["a", "b", "c", "d"]), tmp_path / "x.vectors.npy")
    found = [m.id for m in matrix.search(np.asarray(unit(1, 0, 0), dtype=np.float32), 4, None)]
    assert "a" not in found and found[0] == "b" and len(found) == 3  # c and d tie at 0


def test_saved_matrix_is_reused_until_the_catalogue_changes(tmp_path):
    path = tmp_path / "x.vectors.npy"
    store = StoreStandIn(VECTORS)
    query = np.asarray(unit(0, 1, 0), dtype=np.float32)
    VectorMatrix(store, LexicalStandIn(["a", "b", "c", "d"]), path).search(query, 1, None)
    reads = store.reads
    again = VectorMatrix(store, LexicalStandIn(["a", "b", "c", "d"]), path)
    assert again.search(query, 1, None)[0].id == "c"
    assert store.reads == reads  # loaded from disk, nothing read from the store

    store.stored["e"] = np.asarray(unit(0.1, 1, 0), dtype=np.float32)
    changed = VectorMatrix(store, LexicalStandIn(["a", "b", "c", "d", "e"], generation=2), path)
    assert [m.id for m in changed.search(query, 2, None)] == ["c", "e"]
    assert store.reads > reads  # rebuilt for the new generation

"""Finding the passages for a question: hybrid dense + BM25 search with rank fusion and
item expansion (`hybrid`), and `MinutesIndex`, which opens the catalogue, stores, vectors and
embedder of one index folder and hands them to the retriever (`minutes_index`).
"""

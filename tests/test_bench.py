"""The side-by-side benchmark's LangChain default pipeline, on two real Alameda PDFs."""

from __future__ import annotations

import pytest


@pytest.mark.slow
@pytest.mark.alameda
def test_langchain_default_pipeline_on_two_files(tmp_path, alameda_dir):
    pytest.importorskip("langchain_huggingface", reason="the [bench] extra is not installed: bash scripts/setup.sh bench")
    pytest.importorskip("langchain_chroma", reason="the [bench] extra is not installed: bash scripts/setup.sh bench")
    from assistant.app.bench import bench_langchain, side_by_side

    out = bench_langchain(2, tmp_path / "langchain")
    assert out["files_skipped"] == 0 and out["pages"] > 0
    assert out["chunks"] >= out["pages"] // 2 and out["chunks_per_second"] > 0
    assert min(out["seconds_by_stage"].values()) >= 0
    assert out["index_size_mb"] > 0
    ours = {"files": 2, "pages": out["pages"], "chunks": 10, "seconds_total": out["seconds_total"] / 2,
            "pages_per_second": 1.0, "chunks_per_second": 1.0}
    assert "2.00x" in side_by_side(ours, out)


@pytest.mark.slow
@pytest.mark.alameda
def test_our_ingest_on_the_first_files(tmp_path, alameda_dir):
    """`--files N` links the first N PDFs into the index folder (the corpus path is relative:
    relative links had pointed nowhere, and the benchmark had timed an empty ingest)."""
    from assistant.app.bench import bench_ingest

    out = bench_ingest(tmp_path / "ours", 2)
    assert out["files"] == 2 and out["files_skipped"] == 0 and out["pages"] > 0 and out["chunks"] > 0
    assert out["second_run_embedded"] == 0

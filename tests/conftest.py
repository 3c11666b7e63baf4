"""Shared paths and fixtures, and which tests are slow. All state goes to tmp dirs; the real
embedding model is loaded once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from assistant.core.config import ALAMEDA_DIR, NORFOLK_DIR, Settings
from assistant.index.embedding import make_embedder, set_offline_environment

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ALAMEDA = (ROOT / ALAMEDA_DIR).resolve()  # the shared corpora beside the checkout
NORFOLK = (ROOT / NORFOLK_DIR).resolve()
MINUTES = Path(sys.executable).with_name("minutes")  # the installed command, beside the interpreter

set_offline_environment()


@pytest.fixture(scope="session")
def alameda_dir() -> Path:
    if not ALAMEDA.is_dir():
        pytest.skip(f"the Alameda corpus is not at {ALAMEDA} (it sits in ../shared/corpora beside the repository)")
    return ALAMEDA


@pytest.fixture(scope="session")
def norfolk_dir() -> Path:
    if not NORFOLK.is_dir():
        pytest.skip(f"the Norfolk corpus is not at {NORFOLK} (it sits in ../shared/corpora beside the repository)")
    return NORFOLK


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2 on the backend the settings choose (bf16 on a CPU with bf16 in
    hardware, else int8 ONNX once set up), loaded once."""
    embedder = make_embedder(Settings())
    embedder.warm()
    return embedder


def make_settings(index_dir: Path, **overrides) -> Settings:
    return Settings(index_dir=index_dir, **overrides)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder):
    """An index of the bundled corpus with the real model, built once per test run."""
    from assistant.decisions import decision_hooks
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, [str(CORPUS)], hooks=decision_hooks(index))
    assert report.files_indexed == 5, report.summary()
    return index


@pytest.fixture(scope="session")
def seed_service(seed_index):
    from assistant.answer.service import AnswerService
    from assistant.decisions.answerer import RECORDS

    return AnswerService(seed_index.settings, seed_index, records=RECORDS)


@pytest.fixture(scope="session")
def alameda_sample_index(tmp_path_factory, real_embedder, alameda_dir):
    """A dozen Alameda PDFs spread over the years, ingested once."""
    from assistant.decisions import decision_hooks
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    files = sorted(alameda_dir.glob("*.pdf"))
    picked = files[:: max(1, len(files) // 12)][:12]
    for must in ("2019-06-04.pdf",):
        if (alameda_dir / must).exists() and alameda_dir / must not in picked:
            picked.append(alameda_dir / must)
    settings = make_settings(tmp_path_factory.mktemp("alameda-index"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    ingest(index, [str(p) for p in picked], hooks=decision_hooks(index))
    return index


# ---- fast and slow tests ------------------------------------------------------------------
# `pytest -m "not slow"` runs the logic tests alone, in seconds (the fakes are in fakes.py).
# A test is slow when it loads the real model, builds a Chroma index, reads the real corpora,
# runs OCR, or starts a server, a browser, the LLM, Gradio or another process. Most are found
# by the fixtures and markers they use, so a new test that uses them is marked too; the rest
# are named below with what makes them slow. A test left unmarked that takes over two seconds is
# listed at the end of the run.

SLOW_FIXTURES = {
    "real_embedder",  # the packaged model; seed_index, seed_service and every real index fixture use it
    "alameda_dir", "norfolk_dir",  # the real corpora beside the repository
    "server",  # test_moderngov: a live HTTP ModernGov service with polite pauses
    "scan", "scan_read",  # test_ocr: a scanned PDF, read with the OCR engine
    "stores", "two_spellings",  # test_filters_conformance: an embedded Chroma collection
}
SLOW_MARKERS = ("server", "browser", "llm", "alameda")
SLOW_TESTS = {
    "test_chunking.py::test_ids_are_stable_across_runs": "another interpreter",
    "test_ocr.py::test_only_the_scanned_page_of_a_mixed_pdf_is_read_with_ocr": "the OCR engine",
    "test_readers.py::test_image_only_pdf_skipped": "the OCR engine",
    "test_search.py::test_cli_search_on_an_empty_index_is_a_clear_error": "the minutes command",
    "test_security.py::test_cli_ingest_with_a_non_utf8_name_prints_the_reason": "an index with the real model",
    "test_security.py::test_a_second_ingest_on_one_index_is_refused_with_a_clear_message": "two ingest processes",
    "test_ui_unit.py::test_importing_ui_does_not_import_gradio": "another interpreter",
    "test_ui_unit.py::test_no_folder_is_on_gradios_allowed_paths": "Gradio",
    "test_ui_unit.py::test_launch_options_are_safe_by_default": "Gradio",
    "test_watch.py::test_watch_keeps_a_folder_indexed": "a Chroma index and the folder watcher",
    "test_watch.py::test_the_chat_keeps_watching_after_its_first_sync": "the chat's folder watcher, with a pause for it to listen",
}
FAST_LIMIT_SECONDS = 2.0  # the first test to import scikit-learn or Stemmer pays ~1.5 s under load


def _is_slow(item) -> bool:
    name = f"{item.path.name}::{item.originalname}" if hasattr(item, "originalname") else item.nodeid
    return (name in SLOW_TESTS or bool(SLOW_FIXTURES & set(getattr(item, "fixturenames", ())))
            or any(item.get_closest_marker(m) for m in SLOW_MARKERS))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not item.get_closest_marker("slow") and _is_slow(item):
            item.add_marker(pytest.mark.slow)


_slow_unmarked: list[tuple[str, float]] = []


def pytest_runtest_logreport(report):
    if report.when == "call" and report.duration > FAST_LIMIT_SECONDS and "slow" not in report.keywords:
        _slow_unmarked.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter):
    if _slow_unmarked:
        terminalreporter.section(f"not marked slow, over {FAST_LIMIT_SECONDS:g} s: mark them (SLOW_TESTS in conftest.py)")
        for nodeid, seconds in _slow_unmarked:
            terminalreporter.write_line(f"{seconds:5.1f}s {nodeid}")

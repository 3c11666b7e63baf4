"""Shared paths and fixtures. All state goes to tmp dirs; the real embedding model is loaded once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedding import make_embedder, set_offline_environment

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ALAMEDA = ROOT.parent / "shared" / "corpora" / "alameda-city-council"
NORFOLK = ROOT.parent / "shared" / "corpora" / "norfolk-parish-councils"
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
    """The packaged all-MiniLM-L6-v2 on the backend the settings choose (int8 ONNX once set up), loaded once."""
    embedder = make_embedder(Settings())
    embedder.warm()
    return embedder


def make_settings(index_dir: Path, **overrides) -> Settings:
    return Settings(index_dir=index_dir, **overrides)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder):
    """An index of the bundled corpus with the real model, built once per test run."""
    from assistant.decisions import decision_hooks
    from assistant.index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, [str(CORPUS)], hooks=decision_hooks(index))
    assert report.files_indexed == 5, report.summary()
    return index


@pytest.fixture(scope="session")
def seed_service(seed_index):
    from assistant.answer.service import AnswerService

    return AnswerService(seed_index.settings, seed_index)


@pytest.fixture(scope="session")
def alameda_sample_index(tmp_path_factory, real_embedder, alameda_dir):
    """A dozen Alameda PDFs spread over the years, ingested once."""
    from assistant.decisions import decision_hooks
    from assistant.index import MinutesIndex
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

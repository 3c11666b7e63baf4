"""The evaluation gate: the seeds set and fixed samples of the Alameda and Norfolk sets must
meet the thresholds in eval/gate.json, each over ONE index that holds all three families of
minutes plus distractors from both corpora, as a council's real index would (a US city's PDFs
beside English parish minutes). A drop fails with the metric, the threshold and the
questions that failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.service import AnswerService
from assistant.decisions.answerer import RECORDS
from assistant.app.evaluate import check_gate, load_questions, metrics, run_set

from conftest import ALAMEDA, CORPUS, NORFOLK, ROOT

GATE = json.loads((ROOT / "eval" / "gate.json").read_text())
ALAMEDA_SAMPLE_EVERY = 4  # every 4th question of eval/alameda.jsonl: a fixed sample
NORFOLK_SAMPLE_EVERY = 3  # every 3rd question of eval/norfolk.jsonl
DISTRACTORS_EVERY = 40  # and every 40th file of each corpus whatever its questions (about 25 files)


def _assert_gate(name: str, figures: dict, results) -> None:
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"gate-{name.split()[0]}.json").write_text(json.dumps(figures, indent=2))
    problems = check_gate(figures, GATE[name], results)
    assert not problems, f"{name} below the gate:\n" + "\n".join(problems) + f"\nall figures: {figures}"


def _sample(name: str, every: int) -> list[dict]:
    return load_questions(ROOT / "eval" / name)[::every]


def _gold_and_distractors(folder: Path, rows: list[dict], pattern: str) -> list[str]:
    if not folder.is_dir():
        return []
    gold = {g["file"] for r in rows for g in r.get("gold_sources") or []}
    every = sorted(folder.glob(pattern))[::DISTRACTORS_EVERY]
    return sorted({str(folder / f) for f in gold} | {str(f) for f in every})


@pytest.fixture(scope="module")
def gate_service(tmp_path_factory, real_embedder):
    """One index: the bundled corpus, the gold files of both samples, and distractors."""
    from assistant.core.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    paths = [str(CORPUS)]
    paths += _gold_and_distractors(ALAMEDA, _sample("alameda.jsonl", ALAMEDA_SAMPLE_EVERY), "*.pdf")
    paths += _gold_and_distractors(NORFOLK, _sample("norfolk.jsonl", NORFOLK_SAMPLE_EVERY), "*.md")
    settings = Settings(index_dir=tmp_path_factory.mktemp("gate-index"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, paths, hooks=decision_hooks(index))
    assert report.files_indexed >= len(paths) - 1, report.summary()
    return AnswerService(settings, index, records=RECORDS)


@pytest.mark.slow
def test_seeds_set_meets_the_gate(gate_service):
    rows = load_questions(ROOT / "eval" / "seeds.jsonl")
    results = run_set(gate_service, rows)
    _assert_gate("seeds.jsonl", metrics(results), results)


@pytest.mark.slow
@pytest.mark.alameda
def test_alameda_sample_meets_the_gate(gate_service, alameda_dir):
    rows = _sample("alameda.jsonl", ALAMEDA_SAMPLE_EVERY)
    results = run_set(gate_service, rows)
    _assert_gate("alameda.jsonl (sample)", metrics(results), results)


@pytest.mark.slow
def test_norfolk_sample_meets_the_gate(gate_service, norfolk_dir):
    rows = _sample("norfolk.jsonl", NORFOLK_SAMPLE_EVERY)
    results = run_set(gate_service, rows)
    _assert_gate("norfolk.jsonl (sample)", metrics(results), results)


def test_gate_reports_metric_threshold_and_failed_questions():
    from assistant.app.evaluate import QuestionResult

    failed = QuestionResult("q1", "fact", "How much?", True, True, "", [None], None, [], ["$5"], 0, 0, 0, 1.0, 0.1,
                            ["refused an answerable question"])
    problems = check_gate({"recall@5": 0.5, "unanswerable_cited": 3}, {"recall@5": 0.9, "unanswerable_cited_max": 1}, [failed])
    text = "\n".join(problems)
    assert "recall@5 = 0.5, below the threshold 0.9" in text
    assert "unanswerable_cited = 3, above the maximum 1" in text
    assert "q1: How much?" in text

"""The evaluation gate: the seeds set and a fixed sample of the Alameda set must meet the
thresholds in eval/gate.json. A drop fails with the metric, the threshold and the questions
that failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.service import AnswerService
from assistant.evaluate import check_gate, load_questions, metrics, run_set

ROOT = Path(__file__).resolve().parent.parent
GATE = json.loads((ROOT / "eval" / "gate.json").read_text())
ALAMEDA_SAMPLE_EVERY = 4  # every 4th question of eval/alameda.jsonl: a fixed sample


def _assert_gate(name: str, figures: dict, results) -> None:
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"gate-{name.split()[0]}.json").write_text(json.dumps(figures, indent=2))
    problems = check_gate(figures, GATE[name], results)
    assert not problems, f"{name} below the gate:\n" + "\n".join(problems) + f"\nall figures: {figures}"


@pytest.mark.slow
def test_seeds_set_meets_the_gate(seed_service):
    rows = load_questions(ROOT / "eval" / "seeds.jsonl")
    results = run_set(seed_service, rows)
    _assert_gate("seeds.jsonl", metrics(results), results)


@pytest.fixture(scope="module")
def alameda_sample(tmp_path_factory, real_embedder, alameda_dir):
    from assistant.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    rows = load_questions(ROOT / "eval" / "alameda.jsonl")[::ALAMEDA_SAMPLE_EVERY]
    files = sorted({g["file"] for r in rows for g in r.get("gold_sources") or []})
    settings = Settings(index_dir=tmp_path_factory.mktemp("alameda-gate"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    ingest(index, [str(alameda_dir / f) for f in files], hooks=decision_hooks(index))
    return AnswerService(settings, index), rows


@pytest.mark.slow
@pytest.mark.alameda
def test_alameda_sample_meets_the_gate(alameda_sample):
    service, rows = alameda_sample
    results = run_set(service, rows)
    _assert_gate("alameda.jsonl (sample)", metrics(results), results)


def test_gate_reports_metric_threshold_and_failed_questions():
    from assistant.evaluate import QuestionResult

    failed = QuestionResult("q1", "fact", "How much?", True, True, "", [None], None, [], ["$5"], 0, 0, 0, 1.0, 0.1,
                            ["refused an answerable question"])
    problems = check_gate({"recall@5": 0.5, "unanswerable_cited": 3}, {"recall@5": 0.9, "unanswerable_cited_max": 1}, [failed])
    text = "\n".join(problems)
    assert "recall@5 = 0.5, below the threshold 0.9" in text
    assert "unanswerable_cited = 3, above the maximum 1" in text
    assert "q1: How much?" in text

"""Warm extractive `ask` latency on a big index, with and without filters.

    python scripts/bench_queries.py --index DIR [--questions 30] [--committee NAME] [--since DATE --until DATE]

Asks the first N questions of each development set (seeds, Alameda, Norfolk) once to warm
up, then again, timed, three ways: no filter, a committee filter and a date-range filter
(explicit filters, as the chat's filter boxes set them), first with the dense search in
memory (the default for an embedded index), then with Chroma's own query as the baseline.
Prints p50 and p95 in ms for each, their ratio, and the mean time of each stage (embedding the query, dense search, BM25, extractive
answer), so it shows where the time goes. Build a 100k-chunk index for it with
`scripts/scale_index.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = ("eval/seeds.jsonl", "eval/alameda.jsonl", "eval/norfolk.jsonl")
STAGES = ("plan", "embed_query", "dense", "lexical", "retrieve", "extractive")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def questions(per_set: int) -> list[str]:
    from assistant.app.evaluate import load_questions

    out = []
    for name in SETS:
        rows = [r for r in load_questions(ROOT / name) if not r.get("history")]
        out += [r["question"] for r in rows[:per_set]]
    return out


def timed(service, asked: list[str], filters) -> dict:
    totals, stages = [], {s: [] for s in STAGES}
    for question in asked:
        started = time.perf_counter()
        answer = service.ask(question, filters=filters)
        totals.append((time.perf_counter() - started) * 1000)
        for stage in STAGES:
            if stage in answer.timings_ms:
                stages[stage].append(float(answer.timings_ms[stage]))
    return {"questions": len(totals), "p50_ms": round(percentile(totals, 0.5), 1),
            "p95_ms": round(percentile(totals, 0.95), 1),
            "mean_stage_ms": {s: round(statistics.mean(v), 1) for s, v in stages.items() if v}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=30, help="per development set")
    parser.add_argument("--committee", default="City Council")
    parser.add_argument("--since", default="2010-01-01")
    parser.add_argument("--until", default="2015-12-31")
    args = parser.parse_args()

    from assistant.answer.service import AnswerService
    from assistant.decisions.answerer import RECORDS
    from assistant.core.config import Settings
    from assistant.index.embedding import set_offline_environment
    from assistant.core.types import Filters

    set_offline_environment()
    service = AnswerService.open(Settings(index_dir=args.index), records=RECORDS)
    asked = questions(args.questions)
    chunks = service.index.catalog.stats().get("chunks")
    variants = {"no filter": Filters(), f"committee = {args.committee}": Filters(committee=args.committee),
                f"dates {args.since}..{args.until}": Filters(since=args.since, until=args.until)}
    for filters in variants.values():  # warm: models loaded, BM25 built, caches filled
        for question in asked[:5]:
            service.ask(question, filters=filters)
    report = {"index": str(args.index), "chunks": chunks, "in memory": {}, "Chroma query (baseline)": {}}
    matrix = service.index.retriever.vectors
    for dense, vectors in (("in memory", matrix), ("Chroma query (baseline)", None)):
        service.index.retriever.vectors = vectors
        for name, filters in variants.items():
            service.index.retriever._query_vectors.clear()  # each run embeds its questions afresh
            report[dense][name] = timed(service, asked, filters)
    report["p95 ratio, Chroma / in memory"] = {
        name: round(report["Chroma query (baseline)"][name]["p95_ms"] / max(0.1, report["in memory"][name]["p95_ms"]), 1)
        for name in variants}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Evaluation: run a question set through the same path as `ask` and measure retrieval,
answers, citations, refusals and latency; compare variants side by side; gate CI.

Metrics (answerable questions unless said otherwise):
- recall@k: share of a question's gold sources (file and page) among the first k hits;
- MRR: 1 / rank of the first hit on a gold source;
- fact recall: share of gold facts found verbatim in the answer;
- citation precision: share of citations whose passage contains a gold fact or lies on a gold page;
- citation recall: share of gold facts in the answer that a cited passage contains;
- refusal precision / recall: over all questions, with "unanswerable" as the positive class;
- unanswerable_cited: unanswerable questions answered with citations (should be 0);
- latency p50 / p95 of the whole ask, in ms.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..answer.service import AnswerService
from ..decisions.answerer import RECORDS
from ..core.errors import MinutesError
from ..core.types import Answer, Filters, Hit

MAIN_METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "fact_recall", "citation_precision",
                "citation_recall", "refusal_precision", "refusal_recall")


def load_questions(path: Path) -> list[dict]:
    if not path.exists():
        raise MinutesError(f"no such question set: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MinutesError(f"{path}:{n}: not JSON ({exc})") from exc
    return rows


def norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-")
    return re.sub(r"\s+", " ", text).strip().lower()


def on_gold(hit_source: str, page_start: int, page_end: int, gold: dict) -> bool:
    if Path(hit_source).name != gold["file"]:
        return False
    page = gold.get("page") or 1
    return page_start <= page <= page_end


@dataclass
class QuestionResult:
    id: str
    type: str
    question: str
    answerable: bool
    refused: bool
    answer: str
    ranks: list[int | None]  # per gold source: rank of the first hit on it
    first_rank: int | None
    facts_found: list[str]
    facts_missing: list[str]
    citations: int
    citations_good: int
    facts_cited: int
    latency_ms: float
    relevance: float
    failures: list[str] = field(default_factory=list)


def judge(row: dict, answer: Answer) -> QuestionResult:
    hits: list[Hit] = list(answer.hits)
    gold = row.get("gold_sources") or []
    facts = row.get("facts") or []
    answerable = row.get("type") != "unanswerable"
    ranks: list[int | None] = []
    for g in gold:
        rank = next((i for i, h in enumerate(hits, 1) if on_gold(h.chunk.source, h.chunk.page_start, h.chunk.page_end, g)), None)
        ranks.append(rank)
    first = min((r for r in ranks if r), default=None)
    text = norm(answer.text)
    found = [f for f in facts if norm(f) in text]
    missing = [f for f in facts if norm(f) not in text]
    good = 0
    for c in answer.citations:
        passage = norm(c.chunk.text)
        if any(norm(f) in passage for f in facts) or any(on_gold(c.chunk.source, c.chunk.page_start, c.chunk.page_end, g) for g in gold):
            good += 1
    cited_text = " ".join(norm(c.chunk.text) for c in answer.citations)
    facts_cited = sum(1 for f in found if norm(f) in cited_text)
    result = QuestionResult(
        id=row["id"], type=row.get("type", ""), question=row["question"], answerable=answerable,
        refused=answer.refused, answer=answer.text, ranks=ranks, first_rank=first, facts_found=found,
        facts_missing=missing, citations=len(answer.citations), citations_good=good, facts_cited=facts_cited,
        latency_ms=float(answer.timings_ms.get("total", 0.0)), relevance=float(answer.timings_ms.get("relevance", 0.0)),
    )
    if answerable and answer.refused:
        result.failures.append("refused an answerable question")
    if answerable and gold and not first:
        result.failures.append("no gold source in the hits")
    if answerable and missing and not answer.refused:
        result.failures.append(f"facts missing: {missing}")
    if not answerable and not answer.refused:
        result.failures.append("answered an unanswerable question" + (" with citations" if answer.citations else ""))
    return result


def run_set(service: AnswerService, rows: list[dict], filters: Filters = Filters(), progress=None) -> list[QuestionResult]:
    results = []
    for row in rows:
        answer = service.ask(row["question"], history=row.get("history") or [], filters=filters)
        results.append(judge(row, answer))
        if progress:
            progress(results[-1])
    return results


def _mean(values) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else None


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    index = min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))
    return round(values[index], 1)


def metrics(results: list[QuestionResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    with_gold = [r for r in answerable if r.ranks]
    out: dict = {"questions": len(results), "answerable": len(answerable), "unanswerable": len(results) - len(answerable)}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = _mean(sum(1 for x in r.ranks if x and x <= k) / len(r.ranks) for r in with_gold)
    out["mrr"] = _mean((1.0 / r.first_rank) if r.first_rank else 0.0 for r in with_gold)
    facts_total = sum(len(r.facts_found) + len(r.facts_missing) for r in answerable)
    out["fact_recall"] = round(sum(len(r.facts_found) for r in answerable) / facts_total, 4) if facts_total else None
    cites = sum(r.citations for r in answerable)
    out["citation_precision"] = round(sum(r.citations_good for r in answerable) / cites, 4) if cites else None
    in_answer = sum(len(r.facts_found) for r in answerable)
    out["citation_recall"] = round(sum(r.facts_cited for r in answerable) / in_answer, 4) if in_answer else None
    refused = [r for r in results if r.refused]
    unanswerable = [r for r in results if not r.answerable]
    true_refusals = sum(1 for r in refused if not r.answerable)
    out["refusal_precision"] = round(true_refusals / len(refused), 4) if refused else None
    out["refusal_recall"] = round(true_refusals / len(unanswerable), 4) if unanswerable else None
    out["unanswerable_cited"] = sum(1 for r in unanswerable if r.citations)
    out["answerable_refused"] = sum(1 for r in answerable if r.refused)
    latencies = [r.latency_ms for r in results]
    out["latency_p50_ms"] = _pct(latencies, 0.5)
    out["latency_p95_ms"] = _pct(latencies, 0.95)
    return out


# ---- reports --------------------------------------------------------------------------


def write_report(name: str, results: list[QuestionResult], figures: dict, out_dir: Path, settings_note: str = "") -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / name
    payload = {"set": name, "metrics": figures, "settings": settings_note,
               "questions": [vars(r) for r in results]}
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    md = [f"# Evaluation: {name}", "", settings_note, "", "| metric | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in figures.items()]
    by_type: dict[str, list[QuestionResult]] = {}
    for r in results:
        by_type.setdefault(r.type, []).append(r)
    md += ["", "## By type", "", "| type | n | recall@5 | fact recall | refused |", "|---|---|---|---|---|"]
    for t, rs in sorted(by_type.items()):
        m = metrics(rs)
        md.append(f"| {t} | {len(rs)} | {m['recall@5']} | {m['fact_recall']} | {sum(r.refused for r in rs)} |")
    failed = [r for r in results if r.failures]
    md += ["", f"## Questions with a problem ({len(failed)})", ""]
    for r in failed:
        md.append(f"- **{r.id}** ({r.type}) {r.question} — {'; '.join(r.failures)}")
    md_path = stem.with_suffix(".md")
    md_path.write_text("\n".join(md) + "\n")
    png_path = stem.with_suffix(".png")
    chart({name: figures}, png_path)
    return {"json": str(json_path), "markdown": str(md_path), "chart": str(png_path)}


def chart(variants: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [m for m in MAIN_METRICS if any(v.get(m) is not None for v in variants.values())]
    fig, ax = plt.subplots(figsize=(max(8, len(names) * 1.1), 4.2))
    width = 0.8 / max(1, len(variants))
    for i, (variant, figures) in enumerate(variants.items()):
        values = [figures.get(m) or 0.0 for m in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=variant)
    ax.set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(names))])
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Evaluation")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- refusal threshold ----------------------------------------------------------------


def calibrate(results: list[QuestionResult]) -> tuple[float, dict]:
    """The refusal threshold that best separates answerable from unanswerable questions
    (balanced accuracy: the mean of the share of unanswerable questions refused and the share
    of answerable ones answered), from a run made with the threshold at 0."""
    answerable = [r.relevance for r in results if r.answerable]
    unanswerable = [r.relevance for r in results if not r.answerable]
    if not answerable or not unanswerable:
        raise MinutesError("calibration needs both answerable and unanswerable questions")
    best = (0.0, -1.0, {})
    for step in range(0, 101):
        t = step / 100
        refused_u = sum(v < t for v in unanswerable) / len(unanswerable)
        answered_a = sum(v >= t for v in answerable) / len(answerable)
        score = (refused_u + answered_a) / 2
        if score > best[1]:
            best = (t, score, {"unanswerable_refused": round(refused_u, 3), "answerable_answered": round(answered_a, 3)})
    return best[0], best[2]


def refusal_rates(results: list[QuestionResult], threshold: float) -> dict:
    """What a threshold does to a run made with the threshold at 0: answerable questions
    refused, and unanswerable ones answered (with citations), as shares."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    return {
        "answerable_refused": round(sum(r.refused or r.relevance < threshold for r in answerable) / max(1, len(answerable)), 3),
        "unanswerable_answered": round(sum(not r.refused and r.relevance >= threshold for r in unanswerable)
                                       / max(1, len(unanswerable)), 3),
    }


def calibration_report(by_set: dict[str, list[QuestionResult]]) -> str:
    """The threshold calibrated on all sets together, and leave-one-set-out: calibrated on
    the other sets, measured on the one left out (what a council nobody tuned for would see)."""
    pooled = [r for results in by_set.values() for r in results]
    threshold, detail = calibrate(pooled)
    lines = [f"refusal threshold {threshold:.2f} on all sets together: {detail}", "",
             "| set | threshold (all sets) | answerable refused | unanswerable answered | threshold (other sets) | "
             "answerable refused | unanswerable answered |", "|---|---|---|---|---|---|---|"]
    for name, results in by_set.items():
        others = [r for other, rs in by_set.items() if other != name for r in rs]
        held_out = calibrate(others)[0] if len(by_set) > 1 else threshold
        a, b = refusal_rates(results, threshold), refusal_rates(results, held_out)
        lines.append(f"| {name} | {threshold:.2f} | {a['answerable_refused']} | {a['unanswerable_answered']} | "
                     f"{held_out:.2f} | {b['answerable_refused']} | {b['unanswerable_answered']} |")
    return "\n".join(lines)


# ---- gate -----------------------------------------------------------------------------


def check_gate(figures: dict, thresholds: dict, results: list[QuestionResult]) -> list[str]:
    """Messages for every metric below its minimum (or above its maximum, for *_max keys)."""
    problems = []
    for key, limit in thresholds.items():
        if key.endswith("_max"):
            metric = key[: -len("_max")]
            value = figures.get(metric)
            if value is not None and value > limit:
                problems.append(f"{metric} = {value}, above the maximum {limit}")
        else:
            value = figures.get(key)
            if value is None or value < limit:
                problems.append(f"{key} = {value}, below the threshold {limit}")
    if problems:
        failed = [f"  {r.id}: {r.question} — {'; '.join(r.failures)}" for r in results if r.failures]
        problems.append("questions that failed:\n" + "\n".join(failed))
    return problems


# ---- comparison -----------------------------------------------------------------------


def compare(service: AnswerService, rows: list[dict], corpus_paths: list[str], llm: bool, progress=None) -> dict[str, dict]:
    """The same questions through variants: retrieval mode, chunking, answer mode."""
    from ..decisions import decision_hooks
    from ..retrieve.minutes_index import MinutesIndex
    from ..ingest.pipeline import ingest

    variants: dict[str, dict] = {}
    for mode in ("dense", "lexical", "hybrid"):
        variant = AnswerService(service.settings.model_copy(update={"retrieval_mode": mode}), service.index, records=service.records)
        variant.index = _with_mode(service.index, mode)
        variants[f"{mode} (structure chunks)"] = metrics(run_set(variant, rows, progress=progress))
    naive_settings = service.settings.model_copy(update={"chunker": "naive"})
    naive_index = MinutesIndex.open(naive_settings, embedder=service.index.embedder)
    ingest(naive_index, corpus_paths, hooks=decision_hooks(naive_index))
    variants["hybrid (naive 1000/200 chunks)"] = metrics(run_set(AnswerService(naive_settings, naive_index, records=RECORDS), rows, progress=progress))
    if llm:
        variants["hybrid, LLM answers"] = metrics(run_set(service.with_mode("llm"), rows, progress=progress))
    return variants


def _with_mode(index, mode: str):
    from dataclasses import replace as dc_replace

    from ..retrieve.hybrid import Retriever

    settings = index.settings.model_copy(update={"retrieval_mode": mode})
    clone = dc_replace(index, settings=settings)
    clone.retriever = Retriever(settings, index.embedder, index.store, index.lexical, index.retriever.vectors)
    return clone


def compare_table(variants: dict[str, dict]) -> str:
    cols = ["recall@1", "recall@5", "recall@10", "mrr", "fact_recall", "citation_precision", "citation_recall",
            "refusal_precision", "refusal_recall", "unanswerable_cited", "latency_p50_ms"]
    lines = ["| variant | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, figures in variants.items():
        lines.append(f"| {name} | " + " | ".join(str(figures.get(c)) for c in cols) + " |")
    return "\n".join(lines)


# ---- the command ----------------------------------------------------------------------


def run_cli(args, settings) -> int:
    import sys

    service = AnswerService.open(settings, records=RECORDS)
    service.index.require_chunks("ingest the minutes the questions are about first")
    service.warm()
    out_dir = Path(args.out)
    files = list(args.file or [])
    if args.compare:
        path = Path(files[0] if files else "eval/seeds.jsonl")
        rows = load_questions(path)[: args.limit or None]
        folders = sorted({str(Path(f.path).parent) for f in service.index.catalog.files()})
        extractive = AnswerService(settings.model_copy(update={"answer_mode": "extractive"}), service.index, records=service.records)
        variants = compare(extractive, rows, folders, llm=settings.answer.answer_mode == "llm" or bool(getattr(args, "llm", False)))
        table = compare_table(variants)
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / f"compare-{path.stem}"
        stem.with_suffix(".md").write_text(f"# Variants on {path.name}\n\n{table}\n")
        stem.with_suffix(".json").write_text(json.dumps(variants, indent=2))
        chart(variants, stem.with_suffix(".png"))
        print(table)
        print(f"\nwritten: {stem}.md, {stem}.json, {stem}.png")
        return 0
    if getattr(args, "calibrate", False):
        calibration_service = AnswerService(settings.model_copy(update={"refusal_threshold": 0.0}), service.index, records=service.records)
        by_set = {Path(name).stem: run_set(calibration_service, load_questions(Path(name))[: args.limit or None])
                  for name in files or ["eval/seeds.jsonl"]}
        print(calibration_report(by_set))
        return 0
    if not files:
        raise MinutesError("eval wants a question set (FILE.jsonl) or --compare")
    status = 0
    for name in files:
        status = max(status, _evaluate_one(service, settings, Path(name), args, out_dir))
    return status


def _evaluate_one(service: AnswerService, settings, path: Path, args, out_dir: Path) -> int:
    import sys

    from ..index.identity import collection_name

    rows = load_questions(path)[: args.limit or None]
    started = time.perf_counter()
    results = run_set(service, rows)
    figures = metrics(results)
    paths = write_report(path.stem, results, figures, out_dir,
                         f"index {collection_name(settings)}, answer mode {settings.answer.answer_mode}, "
                         f"{len(rows)} questions in {time.perf_counter() - started:.0f}s")
    print(f"== {path.name}")
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    print("written: " + ", ".join(paths.values()))
    if args.gate:
        thresholds = json.loads(Path(args.gate).read_text()).get(path.name, {})
        problems = check_gate(figures, thresholds, results)
        if problems:
            print("GATE FAILED:\n" + "\n".join(problems), file=sys.stderr)
            return 1
        print("gate passed")
    return 0

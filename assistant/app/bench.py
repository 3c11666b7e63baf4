"""The benchmark: ingest speed on the Alameda corpus, beside the LangChain default pipeline,
and warm answer latency.

    python -m assistant.app.bench [--files N] [--index DIR] [--llm] [--questions N]
                              [--no-langchain] [--embedding-backend auto|torch-bf16|onnx-int8|torch]

Ingests the first N Alameda PDFs (all by default) into a fresh index (or DIR), prints
pages/s, chunks/s, seconds per stage and the index size on disk; then runs the pipeline most
tutorials build on the same files (LangChain `PyPDFLoader`, `RecursiveCharacterTextSplitter`
1000/200, the same packaged MiniLM through `langchain-huggingface`, `langchain-chroma`
persisted to a temp folder) and prints both times, chunks/s and the ratio; then times warm
extractive `ask` on the bundled corpus and on the Alameda index (median and p95), and with
--llm the first-token time of the local 0.5B model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ..core.config import ALAMEDA_DIR, Settings
from ..index.embedding import set_offline_environment

# Relative to the working directory, as `make bench` runs it: the checkout's root.
ALAMEDA = ALAMEDA_DIR
EVAL = Path("eval")
CORPUS = Path("corpus")


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def _pdfs(files: int | None) -> list[Path]:
    return sorted(ALAMEDA.glob("*.pdf"))[: files or None]


def _warm_file_cache(paths: list[Path]) -> None:
    """Read every file once, so neither pipeline pays for the disk and the other not."""
    for path in paths:
        with path.open("rb") as fh:
            while fh.read(1 << 22):
                pass


def bench_ingest(index_dir: Path, files: int | None, backend: str = "auto") -> dict:
    from ..decisions import decision_hooks
    from ..retrieve.minutes_index import MinutesIndex
    from ..ingest.pipeline import ingest

    pdfs = _pdfs(files)
    staging = index_dir / "_files"
    if files:
        staging.mkdir(parents=True, exist_ok=True)
        for pdf in pdfs:
            target = staging / pdf.name
            if not target.exists():
                target.symlink_to(pdf.resolve())  # the corpus path is relative to the working directory
        paths = [str(staging)]
    else:
        paths = [str(ALAMEDA)]
    index = MinutesIndex.open(Settings(index_dir=index_dir, embedding_backend=backend))
    started = time.perf_counter()
    report = ingest(index, paths, hooks=decision_hooks(index))
    wall = time.perf_counter() - started
    again = ingest(index, paths, hooks=decision_hooks(index))
    return {
        "embedding": index.embedder.name,
        "files": report.files_seen,
        "files_skipped": report.files_skipped,
        "pages": report.pages,
        "chunks": report.chunks_added,
        "seconds_total": round(wall, 1),
        "seconds_by_stage": {k: round(v, 1) for k, v in report.seconds.items()},
        "pages_per_second": round(report.pages / wall, 1) if wall else None,
        "chunks_per_second": round(report.chunks_added / wall, 1) if wall else None,
        "index_size_mb": round(_folder_size(index_dir) / 1e6, 1),
        "second_run_seconds": round(again.wall_seconds, 1),
        "second_run_embedded": again.chunks_embedded,
    }


def bench_langchain(files: int | None, persist_dir: Path) -> dict:
    """The pipeline most tutorials build, on the same files: load every page with PyPDFLoader,
    split 1000/200 characters, embed with the same packaged MiniLM (fp32, sentence-transformers'
    defaults) through langchain-huggingface, store in Chroma persisted to disk."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ..index.embedding import packaged_model_path

    started = time.perf_counter()
    pages, skipped = [], 0
    for pdf in _pdfs(files):
        try:
            pages.extend(PyPDFLoader(str(pdf)).load())
        except Exception:  # a tutorial pipeline has no reasons to give; count what it could not read
            skipped += 1
    loaded = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(pages)
    split = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=packaged_model_path(), model_kwargs={"device": "cpu"})
    store = Chroma(collection_name="langchain-default", embedding_function=embeddings,
                   persist_directory=str(persist_dir),
                   client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=True,
                                                            persist_directory=str(persist_dir)))
    batch = 1000  # Chroma caps one add; tutorials call from_documents, which adds in such batches too
    for start in range(0, len(splits), batch):
        store.add_documents(splits[start:start + batch])
    wall = time.perf_counter() - started
    return {
        "pipeline": "LangChain PyPDFLoader + RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings "
                    "(same MiniLM, torch fp32) + Chroma",
        "files_skipped": skipped,
        "pages": len(pages),
        "chunks": len(splits),
        "seconds_total": round(wall, 1),
        "seconds_by_stage": {"load": round(loaded - started, 1), "split": round(split - loaded, 1),
                             "embed_and_store": round(started + wall - split, 1)},
        "pages_per_second": round(len(pages) / wall, 1) if wall else None,
        "chunks_per_second": round(len(splits) / wall, 1) if wall else None,
        "index_size_mb": round(_folder_size(persist_dir) / 1e6, 1),
    }


def side_by_side(ours: dict, theirs: dict) -> str:
    rows = [("", "this project", "LangChain default"),
            ("files", ours["files"], ours["files"]),
            ("pages", ours["pages"], theirs["pages"]),
            ("chunks", ours["chunks"], theirs["chunks"]),
            ("seconds", ours["seconds_total"], theirs["seconds_total"]),
            ("pages/s", ours["pages_per_second"], theirs["pages_per_second"]),
            ("chunks/s", ours["chunks_per_second"], theirs["chunks_per_second"])]
    lines = [f"{a:<10}{b!s:>16}{c!s:>20}" for a, b, c in rows]
    ratio = theirs["seconds_total"] / ours["seconds_total"] if ours["seconds_total"] else float("nan")
    lines.append(f"same files: this project took {ours['seconds_total']} s, the LangChain default "
                 f"{theirs['seconds_total']} s: {ratio:.2f}x")
    return "\n".join(lines)


def bench_ask(index_dir: Path, questions_file: Path, limit: int, corpus: Path | None = None, llm: bool = False,
              backend: str = "auto") -> dict:
    from ..answer.service import AnswerService
    from ..decisions.answerer import RECORDS
    from ..decisions import decision_hooks
    from .evaluate import load_questions
    from ..retrieve.minutes_index import MinutesIndex
    from ..ingest.pipeline import ingest

    settings = Settings(index_dir=index_dir, answer_mode="llm" if llm else "extractive", embedding_backend=backend)
    index = MinutesIndex.open(settings)
    if corpus is not None:
        ingest(index, [str(corpus)], hooks=decision_hooks(index))
    service = AnswerService(settings, index, records=RECORDS)
    service.warm()
    rows = [r for r in load_questions(questions_file) if not r.get("history")][:limit]
    service.ask(rows[0]["question"])  # warm caches
    totals, first_tokens = [], []
    for row in rows:
        answer = service.ask(row["question"])
        totals.append(answer.timings_ms["total"])
        if "llm_first_token" in answer.timings_ms:
            first_tokens.append(answer.timings_ms["llm_first_token"])
    out = {
        "questions": len(rows),
        "ask_median_ms": round(statistics.median(totals), 1),
        "ask_p95_ms": round(_percentile(totals, 0.95), 1),
    }
    if first_tokens:
        out["first_token_median_ms"] = round(statistics.median(first_tokens), 1)
        out["first_token_p95_ms"] = round(_percentile(first_tokens, 0.95), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    set_offline_environment()
    parser = argparse.ArgumentParser(prog="python -m assistant.app.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, help="only the first N Alameda PDFs (default: all)")
    parser.add_argument("--index", type=Path, help="index folder for the Alameda run (default: a fresh temp folder)")
    parser.add_argument("--questions", type=int, default=40, help="questions timed per set (default 40)")
    parser.add_argument("--llm", action="store_true", help="also time the local LLM's first token (slow)")
    parser.add_argument("--no-langchain", action="store_true", help="skip the LangChain default pipeline")
    parser.add_argument("--embedding-backend", default="auto", help="auto (default), torch-bf16, onnx-int8 or torch")
    parser.add_argument("--out", type=Path, default=EVAL / "reports" / "bench.json")
    args = parser.parse_args(argv)
    if not ALAMEDA.is_dir():
        print(f"the Alameda corpus is not at {ALAMEDA}; nothing to benchmark")
        return 2
    results: dict = {"machine": _machine()}
    tmp = Path(tempfile.mkdtemp(prefix="minutes-bench-"))
    try:
        alameda_index = args.index or tmp / "alameda"
        _warm_file_cache(_pdfs(args.files))
        print("ingest …", flush=True)
        results["ingest"] = bench_ingest(alameda_index, args.files, args.embedding_backend)
        print(json.dumps(results["ingest"], indent=2), flush=True)
        if not args.no_langchain:
            try:
                import langchain_chroma  # noqa: F401
                import langchain_huggingface  # noqa: F401
            except ImportError:
                print("the LangChain default pipeline is not installed: `bash scripts/setup.sh bench` "
                      "(or `make bench`) installs it; skipped", flush=True)
            else:
                print("the LangChain default pipeline on the same files …", flush=True)
                results["langchain"] = bench_langchain(args.files, tmp / "langchain")
                print(json.dumps(results["langchain"], indent=2), flush=True)
                results["ratio_langchain_to_ours"] = round(
                    results["langchain"]["seconds_total"] / results["ingest"]["seconds_total"], 2)
                print(side_by_side(results["ingest"], results["langchain"]), flush=True)
        print("ask on the bundled corpus …", flush=True)
        results["ask_seeds"] = bench_ask(tmp / "seeds", EVAL / "seeds.jsonl", args.questions,
                                         corpus=CORPUS, backend=args.embedding_backend)
        print(json.dumps(results["ask_seeds"], indent=2), flush=True)
        print("ask on the Alameda index …", flush=True)
        results["ask_alameda"] = bench_ask(alameda_index, EVAL / "alameda.jsonl", args.questions,
                                           backend=args.embedding_backend)
        print(json.dumps(results["ask_alameda"], indent=2), flush=True)
        if args.llm:
            print("local LLM (0.5B) on the bundled corpus …", flush=True)
            results["llm_seeds"] = bench_ask(tmp / "seeds", EVAL / "seeds.jsonl",
                                             min(args.questions, 10), llm=True, backend=args.embedding_backend)
            print(json.dumps(results["llm_seeds"], indent=2), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written: {args.out}")
    return 0


def _machine() -> dict:
    import os
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    raise SystemExit(main())

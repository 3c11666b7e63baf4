"""fp32 (torch) against int8 (ONNX Runtime) embeddings on real chunks: throughput and agreement.

    python scripts/embed_compare.py [--chunks 2000] [--max-tokens 128]

Chunks every 10th Alameda PDF with the project's own chunker until it has N chunks, then
embeds their dense text (what ingest embeds) with both backends, and prints chunks/s for each
(wall and CPU time)
and the cosine between the two vectors of each chunk (mean, 1st percentile, minimum), plus how
often a chunk's nearest neighbour among the others is the same under both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.config import ALAMEDA_DIR, Settings  # noqa: E402
from assistant.index.embedding import (  # noqa: E402
    ONNX_INT8, TORCH, SentenceTransformerEmbedder, TokenCounter, set_offline_environment,
)
from assistant.ingest.reading import prepare  # noqa: E402

ALAMEDA = ROOT / ALAMEDA_DIR


def real_chunks(n: int) -> list[str]:
    settings = Settings()
    texts: list[str] = []
    for pdf in sorted(ALAMEDA.glob("*.pdf"))[::10]:
        prep = prepare(str(pdf), pdf.name, "", 0, 0.0, settings.index.chunker, settings.index.chunk_tokens, make_counter=TokenCounter)
        texts.extend(c.embed_text for c in prep.chunks)
        if len(texts) >= n:
            break
    return texts[:n]


def main() -> int:
    set_offline_environment()
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--max-tokens", type=int, default=Settings().index.embed_max_tokens)
    args = parser.parse_args()
    texts = real_chunks(args.chunks)
    out: dict = {"chunks": len(texts), "max_tokens": args.max_tokens}
    vectors = {}
    for backend in (TORCH, ONNX_INT8):
        embedder = SentenceTransformerEmbedder(max_tokens=args.max_tokens, backend=backend)
        embedder.embed(texts[:64])  # load and warm
        started, cpu = time.perf_counter(), time.process_time()
        vectors[backend] = embedder.embed(texts)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU seconds as well as wall time: wall time moves with whatever else the machine runs.
        out[backend] = {"seconds": round(seconds, 1), "chunks_per_second": round(len(texts) / seconds, 1),
                        "cpu_seconds": round(cpu, 1), "chunks_per_cpu_second": round(len(texts) / cpu, 1)}
        print(backend, out[backend], flush=True)
    a, b = vectors[TORCH], vectors[ONNX_INT8]
    cos = (a * b).sum(axis=1)
    out["cosine_mean"] = round(float(cos.mean()), 4)
    out["cosine_p1"] = round(float(np.percentile(cos, 1)), 4)
    out["cosine_min"] = round(float(cos.min()), 4)
    sims_a, sims_b = a @ a.T, b @ b.T
    np.fill_diagonal(sims_a, -1)
    np.fill_diagonal(sims_b, -1)
    out["same_nearest_neighbour"] = round(float((sims_a.argmax(1) == sims_b.argmax(1)).mean()), 4)
    out["speedup_wall"] = round(out[ONNX_INT8]["chunks_per_second"] / out[TORCH]["chunks_per_second"], 2)
    out["speedup_cpu"] = round(out[ONNX_INT8]["chunks_per_cpu_second"] / out[TORCH]["chunks_per_cpu_second"], 2)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""fp32 (torch) against int8 (ONNX Runtime) and bf16 (torch) embeddings on real chunks: throughput and agreement.

    python scripts/embed_compare.py [--chunks 2000] [--max-tokens 128]

Chunks every 10th Alameda PDF with the project's own chunker until it has N chunks, then
embeds their dense text (what ingest embeds) with each backend, and prints chunks/s for each
(wall and CPU time; on a machine whose two cores share one physical core, CPU time over-counts)
and, for int8 and bf16, the cosine between its vector and fp32's for each chunk (mean, 1st
percentile, minimum), plus how often a chunk's nearest neighbour among the others is the same
as under fp32. fp32 runs first: bf16 sets torch to one thread for the process.
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
    ONNX_INT8, TORCH, TORCH_BF16, SentenceTransformerEmbedder, TokenCounter, set_offline_environment,
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
    for backend in (TORCH, ONNX_INT8, TORCH_BF16):
        embedder = SentenceTransformerEmbedder(max_tokens=args.max_tokens, backend=backend)
        embedder.embed(texts[:64])  # load and warm
        started, cpu = time.perf_counter(), time.process_time()
        vectors[backend] = embedder.embed(texts)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU seconds as well as wall time: wall time moves with whatever else the machine runs.
        out[backend] = {"seconds": round(seconds, 1), "chunks_per_second": round(len(texts) / seconds, 1),
                        "cpu_seconds": round(cpu, 1), "chunks_per_cpu_second": round(len(texts) / cpu, 1)}
        print(backend, out[backend], flush=True)
    a = vectors[TORCH]
    sims_a = a @ a.T
    np.fill_diagonal(sims_a, -1)
    for backend in (ONNX_INT8, TORCH_BF16):
        b = vectors[backend]
        cos = (a * b).sum(axis=1)
        sims_b = b @ b.T
        np.fill_diagonal(sims_b, -1)
        out[backend].update({
            "cosine_mean": round(float(cos.mean()), 5), "cosine_p1": round(float(np.percentile(cos, 1)), 5),
            "cosine_min": round(float(cos.min()), 5),
            "same_nearest_neighbour": round(float((sims_a.argmax(1) == sims_b.argmax(1)).mean()), 4),
            "speedup_wall": round(out[backend]["chunks_per_second"] / out[TORCH]["chunks_per_second"], 2),
        })
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

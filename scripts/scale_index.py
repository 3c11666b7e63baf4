"""Build a query benchmark index of 100k+ chunks from an index that exists, without embedding.

    python scripts/scale_index.py SOURCE_INDEX TARGET_INDEX [--copies 2]

Copies SOURCE_INDEX to TARGET_INDEX, then adds each of its files again COPIES times under
another name (`copy-N/<path>`), with the same chunks and the same stored vectors under new
ids, so the BM25 index, the catalogue and Chroma all hold (1 + COPIES) times as many
chunks. Only for measuring queries at scale (`scripts/bench_queries.py`): the copies are
repeats, so answers over this index are no better than over the source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 2000


def copy_id(chunk_id: str, copy: int) -> str:
    return hashlib.sha256(f"{chunk_id}:copy-{copy}".encode()).hexdigest()[:24]


def replicate(source: Path, target: Path, copies: int) -> dict:
    from assistant.core.config import Settings
    from assistant.index.embedding import set_offline_environment
    from assistant.retrieve.minutes_index import MinutesIndex

    set_offline_environment()
    if target.exists():
        raise SystemExit(f"{target} exists: remove it first")
    started = time.perf_counter()
    shutil.copytree(source, target)
    index = MinutesIndex.open(Settings(index_dir=target))
    db = sqlite3.connect(str(index.catalog.db_path))
    files = db.execute("SELECT path, source, sha256, size, mtime, status, reason, pages, chunks, metadata, ingested_at"
                       " FROM files WHERE status='indexed'").fetchall()
    chunks = db.execute("SELECT id, path, ordinal, text, embed_text, metadata FROM chunks").fetchall()
    collection = index.store._open()
    for copy in range(1, copies + 1):
        prefix = f"copy-{copy}/"
        db.executemany("INSERT OR REPLACE INTO files VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                       [(prefix + f[0], prefix + f[1], *f[2:]) for f in files])
        rows = []
        for cid, path, ordinal, text, embed_text, meta in chunks:
            data = json.loads(meta)
            data["source"] = prefix + data.get("source", path)
            rows.append((copy_id(cid, copy), prefix + path, ordinal, text, embed_text, json.dumps(data)))
        db.executemany("INSERT OR REPLACE INTO chunks VALUES(?,?,?,?,?,?)", rows)
        db.commit()
        for start in range(0, len(chunks), BATCH):
            part = chunks[start:start + BATCH]
            got = collection.get(ids=[c[0] for c in part], include=["embeddings", "metadatas"])
            metas = []
            for m in got["metadatas"]:
                m = dict(m)
                m["source"] = prefix + str(m.get("source", ""))
                metas.append(m)
            collection.upsert(ids=[copy_id(i, copy) for i in got["ids"]], embeddings=got["embeddings"],
                              metadatas=metas)
        print(f"copy {copy}: {len(chunks)} chunks added ({time.perf_counter() - started:.0f} s)", flush=True)
    db.execute("UPDATE state SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")  # BM25 is rebuilt
    db.commit()
    total = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    db.close()
    return {"chunks": total, "vectors": collection.count(), "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(replicate(args.source, args.target, args.copies)))


if __name__ == "__main__":
    main()

"""Check that every fact of a question set is found verbatim in its gold source page.

    python eval/check_facts.py eval/alameda.jsonl [--corpus DIR ...]

Files are looked up in corpus/, ../shared/corpora/alameda-city-council/ and
../shared/corpora/norfolk-parish-councils/ (or the --corpus folders). Comparison is case-insensitive with whitespace collapsed. Exits 1
and lists the failures when any fact is missing.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.config import ALAMEDA_DIR, NORFOLK_DIR  # noqa: E402

DEFAULT_DIRS = [ROOT / "corpus", ROOT / ALAMEDA_DIR, ROOT / NORFOLK_DIR]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@functools.lru_cache(maxsize=None)
def page_texts(path: Path) -> list[str]:
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return [norm(page.extract_text() or "") for page in PdfReader(str(path)).pages]
    return [norm(path.read_text(encoding="utf-8"))]


def find(name: str, dirs: list[Path]) -> Path | None:
    for folder in dirs:
        if (folder / name).exists():
            return folder / name
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--corpus", action="append", type=Path, default=[])
    args = parser.parse_args()
    dirs = args.corpus + DEFAULT_DIRS
    failures, checked, ids = [], 0, set()
    for n, line in enumerate(Path(args.file).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["id"] in ids:
            failures.append(f"line {n}: duplicate id {row['id']}")
        ids.add(row["id"])
        if row["type"] == "unanswerable":
            if row.get("facts") or row.get("gold_sources"):
                failures.append(f"{row['id']}: unanswerable question with facts or sources")
            continue
        if not row.get("facts") or not row.get("gold_sources"):
            failures.append(f"{row['id']}: no facts or no gold sources")
            continue
        for fact in row["facts"]:
            checked += 1
            found = False
            for src in row["gold_sources"]:
                path = find(src["file"], dirs)
                if path is None:
                    failures.append(f"{row['id']}: source {src['file']} not found")
                    continue
                pages = page_texts(path)
                page = src.get("page") or 1
                if 1 <= page <= len(pages) and norm(fact) in pages[page - 1]:
                    found = True
            if not found:
                failures.append(f"{row['id']}: fact {fact!r} not on its gold page(s)")
    print(f"{checked} facts checked in {len(ids)} questions; {len(failures)} problems")
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

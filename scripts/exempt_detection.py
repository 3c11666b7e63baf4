"""How the detection of exempt items behaves on real minutes (issue 10).

python scripts/exempt_detection.py [--alameda N] [--show N]

Reads the Norfolk parish minutes and N Alameda PDFs from ../shared/corpora (and the bundled
corpus), finds the segments the wording marks restricted (assistant/core/access.py), and prints per
corpus how many documents and segments are restricted, with the text around each exclusion
and readmission, so each detection can be checked by eye.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core import access  # noqa: E402
from assistant.core.config import SHARED_CORPORA  # noqa: E402
from assistant.core.errors import SkipFile  # noqa: E402
from assistant.ingest.readers import read_document  # noqa: E402
from assistant.ingest.structure import parse  # noqa: E402

CORPORA = ROOT / SHARED_CORPORA


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alameda", type=int, default=120, help="Alameda PDFs to read (a fixed random sample)")
    parser.add_argument("--show", type=int, default=40, help="detections to print")
    args = parser.parse_args()
    alameda = sorted((CORPORA / "alameda-city-council").glob("*.pdf"))
    random.Random(10).shuffle(alameda)
    sets = {
        "bundled": sorted((ROOT / "corpus").glob("*.txt")),
        "norfolk": sorted((CORPORA / "norfolk-parish-councils").glob("*.md")),
        "alameda": sorted(alameda[: args.alameda]),
    }
    shown = 0
    for name, files in sets.items():
        docs = segs = restricted = docs_hit = 0
        for path in files:
            try:
                doc = read_document(path)
            except SkipFile:
                continue
            segments = parse(doc)
            flags, why = access.plan(doc, segments)
            docs += 1
            segs += len(segments)
            restricted += sum(flags)
            if any(flags):
                docs_hit += 1
                if shown < args.show:
                    shown += 1
                    first = flags.index(True)
                    last = len(flags) - 1 - flags[::-1].index(True)
                    print(f"--- {name} {path.name}: segments {first + 1}-{last + 1} of {len(segments)} restricted ({why})")
                    print("    starts:", re.sub(r"\s+", " ", segments[first].text)[:200])
                    print("    ends:  ", re.sub(r"\s+", " ", segments[last].text)[:200])
                    if last + 1 < len(segments):
                        print("    next:  ", re.sub(r"\s+", " ", segments[last + 1].text)[:160])
        print(f"=== {name}: {docs} documents, {docs_hit} with restricted items; "
              f"{restricted} of {segs} segments restricted ({restricted / max(1, segs):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

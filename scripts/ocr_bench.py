"""OCR speed and accuracy on scanned minutes made from the bundled corpus.

The five bundled minutes (real text) are rendered to image-only A4 pages at 300 dpi
(tests/ocr_scans.py), clean and scan-like (slight skew, speckle, blur), then read back through
the same reader as ingest. Prints pages/s and the share of words recovered.

    .venv/bin/python scripts/ocr_bench.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assistant.ingest.readers import read_document  # noqa: E402
from ocr_scans import word_recovery, write_scan_pdf  # noqa: E402


def main() -> int:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("clean", "scan-like"):
            pages = seconds = 0.0
            truth_words = recovered = 0.0
            for n, text in enumerate(texts):
                path = Path(tmp) / f"{variant}-{n}.pdf"
                pages += write_scan_pdf(text, path, scan_like=variant == "scan-like")
                t0 = time.perf_counter()
                doc = read_document(path)
                seconds += time.perf_counter() - t0
                share = word_recovery(text, "\n".join(p.text for p in doc.pages))
                weight = len(text.split())
                truth_words += weight
                recovered += share * weight
            results[variant] = {"pages": int(pages), "seconds": round(seconds, 1),
                                "pages_per_second": round(pages / seconds, 2),
                                "words_recovered": round(recovered / truth_words, 4)}
            print(f"{variant}: {int(pages)} pages in {seconds:.1f} s = {pages / seconds:.2f} pages/s; "
                  f"{recovered / truth_words:.1%} of words recovered", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

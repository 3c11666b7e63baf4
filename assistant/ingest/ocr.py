"""OCR for scanned minutes: the pages of a PDF that have no text layer but hold an image are
rendered by poppler's `pdftoppm` and read by Tesseract (through pytesseract).

Both are Debian packages (`tesseract-ocr`, `poppler-utils`) that `scripts/setup.sh` installs.
Without them a scanned PDF is skipped with a reason that says how to enable OCR. Nothing
here runs at import; the engine is looked for on first use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core.errors import SkipFile

DPI = 300  # Tesseract reads body text best at about 300 dpi
LANGUAGE = "eng"
PAGE_TIMEOUT = 180  # seconds for one page, render and read
HOW_TO_ENABLE = ("install Debian's tesseract-ocr and poppler-utils (scripts/setup.sh does) "
                 "to read it with OCR")


def missing_engine() -> str:
    """'' when OCR can run here, else what is missing."""
    missing = [name for name in ("tesseract", "pdftoppm") if shutil.which(name) is None]
    if not missing:
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            missing.append("the pytesseract package")
    return ", ".join(missing)


def ocr_now_possible(skip_reason: str) -> bool:
    """A scan skipped because the engine was missing, when the engine is there now: read it again."""
    return skip_reason.startswith("image-only PDF") and HOW_TO_ENABLE in skip_reason and not missing_engine()


def pages_with_images(path: Path, numbers: list[int]) -> list[int]:
    """Of the given 1-based pages, those that draw an image (a scan), not blank separator pages."""
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every odd font it meets
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
    except Exception:  # PDFium read it, pypdf cannot: try OCR on the blank pages rather than lose them
        return list(numbers)
    out = []
    for number in numbers:
        try:
            resources = reader.pages[number - 1].get("/Resources") or {}
            xobjects = resources.get_object().get("/XObject") or {}
            xobjects = xobjects.get_object()
            if any(xobjects[name].get_object().get("/Subtype") in ("/Image", "/Form") for name in xobjects):
                out.append(number)
        except Exception:  # an odd page: try OCR on it rather than lose it
            out.append(number)
    return out


def ocr_pdf_pages(path: Path, numbers: list[int], dpi: int = DPI, language: str = LANGUAGE) -> dict[int, str]:
    """The text Tesseract reads on each of the given 1-based pages. Pages are read two at a time,
    each Tesseract on one thread: on 2 cores that is faster than one Tesseract with OpenMP's
    threads, which spin against each other (measured: 3.2 s a page against 7.5 s on a busy machine)."""
    from concurrent.futures import ThreadPoolExecutor

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # read by each Tesseract process this one starts
    with tempfile.TemporaryDirectory(prefix="minutes-ocr-") as tmp:
        def one(number: int) -> tuple[int, str]:
            return number, _ocr_page(path, number, os.path.join(tmp, f"p{number}"), dpi, language)

        with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1, len(numbers)))) as pool:
            return dict(pool.map(one, numbers))


def _ocr_page(path: Path, number: int, stem: str, dpi: int, language: str) -> str:
    import pytesseract

    try:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(number), "-l", str(number), "-singlefile", "-png",
             str(path), stem],
            check=True, capture_output=True, timeout=PAGE_TIMEOUT,
        )
        return pytesseract.image_to_string(stem + ".png", lang=language, timeout=PAGE_TIMEOUT)
    except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
        # pytesseract raises RuntimeError on its timeout, TesseractError (a RuntimeError) on failure
        detail = getattr(exc, "stderr", b"") or b""
        raise SkipFile(f"OCR failed on page {number}: "
                       f"{detail.decode(errors='replace').strip()[:200] or exc}") from exc


def fill_from_ocr(path: Path, texts: list[str]) -> tuple[list[str], list[int]]:
    """Pages with no text layer that hold an image are read with OCR, when it is installed.
    Returns the texts and the 1-based numbers of the pages read with OCR. A PDF with no text
    at all is skipped with the reason: how to enable OCR, or that OCR found no words."""
    blank = [n for n, text in enumerate(texts, 1) if not text.strip()]
    image_only = len(blank) == len(texts)
    # A PDF with no text at all is read whole (its words may be images or drawn outlines); in
    # one with text, only the blank pages that hold an image, not the empty separator pages.
    scanned = blank if image_only else (pages_with_images(path, blank) if blank else [])
    missing = missing_engine() if scanned else ""
    if not scanned or missing:
        if image_only:
            raise SkipFile(f"image-only PDF: none of its {len(texts)} pages has a text layer; "
                           f"{HOW_TO_ENABLE} (missing: {missing})")
        return texts, []
    read = ocr_pdf_pages(path, scanned)
    texts = [read.get(n, text) for n, text in enumerate(texts, 1)]
    found = [n for n in scanned if read.get(n, "").strip()]
    if image_only and not found:
        raise SkipFile(f"image-only PDF: none of its {len(texts)} pages has a text layer, and OCR found no words")
    return texts, found

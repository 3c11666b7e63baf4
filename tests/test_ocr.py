"""OCR for scanned minutes: real minutes text rendered to image-only PDF pages (tests/ocr_scans.py)
is read with Tesseract, pages kept, OCR pages recorded, and found by search; without the engine
the skip reason says how to enable it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from assistant.core.config import Settings
from assistant.decisions import decision_hooks
from assistant.core.errors import SkipFile
from assistant.retrieve.minutes_index import MinutesIndex
from assistant.ingest import ocr
from assistant.ingest.pipeline import ingest
from assistant.ingest.readers import read_document
from assistant.core.types import Filters

from ocr_scans import render_pages, word_recovery, write_scan_pdf
from conftest import CORPUS
from fakes import HashingEmbedder



def minutes_text() -> str:
    """Real minutes text: the minutes of two bundled Herefordshire cabinet items (two A4 pages)."""
    first = next(CORPUS.glob("000_*.txt")).read_text(encoding="utf-8").split("Minutes:", 1)[1].strip()
    second = next(CORPUS.glob("002_*.txt")).read_text(encoding="utf-8").strip()
    return first + "\n" + second


needs_engine = pytest.mark.skipif(bool(ocr.missing_engine()),
                                  reason="OCR engine not installed: run scripts/setup.sh (tesseract-ocr, poppler-utils)")


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> tuple[Path, str, int]:
    text = minutes_text()
    path = tmp_path_factory.mktemp("scans") / "cabinet-2024-09-26-scan.pdf"
    pages = write_scan_pdf(text, path)
    return path, text, pages


def test_the_scan_has_no_text_layer(scan):
    path, _text, pages = scan
    reader = PdfReader(str(path))
    assert len(reader.pages) == pages >= 2
    assert not any((page.extract_text() or "").strip() for page in reader.pages)


@pytest.fixture(scope="module")
def scan_read(scan):
    return read_document(scan[0])


@needs_engine
def test_scanned_minutes_read_with_ocr_pages_kept(scan, scan_read):
    path, text, pages = scan
    doc = scan_read
    assert [p.number for p in doc.pages] == list(range(1, pages + 1))
    assert doc.metadata["ocr_pages"] == list(range(1, pages + 1))
    read = "\n".join(p.text for p in doc.pages)
    assert word_recovery(text, read) >= 0.95
    # Each page's words stay on their page.
    assert "restorative" in doc.pages[0].text.lower() and "restorative" not in doc.pages[-1].text.lower()


def test_without_the_engine_the_reason_says_how_to_enable_it(scan, monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(SkipFile) as caught:
        read_document(scan[0])
    reason = str(caught.value)
    assert reason.startswith("image-only PDF") and f"{scan[2]} pages" in reason
    assert "install Debian's tesseract-ocr and poppler-utils" in reason and "missing: tesseract, pdftoppm" in reason


@needs_engine
def test_a_scan_skipped_without_the_engine_is_read_once_it_is_installed(tmp_path, scan, monkeypatch):
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(scan[0], folder / scan[0].name)
    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    with monkeypatch.context() as m:
        m.setattr(ocr.shutil, "which", lambda name: None)
        skipped = ingest(index, [str(folder)], workers=0)
        assert skipped.files_skipped == 1 and "tesseract-ocr" in skipped.skipped[0][1]
        again = ingest(index, [str(folder)], workers=0)  # still no engine: still skipped, not read again
        assert (again.files_unchanged, again.files_indexed) == (1, 0)
    installed = ingest(index, [str(folder)], workers=0)
    assert installed.files_indexed == 1 and installed.files_skipped == 0


@needs_engine
def test_only_the_scanned_page_of_a_mixed_pdf_is_read_with_ocr(tmp_path):
    typed = FPDF()
    typed.add_page()
    typed.set_font("Helvetica", size=12)
    typed.multi_cell(0, 6, "Minutes of the Licensing Sub-Committee. The typed first page: the hearing opened at ten.")
    typed.add_page()  # an empty separator page: not worth an OCR pass
    scanned = io.BytesIO()
    render_pages("RESOLVED: That the premises licence for the Old Bell be granted with conditions.")[0].save(
        scanned, "PDF", resolution=300)
    writer = PdfWriter()
    for source in (io.BytesIO(bytes(typed.output())), scanned):
        for page in PdfReader(source).pages:
            writer.add_page(page)
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as out:
        writer.write(out)
    doc = read_document(path)
    assert doc.metadata["ocr_pages"] == [3]
    assert "hearing opened" in doc.pages[0].text
    assert "premises licence for the Old Bell" in doc.pages[2].text.replace("\n", " ")


@needs_engine
def test_a_scan_is_searchable_after_ingest(tmp_path, scan):
    path, _text, _pages = scan
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    report = ingest(index, [str(folder)], hooks=decision_hooks(index), workers=0)
    assert report.files_indexed == 1, report.summary()
    hits = index.retriever.search("equality assurance framework audit activity", Filters(), k=3, mode="lexical")
    assert hits and Path(hits[0].chunk.source).name == path.name and hits[0].chunk.page_start == 1
    record = index.catalog.files()[0]
    assert record.metadata["ocr_pages"] == list(range(1, _pages + 1))


def test_sources_panel_marks_passages_read_with_ocr():
    from assistant.app import ui
    from assistant.core.types import Chunk

    def card(page: int, ocr_pages: tuple[int, ...]) -> str:
        c = Chunk(id="c1", text="RESOLVED: That the plan be endorsed.", embed_text="", source="/m/scan.pdf",
                  page_start=page, page_end=page, section="resolution", council="Shire Test Council")
        pdf = ui.SourceFile("/m/scan.pdf", "/m/scan.pdf", "pdf", ocr_pages=ocr_pages)
        return ui.citation_card(1, c, "be endorsed", pdf, lambda f, p: "", lambda p: True)

    assert "OCR text: read from a scanned page" in card(2, (1, 2))
    assert "OCR text" not in card(3, (1, 2)) and "OCR text" not in card(1, ())

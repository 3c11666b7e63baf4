"""Readers: text files, PDFs (running headers and footers), HTML, and bad inputs skipped with a reason.

The PDFs are made here with fpdf2 (and pypdf for encryption), so each test knows exactly
what text is on which page.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from assistant.core.errors import SkipFile
from assistant.ingest.readers import read_document
from assistant.ingest.structure import parse
from conftest import CORPUS


# Words on each page that no other page shares (a line that repeats on every page, digits
# aside, is a running header by design, so body lines must differ).
PAGE_TEXT = {
    1: [
        "MINUTES OF THE REGULAR CITY COUNCIL MEETING",
        "Alpha: the council welcomed the new harbour master and thanked the volunteers.",
        "Councilmember Brightwater asked about the library roof.",
    ],
    2: [
        "Bravo: the treasurer presented the quarterly report on parking revenue.",
        "The vote on the parking report was 5 to 0.",
    ],
    3: [
        "Charlie: staff described the footbridge repairs over Mill Creek.",
        "The meeting ended with a minute of silence for Mayor Holloway.",
    ],
}
HEADER_LINES = ("Regular Meeting", "City of Testville Council", "March 3, 2021")


class _MinutesPDF(FPDF):
    def header(self):
        self.set_font("Helvetica", size=10)
        for line in HEADER_LINES:
            self.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def minutes_pdf_bytes(pages: dict[int, list[str]] = PAGE_TEXT) -> bytes:
    pdf = _MinutesPDF()
    for number in sorted(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        for paragraph in pages[number]:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    return bytes(pdf.output())


@pytest.fixture
def minutes_pdf(tmp_path) -> Path:
    path = tmp_path / "2021-03-03.pdf"
    path.write_bytes(minutes_pdf_bytes())
    return path


# ---- text files -------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_text_file_read_unchanged(path):
    raw = path.read_bytes()
    doc = read_document(path)
    assert doc.kind == "text"
    assert [p.number for p in doc.pages] == [1]
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.source == str(path)
    # Same words in the same order: nothing dropped, nothing reordered, nothing added.
    assert doc.pages[0].text.split() == raw.decode("utf-8").split()
    assert doc.pages[0].header == ""


def test_manifest_metadata_read_with_nulls_left_out():
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["files"]
    for name, entry in manifest.items():
        meta = read_document(CORPUS / name).metadata
        for key in ("council", "committee", "date", "item", "title", "url", "licence"):
            if entry.get(key):
                assert meta[key] == entry[key], (name, key)
            else:
                assert key not in meta, (name, key)  # a null never becomes a guess or ""
        assert "notes" not in meta  # only the known fields are taken


def test_manifest_metadata_wins_over_the_text(tmp_path):
    """000 says 'Meeting: 26/09/2024 - Cabinet (Item 24)'; a manifest that says otherwise wins."""
    name = "000_0c651058bcd55b11.txt"
    shutil.copy(CORPUS / name, tmp_path / name)
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {name: {
        "council": "Testshire Council", "committee": "Scrutiny Committee", "date": "2024-10-01",
        "item": "7", "title": None}}}), encoding="utf-8")
    doc = read_document(tmp_path / name)
    assert doc.metadata == {"council": "Testshire Council", "committee": "Scrutiny Committee",
                            "date": "2024-10-01", "item": "7"}
    segments = parse(doc)
    assert segments
    assert {(s.council, s.committee, s.date, s.item) for s in segments} == {
        ("Testshire Council", "Scrutiny Committee", "2024-10-01", "7")}


def test_without_manifest_the_text_is_read_alone(tmp_path):
    name = "000_0c651058bcd55b11.txt"
    shutil.copy(CORPUS / name, tmp_path / name)
    doc = read_document(tmp_path / name)
    assert doc.metadata == {}
    segments = parse(doc)
    # The title block ("Meeting: 26/09/2024 - Cabinet (Item 24)") dates the whole page,
    # the lines above the item too; the item number starts where it is printed.
    assert {(s.committee, s.date) for s in segments} == {("Cabinet", "2024-09-26")}
    assert {s.date_from for s in segments} == {"text"}
    assert [s.item for s in segments][-1] == "24" and "" in {s.item for s in segments}


# ---- PDFs -------------------------------------------------------------------------------


def test_pdf_pages_kept_running_header_and_footer_removed(minutes_pdf):
    doc = read_document(minutes_pdf)
    assert doc.kind == "pdf"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page in doc.pages:
        lines = [ln.strip() for ln in page.text.split("\n") if ln.strip()]
        # the known text is on its own page, and only there
        for number, paragraphs in PAGE_TEXT.items():
            for paragraph in paragraphs:
                assert (paragraph in page.text) == (number == page.number), (page.number, paragraph)
        # header and footer lines are gone from the text ...
        for running in HEADER_LINES:
            assert running not in lines
        assert not any(ln.startswith("Page ") and ln.endswith(" of 3") for ln in lines), lines
        # ... and the header is kept beside it (it carries the date)
        assert page.header == " | ".join(HEADER_LINES)
    # a body line with digits that does not repeat is not taken for a footer
    assert "The vote on the parking report was 5 to 0." in doc.pages[1].text


def test_pdf_header_date_reaches_the_segments(minutes_pdf):
    segments = parse(read_document(minutes_pdf))
    assert segments[0].kind == "procedural" and segments[0].meeting == "Regular City Council Meeting"
    assert {s.date for s in segments} == {"2021-03-03"}
    assert {s.council for s in segments} == {"City of Testville Council"}
    assert {s.committee for s in segments} == {"City Council"}
    charlie = next(s for s in segments if s.text.startswith("Charlie"))
    assert (charlie.page_start, charlie.page_end) == (3, 3)


def test_pdf_footer_only_running_lines_are_removed_and_kept(tmp_path):
    """Minutes of some years carry the council and date only in a running footer."""

    class FooterOnly(FPDF):
        def footer(self):
            self.set_y(-20)
            self.set_font("Helvetica", size=9)
            self.cell(0, 4, "Regular Meeting", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 4, f"Springfield City Council {self.page_no()}November 16, 2010")

    pdf = FooterOnly()
    for words in ("Delta: first page business.", "Echo: second page business.", "Foxtrot: last page."):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 6, words)
    path = tmp_path / "2010-11-16.pdf"
    path.write_bytes(bytes(pdf.output()))
    doc = read_document(path)
    assert [p.text for p in doc.pages] == ["Delta: first page business.", "Echo: second page business.",
                                           "Foxtrot: last page."]
    assert doc.pages[1].header == "Regular Meeting | Springfield City Council 2November 16, 2010"
    assert {s.council for s in parse(doc)} == {"Springfield City Council"}


def _paragraph_pdf(tmp_path: Path) -> Path:
    """Paragraphs as a word processor prints them: lines wrapped at single spacing, and between
    paragraphs a blank line, a half-height one, or space after the paragraph."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    wrapped = ("(19-101) Recommendation to authorise the City Manager to negotiate and execute an agreement "
               "for the repair of the footbridge over Mill Creek, in an amount not to exceed $40,000.")
    pdf.multi_cell(80, 6, wrapped, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)  # a blank line
    pdf.multi_cell(80, 6, "Councilmember Brightwater moved approval of the staff recommendation.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)  # a half-height blank line
    pdf.multi_cell(0, 6, "Vice Mayor Holloway seconded the motion, which carried by unanimous voice vote - 5.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2.5)  # space after the paragraph
    pdf.multi_cell(0, 6, "(19-102) Public hearing on the harbour master's report.", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "2019-02-05.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def test_pdf_paragraphs_are_kept_apart_and_wrapped_lines_together(tmp_path):
    """PDFium gives lines, not blank lines: the reader puts a blank line back wherever the page
    leaves a gap, and nowhere inside a paragraph."""
    doc = read_document(_paragraph_pdf(tmp_path))
    blocks = doc.pages[0].text.split("\n\n")
    assert [block.split("\n")[0][:20] for block in blocks] == [
        "(19-101) Recommendat", "Councilmember Bright", "Vice Mayor Holloway ", "(19-102) Public hear"]
    assert len(blocks[0].split("\n")) >= 3 and len(blocks[1].split("\n")) == 2  # wrapped, not split
    items = [s for s in parse(doc) if s.kind == "motion"]
    assert items and items[0].item == "19-101"


def test_pdf_text_agrees_with_pypdf_on_real_minutes(alameda_dir):
    """The same agenda items, motions and votes come out of PDFium's text as out of pypdf's, on
    minutes from 2005, 2011 and 2018 (each made by a different word processor set-up)."""
    from assistant.ingest import readers

    def pypdf_pages(path):
        texts = [page.extract_text() or "" for page in PdfReader(str(path)).pages]
        return readers.strip_running_lines([readers._clean(text) for text in texts]), []

    for name in ("2005-07-05.pdf", "2011-09-06.pdf", "2018-02-06.pdf"):
        path = alameda_dir / name
        ours = parse(read_document(path))
        pdfium_items = {(s.item, s.kind) for s in ours if s.item and s.kind in ("heading", "motion", "vote")}
        original, readers._read_pdf = readers._read_pdf, pypdf_pages
        try:
            theirs = parse(read_document(path))
        finally:
            readers._read_pdf = original
        pypdf_items = {(s.item, s.kind) for s in theirs if s.item and s.kind in ("heading", "motion", "vote")}
        assert pypdf_items <= pdfium_items, (name, sorted(pypdf_items - pdfium_items))
        assert len(ours) <= 1.1 * len(theirs), name
    text = read_document(alameda_dir / "2011-09-06.pdf").pages[0].text
    assert "at 7:04 p.m." in text and "prior to the Housing" in text  # pypdf: "7: 04", "prior to t he"


def test_pdf_encrypted_with_owner_password_only_is_read(tmp_path):
    writer = PdfWriter(clone_from=io.BytesIO(minutes_pdf_bytes()))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    path = tmp_path / "owner-only.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    assert PdfReader(str(path)).is_encrypted
    doc = read_document(path)
    assert PAGE_TEXT[2][0] in doc.pages[1].text


# ---- HTML -------------------------------------------------------------------------------

MODERNGOV_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Issue - meetings | Testshire Council</title>
<script>window.dataLayer = [{'tracking': 'SECRET_SCRIPT_TEXT'}];</script>
<style>.mgHeading { color: SECRET_STYLE_TEXT; }</style></head>
<body>
<header><a href="/">Testshire Council home SECRET_HEADER_TEXT</a></header>
<nav><ul><li><a href="/mgCalendar.aspx">Meetings calendar SECRET_NAV_TEXT</a></li></ul></nav>
<div id="modgov">
  <h1 class="mgMainTitleTxt">Issue - meetings</h1>
  <h2 class="mgSubTitleTxt">Bus shelter replacement programme</h2>
  <div class="mgSubSubTitleTxt">Meeting: 14/03/2023 - Cabinet (Item 12)</div>
  <h3>12 Bus shelter replacement programme <span>PDF 120 KB</span></h3>
  <p>The cabinet member for transport introduced the report on <b>bus shelters</b>.</p>
  <h4>Minutes:</h4>
  <p>Cabinet members welcomed the programme.</p>
  <p>Resolved that:</p>
  <ul><li>a) the replacement of 40 shelters be approved; and</li>
      <li>b) the director be authorised to award the contract.</li></ul>
  <p>Supporting documents:</p>
  <form><input name="q"><button>Search SECRET_FORM_TEXT</button></form>
</div>
<footer>Cookies and privacy SECRET_FOOTER_TEXT</footer>
<script>trackPage('SECRET_SCRIPT_TEXT_2');</script>
</body></html>
"""


def test_html_visible_text_with_headings_as_lines(tmp_path):
    path = tmp_path / "cabinet-item-12.html"
    path.write_text(MODERNGOV_PAGE, encoding="utf-8")
    doc = read_document(path)
    assert doc.kind == "html" and len(doc.pages) == 1
    text = doc.pages[0].text
    assert "SECRET" not in text  # scripts, styles, nav, header, footer and forms dropped
    lines = text.split("\n")
    assert "Issue - meetings" in lines
    assert "Bus shelter replacement programme" in lines
    assert "Meeting: 14/03/2023 - Cabinet (Item 12)" in lines
    assert "12 Bus shelter replacement programme PDF 120 KB" in lines
    assert "The cabinet member for transport introduced the report on bus shelters." in lines  # inline tags joined
    assert "Resolved that:" in lines


def test_html_structure_found(tmp_path):
    path = tmp_path / "cabinet-item-12.html"
    path.write_text(MODERNGOV_PAGE, encoding="utf-8")
    segments = parse(read_document(path))
    resolution = [s for s in segments if s.kind == "resolution"]
    assert len(resolution) == 1
    assert resolution[0].text.startswith("Resolved that:")
    assert "a) the replacement of 40 shelters" in resolution[0].text
    assert "b) the director be authorised" in resolution[0].text
    assert (resolution[0].committee, resolution[0].date, resolution[0].item) == ("Cabinet", "2023-03-14", "12")
    assert resolution[0].title == "Bus shelter replacement programme"


# ---- bad inputs -------------------------------------------------------------------------


def _skip_reason(path: Path) -> str:
    with pytest.raises(SkipFile) as info:
        read_document(path)
    return str(info.value)


def test_random_bytes_named_pdf_skipped(tmp_path):
    path = tmp_path / "noise.pdf"
    path.write_bytes(random.Random(7).randbytes(8192))
    assert "corrupt or unreadable PDF" in _skip_reason(path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_pdf_skipped(tmp_path, keep):
    data = minutes_pdf_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * keep)])
    assert "corrupt or unreadable PDF" in _skip_reason(path)


def test_pdf_with_mangled_stream_filter_skipped(tmp_path):
    """pypdf raises NotImplementedError for an unknown filter; that must be a skip, not a crash."""
    data = minutes_pdf_bytes()
    assert b"/FlateDecode" in data
    path = tmp_path / "mangled.pdf"
    path.write_bytes(data.replace(b"/FlateDecode", b"/FlateDecoXe"))
    assert "corrupt or unreadable PDF" in _skip_reason(path)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_encrypted_pdf_needing_a_password_skipped(tmp_path, algorithm):
    writer = PdfWriter(clone_from=io.BytesIO(minutes_pdf_bytes()))
    writer.encrypt(user_password="council-secret", owner_password="owner-secret", algorithm=algorithm)
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    reason = _skip_reason(path)
    assert "encrypted PDF" in reason and "password" in reason


@pytest.mark.parametrize("name,content", [("empty.pdf", b""), ("empty.txt", b""), ("blank.html", b"  \n\t\n ")])
def test_empty_file_skipped(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert _skip_reason(path) == "empty file"


def test_image_only_pdf_skipped(tmp_path):
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(40, 90, 160)
        pdf.rect(20, 20, 120, 80, style="F")
        pdf.set_draw_color(0, 0, 0)
        pdf.line(20, 120, 180, 260)
    path = tmp_path / "scan.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert len(PdfReader(str(path)).pages) == 2
    reason = _skip_reason(path)
    assert reason.startswith("image-only PDF") and "2 pages" in reason


def test_html_without_visible_text_skipped(tmp_path):
    path = tmp_path / "empty-page.html"
    path.write_text("<html><head><script>var a = 1;</script></head><body><nav>Menu</nav></body></html>")
    assert _skip_reason(path) == "no text found"


@pytest.mark.parametrize("name", ["minutes.docx", "scan.png", "README"])
def test_unsupported_suffix_skipped(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"some bytes that are not read")
    reason = _skip_reason(path)
    assert reason.startswith("unsupported file type")
    assert (Path(name).suffix or "(none)") in reason


def test_unreadable_path_skipped(tmp_path):
    folder = tmp_path / "looks-like.pdf"
    folder.mkdir()  # a folder with a .pdf name cannot be read as a file
    assert _skip_reason(folder).startswith("cannot read file")

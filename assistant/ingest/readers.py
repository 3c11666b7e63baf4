"""Readers: PDF (PDFium, page by page, running headers and footers removed; see pdf_text.py), HTML, text.

Each returns one Document per file or raises SkipFile with the reason. Scanned PDF pages are
read with OCR when Tesseract is installed (ocr.py); their numbers go in metadata["ocr_pages"].
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from ..core.dates import find_date
from ..core.errors import SkipFile
from ..core.injection import drop_hostile
from ..core.types import Document, Page
from .manifest import manifest_entry
from .meeting_meta import split_front_matter
from .ocr import fill_from_ocr
from .pdf_text import check_streams, pdf_page_texts

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html", ".txt": "text", ".md": "text"}
HEADER_ZONE = 4  # lines at the top of a page that may be a running header
FOOTER_ZONE = 3
PAGE_NUMBER = re.compile(r"(?i)(page\s*)?\d+(\s*(of|/)\s*\d+)?")


def read_document(path: Path, source: str | None = None) -> Document:
    """Read one file. `source` is the path as the user gave it (kept for citations)."""
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SkipFile("empty file")
    sha = hashlib.sha256(data).hexdigest()
    title = published = ""
    ocr_pages: list[int] = []
    if kind == "pdf":
        pages, ocr_pages = _read_pdf(path)
    elif kind == "html":
        html = decode_text(data)
        pages = (Page(1, _html_text(html)),)
        title = _html_title(html)
    else:
        front, text = split_front_matter(decode_text(data))
        pages = (Page(1, _clean(text)),)
        title, published = front.get("title", ""), front.get("date", "")
    if not any(page.text.strip() for page in pages):
        raise SkipFile("no text found")
    pages, dropped = _without_orders(pages)
    notes = (f"{dropped} sentence(s) giving orders to the assistant, or holding script URLs, "
             "were left out (passages are data)",) if dropped else ()
    manifest = manifest_entry(path)
    return Document(
        source=source or str(path),
        kind=kind,
        pages=pages,
        sha256=sha,
        metadata=dict(manifest, ocr_pages=ocr_pages) if ocr_pages else manifest,
        title=title,
        published=find_date(manifest.get("published") or published),
        notes=notes,
    )


def _without_orders(pages: tuple[Page, ...]) -> tuple[tuple[Page, ...], int]:
    """Pages without the sentences aimed at the assistant rather than at a reader (see injection.py)."""
    out, total = [], 0
    for page in pages:
        text, dropped = drop_hostile(page.text)
        total += dropped
        out.append(Page(page.number, text, page.header) if dropped else page)
    return tuple(out), total


def _read_pdf(path: Path) -> tuple[tuple[Page, ...], list[int]]:
    """The pages, and the numbers of those read with OCR (scanned pages, see ocr.py)."""
    try:
        texts = pdf_page_texts(path)
    except SkipFile:
        raise
    except Exception as exc:  # a damaged file raises almost anything: it is skipped and the run goes on
        raise SkipFile(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not texts:
        raise SkipFile("PDF has no pages")
    if not any(text.strip() for text in texts):
        check_streams(path)  # a scan, or streams nobody can decode
    texts, ocr_pages = fill_from_ocr(path, texts)
    return strip_running_lines([_clean(text) for text in texts]), ocr_pages


def decode_text(data: bytes) -> str:
    """The text of a file's bytes: UTF-8 when they are UTF-8 (nearly always), else the encoding
    charset-normalizer detects (a Latin-1 or Windows-1252 file keeps its "Café" and "£500")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        return str(best)
    return data.decode("cp1252", errors="replace")  # nothing fits: the commonest legacy encoding


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _shape(line: str) -> str:
    """A line's shape for spotting running headers: digits and spacing folded."""
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line)).strip().lower()


def strip_running_lines(texts: list[str]) -> tuple[Page, ...]:
    """Remove lines that repeat at the top or bottom of several pages (headers, footers,
    page numbers); keep the removed header of each page, since it often carries the date
    (a page whose running lines are all at the bottom keeps its removed footer instead)."""
    if len(texts) < 2:
        return tuple(Page(i + 1, t) for i, t in enumerate(texts))
    page_lines = [[ln for ln in t.split("\n")] for t in texts]
    top, bottom = Counter(), Counter()
    for lines in page_lines:
        content = [ln for ln in lines if ln.strip()]
        top.update({_shape(ln) for ln in content[:HEADER_ZONE]})
        bottom.update({_shape(ln) for ln in content[-FOOTER_ZONE:]})
    need = max(2, round(0.2 * len(texts)))
    running_top = {shape for shape, n in top.items() if n >= need and shape}
    running_bottom = {shape for shape, n in bottom.items() if n >= need and shape}
    exact = Counter(ln.strip() for lines in page_lines for ln in {ln.strip() for ln in lines if ln.strip()})
    exact_running = {line for line, n in exact.items() if n >= need}
    pages = []
    for number, lines in enumerate(page_lines, 1):
        content_idx = [i for i, ln in enumerate(lines) if ln.strip()]
        drop, header, footer = set(), [], []
        for i in content_idx[:HEADER_ZONE]:
            if _shape(lines[i]) in running_top:
                drop.add(i)
                header.append(lines[i].strip())
            else:
                break
        for i in reversed(content_idx[-FOOTER_ZONE:]):
            if i in drop:
                break
            if _shape(lines[i]) in running_bottom:
                drop.add(i)
                footer.insert(0, lines[i].strip())
            else:
                break
        if content_idx and drop.issuperset(content_idx):
            # Pages made from one template share their lines' shapes (digits folded): a page must
            # never lose its whole body. Then only lines repeated word for word, and page numbers, go.
            drop = {i for i in drop if lines[i].strip() in exact_running or PAGE_NUMBER.fullmatch(lines[i].strip())}
            if drop.issuperset(content_idx):
                drop = set()
            header = [lines[i].strip() for i in content_idx[:HEADER_ZONE] if i in drop]
            footer = [] if header else [lines[i].strip() for i in content_idx[-FOOTER_ZONE:] if i in drop]
        kept = "\n".join(ln for i, ln in enumerate(lines) if i not in drop).strip("\n")
        pages.append(Page(number, kept, " | ".join(header or footer)))
    return tuple(pages)


def _html_title(html: str) -> str:
    from bs4 import BeautifulSoup

    tag = BeautifulSoup(html, "html.parser").find("title")
    return re.sub(r"\s+", " ", tag.get_text()).strip() if tag else ""
HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)"
    r"|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)|content-visibility\s*:\s*hidden)",
    re.I,
)
HIDDEN_CLASSES = {"hidden", "d-none", "sr-only", "visually-hidden", "screen-reader-text", "invisible", "hide"}


def _hidden(tag) -> bool:
    """An element a reader does not see: `hidden`, aria-hidden, an inline style that hides it,
    or a class that conventionally does."""
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = re.sub(r"/\*.*?\*/", "", str(attrs.get("style", "")), flags=re.S)
    if style and HIDDEN_STYLE.search(style):
        return True
    classes = attrs.get("class") or []
    return bool({str(c).lower() for c in classes} & HIDDEN_CLASSES)


def _html_text(html: str) -> str:
    """Visible text of a saved page (a ModernGov page, say), headings on lines of their own."""
    from bs4 import BeautifulSoup, Comment, Declaration, ProcessingInstruction

    soup = BeautifulSoup(html, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, (Comment, Declaration, ProcessingInstruction))):
        comment.extract()
    for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer", "form",
                     "iframe", "object", "embed"]):
        tag.decompose()
    # A reader never sees hidden elements, so neither do the index and the decisions register.
    for tag in [t for t in soup.find_all(True) if _hidden(t)]:
        if not tag.decomposed:
            tag.decompose()
    root = soup.find(id="modgov") or soup.find("main") or soup.body or soup
    for tag in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "div", "br"]):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = root.get_text()
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    out, blank = [], False
    for line in lines:
        if line:
            out.append(line)
            blank = False
        elif not blank:
            out.append("")
            blank = True
    return "\n".join(out).strip()

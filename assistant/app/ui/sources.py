"""The Chat tab's sources panel: one card per cited passage with its council, committee,
meeting date, item and page, the quoted words marked, an OCR note for scanned pages, and how
to open the source itself (an ingested PDF by its id through the source route, the page of a
text or HTML file shown in place, the manifest's URL). Plain Python: no gradio here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote as url_quote
from urllib.parse import urlparse

from ...core.dates import human_date
from ...core.types import Answer, Chunk
from ...core.text import shorten
from .common import SOURCE_LIMIT, SOURCE_ROUTE, describe, esc, highlight

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    """What is known about an ingested file, for links and source views."""

    path: str  # absolute
    source: str  # as given to ingest (what chunks carry)
    kind: str  # pdf | html | text
    url: str = ""  # from the manifest
    sha256: str = ""
    ocr_pages: tuple[int, ...] = ()  # pages read with OCR from a scan
    id: str = ""  # what the source route serves it by
    access: str = "public"  # public, partial (some items exempt) or restricted


def file_id(path: str, sha256: str) -> str:
    """A catalogued file's id for the source route: changes when the file's content does."""
    return hashlib.sha256(f"{path}\n{sha256}".encode("utf-8", "backslashreplace")).hexdigest()[:32]


def safe_url(url: str | None) -> str:
    """A manifest URL when it is a plain http(s) URL, else ''."""
    url = (url or "").strip()
    try:
        parsed = urlparse(url)
    except ValueError:
        return ""
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c in url for c in ' "<>\'`'):
        return ""
    return url


def file_link(fid: str, page: int) -> str:
    """The app's URL of an ingested PDF (by its id), opening at `page`."""
    return f"{SOURCE_ROUTE}{url_quote(str(fid), safe='')}#page={max(1, int(page or 1))}"


def meta_list(chunk_like) -> str:
    """council, committee, meeting date, item, page, as a definition list."""
    found = {k: v for k, v in (getattr(chunk_like, "provenance", dict)() or {}).items()}

    def said(value: str, field: str) -> str:
        return f"{value} (from the {found[field]})" if value and field in found else value

    rows = [
        ("Council", said(chunk_like.council, "council") or "not stated"),
        ("Committee", said(chunk_like.committee, "committee") or "not stated"),
        ("Meeting date", said(human_date(chunk_like.date), "date") if chunk_like.date else "not stated"),
        ("Item", " ".join(p for p in (chunk_like.item, f"({chunk_like.title})" if chunk_like.title else "") if p) or "not stated"),
        ("Page", _pages(chunk_like)),
    ]
    return '<dl class="source-meta">' + "".join(f"<dt>{esc(k)}:</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"


def _pages(chunk_like) -> str:
    start = getattr(chunk_like, "page_start", None) or getattr(chunk_like, "page", 1)
    end = getattr(chunk_like, "page_end", start) or start
    return f"{start}–{end}" if end != start else str(start)


def source_actions(file: SourceFile | None, page: int, quote: str, page_text: Callable[[SourceFile, int], str],
                   served: Callable[[str], bool]) -> str:
    """How to open the source itself: a PDF at its page, the page of a text or HTML file
    shown here with the words marked, and the manifest's URL."""
    if file is None:
        return '<div class="source-actions muted">The file is no longer in the index.</div>'
    if file.kind == "restricted":  # a public user's view of a file holding exempt items
        return ('<div class="source-actions muted">The source file also holds exempt items, so it is not '
                'opened here; the quoted passage is public.</div>')
    parts = []
    name = esc(Path(file.source).name)
    if file.kind == "pdf" and file.id and served(file.path):
        parts.append(f'<a class="open-source" href="{esc(file_link(file.id, page))}" target="_blank" '
                     f'rel="noopener noreferrer">Open {name} at page {int(page)}</a>')
    else:
        try:
            text = page_text(file, page)
        except Exception as exc:  # unreadable now: say so, do not fail the answer
            log.warning("cannot read %s: %s", file.path, exc)
            text = ""
        if text:
            shown = re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", text)  # blank runs, not layout, are dropped
            shown = shown if len(shown) <= SOURCE_LIMIT else shown[:SOURCE_LIMIT] + " …"
            parts.append(f'<details class="open-source"><summary>Open the source: {name}, page {int(page)}</summary>'
                         f'<div class="source-view">{highlight(shown, quote)}</div></details>')
        else:
            parts.append(f'<span class="muted">{name}, page {int(page)} (the file cannot be read now)</span>')
    url = safe_url(file.url)
    if url:
        parts.append(f'<a class="source-url" href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
                     f'Original web page</a>')
    return '<div class="source-actions">' + "".join(parts) + "</div>"


def ocr_note(chunk: Chunk, file: SourceFile | None) -> str:
    """Says so when the passage's page was read with OCR from a scan (its words may be misread)."""
    if file is None or not file.ocr_pages:
        return ""
    pages = set(range(chunk.page_start, (chunk.page_end or chunk.page_start) + 1))
    if not pages & set(file.ocr_pages):
        return ""
    return ('<div class="ocr-note">OCR text: read from a scanned page, so a word may be misread; '
            'check it against the page.</div>')


def citation_card(n: int | None, chunk: Chunk, quote: str, file: SourceFile | None, page_text, served,
                  label: str = "") -> str:
    head = f"[{n}] " if n is not None else ""
    title = label or ", ".join(p for p in (chunk.council, chunk.committee,
                                             human_date(chunk.date) if chunk.date else "") if p)
    passage = highlight(chunk.text, quote) if quote else esc(shorten(chunk.text, 600))
    anchor = f' id="source-{n}"' if n is not None else ""
    return (f'<div class="source-card"{anchor}><h4>{esc(head)}{esc(title)}</h4>{meta_list(chunk)}'
            f'{ocr_note(chunk, file)}<div class="passage">{passage}</div>'
            f'{source_actions(file, chunk.page_start, quote, page_text, served)}</div>')


def render_sources(answer: Answer | None, files: Callable[[str], SourceFile | None],
                   page_text: Callable[[SourceFile, int], str], served: Callable[[str], bool],
                   label: Callable[[Chunk], str] = lambda c: "") -> str:
    """The sources panel for one answer."""
    if answer is None:
        return ('<div class="sources-empty">Sources appear here: for every [n] in an answer, its council, '
                'committee, meeting date, item and page, and the supporting words marked in their passage.</div>')
    seconds = (answer.timings_ms or {}).get("total")
    head = [f"Answer mode: {esc(answer.mode)}"]
    if seconds is not None:
        head.append(f"answered in {seconds / 1000:.1f} s" if seconds >= 100 else "answered in under 0.1 s")
    if not answer.filters.is_empty():
        head.append(esc(describe(answer.filters)))
    out = [f'<div class="sources-for">For: “{esc(answer.question)}”</div>',
           f'<div class="sources-head">{" · ".join(head)}</div>']
    if answer.citations:
        for c in answer.citations:
            out.append(citation_card(c.n, c.chunk, c.quote, files(c.chunk.source), page_text, served, label(c.chunk)))
    elif answer.refused and answer.closest:
        from ...answer.prompts import CLOSEST_MATCHES

        out.append(f"<p><strong>{esc(CLOSEST_MATCHES)}</strong></p>")
        for hit in answer.closest:
            out.append(citation_card(None, hit.chunk, "", files(hit.chunk.source), page_text, served, label(hit.chunk)))
    else:
        out.append('<div class="sources-empty">No sources for this answer.</div>')
    return "\n".join(out)

"""The chat: a Gradio app over the index, with a sources panel, filters, uploads and the
decisions register.

`build_app(service, settings)` builds the page and `serve(settings)` opens the index (and
ingests the bundled corpus when the index is empty), warms the models and launches it.
Nothing runs at import time, and this is the only module that imports gradio (inside the
two functions). Everything above `build_app` is plain Python, tested without a browser.

Rendering rule: text that comes from documents (passages, quotes, titles, file names) is
always HTML-escaped and never goes through a Markdown renderer, so no markup and no link
from a document ever reaches the page as anything but text.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote as url_quote
from urllib.parse import urlparse

from ..core.access import OFFICER, PUBLIC
from ..core.config import Settings
from ..core.dates import find_date, human_date
from ..core.errors import MinutesError
from ..ingest.readers import SUPPORTED_SUFFIXES
from ..core.types import Answer, Chunk, Filters

log = logging.getLogger(__name__)

TITLE = "Council minutes assistant"
API_CHAT = "chat"  # the endpoint gradio_client calls: Client(url).predict(..., api_name="/chat")
EXAMPLES = (
    "What did cabinet resolve on the phase 2 plan?",
    "What did the Health and Wellbeing Board resolve on the children's services improvement plan?",
    "What action came out of the Health and Wellbeing Board discussion on NEETs?",
)
OUTCOMES = ("approved", "agreed", "noted", "deferred", "refused", "carried", "failed", "withdrawn")
DECISION_HEADERS = ["Date", "Body", "Item", "Kind", "Outcome", "Decision", "Moved, seconded, vote", "Source"]
DECISION_WIDTHS = ["95px", "150px", "190px", "95px", "85px", "360px", "140px", "140px"]
UPLOAD_DIR = "uploads"  # in the index folder; never served as a folder
PDF_UPLOADS = "pdf"
OTHER_UPLOADS = "other"
# The one route that serves documents: an ingested PDF by its catalogue id, nothing else (no
# folder is on gradio's allowed paths). Relative, so the links also work under a root path.
SOURCE_ROUTE = "minutes/source/"
PLACEHOLDER = "…"
SOURCE_LIMIT = 40_000  # characters of a page shown in the source view
STATUS_REFRESH_S = 30  # with watched folders, the status line is read again this often

# System fonts only: the page must render with no network.
SANS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
.gradio-container { max-width: 1400px !important; }
#status-line { font-size: 0.9em; opacity: 0.85; }
#active-filters { font-size: 0.85em; opacity: 0.8; }
.sources-empty, .muted { opacity: 0.7; font-size: 0.92em; }
.sources-for { font-weight: 600; font-size: 0.9em; }
.sources-head { font-size: 0.85em; opacity: 0.8; margin-bottom: 0.5em; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em 0.8em;
               margin-bottom: 0.7em; background: var(--background-fill-secondary); }
.source-card h4 { margin: 0 0 0.3em 0; font-size: 0.95em; }
.source-meta { font-size: 0.85em; margin: 0 0 0.4em 0; }
.source-meta dt { display: inline; font-weight: 600; }
.source-meta dd { display: inline; margin: 0 0.8em 0 0.2em; }
.ocr-note { font-size: 0.85em; margin: 0 0 0.4em 0; padding: 0.1em 0.4em; border-left: 3px solid #c98a00; }
.passage, .source-view { white-space: pre-wrap; font-size: 0.9rem; line-height: 1.45; max-height: 22em; overflow-y: auto;
                         border-left: 3px solid var(--border-color-accent); padding-left: 0.6em; margin: 0.3em 0; }
.passage mark, .source-view mark { background: #ffe58a; color: #111; padding: 0 1px; }
.source-actions { font-size: 0.88em; margin-top: 0.3em; }
.source-actions a { margin-right: 1em; }
.source-actions summary { cursor: pointer; color: var(--link-text-color); }
.ingest-results li { margin: 0.2em 0; }
.ok { color: var(--color-green-600, #15803d); font-weight: 600; }
.bad { color: var(--color-red-600, #b91c1c); font-weight: 600; }
.timeline { list-style: none; padding-left: 0; }
.timeline li { border-left: 3px solid var(--border-color-accent); padding: 0.2em 0 0.6em 0.8em; margin: 0; }
"""

# Bring the marked words into view when a source is opened.
SCROLL_JS = """
element.addEventListener('toggle', function (event) {
  const mark = event.target && event.target.querySelector ? event.target.querySelector('.source-view mark') : null;
  if (mark && event.target.open) { mark.scrollIntoView({block: 'nearest'}); }
}, true);
"""


# ---- escaping and highlighting ------------------------------------------------------------

def esc(text) -> str:
    """Text from documents or users, as inert HTML text."""
    return html.escape("" if text is None else str(text), quote=True)


def find_quote(passage: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` sits in `passage`, ignoring differences in whitespace (then case)."""
    words = (quote or "").split()
    if not words or not passage:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, passage) or re.search(pattern, passage, re.I)
    if match:
        return match.span()
    # A quote made of several pieces (" … "): mark the longest piece that is found.
    pieces = sorted((p for p in re.split(r"\s*…\s*", quote) if len(p.split()) >= 3), key=len, reverse=True)
    for piece in pieces:
        if piece.strip() != quote.strip():
            span = find_quote(passage, piece)
            if span:
                return span
    return None


def highlight(passage: str, quote: str) -> str:
    """The passage escaped, with the quoted words inside <mark>."""
    span = find_quote(passage, quote)
    if span is None:
        return esc(passage)
    a, b = span
    return f"{esc(passage[:a])}<mark>{esc(passage[a:b])}</mark>{esc(passage[b:])}"


def answer_html(text: str) -> str:
    """Text for a chat bubble: escaped, with line breaks kept (nothing else: gradio also puts
    the message into an aria-label, so extra markup would be read out)."""
    return esc(text).replace("\n", "<br>")


def plain_text(content) -> str:
    """The text of a chat message as shown, without the markup this module added."""
    if isinstance(content, list):  # gradio's message parts
        content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    text = str(content or "")
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def history_for_service(history) -> list[dict]:
    """Chatbot history -> [{"role", "content"}] of plain text, for follow-up questions."""
    turns = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") in ("user", "assistant"):
            text = plain_text(turn.get("content"))
            if text and text != PLACEHOLDER:
                turns.append({"role": turn["role"], "content": text})
    return turns


# ---- filters ------------------------------------------------------------------------------

def parse_date(value: str, name: str) -> str:
    """'2020-01-01', '1 January 2020', '01/01/2020' -> ISO; '' stays ''. Raises MinutesError."""
    value = (value or "").strip()
    if not value:
        return ""
    iso = find_date(value)
    if not iso and re.fullmatch(r"(19|20)\d\d", value):  # a bare year
        iso = f"{value}-01-01" if name == "From" else f"{value}-12-31"
    if not iso:
        raise MinutesError(f"“{value}” in {name} is not a date: use a date like 2024-09-26.")
    return iso


def parse_filters(council: str | None, committee: str | None, since: str | None, until: str | None) -> Filters:
    """The filter controls -> Filters. Raises MinutesError with a plain message."""
    start, end = parse_date(since or "", "From"), parse_date(until or "", "Until")
    if start and end and start > end:
        raise MinutesError(f"The date range is empty: From ({start}) is after Until ({end}).")
    return Filters(council=(council or "").strip(), committee=(committee or "").strip(), since=start, until=end)


def describe(filters: Filters) -> str:
    if filters.is_empty():
        return "No filters: searching all the minutes."
    from ..answer.service import describe_filters

    return "Filters in use (chat and decisions, until changed): " + describe_filters(filters).replace(", ", "; ") + "."


# ---- sources --------------------------------------------------------------------------------

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
    passage = highlight(chunk.text, quote) if quote else esc(_shorten(chunk.text, 600))
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
        from ..answer.prompts import CLOSEST_MATCHES

        out.append(f"<p><strong>{esc(CLOSEST_MATCHES)}</strong></p>")
        for hit in answer.closest:
            out.append(citation_card(None, hit.chunk, "", files(hit.chunk.source), page_text, served, label(hit.chunk)))
    else:
        out.append('<div class="sources-empty">No sources for this answer.</div>')
    return "\n".join(out)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


# ---- status, uploads, decisions ------------------------------------------------------------

def status_line(stats: dict, mode: str) -> str:
    last = stats.get("last_ingest") or 0
    when = time.strftime("%d %b %Y %H:%M", time.localtime(last)) if last else "never"
    skipped = f" ({stats['files_skipped']} skipped)" if stats.get("files_skipped") else ""
    sync = stats.get("last_sync") or {}
    synced = ""
    if sync.get("at"):  # a watched folder or a ModernGov site: when, what, and what it did
        synced = (f" · last sync {time.strftime('%d %b %Y %H:%M', time.localtime(sync['at']))} "
                  f"({_md_plain(sync.get('what', ''))}: {_md_plain(sync.get('summary', ''))})")
    return (f"**Index:** {int(stats.get('files_indexed', 0))} documents{skipped} · {int(stats.get('chunks', 0))} chunks · "
            f"last ingest {when}{synced} · **Answer mode:** {_mode_name(mode)}")


def _md_plain(text: str) -> str:
    """A folder path or host shown in the Markdown status line as plain text."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", str(text))[:160]


def _mode_name(mode: str) -> str:
    return "LLM (checked against the passages)" if mode == "llm" else "extractive (quotations from the minutes)"


def safe_upload_name(name: str) -> str:
    """A file name that is safe to write: letters, digits, dot, dash, underscore."""
    base = Path(str(name)).name
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot else (base, "")
    stem = re.sub(r"[^\w.-]+", "_", stem, flags=re.ASCII).strip("._") or "upload"
    suffix = re.sub(r"[^\w.]+", "", suffix, flags=re.ASCII).lower()
    return f"{stem[:80]}{suffix}"


def upload_results_html(rows: list[tuple[str, bool, str]]) -> str:
    """[(file name, ok, what happened)] -> a list of results."""
    if not rows:
        return '<div class="muted">No files were given.</div>'
    items = []
    for name, ok, text in rows:
        mark = '<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>'
        items.append(f"<li>{mark} <strong>{esc(name)}</strong>: {esc(text)}</li>")
    return '<ul class="ingest-results">' + "".join(items) + "</ul>"


def vote_text(d) -> str:
    summary = getattr(d, "vote_summary", None)  # the register's own wording, when it has one
    if callable(summary):
        return summary()
    counts = [(label, getattr(d, attr)) for label, attr in
              (("ayes", "ayes"), ("noes", "noes"), ("abstentions", "abstentions"), ("absent", "absent"))]
    return ", ".join(f"{v} {label}" for label, v in counts if v is not None)


def decision_rows(decisions) -> list[list[str]]:
    """One row per decision, in DECISION_HEADERS order (cells are plain text)."""
    rows = []
    for d in decisions:
        body = ", ".join(p for p in (d.council, d.committee) if p)
        item = " ".join(p for p in (d.item, f"({d.title})" if d.title else "") if p)
        moved = "; ".join(p for p in (f"moved by {d.mover}" if d.mover else "",
                                       f"seconded by {d.seconder}" if d.seconder else "", vote_text(d)) if p)
        rows.append([d.date or "", body, item, d.kind, d.outcome or "", d.text, moved, f"{Path(d.source).name} p.{d.page}"])
    return rows


def pick_decision(shown: list, row: int | None, row_value: list | None = None):
    """The decision a selected table row shows."""
    if row_value:
        wanted = [str(v) for v in row_value]
        for d in shown or []:
            if [str(v) for v in decision_rows([d])[0]] == wanted:
                return d
    if row is not None and shown and 0 <= row < len(shown):
        return shown[row]
    return None


def render_timeline(topic: str, entries, files, page_text, served) -> str:
    if not (topic or "").strip():
        return '<div class="muted">Type an item or topic to see its decisions and discussions across meetings.</div>'
    if not entries:
        return f'<div class="muted">No recorded history for “{esc(topic)}”.</div>'
    items = []
    for e in entries:
        when = getattr(e, "when", "") or (human_date(e.date) if e.date else "date not stated")
        who = ", ".join(p for p in (e.council, e.committee) if p)
        what = e.kind + (f" ({e.outcome})" if e.outcome else "")
        item = " ".join(p for p in (f"item {e.item}" if e.item else "", e.title) if p)
        items.append(
            f"<li><strong>{esc(when)}</strong> · {esc(who)} · {esc(item)} · <em>{esc(what)}</em>"
            f'<div class="passage">{esc(e.text)}</div>'
            f"{source_actions(files(e.source), e.page, e.text, page_text, served)}</li>"
        )
    return f'<ol class="timeline">{"".join(items)}</ol>'


def render_decision_source(d, chunk: Chunk | None, files, page_text, served) -> str:
    """The passage a decision row links to, with the decision's words marked."""
    passage = chunk.text if chunk is not None else d.text
    return (f'<div class="source-card"><h4>{esc(d.kind.capitalize())}: {esc(_shorten(d.title or d.item, 90))}</h4>'
            f'{meta_list(_DecisionPlace(d))}<div class="passage">{highlight(passage, d.text)}</div>'
            f"{source_actions(files(d.source), d.page, d.text, page_text, served)}</div>")


@dataclass(frozen=True)
class _DecisionPlace:
    """A Decision seen through the fields meta_list reads."""

    d: object

    def __getattr__(self, name):
        if name in ("page_start", "page_end"):
            return self.d.page
        return getattr(self.d, name)


def load_users(settings: Settings) -> dict[str, dict]:
    """Logins: MINUTES_AUTH_USER / MINUTES_AUTH_PASSWORD (level MINUTES_AUTH_LEVEL), and the
    users file, {"users": {"NAME": {"password_sha256": "HEX", "level": "public" | "officer"}}}
    (an API client signs in the same way). -> {name: {"sha256", "level"}}."""
    import json

    users: dict[str, dict] = {}
    if settings.users_file:
        try:
            data = json.loads(Path(settings.users_file).read_text(encoding="utf-8"))
            listed = data["users"].items()
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise MinutesError(f"cannot read the users file {settings.users_file}: {exc}") from exc
        for name, entry in listed:
            level = str(entry.get("level", PUBLIC))
            digest = str(entry.get("password_sha256", "")).lower()
            if level not in (PUBLIC, OFFICER) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise MinutesError(f"the users file {settings.users_file}: user {name!r} needs a password_sha256 "
                                   "(64 hex digits) and a level of public or officer")
            users[str(name)] = {"sha256": digest, "level": level}
    if settings.auth_user and settings.auth_password:
        level = settings.auth_level if settings.auth_level in (PUBLIC, OFFICER) else PUBLIC
        users[settings.auth_user] = {"sha256": hashlib.sha256(settings.auth_password.encode()).hexdigest(),
                                     "level": level}
    return users


def user_levels(settings: Settings) -> dict[str, str]:
    return {name: entry["level"] for name, entry in load_users(settings).items()}


def login_checker(settings: Settings):
    """gradio's `auth`: a function of (name, password), or None when no login is configured."""
    import hmac

    users = load_users(settings)
    if not users:
        return None

    def check(name: str, password: str) -> bool:
        entry = users.get(name)
        given = hashlib.sha256((password or "").encode()).hexdigest()
        return entry is not None and hmac.compare_digest(given, entry["sha256"])

    return check


def upload_folder(settings: Settings, kind: str) -> Path:
    folder = (Path(settings.index_dir) / UPLOAD_DIR / kind).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def friendly_error(exc: BaseException, doing: str) -> str:
    """An exception as a plain sentence for the page (the traceback goes to the server log)."""
    if isinstance(exc, MinutesError):
        return str(exc)
    return (f"Sorry, something went wrong while {doing} ({type(exc).__name__}). "
            "The details are in the server log; please try again.")


# ---- the app's handlers ---------------------------------------------------------------------

class ChatApp:
    """The handlers, over one AnswerService. Each catches its errors and shows them plainly."""

    def __init__(self, service, settings: Settings):
        self.service = service
        self.settings = settings
        self.index = service.index
        self._files_cache: tuple[int, dict[str, SourceFile]] | None = None
        self._ingest_lock = threading.Lock()
        self.levels = user_levels(settings)  # login -> public | officer; anyone else is public
        self._services = {OFFICER: service}

    # -- access levels
    def level_of(self, user: str | None) -> str:
        """A signed-in user's level; anyone not signed in, or not listed, is public."""
        return self.levels.get(user, PUBLIC) if user else PUBLIC

    def service_for(self, level: str):
        """The answer service over the index as `level` sees it (the LLM is shared)."""
        if level not in self._services:
            from ..answer.service import AnswerService

            self._services[level] = AnswerService(self.settings, self.index.view(level), llm=self.service.llm, records=self.service.records)
        return self._services[level]

    def files_for(self, level: str) -> Callable[[str], SourceFile | None]:
        """`files` as `level` sees them: for the public, a file holding exempt items is not opened."""
        if level == OFFICER:
            return self.files

        def public_files(source: str) -> SourceFile | None:
            file = self.files(source)
            return file if file is None or file.access == PUBLIC else replace(file, kind="restricted")

        return public_files

    # -- sources
    def files(self, source: str) -> SourceFile | None:
        generation = self.index.catalog.generation()
        if self._files_cache is None or self._files_cache[0] != generation:
            table = {}
            for rec in self.index.catalog.files():
                if rec.status != "indexed":
                    continue
                kind = SUPPORTED_SUFFIXES.get(Path(rec.path).suffix.lower(), "text")
                item = SourceFile(rec.path, rec.source, kind, rec.metadata.get("url") or "", rec.sha256,
                                  tuple(rec.metadata.get("ocr_pages") or ()),
                                  file_id(rec.path, rec.sha256), rec.metadata.get("file_access") or PUBLIC)
                table[rec.source] = item
                table.setdefault(rec.path, item)
                table.setdefault("id:" + item.id, item)
            self._files_cache = (generation, table)
        return self._files_cache[1].get(source)

    def served_file(self, fid: str, user: str | None = None) -> Path | None:
        """The file the source route may send for `fid`: an ingested PDF of the catalogue, still
        the very file that was ingested (same real path, same content), else None."""
        if not re.fullmatch(r"[0-9a-f]{32}", fid or ""):
            return None
        file = self.files("id:" + fid)
        if file is None or file.kind != "pdf":
            return None
        if file.access != PUBLIC and self.level_of(user) != OFFICER:
            return None  # exempt items are for officers only: not found, like anything else
        path = Path(file.path)
        try:
            if os.path.realpath(path) != str(path) or not path.is_file():
                return None  # replaced by a link, or gone, since it was ingested
            stat = path.stat()
            if _sha256_of(str(path), stat.st_size, stat.st_mtime_ns) != file.sha256:
                return None  # changed since it was ingested: re-ingest it to serve it
        except OSError:
            return None
        return path

    def page_text(self, file: SourceFile, page: int) -> str:
        return _page_text(file.path, file.sha256, int(page or 1))

    def is_served(self, path: str) -> bool:
        """Ingested PDFs are linked (the source route checks each request again)."""
        return Path(path).suffix.lower() == ".pdf"

    def label(self, chunk: Chunk) -> str:
        from ..answer.service import label_of

        return label_of(chunk)

    def sources_html(self, answer: Answer | None, level: str = PUBLIC) -> str:
        return render_sources(answer, self.files_for(level), self.page_text, self.is_served, self.label)

    # -- chat
    def chat(self, message: str, history: list, council: str, committee: str, since: str, until: str,
             level: str = PUBLIC) -> Iterator:
        """One turn: yields (chat history, textbox, sources panel) as the answer streams."""
        message = (message or "").strip()
        history = list(history or [])
        if not message:
            yield history, "", self.sources_html(None) if not history else _skip()
            return
        earlier = history_for_service(history)
        history.append({"role": "user", "content": answer_html(message)})
        history.append({"role": "assistant", "content": PLACEHOLDER})
        yield history, "", _skip()
        streamed = ""
        try:
            filters = parse_filters(council, committee, since, until)
            answer = None
            for event in self.service_for(level).ask_stream(message, earlier, filters):
                if event.kind == "delta":
                    streamed += event.text
                    history[-1] = {"role": "assistant", "content": answer_html(streamed)}
                    yield history, "", _skip()
                elif event.kind == "answer":
                    answer = event.answer
            if answer is None:
                raise MinutesError("No answer came back; please try again.")
            history[-1] = {"role": "assistant", "content": answer_html(answer.text)}
            yield history, "", self.sources_html(answer, level)
        except Exception as exc:  # the server keeps running; the user reads a sentence
            if isinstance(exc, MinutesError):
                log.info("chat: %s", exc)
            else:
                log.exception("chat failed for %r", message)
            history[-1] = {"role": "assistant", "content": answer_html(friendly_error(exc, "answering"))}
            yield history, "", _skip()

    def new_conversation(self):
        return [], "", self.sources_html(None)

    def filters_changed(self, council, committee, since, until) -> str:
        try:
            return describe(parse_filters(council, committee, since, until))
        except MinutesError as exc:
            return f"⚠ {exc}"

    # -- watched folders
    def start_watching(self, folders: list[str]) -> threading.Event:
        """Keep `folders` indexed from a background thread; uploads and syncs take turns."""
        from ..decisions import decision_hooks
        from ..ingest.watch import watch_folders

        for folder in folders:
            if not Path(folder).is_dir():
                raise MinutesError(f"no such folder to watch: {folder}")
        stop = threading.Event()

        def synced(_report) -> None:
            self.served = served_folders(self.settings, self.index)  # new PDFs open at their page

        def run() -> None:
            try:
                watch_folders(self.index, folders, hooks=decision_hooks(self.index), stop=stop,
                              lock=self._ingest_lock, log=lambda line: print(line, flush=True), on_sync=synced)
            except Exception:
                log.exception("watching %s stopped", ", ".join(folders))

        threading.Thread(target=run, name="minutes-watch", daemon=True).start()
        return stop

    # -- status
    def status(self, level: str = PUBLIC) -> str:
        try:
            from ..ingest.watch import last_sync

            stats = dict(self.index.view(level).catalog.stats(), last_sync=last_sync(self.index.catalog))
            return status_line(stats, self.service.mode)
        except Exception as exc:
            log.exception("status failed")
            return friendly_error(exc, "reading the index")

    def filter_choices(self, level: str = PUBLIC) -> tuple[list, list]:
        try:
            stats = self.index.view(level).catalog.stats()
        except Exception:
            log.exception("reading the councils and committees failed")
            stats = {"councils": [], "committees": []}
        councils = [("Any council", "")] + [(c, c) for c in stats["councils"]]
        committees = [("Any committee", "")] + [(c, c) for c in stats["committees"]]
        return councils, committees

    # -- uploads
    def add_documents(self, paths, earlier: list | None = None) -> tuple[str, str, list]:
        """Uploaded files -> (results, status line, result rows). One ingest at a time; the
        results of this session's earlier uploads stay listed below the new ones."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = [p if isinstance(p, (str, os.PathLike)) else getattr(p, "name", str(p)) for p in (paths or [])]
        rows: list[tuple[str, bool, str]] = []
        with self._ingest_lock:
            for given in paths:
                name = Path(str(given)).name
                try:
                    rows.append(self._add_one(Path(str(given))))
                except Exception as exc:
                    log.exception("upload of %s failed", name)
                    rows.append((name, False, "skipped: " + friendly_error(exc, "ingesting it")))
        rows = rows + [tuple(r) for r in (earlier or [])]
        return upload_results_html(rows), self.status(), rows

    def _add_one(self, given: Path) -> tuple[str, bool, str]:
        from ..ingest.pipeline import writer_lock

        self.index.catalog.require_writable()
        # the same writer lock as `minutes ingest`: an upload waits a little for a running ingest
        with writer_lock(self.settings.index_dir, self.settings.ingest_lock_wait):
            return self._add_one_locked(given)

    def _add_one_locked(self, given: Path) -> tuple[str, bool, str]:
        from ..decisions import decision_hooks
        from ..ingest.pipeline import ingest

        name = safe_upload_name(given.name)
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            return name, False, f"skipped: {suffix or 'a file without a type'} is not supported (use {kinds})"
        size = given.stat().st_size
        limit = self.settings.max_upload_mb * 1024 * 1024
        if size > limit:
            return name, False, f"skipped: {size / 1e6:.1f} MB is over the {self.settings.max_upload_mb} MB limit"
        data = given.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        kind = PDF_UPLOADS if suffix == ".pdf" else OTHER_UPLOADS
        dest = upload_folder(self.settings, kind) / digest / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            shutil.copyfile(given, dest)
        try:
            report = ingest(self.index, [str(dest)], hooks=decision_hooks(self.index))
        except BaseException:
            self._discard_upload(dest)
            raise
        if report.indexed:
            return name, True, f"ingested, {_count(report.indexed[0][1], 'chunk')}"
        record = self.index.catalog.file(str(dest.resolve()))
        if record is not None and record.status == "indexed":
            return name, True, f"already in the index, {_count(record.chunks, 'chunk')}"
        self._discard_upload(dest)  # what was not ingested is not kept
        if report.skipped:
            return name, False, f"skipped: {report.skipped[0][1]}"
        return name, False, "skipped: nothing could be read from it"

    def _discard_upload(self, dest: Path) -> None:
        """Delete an upload that was not ingested, and its catalogue row."""
        from ..decisions import decision_hooks

        path = str(dest.resolve())
        record = self.index.catalog.file(path)
        if record is not None and record.status != "indexed":
            self.index.catalog.remove(path, [lambda db, p, c, h=h: h(db, p, c, []) for h in decision_hooks(self.index)])
        shutil.rmtree(dest.parent, ignore_errors=True)

    # -- decisions
    def register(self, level: str = PUBLIC):
        from ..decisions import DecisionRegister

        index = self.index.view(level)
        return DecisionRegister(index.catalog, index)  # with the index, history can use its BM25

    def decisions(self, text, outcome, council, committee, since, until, level: str = PUBLIC):
        """-> (table rows, note, the decisions shown, passage panel)."""
        try:
            filters = parse_filters(council, committee, since, until)
            found = self.register(level).list(filters, outcome or "", (text or "").strip(), 500)
            note = (f"{len(found)} decision(s). Select a row to see its source passage." if found else
                    "No recorded decisions match." + ("" if filters.is_empty() and not text and not outcome
                                                      else " Try fewer filters."))
            return decision_rows(found), note, list(found), _empty_decision_panel()
        except Exception as exc:
            log.exception("decisions failed")
            return [], friendly_error(exc, "listing decisions"), [], _empty_decision_panel()

    def decision_source(self, shown: list, row: int | None, row_value: list | None = None,
                        level: str = PUBLIC) -> str:
        """The passage of the selected row. The row's values identify it (the table can be
        sorted and searched in the browser, which changes row numbers); else its number."""
        try:
            d = pick_decision(shown, row, row_value)
            if d is None:
                return _empty_decision_panel()
            chunk = self.index.view(level).lexical.chunk(d.chunk_id) if d.chunk_id else None
            return render_decision_source(d, chunk, self.files_for(level), self.page_text, self.is_served)
        except Exception as exc:
            log.exception("decision source failed")
            return f'<div class="muted">{esc(friendly_error(exc, "opening the source"))}</div>'

    def history(self, topic, council, committee, since, until, level: str = PUBLIC) -> str:
        try:
            filters = parse_filters(council, committee, since, until)
            entries = self.register(level).history(topic.strip(), filters) if (topic or "").strip() else []
            return render_timeline(topic, entries, self.files_for(level), self.page_text, self.is_served)
        except Exception as exc:
            log.exception("history failed")
            return f'<div class="muted">{esc(friendly_error(exc, "building the history"))}</div>'


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _empty_decision_panel() -> str:
    return '<div class="muted">Select a row to see the passage it comes from.</div>'


class _Skip:
    """Marker: leave an output unchanged (turned into gr.skip() inside build_app)."""


def _skip():
    return _SKIP


_SKIP = _Skip()


@lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    """A file's sha256 (cached while its size and modification time stay the same)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _page_text(path: str, sha256: str, page: int) -> str:
    """The text of one page of an ingested text or HTML file, as the reader sees it."""
    from ..ingest.readers import read_document

    doc = read_document(Path(path))
    for p in doc.pages:
        if p.number == page:
            return p.text
    return doc.pages[0].text if doc.pages else ""


# ---- gradio ------------------------------------------------------------------------------

def build_app(service, settings: Settings, watch: Iterable[str] = ()):
    """The page: filters; Chat (with the sources panel), Decisions and Add documents tabs.
    Folders in `watch` are kept indexed by a background thread while the app runs."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import gradio as gr

    app = ChatApp(service, settings)
    if watch:
        app.start_watching(list(watch))

    def unskip(values):
        return tuple(gr.skip() if isinstance(v, _Skip) else v for v in values)

    def level(request) -> str:  # the signed-in user's access level (public when nobody is)
        return app.level_of(getattr(request, "username", None))

    def chat(message, history, council, committee, since, until, request):
        for values in app.chat(message, history, council, committee, since, until, level(request)):
            yield unskip(values)

    def refresh(request):
        councils, committees = app.filter_choices(level(request))
        return app.status(level(request)), gr.update(choices=councils), gr.update(choices=committees)

    def add_documents(files, earlier, request):
        results, status, rows = app.add_documents(files, earlier)
        councils, committees = app.filter_choices(level(request))
        return results, app.status(level(request)), rows, None, gr.update(choices=councils), gr.update(choices=committees)

    def decisions(text, outcome, council, committee, since, until, request):
        return app.decisions(text, outcome, council, committee, since, until, level(request))

    def history(topic, council, committee, since, until, request):
        return app.history(topic, council, committee, since, until, level(request))

    def new_conversation(request):
        return app.new_conversation()

    def example(evt: gr.SelectData):
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def select_decision(shown, evt: gr.SelectData, request):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return app.decision_source(shown, row, getattr(evt, "row_value", None), level(request))

    # This module postpones annotations, and gradio finds SelectData and Request by the annotation's type.
    example.__annotations__["evt"] = gr.SelectData
    select_decision.__annotations__["evt"] = gr.SelectData
    for handler in (chat, refresh, add_documents, decisions, history, new_conversation, select_decision):
        handler.__annotations__["request"] = gr.Request

    councils, committees = app.filter_choices(PUBLIC)  # the page as built: before anyone is known
    # Uploaded files are copied into the index's folder; gradio's own copies are dropped after an hour.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"## {TITLE}")
        status = gr.Markdown(app.status(PUBLIC), elem_id="status-line")
        with gr.Row(equal_height=True):
            council = gr.Dropdown(councils, value="", label="Council", elem_id="filter-council", scale=2)
            committee = gr.Dropdown(committees, value="", label="Committee", elem_id="filter-committee", scale=2)
            since = gr.Textbox(label="From", placeholder="YYYY-MM-DD", elem_id="filter-since", scale=1)
            until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="filter-until", scale=1)
        active = gr.Markdown(describe(Filters()), elem_id="active-filters")
        filters = [council, committee, since, until]

        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation", elem_id="chatbot", height=520, render_markdown=False,
                            sanitize_html=True, latex_delimiters=[], feedback_options=None,
                            buttons=["copy", "copy_all"],
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="Ask about decisions, votes, actions and discussions in the minutes. "
                                        "Every answer cites the passages it comes from.",
                        )
                        with gr.Row():
                            msg = gr.Textbox(label="Question", placeholder="Ask a question about the minutes…",
                                             elem_id="question", scale=5, lines=1, max_lines=4, autofocus=True)
                            send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                        new = gr.Button("New conversation", elem_id="new-conversation", size="sm")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(app.sources_html(None), label="Sources", elem_id="sources",
                                          js_on_load=SCROLL_JS)

            with gr.Tab("Decisions", id="decisions") as decisions_tab:
                with gr.Row():
                    dtext = gr.Textbox(label="Words in the decision or item title", elem_id="decision-text", scale=3)
                    doutcome = gr.Dropdown([("Any outcome", "")] + [(o, o) for o in OUTCOMES], value="",
                                           label="Outcome", elem_id="decision-outcome", scale=1)
                    dsearch = gr.Button("Show decisions", elem_id="decision-search", scale=1)
                dnote = gr.Markdown("", elem_id="decision-note")
                dtable = gr.Dataframe(headers=DECISION_HEADERS, value=[], datatype="str", interactive=False,
                                      wrap=True, elem_id="decision-table", max_height=420, show_search="search",
                                      column_count=len(DECISION_HEADERS), column_widths=DECISION_WIDTHS)
                dshown = gr.State([])
                dsource = gr.HTML(_empty_decision_panel(), elem_id="decision-source", js_on_load=SCROLL_JS)
                gr.Markdown("### History of an item")
                with gr.Row():
                    topic = gr.Textbox(label="Item or topic", placeholder="e.g. improvement plan", elem_id="history-topic",
                                       scale=4)
                    hbutton = gr.Button("Show history", elem_id="history-show", scale=1)
                timeline = gr.HTML(render_timeline("", [], None, None, None), elem_id="history", js_on_load=SCROLL_JS)

            with gr.Tab("Add documents", id="upload"):
                gr.Markdown(f"Add minutes as PDF, HTML or text files (up to {settings.max_upload_mb} MB each). "
                            "Each file is read, split into passages and indexed; the result shows below.")
                upload = gr.File(label="Minutes to add", file_count="multiple", elem_id="upload",
                                 file_types=sorted(SUPPORTED_SUFFIXES))
                results = gr.HTML('<div class="muted">No files added yet.</div>', elem_id="upload-results")
                added = gr.State([])

        # Chat: one public endpoint, named for gradio_client.
        gr.on([msg.submit, send.click], chat, inputs=[msg, chatbot, *filters], outputs=[chatbot, msg, sources],
              api_name=API_CHAT, api_description="Ask a question; returns the conversation, the cleared box and the sources.")
        chatbot.example_select(example, None, msg, api_visibility="private").then(
            chat, [msg, chatbot, *filters], [chatbot, msg, sources], api_visibility="private")
        new.click(new_conversation, None, [chatbot, msg, sources], api_visibility="private")
        chatbot.clear(new_conversation, None, [chatbot, msg, sources], api_visibility="private")
        gr.on([f.change for f in filters], app.filters_changed, filters, active, api_visibility="private",
              show_progress="hidden")

        # Decisions and history use the same filters.
        decision_inputs = [dtext, doutcome, *filters]
        gr.on([dsearch.click, dtext.submit, doutcome.change, decisions_tab.select, demo.load], decisions, decision_inputs,
              [dtable, dnote, dshown, dsource], api_visibility="private", show_progress="hidden")
        dtable.select(select_decision, dshown, dsource, api_visibility="private")
        gr.on([hbutton.click, topic.submit], history, [topic, *filters], timeline, api_visibility="private")

        upload.upload(add_documents, [upload, added], [results, status, added, upload, council, committee],
                      api_visibility="private",
                      concurrency_limit=1)
        demo.load(refresh, None, [status, council, committee], api_visibility="private", show_progress="hidden")
        if watch:  # the status line follows the watched folders' syncs
            gr.Timer(STATUS_REFRESH_S).tick(app.status, None, [status], api_visibility="private",
                                            show_progress="hidden")

    demo.queue(default_concurrency_limit=settings.concurrency, max_size=max(16, settings.concurrency * 16))
    demo.chat_app = app  # for the source route, added at launch
    return demo


def launch(demo, settings: Settings, index, **overrides) -> None:
    """Launch the page with `launch_options`, then add the source route to its server. Blocks
    unless `prevent_thread_lock=True` is given."""
    block = not overrides.pop("prevent_thread_lock", False)
    demo.launch(**launch_options(settings, index, prevent_thread_lock=True, **overrides))
    add_source_route(demo)
    if block:
        demo.block_thread()


def add_source_route(demo) -> None:
    """GET /minutes/source/{id}: an ingested PDF by its catalogue id, behind the same login
    check as gradio's own file route. Anything else is 404."""
    from fastapi import Request
    from fastapi.responses import FileResponse, Response
    from fastapi.routing import APIRoute

    server = demo.app
    chat_app: ChatApp = demo.chat_app
    def api_routes(router):
        for r in router.routes:
            if isinstance(r, APIRoute):
                yield r
            elif getattr(r, "original_router", None) is not None:  # an included router (FastAPI >= 0.160)
                yield from api_routes(r.original_router)

    routes = {r.path: r for r in api_routes(server.router)}
    try:  # gradio's own login check and user, so the route is exactly as protected as the page
        login = list(routes["/gradio_api/file={path_or_url:path}"].dependencies)
        current_user = routes["/gradio_api/user"].endpoint
    except KeyError as exc:  # fail closed: no documents are served without the login check
        raise MinutesError(f"this gradio version has no {exc} route: the source route cannot check logins") from exc

    async def source(file_id: str, request: Request):
        user = await current_user(request)
        path = chat_app.served_file(file_id, user)
        if path is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="application/pdf", filename=path.name, content_disposition_type="inline",
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                                     "Referrer-Policy": "no-referrer"})

    source.__annotations__.update(file_id=str, request=Request)  # this module postpones annotations

    server.add_api_route("/" + SOURCE_ROUTE + "{file_id}", source, methods=["GET", "HEAD"], dependencies=login,
                         include_in_schema=False)
    server.router.routes.insert(0, server.router.routes.pop())  # before any catch-all route


def theme():
    import gradio as gr

    return gr.themes.Default(font=SANS, font_mono=MONO)


def launch_options(settings: Settings, index, **overrides) -> dict:
    """Everything `launch()` gets: safe defaults, settings, and what may be served."""
    options = dict(
        share=False,
        server_name=settings.host,
        server_port=settings.port,
        max_file_size=f"{settings.max_upload_mb}mb",
        allowed_paths=[],  # no folder is served: ingested PDFs go through the source route, by id
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        run_history=False,
        footer_links=["api", "settings"],
        theme=theme(),
        css=CSS,
        quiet=False,
    )
    logins = login_checker(settings)
    if logins is not None:
        options["auth"] = logins
        options["auth_message"] = "Sign in to the council minutes assistant."
    options.update(overrides)
    return options


def serve(settings: Settings, watch: Iterable[str] = ()) -> None:
    """`minutes chat`: open (and if need be build) the index, warm the models, launch."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    from ..answer.service import AnswerService
    from ..decisions.answerer import RECORDS
    from ..decisions import decision_hooks
    from ..retrieve.minutes_index import MinutesIndex
    from ..ingest.pipeline import ingest, writer_lock

    index = MinutesIndex.open(settings)
    if index.is_empty():
        corpus = Path(settings.corpus_dir)
        if corpus.is_dir():
            print(f"The index at {settings.index_dir} is empty: ingesting the bundled corpus ({corpus}) first.",
                  flush=True)
            with writer_lock(settings.index_dir, settings.ingest_lock_wait):
                report = ingest(index, [str(corpus)], progress=sys.stderr.isatty(), hooks=decision_hooks(index))
            print(report.summary(), flush=True)
        else:
            print(f"The index at {settings.index_dir} is empty and there is no corpus at {corpus}: "
                  "add documents from the page or with `minutes ingest PATH`.", flush=True)
    service = AnswerService(settings, index, records=RECORDS)
    print("Loading the models…", flush=True)
    service.warm()
    app = build_app(service, settings, watch)
    if settings.users_file or (settings.auth_user and settings.auth_password):
        print("Sign-in is required (MINUTES_AUTH_USER / MINUTES_AUTH_PASSWORD, MINUTES_USERS_FILE); "
              "exempt items are shown to officers only.", flush=True)
    try:
        launch(app, settings, index)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise MinutesError(f"cannot serve the chat on {settings.host}:{settings.port}: {exc} "
                           "(choose another with --port or MINUTES_PORT)") from exc

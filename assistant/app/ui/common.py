"""What every tab of the chat page shares: the page's constants and styles, escaping and
highlighting (text from documents is always HTML-escaped and never goes through a Markdown
renderer), the chat history as plain text, the filter controls parsed into `Filters`, the
status line and errors as plain sentences. Plain Python: no gradio here.
"""

from __future__ import annotations

import html
import re
import time

from ...core.dates import find_date
from ...core.errors import MinutesError
from ...core.types import Filters
from ...decisions.extract import OUTCOMES  # noqa: F401  (re-exported for the tabs)

TITLE = "Council minutes assistant"
API_CHAT = "chat"  # the endpoint gradio_client calls: Client(url).predict(..., api_name="/chat")
EXAMPLES = (
    "What did cabinet resolve on the phase 2 plan?",
    "What did the Health and Wellbeing Board resolve on the children's services improvement plan?",
    "What action came out of the Health and Wellbeing Board discussion on NEETs?",
)
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
    from ...answer.service import describe_filters

    return "Filters in use (chat and decisions, until changed): " + describe_filters(filters).replace(", ", "; ") + "."


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


def friendly_error(exc: BaseException, doing: str) -> str:
    """An exception as a plain sentence for the page (the traceback goes to the server log)."""
    if isinstance(exc, MinutesError):
        return str(exc)
    return (f"Sorry, something went wrong while {doing} ({type(exc).__name__}). "
            "The details are in the server log; please try again.")


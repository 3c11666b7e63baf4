"""The Add documents tab: upload names made safe to write, the folder in the index that keeps
uploads, the list of what each file became; then the tab's gradio layout and its one event
(the ingest itself is `ChatApp.add_documents`). gradio is only imported by the caller.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from ...core.config import Settings
from ...ingest.readers import SUPPORTED_SUFFIXES
from .common import UPLOAD_DIR, esc


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


def upload_folder(settings: Settings, kind: str) -> Path:
    folder = (Path(settings.index.index_dir) / UPLOAD_DIR / kind).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_upload_tab(gr, settings: Settings) -> SimpleNamespace:
    with gr.Tab("Add documents", id="upload"):
        gr.Markdown(f"Add minutes as PDF, HTML or text files (up to {settings.chat.max_upload_mb} MB each). "
                    "Each file is read, split into passages and indexed; the result shows below.")
        upload = gr.File(label="Minutes to add", file_count="multiple", elem_id="upload",
                         file_types=sorted(SUPPORTED_SUFFIXES))
        results = gr.HTML('<div class="muted">No files added yet.</div>', elem_id="upload-results")
        added = gr.State([])
    return SimpleNamespace(upload=upload, results=results, added=added)


def wire_upload_tab(gr, app, level, tab: SimpleNamespace, status_line, council, committee) -> None:
    """An upload is ingested, then the status line and the filters' choices follow it."""

    def add_documents(files, earlier, request):
        results, status, rows = app.add_documents(files, earlier)
        councils, committees = app.filter_choices(level(request))
        return results, app.status(level(request)), rows, None, gr.update(choices=councils), gr.update(choices=committees)

    add_documents.__annotations__["request"] = gr.Request  # this module postpones annotations
    tab.upload.upload(add_documents, [tab.upload, tab.added], [tab.results, status_line, tab.added, tab.upload, council,
                                                               committee],
                      api_visibility="private",
                      concurrency_limit=1)

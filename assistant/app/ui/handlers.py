"""`ChatApp`: the page's handlers over one AnswerService, for every tab: the chat turn as it
streams, the sources a level may open (and the one PDF the source route may send), watched
folders, the status line and filter choices, uploads ingested one at a time, and the
decisions register with an item's history. Each handler catches its errors and shows them as
a sentence. Plain Python: no gradio here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

from ...core.access import OFFICER, PUBLIC
from ...core.config import Settings
from ...core.errors import MinutesError
from ...core.types import Answer, Chunk
from ...ingest.readers import SUPPORTED_SUFFIXES
from .common import (OTHER_UPLOADS, PDF_UPLOADS, PLACEHOLDER, answer_html, describe, esc, friendly_error,
                     history_for_service, parse_filters, status_line)
from .decisions_tab import _empty_decision_panel, decision_rows, pick_decision, render_decision_source, render_timeline
from .logins import user_levels
from .sources import SourceFile, file_id, render_sources
from .upload_tab import safe_upload_name, upload_folder, upload_results_html

log = logging.getLogger(__name__)


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
            from ...answer.service import AnswerService

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
        from ...answer.service import label_of

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
        from ...decisions import decision_hooks
        from ...ingest.watch import watch_folders

        for folder in folders:
            if not Path(folder).is_dir():
                raise MinutesError(f"no such folder to watch: {folder}")
        stop = threading.Event()

        def run() -> None:  # ingested PDFs are served by id (served_file), so a sync needs no refresh here
            try:
                watch_folders(self.index, folders, hooks=decision_hooks(self.index), stop=stop,
                              lock=self._ingest_lock, log=lambda line: print(line, flush=True))
            except Exception:
                log.exception("watching %s stopped", ", ".join(folders))

        threading.Thread(target=run, name="minutes-watch", daemon=True).start()
        return stop

    # -- status
    def status(self, level: str = PUBLIC) -> str:
        try:
            from ...ingest.watch import last_sync

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
        from ...ingest.pipeline import writer_lock

        self.index.catalog.require_writable()
        # the same writer lock as `minutes ingest`: an upload waits a little for a running ingest
        with writer_lock(self.settings.index.index_dir, self.settings.chat.ingest_lock_wait):
            return self._add_one_locked(given)

    def _add_one_locked(self, given: Path) -> tuple[str, bool, str]:
        from ...decisions import decision_hooks
        from ...ingest.pipeline import ingest

        name = safe_upload_name(given.name)
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            return name, False, f"skipped: {suffix or 'a file without a type'} is not supported (use {kinds})"
        size = given.stat().st_size
        limit = self.settings.chat.max_upload_mb * 1024 * 1024
        if size > limit:
            return name, False, f"skipped: {size / 1e6:.1f} MB is over the {self.settings.chat.max_upload_mb} MB limit"
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
        from ...decisions import decision_hooks

        path = str(dest.resolve())
        record = self.index.catalog.file(path)
        if record is not None and record.status != "indexed":
            self.index.catalog.remove(path, [lambda db, p, c, h=h: h(db, p, c, []) for h in decision_hooks(self.index)])
        shutil.rmtree(dest.parent, ignore_errors=True)

    # -- decisions
    def register(self, level: str = PUBLIC):
        from ...decisions import DecisionRegister

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
    from ...ingest.readers import read_document

    doc = read_document(Path(path))
    for p in doc.pages:
        if p.number == page:
            return p.text
    return doc.pages[0].text if doc.pages else ""

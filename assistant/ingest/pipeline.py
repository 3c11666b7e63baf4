"""Ingest: files -> Documents -> Segments -> Chunks -> vectors and BM25, incrementally.

Safe to interrupt: each file's vectors are written before its catalogue row, in one
transaction per file, so a killed run leaves an index that answers from what was finished;
the next run skips what is done and completes the rest. Unchanged files embed nothing;
changed files replace their chunks (re-embedding only new content); files gone from an
ingested folder are removed.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

import numpy as np

from ..core import access
from ..core.errors import MinutesError
from ..core.types import Segment
from .manifest import manifest_entry
from .ocr import ocr_now_possible
from .readers import SUPPORTED_SUFFIXES
from .reading import Prepared, prepared_by, prepared_here, reader_pool, reader_processes

FLUSH_CHUNKS = 256  # embed in batches across files: faster than file by file
LOCK_NAME = "ingest.lock"  # in the index folder: one writer at a time (CLI runs and the chat's uploads)
_HELD = threading.local()  # index folders whose writer lock this thread holds


@dataclass
class IngestReport:
    files_seen: int = 0
    files_unchanged: int = 0
    files_indexed: int = 0
    files_skipped: int = 0
    files_removed: int = 0
    pages: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: Counter = field(default_factory=Counter)
    interrupted: bool = False
    wall_seconds: float = 0.0
    indexed: list[tuple[str, int]] = field(default_factory=list)  # (source, chunks)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (source, what was lost), e.g. pages with no text

    def summary(self) -> str:
        total = self.wall_seconds or sum(self.seconds.values())
        lines = [
            f"{'Interrupted' if self.interrupted else 'Done'}: {self.files_seen} files seen, "
            f"{self.files_indexed} indexed, {self.files_unchanged} unchanged, "
            f"{self.files_skipped} skipped, {self.files_removed} removed.",
            f"Chunks: {self.chunks_added} added, {self.chunks_removed} removed, "
            f"{self.chunks_embedded} embedded; {self.pages} pages read.",
        ]
        if self.chunks_embedded == 0 and not self.interrupted:
            lines.append("Nothing to embed: the index was already up to date." if not self.chunks_added
                         else "Nothing new to embed.")
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        lines.append(f"Time: {total:.1f}s ({stages}).")
        for source, reason in self.skipped:
            lines.append(f"  skipped {source}: {reason}")
        for source, note in self.notes:
            lines.append(f"  note {source}: {note}")
        if self.interrupted:
            lines.append("The index still answers from what was finished; run the same command again to complete it.")
        return "\n".join(lines)


Hook = Callable  # (sqlite connection, path, chunks, segments) -> None, inside the file's transaction


class IngestTarget(Protocol):
    """What ingest writes into: a `MinutesIndex`, given by the caller. Ingest imports neither
    the index nor its parts; the index hands over what ingest builds with too."""

    settings: Any
    embedder: Any  # embed(texts), count_tokens(text)
    catalog: Any  # the SQLite catalogue: file(), record_indexed(), record_skipped(), ...
    store: Any  # the vector store: existing(), upsert(), delete(), ids()
    lexical: Any  # BM25: ensure_current()
    file_record: Callable[..., Any]  # the catalogue's row for one file (FileRecord)
    token_counter: Callable[[str], Callable[[str], int]]  # model path -> counter, made in a reader process


def discover(paths: Iterable[str]) -> tuple[list[tuple[Path, str]], list[Path], list[tuple[str, str]]]:
    """Files to ingest as (absolute path, source as given), the folders that were named
    (a catalogued file under one of them that no longer exists has gone), and the files
    refused before reading as (printable name, reason)."""
    files, roots, refused = [], [], []

    def add(found: Path) -> None:
        if not _utf8(str(found)) or not _utf8(str(found.resolve())):
            # Such a name cannot be stored, searched or printed as text: one file must not stop the run.
            refused.append((printable_path(found), "the file name is not valid UTF-8: rename the file"))
        else:
            files.append((found.resolve(), str(found)))

    for given in paths:
        path = Path(given)
        if path.is_dir():
            roots.append(path.resolve())
            for found in sorted(path.rglob("*")):
                if found.is_file() and found.suffix.lower() in SUPPORTED_SUFFIXES and not found.name.startswith("."):
                    add(found)
        elif path.is_file():
            add(path)
        else:
            raise MinutesError(f"no such file or folder: {printable_path(path)}")
    return files, roots, refused


def empty_pages_note(empty: list[int], pages: int) -> str:
    """Pages that gave no text are said, not dropped in silence."""
    shown = ", ".join(str(n) for n in empty[:20]) + (f" and {len(empty) - 20} more" if len(empty) > 20 else "")
    which = "page" if len(empty) == 1 else "pages"
    return f"{len(empty)} of {pages} pages have no text (scanned images need OCR), {which} {shown}"


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # the undecodable bytes of a name come back as lone surrogates
        return False
    return True


def printable_path(path: Path | str) -> str:
    """A path as text that can always be printed and stored: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(str(path)).decode("utf-8", errors="backslashreplace")


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock. Another ingest holding it makes this wait up to `wait`
    seconds, then fail with a MinutesError that says so. Released when the process ends, however."""
    import fcntl

    index_dir = Path(index_dir)
    held = _HELD.__dict__.setdefault("dirs", set())
    key = str(index_dir.resolve())
    if key in held:  # this thread holds it already (the CLI takes it before the decision backfill)
        yield
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK_NAME, "a+")
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()
                    raise MinutesError(
                        f"another ingest is adding documents to the index at {index_dir}"
                        + (f" ({holder})" if holder else "")
                        + ": wait for it to finish, then run this again") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        handle.close()  # closing releases the lock


def ingest(
    index: IngestTarget,
    paths: Iterable[str],
    progress: bool = False,
    hooks: tuple[Hook, ...] = (),
    workers: int | None = None,
    lock_wait: float = 0.0,
) -> IngestReport:
    """Ingest `paths` holding the index's writer lock (a second writer waits `lock_wait`
    seconds for it, then is refused with a clear message)."""
    index.catalog.require_writable()
    with writer_lock(index.settings.index.index_dir, lock_wait):
        return _ingest(index, paths, progress, hooks, workers)


def _ingest(index: IngestTarget, paths: Iterable[str], progress: bool, hooks: tuple[Hook, ...],
            workers: int | None) -> IngestReport:
    report = IngestReport()
    started = time.perf_counter()
    files, roots, refused = discover(paths)
    report.files_seen = len(files) + len(refused)
    report.files_skipped += len(refused)
    report.skipped.extend(refused)
    # Vectors an interrupted run wrote for files it did not record are dropped at the end of
    # this run, not now: chunks this run records again reuse them instead of being embedded twice.
    recovering = _was_interrupted(index)
    index.catalog.set_state("last_ingest_started", str(time.time()))
    todo = _changed_files(index, files, report)
    writer = _Writer(index, hooks, report)

    # Reader processes embed what they read when the index's embedder can be made again in a
    # process (the real model; a test's fake embedder embeds here, in the writer's process).
    spec = getattr(index.embedder, "for_process", lambda: None)()
    workers = (reader_processes(spec is not None) if len(todo) >= 8 else 0) if workers is None else workers
    executor = None
    bar = _progress(len(todo), progress)
    try:
        if workers:
            reusable = frozenset(index.store.ids() - index.catalog.all_chunk_ids()) if recovering and spec else frozenset()
            executor = reader_pool(workers, spec, reusable)
            prepared = prepared_by(executor, index, todo, workers)
        else:
            prepared = prepared_here(index, todo)
        for prep in prepared:
            report.seconds["read"] += prep.seconds_read
            report.seconds["parse"] += prep.seconds_parse
            if prep.seconds_embed:
                report.seconds["embed"] += prep.seconds_embed
            if bar is not None:
                bar.update(1)
            writer.take(prep)
        writer.finish()
        _tidy(index, roots, files, report, hooks, recovering)
        if executor is not None:
            # Every file is read: let the readers exit now. Left to the interpreter's exit,
            # the pool's wake-up pipe was sometimes closed first ("Exception ignored ...
            # OSError: [Errno 9] Bad file descriptor" after a finished ingest).
            executor.shutdown(wait=True)
            executor = None
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        writer.close(raise_failure=False)  # an error already on its way out is not replaced
        if executor is not None:
            # Wait for the readers (they ignore Ctrl-C and finish the file in hand): a pool left
            # to close while the interpreter exits races its own wake-up pipe and prints
            # "Exception ignored ... OSError: [Errno 9] Bad file descriptor".
            executor.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        report.wall_seconds = time.perf_counter() - started
    return report


def _changed_files(index: IngestTarget, files: list[tuple[Path, str]], report: IngestReport) -> list[tuple]:
    """What changed: hashing is cheap next to parsing and embedding. -> the files to read, as
    (path, source, sha256, size, mtime); unchanged ones are counted in the report."""
    catalog, settings = index.catalog, index.settings
    t0 = time.perf_counter()
    todo = []
    for path, source in files:
        stat = path.stat()
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        known = catalog.file(str(path))
        if (known and known.sha256 == sha and known.metadata.get("chunker", "structure") == settings.index.chunker
                and _same_access(known, path, settings.index.detect_exempt)
                and not (known.status == "skipped" and ocr_now_possible(known.reason))):
            report.files_unchanged += 1
            if known.status == "skipped":
                report.files_skipped += 1
                report.skipped.append((source, known.reason))
            continue
        todo.append((str(path), source, sha, stat.st_size, stat.st_mtime))
    report.seconds["hash"] += time.perf_counter() - t0
    return todo


class _Writer:
    """Writes prepared files into the index: chunks are embedded in batches across files
    (FLUSH_CHUNKS) in the calling thread, and each batch is written by a thread of its own
    while the next one embeds (writing was a sixth of an ingest, spent with the cores idle).
    Each file's vectors are written before its catalogue row; files are written in order."""

    def __init__(self, index: IngestTarget, hooks: tuple[Hook, ...], report: IngestReport):
        self.index, self.hooks, self.report = index, hooks, report
        self.pending: list[Prepared] = []
        self._jobs: queue.Queue = queue.Queue(maxsize=1)  # one batch waiting at most: memory stays flat
        self._failure: BaseException | None = None
        self._failure_raised = False
        self._thread = threading.Thread(target=self._run, name="minutes-ingest-writer", daemon=True)
        self._thread.start()

    def take(self, prep: Prepared) -> None:
        report = self.report
        if prep.skip_reason:
            self.flush()  # files are written in the order they came
            self._put(("skip", prep))
            return
        report.pages += prep.pages
        if prep.empty_pages:
            report.notes.append((prep.source, empty_pages_note(prep.empty_pages, prep.pages)))
        report.notes.extend((prep.source, note) for note in prep.notes)
        self.pending.append(prep)
        if sum(len(p.chunks) for p in self.pending) >= FLUSH_CHUNKS:
            self.flush()

    def finish(self) -> None:
        """Write what is left and wait until everything is written."""
        self.flush()
        self.close()

    def close(self, raise_failure: bool = True) -> None:
        """Wait for the batches already embedded to be written (after Ctrl-C too: they are
        whole files, each in its own transaction), then stop the writing thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        if raise_failure:
            self._raise_failure()

    def flush(self) -> None:
        if not self.pending:
            return
        index, report, pending = self.index, self.report, self.pending
        self.pending = []
        given = {cid: vector for p in pending for cid, vector in p.vectors.items()}  # embedded by a reader process
        embedded = [c for p in pending for c in p.chunks if c.id in given]
        rest = [c for p in pending for c in p.chunks if c.id not in given]
        t0 = time.perf_counter()
        present = index.store.existing([c.id for c in rest]) if rest else set()
        to_embed = [c for c in rest if c.id not in present]
        vectors = index.embedder.embed([c.embed_text for c in to_embed])
        if embedded:
            to_embed = embedded + to_embed
            vectors = np.concatenate([np.stack([given[c.id] for c in embedded]), vectors])
        report.seconds["embed"] += time.perf_counter() - t0
        self._put(("write", (pending, to_embed, vectors)))

    def _put(self, job) -> None:
        while True:
            self._raise_failure()
            try:
                self._jobs.put(job, timeout=0.5)
                return
            except queue.Full:
                continue

    def _raise_failure(self) -> None:
        """The writing thread's error, raised once in the caller's thread (the thread writes
        nothing more after it)."""
        if self._failure is not None and not self._failure_raised:
            self._failure_raised = True
            raise self._failure

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._failure is not None:
                continue  # after a failure nothing more is written; the caller raises it
            kind, payload = job
            try:
                t0 = time.perf_counter()
                if kind == "skip":
                    self._skip(payload)
                else:
                    self._write(*payload)
                self.report.seconds["write"] += time.perf_counter() - t0
            except BaseException as exc:  # handed to the caller's thread, which raises it
                self._failure = exc

    def _write(self, pending: list[Prepared], to_embed: list, vectors) -> None:
        index, report = self.index, self.report
        catalog, store = index.catalog, index.store
        if to_embed:
            store.upsert(to_embed, vectors)
        report.chunks_embedded += len(to_embed)
        for prep in pending:
            rec = index.file_record(prep.path, prep.source, prep.sha256, prep.size, prep.mtime, "indexed", "",
                                    prep.pages, len(prep.chunks), prep.metadata)
            old = catalog.chunk_ids(rec.path)
            catalog.record_indexed(rec, prep.chunks, [_bind(h, prep.segments) for h in self.hooks])
            stale = old - {c.id for c in prep.chunks}
            if stale:
                store.delete(sorted(stale))
            report.chunks_added += len({c.id for c in prep.chunks} - old)
            report.chunks_removed += len(stale)
            report.files_indexed += 1
            report.indexed.append((prep.source, len(prep.chunks)))

    def _skip(self, prep: Prepared) -> None:
        index, report = self.index, self.report
        report.files_skipped += 1
        report.skipped.append((prep.source, prep.skip_reason))
        old = index.catalog.chunk_ids(prep.path)
        rec = index.file_record(prep.path, prep.source, prep.sha256, prep.size, prep.mtime, "skipped",
                                prep.skip_reason, 0, 0, {"chunker": index.settings.index.chunker})
        index.catalog.record_skipped(rec, [_bind(h, []) for h in self.hooks])
        if old:
            index.store.delete(sorted(old))
            report.chunks_removed += len(old)


def _tidy(index: IngestTarget, roots: list[Path], files: list[tuple[Path, str]], report: IngestReport,
          hooks: tuple[Hook, ...], recovering: bool) -> None:
    """After the last file: files gone from the named folders are removed, an interrupted run's
    orphan vectors dropped, BM25 brought up to date, and the run recorded as finished."""
    t0 = time.perf_counter()
    _remove_gone(index, roots, {str(p) for p, _ in files}, report, hooks)
    if recovering:
        _drop_orphans(index)
    index.lexical.ensure_current()
    report.seconds["write"] += time.perf_counter() - t0
    index.catalog.set_state("last_ingest_finished", str(time.time()))


def _same_access(known, path: Path, detect: bool) -> bool:
    """Whether the file's access was decided by these rules and the manifest as it is now: a
    file marked restricted after it was ingested is read again, even if its bytes are the same."""
    if known.status != "indexed":
        return True
    declared = manifest_entry(path)
    return (known.metadata.get("access_version") == access.ACCESS_VERSION
            and known.metadata.get("detect_exempt", True) == detect
            and known.metadata.get("access") == declared.get("access")
            and known.metadata.get("restricted_items") == declared.get("restricted_items"))


def _bind(hook: Hook, segments: list[Segment]):
    return lambda db, path, chunks: hook(db, path, chunks, segments)


def _remove_gone(index: IngestTarget, roots: list[Path], present: set[str], report: IngestReport, hooks) -> None:
    for rec in index.catalog.files():
        inside = any(Path(rec.path).is_relative_to(root) for root in roots)
        if inside and rec.path not in present and not os.path.exists(rec.path):
            ids = index.catalog.chunk_ids(rec.path)
            index.store.delete(sorted(ids))
            index.catalog.remove(rec.path, [_bind(h, []) for h in hooks])
            report.files_removed += 1
            report.chunks_removed += len(ids)


def _was_interrupted(index: IngestTarget) -> bool:
    started = float(index.catalog.get_state("last_ingest_started", "0") or 0)
    finished = float(index.catalog.get_state("last_ingest_finished", "0") or 0)
    return started > finished


def _drop_orphans(index: IngestTarget) -> None:
    """After an interrupted run, vectors may exist that no catalogue row claims: drop them."""
    orphans = index.store.ids() - index.catalog.all_chunk_ids()
    if orphans:
        index.store.delete(sorted(orphans))


def _progress(total: int, enabled: bool):
    if not enabled or not total:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="ingest", unit="file", file=sys.stderr, dynamic_ncols=True)

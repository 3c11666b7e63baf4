"""Reading files for ingest: each file read, parsed into Segments, marked for access and
chunked into a `Prepared` (plain data), either in this process or in reader processes that
run beside the embedder, READ_AHEAD files ahead of it each, so memory stays flat however many
files there are. Nothing here writes to the index; `pipeline` does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..core import access
from ..core.errors import SkipFile
from ..core.types import Chunk, Segment
from .chunking import chunk_naive, chunk_segments
from .readers import read_document
from .structure import parse

READ_AHEAD = 4  # files read ahead of embedding per reader process: memory stays flat however many files


@dataclass
class Prepared:
    """One file read, parsed and chunked (in a worker process when there are many)."""

    path: str
    source: str
    sha256: str
    size: int
    mtime: float
    pages: int = 0
    empty_pages: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    skip_reason: str = ""
    seconds_read: float = 0.0
    seconds_parse: float = 0.0


_WORKER_COUNTER: Callable[[str], int] | None = None


def prepare(path: str, source: str, sha: str, size: int, mtime: float, chunker: str, chunk_tokens: int,
            model_path: str = "", count_tokens: Callable[[str], int] | None = None,
            detect_exempt: bool = True,
            make_counter: Callable[[str], Callable[[str], int]] | None = None) -> Prepared:
    """Read, parse and chunk one file. Runs in worker processes: takes and returns plain data.
    Without `count_tokens`, the process makes its counter once with `make_counter(model_path)`
    (the index's `token_counter`, a class, so it crosses to the process by name)."""
    global _WORKER_COUNTER
    if count_tokens is None:
        if _WORKER_COUNTER is None:
            if make_counter is None:
                raise ValueError("prepare() needs count_tokens, or make_counter to make one")
            _WORKER_COUNTER = make_counter(model_path)
        count_tokens = _WORKER_COUNTER
    out = Prepared(path, source, sha, size, mtime)
    t0 = time.perf_counter()
    try:
        doc = read_document(Path(path), source)
    except SkipFile as exc:
        out.skip_reason = str(exc)
        out.seconds_read = time.perf_counter() - t0
        return out
    t1 = time.perf_counter()
    out.seconds_read = t1 - t0
    out.pages = len(doc.pages)
    out.empty_pages = [page.number for page in doc.pages if not page.text.strip()]
    out.notes = list(doc.notes)
    out.metadata = dict(doc.metadata, chunker=chunker)
    segments = parse(doc)
    flags, why = access.plan(doc, segments, detect_exempt)  # exempt items: never chunked together with public text
    if chunker == "naive":
        out.chunks = access.mark_by_text(chunk_naive(doc), segments, flags)
    else:
        out.segments = segments
        out.chunks = access.chunk_by_access(
            segments, flags, lambda run: chunk_segments(source, run, chunk_tokens, count_tokens))
    out.metadata["access_version"] = access.ACCESS_VERSION
    if not detect_exempt:
        out.metadata["detect_exempt"] = False
    level = access.file_access(out.chunks)
    if level != access.PUBLIC:
        out.metadata["file_access"] = level  # partial or restricted: not served to the public
        restricted = sum(1 for c in out.chunks if c.access == access.RESTRICTED)
        out.notes.append(f"restricted to officers: {restricted} of {len(out.chunks)} passages ({why})")
    out.seconds_parse = time.perf_counter() - t1
    return out


def _worker_init() -> None:
    """Ctrl-C reaches the whole process group: a worker leaves it to the main process, which
    stops the run cleanly (without this, each worker prints a KeyboardInterrupt traceback).
    A worker whose main process was killed exits too."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def exit_with_parent() -> None:  # a killed ingest must not leave a worker reading PDFs
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()


def _prepare_args(args: tuple) -> Prepared:
    return prepare(*args)


def reader_processes() -> int:
    """Processes that read and parse while the main process embeds: half the cores, at least
    one (on 2 cores: one reads, one embeds; the onnx-int8 embedder leaves a core free)."""
    return max(1, (os.cpu_count() or 2) // 2)


def _bounded_map(executor, fn, items: Iterable, window: int) -> Iterator:
    """`executor.map` in order, with at most `window` items submitted and not yet taken:
    `Executor.map` submits every file at once, so a reader faster than the embedder would
    pile up every parsed document in memory."""
    from collections import deque

    items = iter(items)
    inflight: deque = deque()
    for item in items:
        inflight.append(executor.submit(fn, item))
        if len(inflight) >= window:
            break
    while inflight:
        result = inflight.popleft().result()
        for item in items:
            inflight.append(executor.submit(fn, item))
            break
        yield result


def reader_pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)


def prepared_by(executor, index, todo: list[tuple], workers: int) -> Iterator[Prepared]:
    """The files read, parsed and chunked by the reader processes, in order, READ_AHEAD each
    (`index`: the ingest target, whose settings and token counter they use)."""
    settings = index.settings
    extra = (settings.index.chunker, settings.index.chunk_tokens, settings.index.embedding_model_path, None,
             settings.index.detect_exempt, index.token_counter)
    return _bounded_map(executor, _prepare_args, (item + extra for item in todo), READ_AHEAD * workers)


def prepared_here(index, todo: list[tuple]) -> Iterator[Prepared]:
    """The files read, parsed and chunked in this process, one at a time."""
    settings = index.settings
    return (
        prepare(*item, settings.index.chunker, settings.index.chunk_tokens, count_tokens=index.embedder.count_tokens,
                detect_exempt=settings.index.detect_exempt)
        for item in todo
    )

"""Reading files for ingest: each file read, parsed into Segments, marked for access and
chunked into a `Prepared` (plain data), either in this process or in reader processes, one
per core, that also embed the chunks they made. Each process works
at most READ_AHEAD tasks of FILES_PER_TASK files ahead of the writer, so memory stays flat
however many files there are. Nothing here writes to the index; `pipeline` does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..core import access
from ..core.errors import SkipFile
from ..core.types import Chunk, Segment
from .chunking import chunk_naive, chunk_segments
from .readers import read_document
from .structure import parse

FILES_PER_TASK = 4  # files a reader process reads and then embeds together
READ_AHEAD = 4  # tasks ahead of the writer per reader process: memory stays flat however many files


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
    seconds_embed: float = 0.0
    vectors: dict = field(default_factory=dict)  # chunk id -> vector, for the chunks a reader process embedded


_WORKER_COUNTER: Callable[[str], int] | None = None
_WORKER_EMBEDDER = None  # a reader process's own embedder, when the index's can be made again (for_process)
_WORKER_REUSABLE: frozenset = frozenset()  # vectors the store holds already: not embedded again


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
    if doc.published:
        out.chunks = [replace(chunk, published=doc.published) for chunk in out.chunks]
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


# glibc's malloc parameters (mallopt): a block from this size up is mapped from the system
# (its default starts at 128 kB and grows), and freed memory beyond this much at the top of
# the heap is handed back.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
LARGE_BLOCK = 32 << 20  # the largest mmap threshold glibc accepts
KEPT_FREE = 1 << 30


def keep_freed_memory() -> None:
    """In a reader process, keep the memory each batch's activations free for the next batch
    instead of mapping and unmapping it from the system every time: the page faults had been
    a tenth of an ingest (every third Alameda file: 73.9 and 70.8 s, 67.6 and 66.2 s with this).
    Only both settings together help (the mmap threshold alone: 76.1 s). A no-op where the C
    library is not glibc."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
        libc.mallopt(M_TRIM_THRESHOLD, KEPT_FREE)
    except (OSError, AttributeError):
        pass


def _worker_init(embedder_spec: tuple[type, dict] | None = None, reusable: frozenset = frozenset()) -> None:
    """Ctrl-C reaches the whole process group: a worker leaves it to the main process, which
    stops the run cleanly (without this, each worker prints a KeyboardInterrupt traceback).
    A worker whose main process was killed exits too. With `embedder_spec` the worker embeds
    what it reads, with an embedder of its own made on first use."""
    import signal
    import threading

    global _WORKER_EMBEDDER, _WORKER_REUSABLE
    keep_freed_memory()
    if embedder_spec is not None:
        make, arguments = embedder_spec
        _WORKER_EMBEDDER = make(**arguments)
        _WORKER_REUSABLE = reusable
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def exit_with_parent() -> None:  # a killed ingest must not leave a worker reading PDFs
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()


def _prepare_files(group: list[tuple]) -> list[Prepared]:
    """A few files prepared in a reader process, and embedded there together when the process
    has an embedder (longer batches: on one core 261 chunks/s in calls of 256 chunks against
    229 in calls of 50, a file's worth): every chunk but
    those whose vectors the index has (each item's last field: the ids the catalogue holds for
    that file; and those an interrupted run left)."""
    out = []
    for *args, known in group:
        out.append((prepare(*args), known))
    if _WORKER_EMBEDDER is None:
        return [prep for prep, _ in out]
    t0 = time.perf_counter()
    todo = [(prep, c) for prep, known in out for c in prep.chunks if c.id not in known and c.id not in _WORKER_REUSABLE]
    if todo:
        vectors = _WORKER_EMBEDDER.embed([c.embed_text for _, c in todo])
        for (prep, chunk), vector in zip(todo, vectors):
            prep.vectors[chunk.id] = vector
    seconds = time.perf_counter() - t0
    for prep, _ in out:  # the group's embedding time, shared by chunk count
        prep.seconds_embed = seconds * len(prep.vectors) / max(1, len(todo))
    return [prep for prep, _ in out]


def reader_processes(embedding: bool) -> int:
    """Processes that read: one per core when they embed too (one process per core embedded
    330 chunks/s on 2 cores, two threads of one process 281: they share its interpreter);
    else half the cores, at least one, beside the main process that embeds."""
    cores = os.cpu_count() or 2
    return max(1, cores if embedding else cores // 2)


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


def reader_pool(workers: int, embedder_spec: tuple[type, dict] | None = None, reusable: frozenset = frozenset()):
    """The reader processes; with `embedder_spec` (`Embedder.for_process()`) they embed too."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                               initargs=(embedder_spec, reusable))


def prepared_by(executor, index, todo: list[tuple], workers: int) -> Iterator[Prepared]:
    """The files read, parsed and chunked by the reader processes, in order, READ_AHEAD each
    (`index`: the ingest target, whose settings and token counter they use, and whose
    catalogue says which chunks of a file are indexed already)."""
    settings = index.settings
    extra = (settings.index.chunker, settings.index.chunk_tokens, settings.index.embedding_model_path, None,
             settings.index.detect_exempt, index.token_counter)
    items = [item + extra + (frozenset(index.catalog.chunk_ids(item[0])),) for item in todo]
    groups = [items[i:i + FILES_PER_TASK] for i in range(0, len(items), FILES_PER_TASK)]
    return (prep for done in _bounded_map(executor, _prepare_files, groups, READ_AHEAD * workers) for prep in done)


def prepared_here(index, todo: list[tuple]) -> Iterator[Prepared]:
    """The files read, parsed and chunked in this process, one at a time."""
    settings = index.settings
    return (
        prepare(*item, settings.index.chunker, settings.index.chunk_tokens, count_tokens=index.embedder.count_tokens,
                detect_exempt=settings.index.detect_exempt)
        for item in todo
    )

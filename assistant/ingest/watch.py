"""Keep folders indexed as files appear, change or go away (`minutes watch FOLDER`, or
`minutes chat --watch FOLDER`), with watchfiles.

On start the folders are ingested once (to catch up with what changed while nobody watched),
then again after each burst of changes to minutes files or manifests, once the burst has been
quiet for `debounce_ms` (a file still being copied is read when its copy ends). The ingest is
the normal incremental one: unchanged files cost a hash, removed files leave the index. A
shared drive mounted over the network (SMB, NFS) sends no change events: poll it instead.

Each sync, here or by `minutes sync`, is recorded in the catalogue's state, and the chat's
status line shows the last one.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from ..core.errors import MinutesError
from .manifest import MANIFEST_NAME
from .readers import SUPPORTED_SUFFIXES

LAST_SYNC = "last_sync"


def record_sync(catalog, what: str, summary: str) -> None:
    """Remember the last sync (when, of what, what it did) for the status line."""
    catalog.set_state(LAST_SYNC, json.dumps({"at": time.time(), "what": what, "summary": summary}))


def last_sync(catalog) -> dict:
    """{'at': epoch seconds, 'what': ..., 'summary': ...}, or {} when nothing was synced."""
    try:
        value = json.loads(catalog.get_state(LAST_SYNC, "") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) and value.get("at") else {}


def sync_summary(report) -> str:
    """An ingest report in a few words: '2 indexed, 1 removed' or 'no change'."""
    parts = [f"{n} {word}" for n, word in ((report.files_indexed, "indexed"), (report.files_removed, "removed"))
             if n]
    if report.interrupted:
        parts.append("interrupted")
    return ", ".join(parts) or "no change"


def is_minutes_file(path: str) -> bool:
    """A file whose change matters: a readable kind, or a manifest; not hidden, not an office lock file."""
    name = Path(path).name
    if name.startswith((".", "~$")) or name.endswith((".tmp", ".part", ".crdownload")):
        return False
    return name == MANIFEST_NAME or Path(name).suffix.lower() in SUPPORTED_SUFFIXES


def watch_folders(
    index,
    folders: Iterable[str],
    hooks: tuple = (),
    stop: threading.Event | None = None,
    debounce_ms: int = 1600,
    poll_seconds: float = 0.0,
    lock=None,
    log: Callable[[str], None] = print,
    on_sync: Callable[[object], None] | None = None,
) -> None:
    """Ingest the folders now and after every change, until `stop` is set (or Ctrl-C)."""
    import watchfiles

    from .pipeline import ingest

    folders = [str(Path(f).resolve()) for f in folders]
    for folder in folders:
        if not Path(folder).is_dir():
            raise MinutesError(f"no such folder to watch: {folder}")
    what = "watch " + ", ".join(folders)
    lock = lock or threading.Lock()

    def sync(reason: str, names: set[str] | None = None) -> None:
        with lock:
            report = ingest(index, folders, hooks=hooks)
        summary = sync_summary(report)
        record_sync(index.catalog, what, summary)
        log(f"{time.strftime('%H:%M:%S')} {reason}: {summary}")
        for source, why in report.skipped:  # the reasons of the files just changed (all of them at first)
            if names is None or Path(source).name in names:
                log(f"  skipped {source}: {why}")
        if on_sync is not None:
            on_sync(report)

    sync("caught up")
    log(f"Watching {', '.join(folders)} (Ctrl-C to stop).")
    changes = watchfiles.watch(
        *folders,
        watch_filter=lambda change, path: is_minutes_file(path),
        debounce=debounce_ms,
        stop_event=stop,
        force_polling=poll_seconds > 0 or None,
        poll_delay_ms=int(poll_seconds * 1000) or 300,
        raise_interrupt=False,
    )
    for batch in changes:
        names = sorted({Path(p).name for _change, p in batch})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        sync(f"{len(names)} changed ({shown})", set(names))

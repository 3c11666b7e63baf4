"""`minutes watch`: a folder stays indexed as files appear, change and go away, and the chat's
status line shows the last sync."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from assistant.app import ui
from assistant.app.cli import main
from assistant.core.config import Settings
from assistant.decisions import decision_hooks
from assistant.retrieve.minutes_index import MinutesIndex
from assistant.ingest.watch import is_minutes_file, last_sync, record_sync, watch_folders
from conftest import CORPUS
from fakes import HashingEmbedder



@pytest.mark.parametrize("name,wanted", [
    ("minutes.pdf", True), ("Cabinet 2024.HTML", True), ("notes.txt", True), ("manifest.json", True),
    ("~$minutes.docx", False), ("~$draft.txt", False), (".minutes.pdf.tmp", False), ("scan.png", False),
    ("minutes.pdf.part", False), ("other.json", False),
])
def test_which_changes_matter(name, wanted):
    assert is_minutes_file(f"/share/minutes/{name}") is wanted


def test_status_line_shows_the_last_sync():
    stats = {"files_indexed": 5, "chunks": 26, "last_ingest": 1_700_000_000,
             "last_sync": {"at": 1_700_000_000, "what": "watch /srv/share_drive/[minutes]", "summary": "2 indexed"}}
    line = ui.status_line(stats, "extractive")
    assert "last sync " in line and "2 indexed" in line
    assert r"/srv/share\_drive/\[minutes\]" in line  # Markdown characters of a path shown as they are
    assert "last sync" not in ui.status_line(dict(stats, last_sync={}), "extractive")


def wait_for(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail("the watched folder was not synced in time")


def test_watch_keeps_a_folder_indexed(tmp_path):
    folder = tmp_path / "share"
    folder.mkdir()
    first, second = sorted(CORPUS.glob("*.txt"))[:2]
    shutil.copy(first, folder / first.name)
    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    lines, reports = [], []
    stop = threading.Event()
    thread = threading.Thread(target=watch_folders, daemon=True, kwargs=dict(
        index=index, folders=[str(folder)], hooks=decision_hooks(index), stop=stop, debounce_ms=300,
        log=lines.append, on_sync=reports.append))
    thread.start()
    try:
        def names() -> set[str]:
            return {Path(r.path).name for r in index.catalog.files() if r.status == "indexed"}

        wait_for(lambda: len(reports) >= 1)  # caught up on start
        assert names() == {first.name}

        shutil.copy(second, folder / second.name)  # a file appears
        wait_for(lambda: second.name in names())

        path = folder / first.name  # a file changes
        path.write_text(path.read_text(encoding="utf-8") + "\nRESOLVED: That the kite festival be funded.\n",
                        encoding="utf-8")
        wait_for(lambda: any("kite festival" in c.text for r in index.catalog.files()
                             for c in index.catalog.chunks_of(r.path)))

        (folder / second.name).unlink()  # a file goes away
        wait_for(lambda: second.name not in names())

        settled = len(reports)  # a busy machine may split one burst of events in two: let it settle
        while True:
            time.sleep(1.5)
            if len(reports) == settled:
                break
            settled = len(reports)
        (folder / "~$lock.txt").write_text("office lock file")  # not a change that matters
        time.sleep(1.5)
        assert len(reports) == settled, lines
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
    sync = last_sync(index.catalog)
    assert sync["what"] == f"watch {folder.resolve()}" and sync["summary"] == "1 removed"
    assert lines[0].endswith("caught up: 1 indexed") and any("changed (" in line for line in lines)


def test_last_sync_is_empty_before_any_and_kept_after(tmp_path):
    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    assert last_sync(index.catalog) == {}
    record_sync(index.catalog, "ModernGov democracy.example.gov.uk", "2 meetings added, 0 changed")
    assert last_sync(index.catalog)["summary"] == "2 meetings added, 0 changed"


def test_watch_of_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "index"), "watch", str(tmp_path / "nowhere")]) == 2
    assert "no such folder to watch" in capsys.readouterr().err


def test_the_chat_keeps_watching_after_its_first_sync(tmp_path):
    """`chat --watch`: the watch thread catches up, then keeps ingesting what appears (a callback
    to a function deleted in an earlier change once stopped it after the first sync)."""
    from assistant.answer.service import AnswerService
    from assistant.decisions.answerer import RECORDS

    folder = tmp_path / "share"
    folder.mkdir()
    first, second = sorted(CORPUS.glob("*.txt"))[:2]
    shutil.copy(first, folder / first.name)
    settings = Settings(index_dir=tmp_path / "index")
    index = MinutesIndex.open(settings, embedder=HashingEmbedder())
    chat = ui.ChatApp(AnswerService(settings, index, records=RECORDS), settings)
    stop = chat.start_watching([str(folder)])
    try:
        def names() -> set[str]:
            return {Path(r.path).name for r in index.catalog.files() if r.status == "indexed"}

        wait_for(lambda: names() == {first.name})
        time.sleep(2)  # the watcher starts listening just after it has caught up
        shutil.copy(second, folder / second.name)
        wait_for(lambda: second.name in names())
    finally:
        stop.set()

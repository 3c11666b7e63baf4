"""Ingest with the real model into tmp indexes: stats, incremental re-runs, changed and
deleted files, bad files skipped with a reason, and runs killed or interrupted half-way."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from assistant.core.config import Settings
from assistant.decisions import decision_hooks
from assistant.retrieve.minutes_index import MinutesIndex
from assistant.ingest.pipeline import ingest
from assistant.core.types import Filters

from test_readers import minutes_pdf_bytes
from conftest import CORPUS, MINUTES


# 33 Alameda minutes of 2 to 9 pages from 2005 to 2023 (about 860 chunks): the reader
# processes, which embed ahead of the writer, are still at work when the first files are
# recorded, so the ingest can be stopped half-way (with 15 files it had finished them all).
KILL_SET = [
    "2005-05-12.pdf", "2006-05-30.pdf", "2007-06-06.pdf", "2010-01-19.pdf", "2011-04-06.pdf",
    "2011-12-06.pdf", "2012-09-04.pdf", "2012-12-05.pdf", "2013-04-18.pdf", "2013-09-03.pdf",
    "2014-03-04.pdf", "2015-05-12.pdf", "2016-08-08.pdf", "2020-05-06.pdf", "2021-05-20.pdf",
    "2005-07-05.pdf", "2005-10-04.pdf", "2006-11-14.pdf", "2007-07-18.pdf", "2008-05-27.pdf",
    "2010-12-28.pdf", "2011-04-19.pdf", "2011-05-31.pdf", "2012-01-03.pdf", "2012-01-17.pdf",
    "2012-06-26.pdf", "2013-01-14.pdf", "2013-05-28.pdf", "2015-04-16.pdf", "2015-05-06.pdf",
    "2015-10-07.pdf", "2019-01-10.pdf", "2023-02-07.pdf",
]


@pytest.fixture
def minutes_folder(tmp_path) -> Path:
    folder = tmp_path / "minutes"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture
def index(tmp_path, real_embedder) -> MinutesIndex:
    return MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=real_embedder)


def run_ingest(index: MinutesIndex, *paths):
    return ingest(index, [str(p) for p in paths], hooks=decision_hooks(index))


def seed_path(folder: Path, prefix: str) -> Path:
    return next(folder.glob(f"{prefix}_*.txt"))


def assert_consistent(index: MinutesIndex) -> None:
    """Vectors and catalogue hold the same chunks, and BM25 knows them all."""
    catalogued = index.catalog.all_chunk_ids()
    assert index.store.ids() == catalogued
    assert index.store.count() == len(catalogued)
    assert {c.id for c in index.lexical.all_chunks()} == catalogued
    per_file = {rec.path: rec.chunks for rec in index.catalog.files()}
    assert sum(per_file.values()) == len(catalogued)


# ---- in-process ingest ------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_seeds_then_again_embeds_nothing(minutes_folder, index, tmp_path, real_embedder):
    report = run_ingest(index, minutes_folder)
    assert (report.files_seen, report.files_indexed, report.files_skipped, report.files_unchanged) == (5, 5, 0, 0)
    assert report.pages == 5
    assert report.chunks_added == report.chunks_embedded == index.store.count() >= 20
    assert not report.interrupted
    assert report.summary().startswith("Done: 5 files seen, 5 indexed, 0 unchanged, 0 skipped, 0 removed.")
    assert f"{report.chunks_added} embedded" in report.summary()
    assert_consistent(index)

    stats = index.catalog.stats()
    assert stats["files_indexed"] == 5 and stats["chunks"] == report.chunks_added
    assert {"Cabinet", "Health and Wellbeing Board", "Corporate Parenting Board"} <= set(stats["committees"])
    assert set(stats["councils"]) == {"Herefordshire Council", "Plymouth City Council"}
    assert tuple(stats["date_range"]) == ("2024-09-26", "2024-09-26")
    assert {(r.source, r.status, r.pages) for r in index.catalog.files()} == {
        (str(p), "indexed", 1) for p in sorted(minutes_folder.glob("*.txt"))}

    # every chunk keeps its metadata in both stores
    for chunk in index.catalog.chunks_of(str(seed_path(minutes_folder, "000").resolve())):
        assert (chunk.council, chunk.committee, chunk.date, chunk.item) == (
            "Herefordshire Council", "Cabinet", "2024-09-26", "24")

    generation = index.catalog.generation()
    again = run_ingest(index, minutes_folder)
    assert again.chunks_embedded == 0 and again.chunks_added == 0 and again.chunks_removed == 0
    assert (again.files_unchanged, again.files_indexed) == (5, 0)
    assert "0 embedded" in again.summary()
    assert "Nothing to embed: the index was already up to date." in again.summary()
    assert index.catalog.generation() == generation  # BM25 is not rebuilt for nothing

    # and from a freshly opened index (as a new process would)
    reopened = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=real_embedder)
    third = run_ingest(reopened, minutes_folder)
    assert third.chunks_embedded == 0 and third.files_unchanged == 5
    assert reopened.retriever.search("phase 2 improvement plan", k=1)


@pytest.mark.slow
def test_changed_file_replaces_its_chunks(minutes_folder, index):
    run_ingest(index, minutes_folder)
    target = seed_path(minutes_folder, "004")
    key = str(target.resolve())
    others_before = {rec.path: index.catalog.chunk_ids(rec.path) for rec in index.catalog.files() if rec.path != key}
    old_ids = index.catalog.chunk_ids(key)

    text = target.read_text(encoding="utf-8")
    assert "The service was successful in recruiting a permanent LADO;" in text
    target.write_text(text.replace("The service was successful in recruiting a permanent LADO;",
                                   "The service was successful in recruiting two permanent LADOs and a deputy;"),
                      encoding="utf-8")
    report = run_ingest(index, minutes_folder)
    assert (report.files_indexed, report.files_unchanged) == (1, 4)

    new_ids = index.catalog.chunk_ids(key)
    gone, added = old_ids - new_ids, new_ids - old_ids
    assert gone and added
    assert report.chunks_removed == len(gone) and report.chunks_added == len(added)
    assert report.chunks_embedded == len(added)  # unchanged chunks of the file are not embedded again
    stored = index.store.ids()
    assert not gone & stored and not gone & index.catalog.all_chunk_ids()
    assert added <= stored
    assert {rec.path: index.catalog.chunk_ids(rec.path) for rec in index.catalog.files() if rec.path != key} == (
        others_before)
    assert_consistent(index)

    # the new words are searchable (the dense model reads only the head of a chunk: BM25 reads all)
    lexical = index.retriever.search("two permanent LADOs and a deputy", k=3, mode="lexical")
    assert lexical and "two permanent LADOs" in lexical[0].chunk.text
    hybrid = index.retriever.search("two permanent LADOs and a deputy", k=3, mode="hybrid")
    assert any("two permanent LADOs" in h.chunk.text for h in hybrid)
    for mode in ("hybrid", "lexical", "dense"):  # and the old ones are gone
        hits = index.retriever.search("recruiting a permanent LADO", k=20, mode=mode)
        assert hits and all("a permanent LADO;" not in h.chunk.text for h in hits), mode


@pytest.mark.slow
def test_deleted_file_is_removed(minutes_folder, index, tmp_path):
    loose = tmp_path / "loose" / "extra.txt"  # a file named on its own is not under the folder
    loose.parent.mkdir()
    shutil.copy(seed_path(minutes_folder, "002"), loose)
    run_ingest(index, minutes_folder, loose)
    target = seed_path(minutes_folder, "003")
    key = str(target.resolve())
    ids = index.catalog.chunk_ids(key)
    assert ids and ids <= index.store.ids()
    assert any("Kelly Twitchen" in h.chunk.text for h in index.retriever.search("Kelly Twitchen", mode="lexical"))

    target.unlink()
    report = run_ingest(index, minutes_folder)
    assert report.files_removed == 1 and report.chunks_removed == len(ids)
    assert report.files_unchanged == 4 and report.chunks_embedded == 0
    assert index.catalog.file(key) is None
    assert not ids & index.store.ids() and not ids & index.catalog.all_chunk_ids()
    assert index.catalog.file(str(loose.resolve())) is not None  # outside the folder: kept
    assert_consistent(index)
    for mode in ("hybrid", "lexical", "dense"):
        assert not any(h.chunk.source == str(target) for h in index.retriever.search("Kelly Twitchen", mode=mode))


def _bad_files(folder: Path) -> dict[str, str]:
    """Bad files of several kinds, and a word of the reason each is skipped for."""
    (folder / "noise.pdf").write_bytes(random.Random(3).randbytes(6000))
    data = minutes_pdf_bytes()
    (folder / "cut.pdf").write_bytes(data[: len(data) // 2])
    (folder / "mangled.pdf").write_bytes(data.replace(b"/FlateDecode", b"/FlateDecoXe"))
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password="council-secret", owner_password="owner", algorithm="AES-256")
    with (folder / "locked.pdf").open("wb") as fh:
        writer.write(fh)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "minutes.docx").write_bytes(b"PK not read at all")
    return {"noise.pdf": "corrupt", "cut.pdf": "corrupt", "mangled.pdf": "corrupt",
            "locked.pdf": "password", "empty.txt": "empty file"}


@pytest.mark.slow
def test_bad_files_are_skipped_with_reasons_and_the_run_goes_on(minutes_folder, index):
    expected = _bad_files(minutes_folder)
    report = run_ingest(index, minutes_folder)
    assert report.files_seen == 5 + len(expected)  # the .docx is not even picked up
    assert report.files_indexed == 5
    assert report.files_skipped == len(expected)
    skipped = {Path(source).name: reason for source, reason in report.skipped}
    assert set(skipped) == set(expected)
    for name, word in expected.items():
        assert word in skipped[name], (name, skipped[name])
        assert f"skipped {minutes_folder / name}: {skipped[name]}" in report.summary()
    records = {Path(r.path).name: r for r in index.catalog.files()}
    for name in expected:
        assert records[name].status == "skipped" and records[name].reason == skipped[name]
        assert records[name].chunks == 0
    assert index.catalog.stats()["files_skipped"] == len(expected)
    assert_consistent(index)

    # a re-run reports them again, and reads nothing
    again = run_ingest(index, minutes_folder)
    assert again.files_skipped == len(expected) and again.chunks_embedded == 0
    assert {Path(s).name for s, _ in again.skipped} == set(expected)

    # a bad file that is replaced by a good one is indexed
    (minutes_folder / "noise.pdf").write_bytes(minutes_pdf_bytes())
    third = run_ingest(index, minutes_folder)
    assert third.files_indexed == 1 and third.files_skipped == len(expected) - 1
    assert index.catalog.file(str((minutes_folder / "noise.pdf").resolve())).status == "indexed"
    hits = index.retriever.search("footbridge repairs over Mill Creek", k=3)
    assert hits and hits[0].chunk.source.endswith("noise.pdf")
    assert (hits[0].chunk.page_start, hits[0].chunk.page_end, hits[0].chunk.date) == (1, 3, "2021-03-03")
    assert_consistent(index)


@pytest.mark.slow
def test_a_file_that_turns_bad_loses_its_chunks(minutes_folder, index):
    run_ingest(index, minutes_folder)
    target = seed_path(minutes_folder, "004")
    ids = index.catalog.chunk_ids(str(target.resolve()))
    target.write_bytes(b"")
    report = run_ingest(index, minutes_folder)
    assert report.files_skipped == 1 and report.chunks_removed == len(ids)
    assert not ids & index.store.ids()
    assert_consistent(index)
    assert not index.retriever.search("Plymouth Children's Improvement Board", filters=Filters(
        council="Plymouth City Council"))


@pytest.mark.slow
def test_interrupted_run_answers_from_what_was_finished_and_resumes(minutes_folder, index, monkeypatch):
    """Ctrl-C after the vectors of a batch are written but before all its files are recorded."""
    record = index.catalog.record_indexed
    calls = []

    def record_then_stop(rec, chunks, hooks=()):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(rec.path)
        record(rec, chunks, hooks)

    monkeypatch.setattr(index.catalog, "record_indexed", record_then_stop)
    report = run_ingest(index, minutes_folder)
    monkeypatch.undo()
    assert report.interrupted and report.files_indexed == 2
    assert report.summary().startswith("Interrupted: 5 files seen")
    assert "run the same command again to complete it" in report.summary()
    assert "Nothing to embed" not in report.summary()

    finished = set(calls)
    catalogued = index.catalog.all_chunk_ids()
    orphans = index.store.ids() - catalogued
    assert orphans  # vectors of the files not recorded are in Chroma ...
    for mode in ("dense", "hybrid", "lexical"):  # ... but never answer
        hits = index.retriever.search("children's services improvement plan", k=10, mode=mode)
        assert hits and {str(Path(h.chunk.source).resolve()) for h in hits} <= finished, mode
        assert not {h.chunk.id for h in hits} & orphans

    # one unfinished file changes before the next run: its old vectors become true orphans
    changed = next(p for p in sorted(minutes_folder.glob("*.txt")) if str(p.resolve()) not in finished)
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe chair closed the meeting.\n", encoding="utf-8")

    again = run_ingest(index, minutes_folder)
    assert not again.interrupted
    assert (again.files_unchanged, again.files_indexed) == (2, 3)
    # what the interrupted run embedded is reused: only the changed file's new chunk is embedded
    assert again.chunks_embedded == 1
    assert "1 embedded" in again.summary()
    assert_consistent(index)  # and the stale vectors are gone


@pytest.mark.slow
def test_reader_processes_embed_what_they_read_and_only_what_is_new(minutes_folder, index, real_embedder):
    """With many files, each reader process embeds the chunks it made, on a core of its own:
    the vectors are the ones this process would make, and a changed file's unchanged chunks
    are not embedded again there either."""
    for n in range(4):  # 9 files: enough for reader processes
        shutil.copy(seed_path(minutes_folder, f"00{n}"), minutes_folder / f"copy-{n}.txt")
    report = ingest(index, [str(minutes_folder)], hooks=decision_hooks(index), workers=2)
    assert report.files_indexed == 9 and report.chunks_embedded == report.chunks_added == index.store.count()
    assert report.seconds["embed"] > 0
    assert_consistent(index)
    chunks = index.catalog.chunks_of(str((minutes_folder / "copy-0.txt").resolve()))
    stored = index.store.vectors([c.id for c in chunks])
    here = real_embedder.embed([c.embed_text for c in chunks])
    cosines = [float(stored[c.id] @ vector) for c, vector in zip(chunks, here)]
    assert min(cosines) > 0.999

    target = minutes_folder / "copy-3.txt"
    old_ids = index.catalog.chunk_ids(str(target.resolve()))
    target.write_text(target.read_text(encoding="utf-8") + "\nThe chair thanked the clerk for the new minute book.\n",
                      encoding="utf-8")
    again = ingest(index, [str(minutes_folder)], hooks=decision_hooks(index), workers=2)
    added = index.catalog.chunk_ids(str(target.resolve())) - old_ids
    assert again.files_indexed == 1 and again.files_unchanged == 8
    assert 0 < again.chunks_embedded == len(added) < len(old_ids)
    assert_consistent(index)
    assert index.retriever.search("new minute book", k=1, mode="lexical")[0].chunk.source.endswith("copy-3.txt")


# ---- a real ingest killed or interrupted half-way ---------------------------------------


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINUTES_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _indexed_rows(index_dir: Path) -> int:
    db = next(index_dir.glob("*.sqlite"), None)
    if db is None:
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM files WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _start_ingest(index_dir: Path, folder: Path) -> subprocess.Popen:
    # its own process group: a signal to the group reaches the ingest and its worker, as Ctrl-C does
    return subprocess.Popen([str(MINUTES), "--index", str(index_dir), "ingest", str(folder), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)


def _stop_half_way(proc: subprocess.Popen, index_dir: Path, sig: int) -> int:
    deadline = time.monotonic() + 600
    rows = 0
    while time.monotonic() < deadline and proc.poll() is None:
        rows = _indexed_rows(index_dir)
        if rows:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the ingest ended before it could be stopped: {proc.communicate()}"
    assert 0 < rows < len(KILL_SET)
    os.killpg(proc.pid, sig)
    return rows


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the ingest did not stop: {out}\n{err}")


def _cli(index_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(MINUTES), "--index", str(index_dir), *args], capture_output=True, text=True,
                          env=_env(), timeout=timeout)


@pytest.fixture
def kill_folder(tmp_path, alameda_dir) -> Path:
    folder = tmp_path / "alameda"
    folder.mkdir()
    for name in KILL_SET:
        if not (alameda_dir / name).exists():
            pytest.skip(f"{alameda_dir / name} is absent")
        shutil.copy(alameda_dir / name, folder / name)
    return folder


def _search_answers_from_finished_files(index_dir: Path) -> None:
    db = next(index_dir.glob("*.sqlite"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        finished = {r[0] for r in conn.execute("SELECT source FROM files WHERE status = 'indexed'")}
    result = _cli(index_dir, "search", "moved approval of the consent calendar", "--json", "-k", "8")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits, "the index answers nothing after the stop"
    assert {h["source"] for h in hits} <= finished  # nothing from a file that was not finished
    assert all(h["text"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", h["date"]) for h in hits)
    assert {h["date"][:4] for h in hits} <= {name[:4] for name in KILL_SET}


def _rerun_completes(index_dir: Path, folder: Path, done_before: int, real_embedder) -> None:
    result = _cli(index_dir, "ingest", str(folder), "--no-progress")
    assert result.returncode == 0, result.stderr
    m = re.search(r"Done: (\d+) files seen, (\d+) indexed, (\d+) unchanged, (\d+) skipped", result.stdout)
    assert m, result.stdout
    seen, indexed, unchanged, skipped = map(int, m.groups())
    assert seen == len(KILL_SET) and skipped == 0
    assert unchanged >= done_before and indexed + unchanged == len(KILL_SET)
    added, embedded = map(int, re.search(r"Chunks: (\d+) added, 0 removed, (\d+) embedded", result.stdout).groups())
    assert 0 < embedded <= added  # vectors written before the stop are reused, not embedded again
    assert "Traceback" not in result.stderr

    index = MinutesIndex.open(Settings(index_dir=index_dir), embedder=real_embedder)
    records = index.catalog.files()
    assert len(records) == len(KILL_SET) and all(r.status == "indexed" for r in records)
    assert index.store.count() == index.catalog.stats()["chunks"] > 300
    assert index.store.ids() == index.catalog.all_chunk_ids()  # no orphan vectors, no missing ones
    assert {c.id for c in index.lexical.all_chunks()} == index.catalog.all_chunk_ids()
    # a third run has nothing to do
    again = _cli(index_dir, "ingest", str(folder), "--no-progress")
    assert again.returncode == 0 and "Nothing to embed: the index was already up to date." in again.stdout


@pytest.mark.slow
@pytest.mark.alameda
def test_ingest_killed_half_way_answers_and_resumes(kill_folder, tmp_path, real_embedder):
    index_dir = tmp_path / "index"
    proc = _start_ingest(index_dir, kill_folder)
    rows = _stop_half_way(proc, index_dir, signal.SIGKILL)
    _finish(proc)
    assert proc.returncode == -signal.SIGKILL
    _search_answers_from_finished_files(index_dir)
    _rerun_completes(index_dir, kill_folder, rows, real_embedder)


@pytest.mark.slow
@pytest.mark.alameda
def test_ingest_interrupted_by_ctrl_c_says_to_rerun(kill_folder, tmp_path, real_embedder):
    index_dir = tmp_path / "index"
    proc = _start_ingest(index_dir, kill_folder)
    rows = _stop_half_way(proc, index_dir, signal.SIGINT)
    out, err = _finish(proc)
    assert proc.returncode == 130, (out, err)
    assert out.startswith(f"Interrupted: {len(KILL_SET)} files seen")
    assert "run the same command again to complete it" in out
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    _search_answers_from_finished_files(index_dir)
    _rerun_completes(index_dir, kill_folder, rows, real_embedder)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.alameda
def test_worker_exits_when_the_ingest_is_killed_alone(kill_folder, tmp_path):
    """Kill only the main process (as an OOM killer would): its PDF-reading worker must not
    stay behind, reading files for nobody."""
    index_dir = tmp_path / "index"
    proc = _start_ingest(index_dir, kill_folder)
    _stop_half_way(proc, index_dir, 0)  # signal 0: only waits until some files are indexed
    workers = _children(proc.pid)
    assert workers, "the ingest of many files reads them in a worker process"
    os.kill(proc.pid, signal.SIGKILL)
    _finish(proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "a worker outlived the killed ingest"


def test_reading_ahead_is_bounded():
    """Files are read at most a few ahead of embedding, in order, so memory stays flat."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from assistant.ingest.reading import _bounded_map

    lock = threading.Lock()
    submitted = []

    def work(n):
        return n * n

    def items():
        for n in range(50):
            with lock:
                submitted.append(n)
            yield n

    taken = 0
    with ThreadPoolExecutor(2) as pool:
        for result in _bounded_map(pool, work, items(), window=4):
            assert result == taken * taken
            taken += 1
            assert len(submitted) <= taken + 4
    assert taken == 50

"""The Chroma server path: a real `chroma run` started here, the index's vectors kept there
(as several processes need), and a wrong URL said plainly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.app.cli import main
from assistant.core.config import Settings
from assistant.decisions import decision_hooks
from assistant.core.errors import MinutesError
from assistant.retrieve.minutes_index import MinutesIndex
from assistant.ingest.pipeline import ingest
from assistant.core.types import Filters
from conftest import CORPUS, MINUTES

pytestmark = [pytest.mark.server, pytest.mark.slow]

BIN = Path(sys.executable).parent
CHROMA = BIN / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINUTES_")}
    env["ANONYMIZED_TELEMETRY"] = "False"
    return env


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200 and any("heartbeat" in key for key in json.loads(response.read()))
    except (urllib.error.URLError, OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.skip(f"no chroma executable at {CHROMA}")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(data / "db"), "--port", str(port), "--host", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, env=_env())
    try:
        deadline = time.monotonic() + 120
        while not _heartbeat(url):
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}: {(data / 'server.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run did not answer within 120 s: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.25)
        yield {"url": url, "data": data / "db", "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server_index(chroma_server, tmp_path_factory, real_embedder):
    settings = Settings(index_dir=tmp_path_factory.mktemp("server-index"), chroma_url=chroma_server["url"])
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, [str(CORPUS)], hooks=decision_hooks(index))
    return index, report


def test_ingest_into_the_server(server_index, chroma_server):
    index, report = server_index
    assert report.files_indexed == 5 and report.files_skipped == 0
    assert report.chunks_added == report.chunks_embedded == index.store.count() >= 20
    assert index.store.ids() == index.catalog.all_chunk_ids()
    # the vectors are on the server, not in an embedded store beside the catalogue
    assert not (index.settings.index.index_dir / "chroma").exists()
    assert any(chroma_server["data"].iterdir())
    # another client (as another process would) sees the same collection
    other = MinutesIndex.open(index.settings, embedder=index.embedder)
    assert other.store.count() == index.store.count()


def test_reingest_through_the_server_embeds_nothing(server_index):
    index, first = server_index
    again = ingest(index, [str(CORPUS)], hooks=decision_hooks(index))
    assert again.chunks_embedded == 0 and again.files_unchanged == 5
    assert "Nothing to embed: the index was already up to date." in again.summary()
    assert index.store.count() == first.chunks_added


@pytest.mark.parametrize("mode", ["dense", "hybrid", "lexical"])
def test_search_and_filters_through_the_server(server_index, mode):
    index, _ = server_index
    hits = index.retriever.search("phase 2 improvement plan endorsement", mode=mode)
    assert hits and hits[0].chunk.source.endswith("000_0c651058bcd55b11.txt")
    cabinet = index.retriever.search("improvement plan progress", Filters(committee="Cabinet"), k=20, mode=mode)
    assert cabinet and {h.chunk.committee for h in cabinet} == {"Cabinet"}
    dated = index.retriever.search("improvement plan", Filters(since="2024-01-01", until="2024-12-31"), k=20,
                                   mode=mode)
    assert dated and {h.chunk.date for h in dated} == {"2024-09-26"}
    assert not index.retriever.search("improvement plan", Filters(since="2025-01-01"), k=20, mode=mode)


def test_cli_in_another_process_uses_the_server(server_index, chroma_server):
    index, _ = server_index
    result = subprocess.run([str(MINUTES), "--index", str(index.settings.index.index_dir), "--chroma-url",
                             chroma_server["url"], "search", "Action David Mehaffey NEETs", "--json", "-k", "3",
                             "--committee", "Health and Wellbeing Board"],
                            capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits and all(h["committee"] == "Health and Wellbeing Board" for h in hits)
    assert any("Action - David Mehaffey" in h["text"] for h in hits)
    stats = subprocess.run([str(MINUTES), "--index", str(index.settings.index.index_dir), "--chroma-url",
                            chroma_server["url"], "stats"], capture_output=True, text=True, env=_env(), timeout=300)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["vectors"] == index.store.count()


# ---- a wrong URL ------------------------------------------------------------------------


def test_wrong_url_is_a_minutes_error(tmp_path, real_embedder):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    index = MinutesIndex.open(Settings(index_dir=tmp_path, chroma_url=url), embedder=real_embedder)
    with pytest.raises(MinutesError) as info:
        index.store.count()
    message = str(info.value)
    assert message.startswith(f"cannot open the Chroma index at {url}: ")
    with pytest.raises(MinutesError, match="cannot open the Chroma index"):
        ingest(index, [str(next(CORPUS.glob("004_*.txt")))])
    assert index.catalog.stats()["files_indexed"] == 0  # nothing recorded that has no vectors


def test_wrong_url_on_the_command_line_is_a_clear_message(server_index, capsys):
    index, _ = server_index
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([str(MINUTES), "--index", str(index.settings.index.index_dir), "--chroma-url", url,
                             "search", "phase 2"], capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith(f"minutes: cannot open the Chroma index at {url}")
    assert "Traceback" not in result.stderr
    assert main(["--index", str(index.settings.index.index_dir), "--chroma-url", "http://127.0.0.1:1", "stats"]) == 2
    assert "cannot open the Chroma index at http://127.0.0.1:1" in capsys.readouterr().err

"""Hybrid search on real indexes (the seeds, an Alameda sample) with the real model:
ranking, filters in every mode, item numbers through BM25, and the `minutes search` CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from assistant.app.cli import main
from assistant.core.types import Filters
from conftest import MINUTES

MODES = ("dense", "lexical", "hybrid")
PHASE_2 = "000_0c651058bcd55b11.txt"


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("MINUTES_")}


# ---- ranking on the seeds ---------------------------------------------------------------


@pytest.mark.slow
def test_hybrid_finds_the_phase_2_passage_first(seed_index):
    hits = seed_index.retriever.search("phase 2 improvement plan endorsement", mode="hybrid")
    assert hits, "no hits"
    top = hits[0]
    assert top.chunk.source.endswith(PHASE_2)
    assert "Phase 2 Children’s Services Improvement Plan for endorsement" in top.chunk.text
    assert top.dense_rank is not None and top.lexical_rank is not None  # both retrievers found it
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


@pytest.mark.slow
def test_each_mode_uses_its_own_retriever(seed_index):
    query = "David Mehaffey NHS colleagues NEETs"
    dense = seed_index.retriever.search(query, mode="dense", k=5)
    lexical = seed_index.retriever.search(query, mode="lexical", k=5)
    assert dense and all(h.lexical_rank is None and h.dense_similarity is not None for h in dense)
    assert lexical and all(h.dense_rank is None and h.dense_similarity is None for h in lexical)
    assert "Action - David Mehaffey" in lexical[0].chunk.text


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_committee_filter_in_every_mode(seed_index, mode):
    query = "children's services improvement plan progress"
    unfiltered = seed_index.retriever.search(query, k=20, mode=mode)
    assert len({h.chunk.committee for h in unfiltered}) > 1  # the filter has something to remove
    hits = seed_index.retriever.search(query, Filters(committee="Cabinet"), k=20, mode=mode)
    assert hits
    assert {h.chunk.committee for h in hits} == {"Cabinet"}
    assert {Path(h.chunk.source).name[:3] for h in hits} == {"000", "002"}
    # written as a person would type it, the committee filters the same in every mode
    typed = seed_index.retriever.search(query, Filters(committee="cabinet"), k=20, mode=mode)
    assert [h.chunk.id for h in typed] == [h.chunk.id for h in hits]
    council = seed_index.retriever.search(query, Filters(council="Plymouth City Council"), k=20, mode=mode)
    assert council and {Path(h.chunk.source).name[:3] for h in council} == {"004"}
    assert not seed_index.retriever.search(query, Filters(committee="Planning Committee"), k=20, mode=mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_date_filters_in_every_mode(seed_index, mode):
    query = "improvement plan"
    dated = seed_index.retriever.search(query, Filters(since="2024-09-01", until="2024-09-30"), k=20, mode=mode)
    assert dated and {h.chunk.date for h in dated} == {"2024-09-26"}
    assert {h.chunk.date for h in seed_index.retriever.search(query, Filters(until="2024-12-31"), k=20,
                                                              mode=mode)} == {"2024-09-26"}
    # an open range leaves out the minutes whose date is not known
    assert not seed_index.retriever.search(query, Filters(since="2024-09-27"), k=20, mode=mode)
    assert not seed_index.retriever.search(query, Filters(until="2024-09-25"), k=20, mode=mode)
    # the bounds are inclusive
    day = seed_index.retriever.search(query, Filters(since="2024-09-26", until="2024-09-26"), k=20, mode=mode)
    assert len(day) == len(dated)


@pytest.mark.slow
@pytest.mark.alameda
@pytest.mark.parametrize("mode", MODES)
def test_filters_on_the_alameda_sample(alameda_sample_index, mode):
    retriever = alameda_sample_index.retriever
    query = "councilmember moved approval of the consent calendar"
    everything = retriever.search(query, k=30, mode=mode)
    years = {h.chunk.date[:4] for h in everything}
    assert len(years) >= 3
    hits = retriever.search(query, Filters(since="2009-01-01", until="2017-12-31"), k=30, mode=mode)
    assert hits
    assert all("2009-01-01" <= h.chunk.date <= "2017-12-31" for h in hits)
    assert {h.chunk.id for h in hits} < {h.chunk.id for h in retriever.search(query, k=200, mode=mode)}
    both = retriever.search(query, Filters(committee="City Council", since="2019-01-01"), k=30, mode=mode)
    assert both and all(h.chunk.committee == "City Council" and h.chunk.date >= "2019-01-01" for h in both)
    council = retriever.search(query, Filters(council="alameda city council", until="2012-12-31"), k=30, mode=mode)
    assert council and all(h.chunk.council == "Alameda City Council" and "0" < h.chunk.date <= "2012-12-31"
                           for h in council)


@pytest.mark.slow
@pytest.mark.alameda
def test_item_number_found_by_bm25(alameda_sample_index):
    retriever = alameda_sample_index.retriever
    hits = retriever.search("19-330", mode="lexical", k=5)
    assert hits and hits[0].chunk.item == "19-330"
    assert hits[0].chunk.title.startswith("Conference with Legal Counsel - Anticipated Litigation")
    assert hits[0].chunk.date == "2019-06-04" and hits[0].chunk.source.endswith("2019-06-04.pdf")
    # a neighbouring number is another item, not a near match
    assert all(h.chunk.item != "19-331" for h in hits[:1])
    hybrid = retriever.search("19-330", mode="hybrid", k=5)
    assert any(h.chunk.item == "19-330" and h.lexical_rank == 1 for h in hybrid[:3])


# ---- the command line -------------------------------------------------------------------


@pytest.mark.slow
def test_cli_search_json(seed_index, capsys):
    index_dir = str(seed_index.settings.index.index_dir)
    code = main(["--index", index_dir, "search", "phase 2 improvement plan endorsement", "--json", "-k", "4"])
    out = capsys.readouterr().out
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 4
    for field in ("rank", "score", "text", "source", "page", "council", "committee", "date", "item", "section"):
        assert all(field in h for h in hits), field
    top = hits[0]
    assert top["rank"] == 1 and top["source"].endswith(PHASE_2) and "Phase 2" in top["text"]
    assert (top["council"], top["committee"], top["date"], top["item"], top["page"]) == (
        "Herefordshire Council", "Cabinet", "2024-09-26", "24", 1)
    assert top["section"] in ("discussion", "heading")
    assert [h["rank"] for h in hits] == [1, 2, 3, 4]
    assert all(isinstance(h["score"], float) for h in hits)


@pytest.mark.slow
def test_cli_search_since_until(seed_index, capsys):
    index_dir = str(seed_index.settings.index.index_dir)
    assert main(["--index", index_dir, "search", "improvement plan", "--json", "-k", "10",
                 "--since", "2024-09-01", "--until", "2024-09-30"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {h["date"] for h in hits} == {"2024-09-26"}
    assert main(["--index", index_dir, "search", "improvement plan", "--json", "--since", "2024-10-01"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    # a date written the US way is understood
    assert main(["--index", index_dir, "search", "improvement plan", "--json", "--until", "September 30, 2024",
                 "--committee", "Cabinet", "--mode", "lexical"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {(h["committee"], h["date"]) for h in hits} == {("Cabinet", "2024-09-26")}


@pytest.mark.slow
def test_cli_search_text_output(seed_index, capsys):
    assert main(["--index", str(seed_index.settings.index.index_dir), "search", "Kelly Twitchen", "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] Corporate Parenting Board, date not stated")
    assert "003_ed4b8882c290d2c9.txt p.1" in out


def test_cli_search_on_an_empty_index_is_a_clear_error(tmp_path):
    result = subprocess.run([str(MINUTES), "--index", str(tmp_path / "nothing"), "search", "phase 2", "--json"],
                            capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"minutes: there is no index at {tmp_path / 'nothing'}: ")
    assert "run `minutes ingest PATH` first" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nothing").exists()  # reading creates nothing (issue 10)


@pytest.mark.slow
@pytest.mark.parametrize("flag,value", [("--since", "2019-13-45"), ("--until", "yesterday"), ("--since", "June")])
def test_cli_search_bad_date_is_a_clear_error(seed_index, flag, value):
    result = subprocess.run([str(MINUTES), "--index", str(seed_index.settings.index.index_dir), "search", "phase 2",
                             flag, value], capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip() == f"minutes: {flag} wants a date like 2019-06-04, not {value!r}"
    assert "Traceback" not in result.stderr


def test_cli_search_in_process_errors_do_not_raise(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "empty"), "search", "anything"]) == 2
    assert "there is no index at" in capsys.readouterr().err

"""Chunks: they fit the model's window (header included), keep decisions whole and items
apart, carry a findable header, and have ids that are stable while the content is."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.chunking import chunk_naive, chunk_segments, header
from assistant.core.config import Settings
from assistant.index.embedding import TokenCounter
from assistant.index.identity import collection_name
from assistant.ingest.readers import read_document
from assistant.ingest.structure import US_ITEM, parse
from assistant.core.types import DECISION_KINDS, Segment
from conftest import CORPUS, ROOT

WINDOW = 256  # word pieces all-MiniLM-L6-v2 reads
CHUNK_TOKENS = Settings().index.chunk_tokens

# Alameda files with long motions and votes (longer than the window on their own), long
# discussion paragraphs under long item titles, and several meetings in one file.
ALAMEDA_FILES = ["2019-06-04.pdf", "2021-05-04.pdf", "2022-04-19.pdf", "2013-04-16.pdf", "2023-09-19.pdf",
                 "2021-12-07.pdf"]


@pytest.fixture(scope="module")
def count():
    return TokenCounter()


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.txt"))


_PARSED: dict[str, list] = {}


def chunked(path: Path, count, source: str | None = None, cache: bool = False):
    """Segments and chunks of a file (real PDFs are parsed once per module when `cache`)."""
    key = f"{path}\x00{source}"
    if cache and key in _PARSED:
        segments = _PARSED[key]
    else:
        segments = parse(read_document(path, source))
        if cache:
            _PARSED[key] = segments
    return segments, chunk_segments(source or str(path), segments, CHUNK_TOKENS, count)


def documents(alameda: Path | None):
    paths = sorted(CORPUS.glob("*.txt"))
    if alameda is not None:
        paths += [alameda / name for name in ALAMEDA_FILES if (alameda / name).exists()]
    return paths


def _check_window(paths, count):
    checked = over = 0
    for path in paths:
        segments, chunks = chunked(path, count, cache=True)
        assert chunks, path.name
        for chunk in chunks:
            checked += 1
            size = count(chunk.embed_text)
            if size <= WINDOW:
                continue
            # Only a decision that is indivisible may overflow, and then it is alone.
            over += 1
            alone = [s for s in segments if s.text == chunk.text and s.kind in DECISION_KINDS]
            assert alone, f"{path.name}: a {chunk.section} chunk of {size} word pieces: {chunk.text[:120]!r}"
            assert chunk.section == alone[0].kind
    return checked, over


def test_embed_text_fits_the_window_on_the_seeds(count):
    checked, over = _check_window(documents(None), count)
    assert checked >= 20 and over == 0


@pytest.mark.alameda
def test_embed_text_fits_the_window_on_alameda(count, alameda_dir):
    checked, over = _check_window(documents(alameda_dir), count)
    assert checked > 200
    assert over >= 1  # the sample does hold decisions longer than the window: they stay whole


def chunks_of_segments(segments, chunks) -> list[set[int]]:
    """For each segment, the chunks its words went to. Chunks hold the segments' words in
    order, each word once: that is checked here, and then positions say exactly where
    each segment went (texts repeat: "None.", "X seconded the motion.")."""
    seg_words = [(n, w) for n, s in enumerate(segments) for w in s.text.split()]
    chunk_words = [(n, w) for n, c in enumerate(chunks) for w in c.text.split()]
    assert [w for _, w in seg_words] == [w for _, w in chunk_words], "chunks lost, added or reordered words"
    where: list[set[int]] = [set() for _ in segments]
    for (s, _), (c, _) in zip(seg_words, chunk_words):
        where[s].add(c)
    return where


def _check_decisions_whole(paths, count):
    long_ones = 0
    for path in paths:
        segments, chunks = chunked(path, count, cache=True)
        where = chunks_of_segments(segments, chunks)
        for seg, held in zip(segments, where):
            if seg.kind not in DECISION_KINDS:
                continue
            assert len(held) == 1, f"{path.name}: decision split over chunks {held}: {seg.text[:100]!r}"
            chunk = chunks[next(iter(held))]
            assert seg.text in chunk.text
            assert (chunk.item, chunk.title, chunk.date) == (seg.item, seg.title, seg.date)
            if count(seg.text) > CHUNK_TOKENS:
                long_ones += 1
                assert chunk.text == seg.text  # alone in its chunk
    return long_ones


@pytest.mark.alameda
def test_long_decisions_are_never_split(count, alameda_dir):
    assert _check_decisions_whole(documents(alameda_dir), count) >= 2


def test_decisions_whole_on_the_seeds(count):
    _check_decisions_whole(documents(None), count)
    segments, chunks = chunked(seed("002"), count)
    resolution = next(c for c in chunks if c.section == "resolution")
    assert "It was resolved that the cabinet:\na) Reflect" in resolution.text
    assert "b) note the development of version two" in resolution.text


def _item_key(s):
    return (s.meeting, s.date, s.item, s.title)


@pytest.mark.alameda
def test_a_chunk_never_mixes_two_items(count, alameda_dir):
    mixed_kinds = 0
    for path in documents(alameda_dir):
        segments, chunks = chunked(path, count, cache=True)
        where = chunks_of_segments(segments, chunks)
        for n, chunk in enumerate(chunks):
            inside = [seg for seg, held in zip(segments, where) if n in held]
            assert {_item_key(s) for s in inside} == {(chunk.meeting, chunk.date, chunk.item, chunk.title)}, (
                f"{path.name}: chunk {n} mixes items")
            mixed_kinds += len({s.kind for s in inside}) > 1
            if chunk.section in ("resolution", "motion", "vote", "action"):
                numbers = {re.sub(r"\s", "", m["num"]) for line in chunk.text.split("\n")
                           if (m := US_ITEM.match(line))}
                assert numbers <= {chunk.item}, (path.name, numbers, chunk.item)
    assert mixed_kinds > 20  # segments of one item do share chunks: the check above is not vacuous


def test_small_decisions_of_two_items_go_to_separate_chunks(count):
    """Two short items that would fit one chunk together are still chunked apart."""

    def seg(text, kind, item, title):
        return Segment(text=text, kind=kind, page_start=1, page_end=1, council="Testville Council",
                       committee="Cabinet", meeting="Cabinet Meeting", date="2024-01-10", item=item, title=title)

    segments = [
        seg("(24-001) Parking charges.", "heading", "24-001", "Parking charges"),
        seg("Councillor Ash moved approval. Councillor Birch seconded the motion, which carried.", "motion",
            "24-001", "Parking charges"),
        seg("(24-002) Library hours.", "heading", "24-002", "Library hours"),
        seg("Resolved that: the library opens on Sundays.", "resolution", "24-002", "Library hours"),
    ]
    chunks = chunk_segments("cabinet.txt", segments, CHUNK_TOKENS, count)
    assert [(c.item, c.section) for c in chunks] == [("24-001", "motion"), ("24-002", "resolution")]
    assert "library" not in chunks[0].text.lower() and "parking" not in chunks[1].text.lower()


def test_long_discussion_is_split_at_sentences_and_fits(count):
    sentences = [f"Councillor {name} spoke about the {topic} and asked for a report by the spring."
                 for name in ("Ash", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gum", "Hazel")
                 for topic in ("harbour wall", "bus station", "school roof", "bridge", "park")]
    long_text = " ".join(sentences)
    assert count(long_text) > 2 * CHUNK_TOKENS
    seg = Segment(text=long_text, kind="discussion", page_start=2, page_end=3, council="Testville Council",
                  committee="Cabinet", date="2024-01-10", item="7", title="Capital programme")
    chunks = chunk_segments("cabinet.txt", [seg], CHUNK_TOKENS, count)
    assert len(chunks) >= 3
    assert all(count(c.embed_text) <= WINDOW for c in chunks)
    assert " ".join(c.text for c in chunks).split() == long_text.split()  # nothing lost or repeated
    assert all(c.text.endswith("spring.") for c in chunks)  # cut at sentence ends
    assert all((c.page_start, c.page_end, c.item) == (2, 3, "7") for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


# ---- ids --------------------------------------------------------------------------------


def test_ids_are_stable_across_runs(count):
    first = [c.id for path in documents(None) for c in chunked(path, count)[1]]
    again = [c.id for path in documents(None) for c in chunked(path, TokenCounter())[1]]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(re.fullmatch(r"[0-9a-f]{24}(-\d+)?", i) for i in first)

    # and in another interpreter, with another hash seed
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.ingest.chunking import chunk_segments\n"
        "from assistant.index.embedding import TokenCounter\n"
        "from assistant.ingest.readers import read_document\n"
        "from assistant.ingest.structure import parse\n"
        "count = TokenCounter()\n"
        "ids = [c.id for p in sys.argv[2:] for c in chunk_segments(p, parse(read_document(Path(p))), "
        "int(sys.argv[1]), count)]\n"
        "print(json.dumps(ids))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code, str(CHUNK_TOKENS), *map(str, documents(None))],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True)
    assert json.loads(out.stdout) == first


def test_ids_change_with_content_and_only_there(tmp_path, count):
    path = tmp_path / seed("001").name
    shutil.copy(seed("001"), path)
    _, before = chunked(path, count)
    text = path.read_text(encoding="utf-8")
    changed = text.replace("The Chair asked about dental health", "The Chair asked about eye health")
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    _, after = chunked(path, count)
    old, new = {c.id for c in before}, {c.id for c in after}
    gone = [c for c in before if c.id not in new]
    added = [c for c in after if c.id not in old]
    assert len(gone) == 1 and "dental health" in gone[0].text
    assert len(added) == 1 and "eye health" in added[0].text
    assert len(old & new) == len(before) - 1  # the rest keep their ids


def test_ids_depend_on_the_source(count):
    _, here = chunked(seed("004"), count)
    _, there = chunked(seed("004"), count, source="elsewhere/004.txt")
    assert not {c.id for c in here} & {c.id for c in there}


def test_repeated_identical_chunks_get_distinct_ids(count):
    """Two chunks with the same words under the same item (a paragraph printed twice)."""
    text = " ".join(["The clerk read the public comment cards submitted on the harbour dredging item."] * 10)
    assert CHUNK_TOKENS // 2 < count(text) <= CHUNK_TOKENS - 40  # two cannot share a chunk
    seg = Segment(text=text, kind="discussion", page_start=4, page_end=4, council="Testville Council",
                  date="2019-06-04", item="19-350", title="Harbour dredging")
    chunks = chunk_segments("x.pdf", [seg, seg], CHUNK_TOKENS, count)
    assert len(chunks) == 2 and chunks[0].embed_text == chunks[1].embed_text
    assert chunks[1].id == chunks[0].id + "-2"
    assert [c.id for c in chunk_segments("x.pdf", [seg, seg], CHUNK_TOKENS, count)] == [c.id for c in chunks]


# ---- the header -------------------------------------------------------------------------


def test_header_has_council_committee_human_date_and_item_title(count):
    _, chunks = chunked(seed("000"), count)
    expected = ("Herefordshire Council, Cabinet. 26 September 2024. "
                "Item 24: Children and Young persons’ Improvement Plan – progress update.")
    bodies = [c for c in chunks if c.section != "heading"]
    assert bodies
    for chunk in bodies:
        assert chunk.embed_text == f"{expected}\n{chunk.text}"
        assert (chunk.committee, chunk.date, chunk.item) == ("Cabinet", "2024-09-26", "24")
    phase = next(c for c in chunks if "Phase 2" in c.text)
    assert phase.embed_text.startswith(expected)


def test_header_when_the_date_is_not_known(count):
    _, chunks = chunked(seed("001"), count)
    action = next(c for c in chunks if "Action - David Mehaffey" in c.text)
    first_line = action.embed_text.split("\n")[0]
    assert first_line == ("Herefordshire Council, Health and Wellbeing Board. date not stated. "
                          "Children's Services Improvement Plan.")


def test_header_heading_chunk_does_not_repeat_the_title(count):
    _, chunks = chunked(seed("003"), count)
    heading = chunks[0]
    assert heading.section == "heading"
    assert heading.embed_text.split("\n")[0] == "Corporate Parenting Board. date not stated."
    assert heading.text.startswith("Children's Services Improvement – Moving from Inadequate")


@pytest.mark.alameda
def test_header_on_alameda(count, alameda_dir):
    path = alameda_dir / "2019-06-04.pdf"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    _, chunks = chunked(path, count)
    carmel = next(c for c in chunks if "Carmel Partners" in c.text)
    assert carmel.embed_text.startswith("Alameda City Council. 4 June 2019. Closed Session Report.\n")
    otis = [c for c in chunks if c.item == "19-348" and c.section == "motion"]
    assert otis
    assert otis[0].embed_text.startswith(
        "Alameda City Council. 4 June 2019. Item 19-348: Recommendation to Approve Otis Drive Traffic Calming "
        "and Safety Improvement Project Design Concept Recommendations.\nVice Mayor Knox White moved approval")
    assert (otis[0].page_start, otis[0].page_end) == (8, 8)


def test_header_function():
    seg = Segment(text="x", kind="discussion", page_start=1, page_end=1, council="Alameda City Council",
                  committee="City Council", date="2019-06-04", item="19-330", title="Closed session")
    # a committee named in the council is not repeated
    assert header(seg) == "Alameda City Council. 4 June 2019. Item 19-330: Closed session."
    assert header(seg, with_title=False) == "Alameda City Council. 4 June 2019. Item 19-330."
    long_title = ("Recommendation to Authorize the City Manager to Execute a Three-Year Agreement with "
                  "Nossaman LLP to Provide Grant Funding Development Services.")
    seg = Segment(text="x", kind="discussion", page_start=1, page_end=1, council="Testville Council",
                  committee="Planning Committee", date="", item="", title=long_title)
    assert header(seg) == ("Testville Council, Planning Committee. date not stated. Recommendation to "
                           "Authorize the City Manager to Execute a Three-Year Agreement with Nossaman LLP ….")


# ---- the naive baseline -----------------------------------------------------------------


def test_chunk_naive_on_text(count):
    doc = read_document(seed("001"))
    chunks = chunk_naive(doc)
    assert len(chunks) >= 5
    assert all(len(c.text) <= 1000 for c in chunks)
    assert all(c.embed_text == c.text and c.section == "discussion" for c in chunks)
    assert all((c.council, c.committee) == ("Herefordshire Council", "Health and Wellbeing Board") for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.id for c in chunk_naive(read_document(seed("001")))] == [c.id for c in chunks]
    # long paragraphs are cut with an overlap, and together the chunks cover the whole text
    overlapping = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.text[-40:].split(" ", 1)[-1][:25] in b.text]
    assert overlapping
    covered = " ".join(c.text for c in chunks)
    for word in set(doc.pages[0].text.split()):
        assert word in covered


def test_chunk_naive_keeps_pdf_pages(tmp_path):
    from test_readers import PAGE_TEXT, minutes_pdf_bytes

    path = tmp_path / "2021-03-03.pdf"
    path.write_bytes(minutes_pdf_bytes())
    chunks = chunk_naive(read_document(path))
    assert [c.page_start for c in chunks] == [1, 2, 3]
    for chunk in chunks:
        assert PAGE_TEXT[chunk.page_start][0] in chunk.text


@pytest.mark.slow
def test_naive_chunker_through_ingest(tmp_path, real_embedder):
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    settings = Settings(index_dir=tmp_path / "index", chunker="naive")
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, [str(seed("001")), str(seed("002"))])
    assert report.files_indexed == 2
    stored = index.catalog.chunks()
    assert len(stored) == report.chunks_added == index.store.count()
    assert all(c.section == "discussion" and len(c.text) <= 1000 for c in stored)
    assert collection_name(settings) != collection_name(Settings(index_dir=tmp_path / "index"))
    hits = index.retriever.search("David Mehaffey NHS colleagues NEETs", k=3)
    assert hits and "Mehaffey" in hits[0].chunk.text

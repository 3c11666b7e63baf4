"""Decisions as records: extraction at ingest, the register kept in step with the index,
history across meetings, answers from records, and the two commands.

Real model and real index (the session fixtures in conftest.py); a few unit tests of the
vote and name parsers run without either."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.decisions import DecisionRegister, decision_answer, decision_hooks
from assistant.decisions.extract import clean_name, parse_vote, split_names
from assistant.core.types import Filters
from conftest import CORPUS, ROOT

MINUTES = [str(ROOT / ".venv" / "bin" / "minutes")] if (ROOT / ".venv" / "bin" / "minutes").exists() else \
    [sys.executable, "-m", "assistant.app.cli"]


# ---- the vote and name parsers ------------------------------------------------------------

VOTES = [
    # text, outcome, ayes, noes, abstentions, absent, names
    ("Councilmember deHaan seconded the motion, which carried by unanimous voice vote – 5.",
     "carried", 5, 0, None, None, {}),
    ("Councilmember Oddie seconded the motion, which carried by unanimous voice vote – 4. [Absent: Councilmember "
     "Vella – 1.]", "carried", 4, 0, None, 1, {"absent": ["Vella"]}),
    ("Councilmember Vella seconded the motion, which carried by the following roll call vote: Councilmembers Daysog: "
     "No; Knox White: Aye; Oddie: Aye; Vella: Aye and Mayor Ezzy Ashcraft: Aye. Ayes: 4. Noes: 1.",
     "carried", 4, 1, None, None, {"noes": ["Daysog"], "ayes": ["Knox White", "Oddie", "Vella", "Ezzy Ashcraft"]}),
    ("Councilmember/Commissioner deHaan seconded the motion, which carried by the following voice vote: Ayes: "
     "Councilmembers/Commissioners deHaan, Gilmore, Matarrese, Tam, and Mayor/Chair Johnson – 5. Abstentions: "
     "Commissioner Torrey – 1.", "carried", 5, 0, 1, None,
     {"ayes": ["deHaan", "Gilmore", "Matarrese", "Tam", "Johnson"], "abstentions": ["Torrey"]}),
    ("Vice Mayor Vella seconded the motion, which failed by the following voice vote: Ayes: Councilmembers Oddie "
     "and Vella – 2. Noes: Councilmembers Daysog, Knox White and Mayor Ezzy Ashcraft – 3.", "failed", 2, 3, None,
     None, {"ayes": ["Oddie", "Vella"], "noes": ["Daysog", "Knox White", "Ezzy Ashcraft"]}),
    ("The motion failed for lack of a second.", "failed", None, None, None, None, {}),
    ("Vice Mayor Gilmore seconded the motion, whic h car ried by unanimous voice vote – 5.", "carried", 5, 0, None,
     None, {}),
    ("Councilmember Ezzy Ashcraft seconded the motion which carried by the following voice vote: Councilmembers "
     "Ezzy Ashcraft, Matarrese and Vella – 3. Noes: Councilmember Matarrese and Mayor Spencer – 2.", "carried", 3, 2,
     None, None, {"ayes": ["Ezzy Ashcraft", "Matarrese", "Vella"], "noes": ["Matarrese", "Spencer"]}),
    ("by unanimous vote, the Council authorized the City Attorney to settle this matter", None, None, None, None,
     None, {}),
    ("The recommendation was proposed, seconded, and approved unanimously.", "carried", None, None, None, None, {}),
    ("On being put to the vote the motion was carried (7 for, 2 against, 1 abstention).", "carried", 7, 2, 1, None, {}),
    ("Council voted as follows: Councilmembers Ezzy Ashcraft, Matarrese, Oddie and Vella – 4. Noes: Mayor Spencer – 1.",
     "carried", 4, 1, None, None, {"ayes": ["Ezzy Ashcraft", "Matarrese", "Oddie", "Vella"], "noes": ["Spencer"]}),
    ("Councilmember Tam seconded the motion, which carried by the following voice vote – 5.", "carried", 5, 0, None,
     None, {}),
]


@pytest.mark.parametrize("text, outcome, ayes, noes, abstentions, absent, names", VOTES)
def test_parse_vote(text, outcome, ayes, noes, abstentions, absent, names):
    vote = parse_vote(text)
    assert (vote.outcome, vote.ayes, vote.noes, vote.abstentions, vote.absent) == (outcome, ayes, noes, abstentions, absent)
    for key, expected in names.items():
        assert vote.names.get(key) == expected


def test_unanimous_without_count_is_recorded_as_such():
    vote = parse_vote("by unanimous vote, the Council authorized the City Attorney to settle")
    assert vote.unanimous and vote.ayes is None and vote.noes is None


@pytest.mark.parametrize("printed, name", [
    ("Vice Mayor Knox White", "Knox White"),
    ("Councilmember/Commissioner deHaan", "deHaan"),
    ("Mayor Ezzy Ashcraft", "Ezzy Ashcraft"),
    ("Vice Mayor /Agency Member Ezzy Ashcraft", "Ezzy Ashcraft"),
    ("Councilmember/Authority Mem ber Chen", "Chen"),
    ("Councilmember/Board Member", ""),
    ("the City Manager stated the building", ""),
])
def test_clean_name(printed, name):
    assert clean_name(printed) == name


def test_split_names():
    assert split_names("Councilmembers Daysog, deHaan, Gilmore, Matarrese, and Mayor Johnson – 5.") == [
        "Daysog", "deHaan", "Gilmore", "Matarrese", "Johnson"]
    assert split_names("None.") == []


def _seg(text: str, kind: str, item: str = "") -> "Segment":
    from assistant.core.types import Segment

    return Segment(text=text, kind=kind, page_start=1, page_end=1, council="Alameda City Council",
                   committee="City Council", meeting="Regular City Council Meeting", date="2020-03-03", item=item)


def test_walk_over_segments_keeps_items_motions_and_consent_apart():
    from assistant.decisions.extract import extract

    segments = [
        _seg("MINUTES OF THE REGULAR CITY COUNCIL MEETING TUESDAY- - MARCH 3, 2020- -7:00 P.M.", "procedural"),
        _seg("ROLL CALL - Present: Councilmembers Daysog, Knox White, Oddie, Vella, and Mayor Ezzy Ashcraft – 5.",
             "procedural"),
        _seg("(20-119) Maria Gallo, Alameda, discussed the Fernside Boulevard traffic calming efforts.", "heading", "20-119"),
        # the section heading glued to the consent motion by a page break
        _seg("CONSENT CALENDAR Vice Mayor Knox White moved approval of the Consent Calendar.\nCouncilmember Oddie "
             "seconded the motion, which carried by unanimous voice vote – 4. [Absent: Councilmember Vella – 1.]",
             "motion", "20-119"),
        _seg("(*20-120) Minutes of the Special and Regular City Council Meetings Held on February 4, 2020. Approved.",
             "heading", "20-120"),
        _seg("(20-137) Recommendation to Approve the Park and Recreation Facilities Project Priorities.", "heading", "20-137"),
        # a procedural item bracketed by *** interrupts 20-137
        _seg("*** (20-138) Mayor Ezzy Ashcraft stated a motion is needed to consider the two referrals after 11:00 p.m.",
             "discussion", "20-137"),
        _seg("Councilmember Oddie moved approval of considering the items.\nCouncilmember Vella seconded the motion.",
             "motion", "20-137"),
        _seg("On the call for the question, the motion carried by unanimous voice vote – 5. ***", "vote", "20-137"),
        _seg("Councilmember Oddie moved approval of the staff recommended priorities.", "motion", "20-137"),
        _seg("Councilmember Ve lla seconded the motion.", "vote", "20-137"),  # a name pypdf split
        _seg("On the call for the question, the motion carried by unanimous voice vote – 5.", "vote", "20-137"),
        _seg("(20-140) Consider Directing Staff to Provide Health Insurance to Part-Time Employees. (Councilmember Oddie)",
             "heading", "20-140"),
        _seg("Not heard.", "discussion", "20-140"),
        _seg("(20-141) Recommendation to Approve Negotiators for the West Midway Project.", "heading", "20-141"),
        _seg("The item was addressed under the previous item [paragraph no. 20-137].", "discussion", "20-141"),
    ]
    found = {}
    for f in extract(segments):
        found.setdefault(f.item, []).append(f)
    assert "20-119" not in found  # the consent motion is not the oral communication's
    consent = found["20-120"][-1]
    assert (consent.kind, consent.outcome, consent.mover, consent.seconder) == ("consent", "approved", "Knox White", "Oddie")
    assert (consent.vote.ayes, consent.vote.noes, consent.vote.absent) == (4, 0, 1)
    procedural = found["20-138"][-1]
    assert (procedural.mover, procedural.seconder, procedural.outcome) == ("Oddie", "Vella", "carried")
    priorities = found["20-137"][-1]
    assert priorities.text.startswith("Councilmember Oddie moved approval of the staff recommended priorities")
    assert (priorities.seconder, priorities.outcome, priorities.vote.ayes) == ("Vella", "carried", 5)
    assert [(f.kind, f.outcome, f.text) for f in found["20-140"]] == [("item", "deferred", "Not heard.")]
    assert found["20-141"][-1].text == priorities.text and found["20-141"][-1].outcome == "carried"


# ---- the seeds ---------------------------------------------------------------------------------

def _by_file(register, name: str) -> list:
    return [d for d in register.all() if Path(d.source).name == name]


@pytest.mark.slow
def test_seed_resolutions_and_actions_are_listed(seed_index):
    register = DecisionRegister.of(seed_index)
    hwb = _by_file(register, "001_78dc03a630ae0aea.txt")
    resolution = next(d for d in hwb if d.kind == "resolution")
    assert resolution.outcome == "approved" and resolution.unanimous
    assert resolution.committee == "Health and Wellbeing Board" and resolution.council == "Herefordshire Council"
    assert "Resolved that:" in resolution.text and "note the progress reported" in resolution.text
    action = next(d for d in hwb if d.kind == "action")
    assert action.action_owner == "David Mehaffey" and action.outcome is None
    assert action.text.startswith("Action - David Mehaffey to speak to NHS colleagues")

    cabinet = _by_file(register, "002_853824aa4043d8cf.txt")
    assert [(d.kind, d.outcome) for d in cabinet] == [("resolution", "approved")]
    assert "note the development of version two of the Improvement Plan" in cabinet[0].text
    assert cabinet[0].date == ""  # the minutes do not state it, and the register does not guess

    board = _by_file(register, "004_efe8cc0b9d09080a.txt")
    assert [(d.text, d.outcome) for d in board] == [("The Board agreed to note the report.", "noted")]
    parenting = _by_file(register, "003_ed4b8882c290d2c9.txt")
    assert [(d.kind, d.action_owner) for d in parenting] == [("action", "Kelly Twitchen")]
    assert _by_file(register, "000_0c651058bcd55b11.txt") == []  # truncated minutes: no decision visible

    for d in register.all():  # every record quotes its chunk verbatim
        chunk = register.chunk(d.chunk_id)
        assert chunk is not None and d.text in chunk.text


@pytest.mark.slow
def test_register_filters(seed_index):
    register = DecisionRegister.of(seed_index)
    noted = register.list(outcome="noted")
    assert [d.source.endswith("004_efe8cc0b9d09080a.txt") for d in noted] == [True]
    cabinet = register.list(Filters(committee="cabinet"))
    assert cabinet and all(d.committee == "Cabinet" for d in cabinet)
    assert [d.action_owner for d in register.list(text="NHS colleagues")] == ["David Mehaffey"]
    assert register.list(Filters(since="2024-01-01")) == []  # no seed decision has a stated date


# ---- Alameda -----------------------------------------------------------------------------------

def _alameda_day(register, day: str) -> dict:
    out = {}
    for d in register.all():
        if Path(d.source).name == f"{day}.pdf" and d.item and d.outcome:
            out[d.item] = d  # the item's last decision
    return out


@pytest.mark.slow
@pytest.mark.alameda
def test_alameda_consent_items_and_closed_session(alameda_sample_index):
    register = DecisionRegister.of(alameda_sample_index)
    day = _alameda_day(register, "2019-06-04")
    for item in ("19-334", "19-335", "19-336", "19-337", "19-338", "19-339", "19-340", "19-341", "19-344", "19-345"):
        d = day[item]
        assert (d.kind, d.outcome, d.mover, d.seconder, d.ayes, d.noes) == ("consent", "approved", "Knox White", "Oddie", 5, 0), item
        assert "Consent Calendar" in d.vote_text  # the consent motion that enacted it, verbatim
    assert "Accepted." in day["19-336"].text
    for item in ("19-342", "19-343"):  # not heard: deferred, and not part of the consent motion
        assert (day[item].outcome, day[item].mover) == ("deferred", "")
    carmel = day["19-330"]
    assert carmel.outcome == "approved" and carmel.mover == "" and carmel.unanimous
    assert (carmel.ayes, carmel.noes) == (None, None)  # "by unanimous vote": no count printed
    assert "by unanimous vote, the Council authorized the City Attorney to settle" in carmel.text
    assert "Carmel" in carmel.text and carmel.date == "2019-06-04" and carmel.page == 1


@pytest.mark.slow
@pytest.mark.alameda
def test_alameda_roll_call_votes(alameda_sample_index):
    register = DecisionRegister.of(alameda_sample_index)
    day = _alameda_day(register, "2019-06-04")
    otis = day["19-348"]
    assert (otis.kind, otis.outcome, otis.mover, otis.seconder) == ("motion", "carried", "Knox White", "Vella")
    assert (otis.ayes, otis.noes, otis.abstentions, otis.absent) == (4, 1, None, None)
    assert otis.vote_names["noes"] == ["Daysog"]
    assert otis.text.startswith("Vice Mayor Knox White moved approval of the plan")
    recused = day["19-351"]
    assert (recused.mover, recused.seconder, recused.ayes, recused.noes, recused.absent) == ("Vella", "Oddie", 4, 0, 1)
    for item in ("19-347", "19-347A", "19-347B"):  # one motion adopted the three resolutions
        assert (day[item].mover, day[item].seconder, day[item].ayes) == ("Vella", "Daysog", 5)
    assert day["19-349"].outcome == "refused" and day["19-349A"].outcome == "carried"


# ---- in step with the index ----------------------------------------------------------------------

@pytest.mark.slow
def test_changed_file_updates_and_removed_file_deletes_decisions(tmp_path, real_embedder):
    from assistant.core.config import Settings
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    board = folder / "board.txt"
    shutil.copy(CORPUS / "004_efe8cc0b9d09080a.txt", board)
    shutil.copy(CORPUS / "001_78dc03a630ae0aea.txt", folder / "hwb.txt")
    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=real_embedder)
    ingest(index, [str(folder)], hooks=decision_hooks(index))
    register = DecisionRegister.of(index)
    assert [d.outcome for d in register.of_file(str(board))] == ["noted"]
    before = {d.id for d in register.all()}

    board.write_text(board.read_text(encoding="utf-8").replace(
        "The Board agreed to note the report.", "The Board agreed to defer the report to its next meeting."),
        encoding="utf-8")
    report = ingest(index, [str(folder)], hooks=decision_hooks(index))
    assert report.files_indexed == 1 and report.files_unchanged == 1
    changed = register.of_file(str(board))
    assert [(d.outcome, d.text) for d in changed] == [("deferred", "The Board agreed to defer the report to its next meeting.")]
    assert register.chunk(changed[0].chunk_id) is not None
    hwb = [d for d in register.all() if d.source.endswith("hwb.txt")]
    assert {d.id for d in hwb} <= before  # the unchanged file keeps its records

    board.unlink()
    report = ingest(index, [str(folder)], hooks=decision_hooks(index))
    assert report.files_removed == 1
    assert register.of_file(str(board)) == []
    assert {d.id for d in register.all()} == {d.id for d in hwb}


@pytest.mark.slow
def test_files_indexed_before_the_register_are_brought_up_to_date(tmp_path, real_embedder):
    from assistant.core.config import Settings
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    index = MinutesIndex.open(Settings(index_dir=tmp_path / "index"), embedder=real_embedder)
    ingest(index, [str(CORPUS / "002_853824aa4043d8cf.txt")])  # no hooks: an older index
    register = DecisionRegister.of(index)
    assert register.count() == 0
    ingest(index, [str(CORPUS / "002_853824aa4043d8cf.txt")], hooks=decision_hooks(index))  # unchanged file
    assert [d.kind for d in register.all()] == ["resolution"]


# ---- the commands ------------------------------------------------------------------------------------

def _minutes(index_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MINUTES_INDEX_DIR=str(index_dir))
    return subprocess.run([*MINUTES, "--index", str(index_dir), *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


@pytest.mark.slow
def test_decisions_command_json_and_csv(seed_index):
    index_dir = seed_index.settings.index.index_dir
    run = _minutes(index_dir, "decisions", "--json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert {(Path(r["source"]).name, r["kind"], r["outcome"]) for r in rows} >= {
        ("001_78dc03a630ae0aea.txt", "resolution", "approved"),
        ("001_78dc03a630ae0aea.txt", "action", None),
        ("002_853824aa4043d8cf.txt", "resolution", "approved"),
        ("004_efe8cc0b9d09080a.txt", "resolution", "noted"),
    }
    assert any(r["action_owner"] == "David Mehaffey" for r in rows)

    run = _minutes(index_dir, "decisions", "--csv", "--committee", "Cabinet")
    assert run.returncode == 0, run.stderr
    table = list(csv.DictReader(io.StringIO(run.stdout)))
    assert table and all(r["committee"] == "Cabinet" for r in table)
    assert "version two" in table[0]["text"] and table[0]["outcome"] == "approved"

    run = _minutes(index_dir, "decisions", "--outcome", "noted")
    assert run.returncode == 0 and "noted" in run.stdout and "date" in run.stdout.splitlines()[0]
    run = _minutes(index_dir, "decisions", "--outcome", "maybe")
    assert run.returncode == 2 and "--outcome" in run.stderr


@pytest.mark.slow
def test_commands_on_an_empty_index_say_so(tmp_path):
    run = _minutes(tmp_path / "empty", "decisions")
    assert run.returncode == 2 and "empty" in run.stderr and "minutes ingest" in run.stderr
    run = _minutes(tmp_path / "empty", "history", "improvement plan")
    assert run.returncode == 2 and "empty" in run.stderr


@pytest.mark.slow
def test_history_command_orders_the_improvement_plan(seed_index):
    index_dir = seed_index.settings.index.index_dir
    run = _minutes(index_dir, "history", "improvement plan", "--json")
    assert run.returncode == 0, run.stderr
    history = json.loads(run.stdout)
    entries = history["entries"]
    names = [Path(e["source"]).name for e in entries]
    assert history["council"] == "Herefordshire Council"
    # cabinet and scrutiny's agreement in December 2022 (reported by the HWB minutes) comes first
    assert entries[0]["date_basis"] == "reported" and "December 2022" in entries[0]["when"]
    assert "agreed by Children’s Scrutiny and Cabinet in December 2022" in entries[0]["text"]
    # then the HWB resolution (undated, placed after June 2023 by what its text says), then cabinet 26/09/2024
    hwb = names.index("001_78dc03a630ae0aea.txt", 1)
    phase2 = names.index("000_0c651058bcd55b11.txt")
    assert hwb < phase2 and entries[phase2]["date"] == "2024-09-26"
    assert entries[hwb]["date_basis"] == "inferred" and "June 2023" in entries[hwb]["when"]
    # the 2022 cabinet minutes state no date: listed last, marked so
    v2 = names.index("002_853824aa4043d8cf.txt")
    assert v2 > phase2 and entries[v2]["when"] == "date not stated" and entries[v2]["outcome"] == "approved"
    assert history["latest"] == hwb + 1 and entries[hwb]["latest"]
    assert "Plymouth City Council" in history["other_councils"]

    chunks = {c.id: c for c in seed_index.lexical.all_chunks()}
    for e in entries:  # every entry cites a passage that holds its quote
        assert e["text"] in chunks[e["chunk_id"]].text

    run = _minutes(index_dir, "history", "improvement plan")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "26 September 2024" in out and "date not stated" in out and "[1]" in out
    assert "Sources:" in out and "corpus/001_78dc03a630ae0aea.txt, page 1" in out
    assert out.index("December 2022") < out.index("26 September 2024")


# ---- answers from records -----------------------------------------------------------------------------

def _plan(index, question: str):
    from assistant.answer.query import plan_query

    stats = index.catalog.stats()
    return plan_query(question, [], Filters(), stats["committees"], stats["councils"])


@pytest.mark.slow
def test_decision_answer_quotes_the_resolution(seed_index):
    register = DecisionRegister.of(seed_index)
    plan = _plan(seed_index, "What did the health and wellbeing board resolve about the improvement plan?")
    hits = seed_index.retriever.search(plan.standalone, plan.filters, k=8)
    draft = decision_answer(register, plan, hits)
    assert draft is not None
    first = draft.citations[0]
    assert first.quote.startswith("Resolved that:") and "The Health and Wellbeing Board note the progress" in first.quote
    assert first.quote in first.chunk.text and first.chunk.source.endswith("001_78dc03a630ae0aea.txt")
    assert "Health and Wellbeing Board" in draft.text and "[1]" in draft.text and "approved" in draft.text


@pytest.mark.slow
def test_decision_answer_latest_position_uses_the_timeline(seed_index):
    register = DecisionRegister.of(seed_index)
    plan = _plan(seed_index, "What is the latest position on the improvement plan?")
    draft = decision_answer(register, plan, seed_index.retriever.search(plan.standalone, plan.filters, k=8))
    assert draft is not None
    assert draft.text.startswith("The latest recorded decision on this")
    assert "Resolved that:" in draft.citations[0].quote  # the HWB resolution is the latest dated decision
    assert "26 September 2024" in draft.text  # and cabinet considered it again after, with no decision shown
    assert "do not state the date" in draft.text  # the undated 2022 cabinet resolution is not placed
    for c in draft.citations:
        assert c.quote in c.chunk.text


@pytest.mark.slow
@pytest.mark.alameda
def test_decision_answer_who_moved(alameda_sample_index):
    register = DecisionRegister.of(alameda_sample_index)
    plan = _plan(alameda_sample_index, "Who moved approval of the Otis Drive traffic calming plan?")
    hits = alameda_sample_index.retriever.search(plan.standalone, plan.filters, k=8)
    draft = decision_answer(register, plan, hits)
    assert draft is not None
    assert "moved by Knox White, seconded by Vella" in draft.text and "Noes 1 (Daysog)" in draft.text
    assert draft.citations[0].quote.startswith("Vice Mayor Knox White moved approval of the plan")
    assert draft.citations[0].quote in draft.citations[0].chunk.text


@pytest.mark.slow
def test_decision_answer_declines_when_no_record_matches(seed_index):
    register = DecisionRegister.of(seed_index)
    plan = _plan(seed_index, "What did the council decide about the golf course restaurant lease?")
    draft = decision_answer(register, plan, seed_index.retriever.search(plan.standalone, plan.filters, k=8))
    assert draft is None
    plan = _plan(seed_index, "How many foster carers are there?")  # not a decision question
    assert decision_answer(register, plan, seed_index.retriever.search(plan.standalone, plan.filters, k=8)) is None

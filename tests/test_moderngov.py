"""The ModernGov sync against a ModernGov-shaped service on 127.0.0.1 (tests/moderngov_server.py,
answers written by hand from the service's documented shape): metadata from the service,
restricted items, meetings without minutes, cancelled meetings, a malformed answer, a slow
answer, 500s, a second run that fetches nothing, a changed meeting, and a run killed half-way
then completed. Nothing here reaches the network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from fpdf import FPDF

from assistant.core.config import Settings
from assistant.decisions import decision_hooks
from assistant.core.errors import MinutesError
from assistant.retrieve.minutes_index import MinutesIndex
from assistant.ingest import moderngov as mg
from assistant.ingest.watch import last_sync
from assistant.ingest.moderngov import (
    FetchError, ModernGovClient, clean_body, clean_title, parse_meeting, parse_xml, select_committees,
    service_root, sync_moderngov, to_uk, uk_date,
)

from moderngov_server import FIXTURES, FakeModernGov
from conftest import ROOT
from fakes import HashingEmbedder

COUNCIL = "Shire Test Council"


def minutes_pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())


PDFS = {
    # Under the "Minutes of the previous meeting" item of 18/01/2024: the minutes of 14/12/2023.
    "9001": minutes_pdf([
        "Minutes of the meeting of Cabinet held at Shire Hall on Thursday 14 December 2023 at 10.00 am",
        "45. Highways maintenance programme",
        "Cabinet considered the highways maintenance programme and the state of rural bridges.",
        "RESOLVED: That the highways maintenance programme for 2024/25 be approved.",
    ]),
    # Under the "Minutes" item of 14/03/2024: the printed minutes of 18/01/2024.
    "9002": minutes_pdf([
        "Minutes of the meeting of Cabinet held on Thursday 18 January 2024 at 2.30 pm",
        "52. Waste collection contract",
        "RESOLVED: That the waste collection contract be extended to March 2027 with the food waste service.",
    ]),
    "9003": minutes_pdf(["Report: Phase 2 Improvement Plan. This report is an agenda paper, not minutes."]),
    "9005": minutes_pdf(["Appendix A: budget tables for quarter 3."]),
    "9006": minutes_pdf(["Consultation responses on the local transport plan."]),
}


@pytest.fixture
def server():
    fake = FakeModernGov(PDFS, slow_seconds=1.5)
    fake.start()
    yield fake
    fake.stop()


def open_index(tmp_path: Path, **overrides) -> MinutesIndex:
    settings = Settings(index_dir=tmp_path / "index", moderngov_delay=0.0, moderngov_timeout=0.6,
                        moderngov_retries=2, moderngov_backoff=0.05, **overrides)
    return MinutesIndex.open(settings, embedder=HashingEmbedder())


def run_sync(index, server, **kw):
    kw.setdefault("committees", ["Cabinet"])
    kw.setdefault("since", "2024-01-01")
    kw.setdefault("council", COUNCIL)
    return sync_moderngov(index, server.base, hooks=decision_hooks(index), ingest_workers=0, **kw)


def chunks_of(index, name_part: str) -> list:
    rows = [rec for rec in index.catalog.files() if name_part in Path(rec.path).name]
    assert rows, f"no catalogued file named like {name_part}"
    return [c for rec in rows for c in index.catalog.chunks_of(rec.path)]


def file_record(index, name_part: str):
    return next(rec for rec in index.catalog.files() if name_part in Path(rec.path).name)


# ---- reading the service's XML ------------------------------------------------------------


def test_dates_go_out_day_first_and_come_back_iso():
    assert to_uk("2024-01-05") == "05/01/2024"
    assert uk_date("05/01/2024") == "2024-01-05"
    assert uk_date(" 5/1/2024 00:00:00") == "2024-01-05"
    assert uk_date("31/02/2024") == "" and uk_date("2024-01-05") == "" and uk_date("\n   ") == ""


def test_titles_escaped_once_or_twice_are_read_as_words():
    assert clean_title("Children&#39;s Services &ndash; Phase 2") == "Children's Services – Phase 2"
    assert clean_title("Audit &amp;amp; Governance\n   Committee") == "Audit & Governance Committee"
    assert clean_title("Fish &amp; chips") == "Fish & chips"


def test_bodies_empty_or_escaped_twice():
    assert clean_body("\n      ") == ""
    assert clean_body("<p>&nbsp;</p>\n<div> </div>") == ""
    assert clean_body("&lt;p&gt;Agreed.&lt;/p&gt;") == "<p>Agreed.</p>"
    assert clean_body("<p>Agreed.</p>") == "<p>Agreed.</p>"


@pytest.mark.parametrize("given,root", [
    ("https://democracy.example.gov.uk", "https://democracy.example.gov.uk/"),
    ("https://democracy.example.gov.uk/", "https://democracy.example.gov.uk/"),
    ("https://democracy.example.gov.uk/mgWebService.asmx", "https://democracy.example.gov.uk/"),
    ("https://democracy.example.gov.uk/mgWebService.asmx/GetCommittees", "https://democracy.example.gov.uk/"),
    ("https://www.example.gov.uk/moderngov/mgCommitteeDetails.aspx?ID=144", "https://www.example.gov.uk/moderngov/"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123/"),
])
def test_service_root_from_what_a_user_pastes(given, root):
    assert service_root(given) == root


@pytest.mark.parametrize("bad", ["democracy.example.gov.uk", "ftp://x.gov.uk", ""])
def test_service_root_refuses_what_is_not_a_site(bad):
    with pytest.raises(MinutesError, match="ModernGov site"):
        service_root(bad)


def test_meeting_fixture_read_with_real_element_names():
    meeting = parse_meeting(parse_xml((FIXTURES / "GetMeeting-4010.xml").read_bytes(), "GetMeeting"))
    assert (meeting.id, meeting.date, meeting.minutes_published) == ("4010", "2024-01-18", True)
    by_number = {item.number: item for item in meeting.items}
    assert set(by_number) == {"51", "54", "9", "57"}  # minutes numbers; the agenda's "9." where none
    phase2 = by_number["54"]
    assert phase2.title == "Children's Services Improvement Plan – Phase 2"
    assert phase2.is_decision and not phase2.is_restricted
    assert "<b>RESOLVED</b>" in phase2.minutes_html and "Children&#8217;s" in phase2.minutes_html  # HTML, for the reader
    assert by_number["57"].is_restricted and "&pound;1.2 million" in by_number["57"].minutes_html
    assert by_number["9"].minutes_html == ""
    assert [d.id for d in phase2.docs] == ["9003", "9004"] and phase2.docs[1].is_url


def test_namespaced_answer_read_the_same():
    meeting = parse_meeting(parse_xml((FIXTURES / "GetMeeting-4011.xml").read_bytes(), "GetMeeting"))
    assert [i.number for i in meeting.items] == ["2", "71"]
    assert meeting.items[0].docs[0].url == "mgConvert2PDF.aspx?ID=9002"


def test_malformed_and_html_answers_are_one_line_errors():
    with pytest.raises(FetchError, match="malformed XML"):
        parse_xml((FIXTURES / "GetMeeting-4014-malformed.xml").read_bytes(), "GetMeeting?lMeetingId=4014")
    with pytest.raises(FetchError, match="web page, not XML"):
        parse_xml(b"<!DOCTYPE html><html><body>Just a moment...</body></html>", "GetCommittees")


def test_xml_bombs_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><x>&b;</x>'
    with pytest.raises(FetchError):
        parse_xml(bomb, "GetCommittees")


def test_committees_chosen_by_name_with_a_suggestion_when_misspelt():
    available = mg.parse_committees(parse_xml((FIXTURES / "GetCommittees.xml").read_bytes(), "GetCommittees"))
    assert [c.title for c in select_committees(available, ["cabinet "])] == ["Cabinet"]
    assert [c.title for c in select_committees(available, [])] == [
        "Cabinet", "Planning and Regulatory Committee", "Audit & Governance Committee"]  # not the deleted one
    with pytest.raises(MinutesError, match="no committee named 'Cabinett'.*did you mean 'Cabinet'"):
        select_committees(available, ["Cabinett"])


# ---- the client: polite, patient, one request at a time -----------------------------------


def test_client_names_itself_waits_between_requests_and_sends_uk_dates(server):
    with ModernGovClient(server.base, delay=0.25, timeout=2, retries=0) as client:
        client.committees()
        client.meetings("144", "2024-01-01", "2024-03-31")
        client.meetings("144", "2024-04-01", "2024-12-31")
    gaps = [b - a for a, b in zip(server.times, server.times[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.24
    assert all(ua.startswith("council-minutes-assistant/") for ua in server.user_agents)


def test_client_retries_a_500_and_a_slow_answer_with_growing_pauses(server):
    server.fault("GetMeeting:4010", "500", "slow")
    pauses = []
    client = ModernGovClient(server.base, delay=0, timeout=0.5, retries=3, backoff=0.1, sleep=pauses.append)
    meeting = client.meeting("4010")
    client.close()
    assert meeting.id == "4010" and server.count("GetMeeting:4010") == 3
    assert pauses == [0.1, 0.2]


def test_client_gives_up_after_its_retries_with_the_reason(server):
    server.fault("GetMeeting:4010", "500", "500", "500")
    client = ModernGovClient(server.base, delay=0, timeout=1, retries=2, backoff=0, sleep=lambda s: None)
    with pytest.raises(FetchError, match=r"GetMeeting\?lMeetingId=4010: HTTP 500 \(3 tries\)"):
        client.meeting("4010")
    client.close()


def test_client_does_not_follow_links_to_other_sites(server):
    client = ModernGovClient(server.base, delay=0)
    with pytest.raises(FetchError, match="not on the service's site"):
        client.document("https://elsewhere.example.org/board-minutes.pdf")
    client.close()


# ---- the sync ------------------------------------------------------------------------------


def test_sync_ingests_with_the_services_metadata_then_a_second_run_fetches_nothing(tmp_path, server):
    index = open_index(tmp_path)
    report = run_sync(index, server)

    # Only the dates asked for, sent day first: the December 2023 meeting is not even listed.
    assert server.count("GetMeetings:144") == 1 and server.count("GetMeeting:4001") == 0
    assert report.meetings_listed == 5  # 2024 to today: not December 2023, not 2099
    assert sorted(report.added) == sorted([
        "Cabinet 2024-01-18 (meeting 4010)", "Cabinet 2024-03-14 (meeting 4011)", "Cabinet 2024-07-18 (meeting 4014)"])
    skipped = dict(report.skipped)
    assert skipped["Cabinet 2024-05-16 (meeting 4012)"] == "no minutes published yet"
    assert skipped["Cabinet 2024-06-20 (meeting 4013)"] == "cancelled"
    # Minutes documents are fetched; reports, appendices and links to other sites are not.
    assert server.count("doc:9001") == 1 and server.count("doc:9002") == 1
    assert server.count("doc:9003") == server.count("doc:9005") == server.count("doc:9006") == 0
    assert report.ingest.files_indexed == 7 and report.ingest.files_skipped == 0

    # Council, committee, date, item and title come from the service, not from the text.
    phase2 = chunks_of(index, "item-54-")
    assert {(c.council, c.committee, c.date, c.item, c.title) for c in phase2} == {
        (COUNCIL, "Cabinet", "2024-01-18", "54", "Children's Services Improvement Plan – Phase 2")}
    assert any(c.section == "resolution" and "be endorsed" in c.text for c in phase2)
    assert file_record(index, "item-54-").metadata["url"] == f"{server.base}mgAi.aspx?ID=30102"
    # The restricted item is a restricted document; the others are not.
    assert file_record(index, "item-57-").metadata.get("restricted") is True
    assert "restricted" not in file_record(index, "item-54-").metadata
    # A minutes PDF under a "Minutes" item is an earlier meeting's: dated by its title, not as this one.
    printed = chunks_of(index, "doc-9002")
    assert {(c.committee, c.date) for c in printed} == {("Cabinet", "2024-01-18")}
    assert any("waste collection contract" in c.text for c in printed)
    assert {c.date for c in chunks_of(index, "doc-9001")} == {"2023-12-14"}

    # The folder and its manifest hold what the service said.
    folder = Path(report.folder)
    manifest = json.loads(next(folder.glob("Cabinet/2024-01-18_4010/manifest.json")).read_text())
    assert manifest["files"]["item-57-30104.html"]["restricted"] is True
    assert manifest["files"]["item-57-30104.html"]["decision"] is True

    assert last_sync(index.catalog)["what"] == "ModernGov " + server.base.split("/")[2]

    # Again: no meeting or document is fetched but the one still waiting for its minutes.
    before = len(server.log)
    again = run_sync(index, server)
    fetched = server.log[before:]
    assert fetched == ["GetCommittees", "GetMeetings:144", "GetMeeting:4012"]
    assert (again.added, again.changed, again.settled) == ([], [], 3)
    assert again.ingest.chunks_embedded == 0 and again.ingest.files_indexed == 0
    assert "3 already synced (not fetched)" in again.summary()


def test_sync_rides_out_a_500_and_a_slow_answer_and_completes_a_malformed_meeting_later(tmp_path, server):
    index = open_index(tmp_path)
    server.fault("GetMeeting:4010", "500")
    server.fault("GetMeeting:4011", "slow")
    server.fault("GetMeeting:4014", "malformed")
    server.fault("doc:9002", "500", "500", "500")  # more than the retries: the meeting is incomplete
    report = run_sync(index, server)
    assert "Cabinet 2024-01-18 (meeting 4010)" in report.added  # after the 500
    assert "Cabinet 2024-03-14 (meeting 4011)" in report.added  # after the slow answer timed out
    skipped = dict(report.skipped)
    assert "malformed XML" in skipped["Cabinet 2024-07-18 (meeting 4014)"]
    assert "HTTP 500 (3 tries)" in skipped["Cabinet 2024-03-14 (meeting 4011): Printed minutes 18th-Jan-2024 14.30 Cabinet"]
    assert not any("doc-9002" in rec.path for rec in index.catalog.files())
    assert chunks_of(index, "item-71-")  # the rest of 4011 is in

    before = len(server.log)
    again = run_sync(index, server)
    fetched = server.log[before:]
    assert "GetMeeting:4010" not in fetched  # settled
    assert "GetMeeting:4011" in fetched and "doc:9002" in fetched and "GetMeeting:4014" in fetched
    assert "Cabinet 2024-07-18 (meeting 4014)" in again.added
    assert "Cabinet 2024-03-14 (meeting 4011)" in again.changed or "Cabinet 2024-03-14 (meeting 4011)" in again.added
    assert any("waste collection contract" in c.text for c in chunks_of(index, "doc-9002"))
    assert chunks_of(index, "item-12-")[0].date == "2024-07-18"


def test_recent_meetings_are_checked_again_and_changes_reported(tmp_path, server):
    index = open_index(tmp_path)
    today = date(2024, 8, 1)  # 4014 (18 July) is recent: not settled
    first = run_sync(index, server, today=today)
    assert "Cabinet 2024-07-18 (meeting 4014)" in first.added

    again = run_sync(index, server, today=today)
    assert again.unchanged == 1 and again.settled == 2 and again.ingest.chunks_embedded == 0

    text = (FIXTURES / "GetMeeting-4014.xml").read_text()
    server.overrides["GetMeeting:4014"] = text.replace("be retained", "be retained until March 2026").encode()
    changed = run_sync(index, server, today=today)
    assert changed.changed == ["Cabinet 2024-07-18 (meeting 4014)"]
    assert changed.ingest.files_indexed == 1
    assert any("until March 2026" in c.text for c in chunks_of(index, "item-12-"))

    # An item taken out of a meeting is taken out of the index.
    text = (FIXTURES / "GetMeeting-4010.xml").read_text()
    start = text.index("    <agendaitem>\n      <agendaitemid>30104</agendaitemid>")
    end = text.index("</agendaitem>", start) + len("</agendaitem>\n")
    server.overrides["GetMeeting:4010"] = (text[:start] + text[end:]).replace("{BASE}", server.base).encode()
    gone = run_sync(index, server, today=today, refresh=True)
    assert gone.changed == ["Cabinet 2024-01-18 (meeting 4010)"]
    assert gone.files_removed == 1 and gone.ingest.files_removed == 1
    assert not any("item-57-" in rec.path for rec in index.catalog.files())


def test_a_meeting_moved_to_another_date_leaves_its_old_folder(tmp_path, server):
    index = open_index(tmp_path)
    today = date(2024, 8, 1)
    run_sync(index, server, today=today)
    text = (FIXTURES / "GetMeeting-4014.xml").read_text()
    server.overrides["GetMeeting:4014"] = text.replace("18/07/2024", "19/07/2024").encode()
    moved = run_sync(index, server, today=today)
    assert moved.changed == ["Cabinet 2024-07-18 (meeting 4014)"] and moved.files_removed == 1
    assert [c.date for c in chunks_of(index, "item-12-")] == ["2024-07-19"]
    assert not list(Path(moved.folder).glob("Cabinet/2024-07-18_4014"))


def test_refresh_fetches_settled_meetings_again(tmp_path, server):
    index = open_index(tmp_path)
    run_sync(index, server)
    before = len(server.log)
    again = run_sync(index, server, refresh=True)
    assert {"GetMeeting:4010", "GetMeeting:4011", "GetMeeting:4014"} <= set(server.log[before:])
    assert again.unchanged == 3 and again.ingest.chunks_embedded == 0


def test_an_interrupted_sync_keeps_what_it_fetched_and_the_next_run_completes(tmp_path, server, monkeypatch):
    index = open_index(tmp_path)
    real = ModernGovClient.meeting

    def interrupted(self, meeting_id):
        if meeting_id == "4011":
            raise KeyboardInterrupt
        return real(self, meeting_id)

    monkeypatch.setattr(ModernGovClient, "meeting", interrupted)
    report = run_sync(index, server)
    assert report.interrupted and report.ingest is None
    assert report.added == ["Cabinet 2024-01-18 (meeting 4010)"]
    monkeypatch.setattr(ModernGovClient, "meeting", real)

    before = len(server.log)
    done = run_sync(index, server)
    assert "GetMeeting:4010" not in server.log[before:]
    assert sorted(done.added) == ["Cabinet 2024-03-14 (meeting 4011)", "Cabinet 2024-07-18 (meeting 4014)"]
    assert done.ingest.files_indexed == 7


def test_a_lost_state_file_costs_requests_but_embeds_nothing(tmp_path, server):
    index = open_index(tmp_path)
    report = run_sync(index, server)
    (Path(report.folder) / mg.STATE_NAME).write_text("{ half a file")
    again = run_sync(index, server)
    assert len(again.added) == 3 and again.ingest.chunks_embedded == 0 and again.ingest.files_indexed == 0


def test_sync_errors_are_one_line(tmp_path, server):
    index = open_index(tmp_path)
    with pytest.raises(MinutesError, match="did you mean 'Cabinet'"):
        run_sync(index, server, committees=["Cabinett"])
    server.fault("GetCommittees", "html")
    with pytest.raises(MinutesError, match="web page, not XML"):
        run_sync(index, server)
    run_sync(index, server)
    with pytest.raises(MinutesError, match="already holds .* as 'Shire Test Council'"):
        run_sync(index, server, council="Another Council")
    with pytest.raises(MinutesError, match="is after"):
        run_sync(index, server, since="2024-05-01", until="2024-04-01")


def test_meetings_not_held_yet_are_not_fetched(tmp_path, server):
    index = open_index(tmp_path)
    report = run_sync(index, server, until="2099-12-31")
    assert dict(report.skipped)["Cabinet 2099-01-15 (meeting 4020)"] == "not held yet"
    assert server.count("GetMeeting:4020") == 0


# ---- the command, killed half-way -----------------------------------------------------------


def _cli(args: list[str], env: dict) -> subprocess.Popen:
    code = "import sys; from assistant.app.cli import main; sys.exit(main())"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_cli_sync_killed_in_the_middle_then_run_again_completes(tmp_path, server):
    env = dict(os.environ, MINUTES_MODERNGOV_DELAY="0", MINUTES_MODERNGOV_BACKOFF="0.05",
               MINUTES_MODERNGOV_TIMEOUT="5", PYTHONPATH=str(ROOT))
    args = ["sync", "moderngov", server.base, "--committee", "Cabinet", "--since", "2024-01-01",
            "--index", str(tmp_path / "index"), "--council", COUNCIL]
    server.fault("doc:9002", "hold")  # meeting 4011's printed minutes: the kill comes while it is fetched
    proc = _cli(args, env)
    try:
        assert server.holding.wait(60), "the sync never reached meeting 4011"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    server.release.set()
    state = json.loads(next((tmp_path / "index" / "moderngov").glob(f"*/{mg.STATE_NAME}")).read_text())
    assert set(state["meetings"]) == {"4010"}  # finished before the kill, recorded

    before = len(server.log)
    proc = _cli(args, env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    fetched = server.log[before:]
    assert "GetMeeting:4010" not in fetched and "GetMeeting:4011" in fetched
    assert "2 added, 0 changed" in out and "1 already synced" in out, out
    assert "added Cabinet 2024-03-14 (meeting 4011)" in err  # progress lines

    proc = _cli(["--index", str(tmp_path / "index"), "search", "waste collection contract", "--json", "-k", "3"], env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    hits = json.loads(out)
    assert hits[0]["committee"] == "Cabinet" and "doc-9002" in hits[0]["source"]

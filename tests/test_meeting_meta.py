"""Meeting metadata found in minutes nobody tuned for: title blocks in many shapes, the
document's own title, the file name; each field with where it came from; nothing invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.meeting_meta import (FROM_FILE_NAME, FROM_MANIFEST, FROM_TEXT, FROM_TITLE, Found,
                                           date_from_file_name, discover)
from assistant.ingest.readers import read_document
from assistant.ingest.structure import parse
from assistant.core.types import Document, Page


def _doc(text: str, source: str = "minutes.txt", title: str = "", metadata: dict | None = None,
         header: str = "") -> Document:
    return Document(source, "text", (Page(1, text, header),), "0" * 64, metadata or {}, title=title)


@pytest.mark.parametrize("text, council, committee, date", [
    # a capitalised heading naming the board, the weekday and the date (US boards)
    ("MINUTES OF THE REGULAR MEETING OF THE PLANNING BOARD\nMONDAY, MARCH 11, 2019\n7:00 P.M.\nROLL CALL: Present",
     "", "Planning Board", "2019-03-11"),
    # Irish county council: "proceedings at a meeting of ... held at ... on Monday, 23rd May, 2016"
    ("Minutes of proceedings at a meeting of Cork County Council held at County Hall, Cork, on Monday, "
     "23rd May, 2016.\nPresent: Councillor A. Murphy", "Cork County Council", "", "2016-05-23"),
    # English parish council: the council's name, then the meeting's name and date run into one line
    ("STOKE FERRY PARISH COUNCIL Draft Minutes Subject to the Approval at the next Meeting Ordinary Meeting of the "
     "Parish Council Wednesday 4 April 2018 at 7.00 pm Stoke Ferry Village Hall Attendance: Cllr Lintern",
     "Stoke Ferry Parish Council", "", "2018-04-04"),
    # a date in the first sentence of the record (a Welsh community council)
    ("Cyngor Cymuned Llanfair Community Council\nThe meeting of the Council was held on 5 March 2019 at the Memorial Hall.",
     "Cyngor Cymuned Llanfair Community Council", "", "2019-03-05"),
    # a committee of a district council, in title case
    ("Fingal County Council\nMinutes of the Meeting of the Planning and Strategic Infrastructure Committee\n"
     "held on Thursday, 14th February 2019", "Fingal County Council", "Planning and Strategic Infrastructure Committee",
     "2019-02-14"),
    # a US city
    ("CITY OF SPRINGFIELD\nBOARD OF ZONING APPEALS\nSeptember 3, 2020", "City of Springfield", "Board of Zoning Appeals",
     "2020-09-03"),
])
def test_title_blocks_in_many_shapes(text, council, committee, date):
    found = discover(_doc(text))
    assert found.get("council", Found("", "")).value == council
    assert found.get("committee", Found("", "")).value == committee
    assert found["date"] == Found(date, FROM_TEXT)


def test_a_date_about_another_meeting_is_not_the_meeting_date():
    text = ("Minutes of the Annual General Meeting of West Dereham Branch held at the Village Hall Sunday 9 September "
            "2018 at 12.00 pm\n2. Minutes of the meeting 10 June 2018 were agreed.")
    assert discover(_doc(text))["date"].value == "2018-09-09"


def test_nothing_is_invented():
    found = discover(_doc("Agenda item\nChildren's Services Improvement Plan\nTo provide an update on progress.",
                          source="notes.txt"))
    assert found == {}


def test_the_manifest_wins_and_says_so():
    found = discover(_doc("Wereham Parish Council\nheld on Tuesday 14th September 2004",
                          metadata={"council": "Wereham PC", "date": "2004-09-15"}))
    assert found["council"] == Found("Wereham PC", FROM_MANIFEST)
    assert found["date"] == Found("2004-09-15", FROM_MANIFEST)


def test_the_documents_own_title_then_the_file_name():
    found = discover(_doc("1. Apologies were received.", title="Planning Commission Minutes - 11 March 2019",
                          source="folder/2019-03-12-minutes.txt"))
    assert found["committee"] == Found("Planning Commission", FROM_TITLE)
    assert found["date"] == Found("2019-03-11", FROM_TITLE)
    assert discover(_doc("1. Apologies.", source="x/2019-03-12-minutes.txt"))["date"] == Found("2019-03-12", FROM_FILE_NAME)


def test_a_running_header_dates_the_minutes():
    found = discover(_doc("Mayor Smith convened the meeting.", header="Regular Meeting Springfield City Council June 4, 2019"))
    assert found["date"] == Found("2019-06-04", FROM_TEXT)


@pytest.mark.parametrize("name, date", [
    ("2019-03-11.pdf", "2019-03-11"), ("19-03-11 minutes.pdf", "2019-03-11"), ("minutes-2016-05-23.html", "2016-05-23"),
    ("20190311_planning.pdf", "2019-03-11"), ("2019-03-minutes.md", ""), ("2019-02-30.pdf", ""), ("report-7.pdf", ""),
])
def test_dates_in_file_names(name, date):
    assert date_from_file_name(name) == date


def test_markdown_front_matter_title_is_read_and_its_date_is_not_the_meeting_date(tmp_path):
    path = tmp_path / "2004-04-minutes.md"
    path.write_text('---\ntitle: "Minutes of the meeting of the West Dereham Parish Council held on Thursday 12th '
                    'February 2004"\ndate: "2004-04-01"\n---\n\nWest Dereham Parish Council Minutes\n\n'
                    'Present: E. Drew - Chairman\n\nPlanning: None\n')
    doc = read_document(path)
    assert doc.published == "2004-04-01" and "title:" not in doc.pages[0].text
    segments = parse(doc)
    assert {(s.council, s.council_from, s.date, s.date_from) for s in segments} == {
        ("West Dereham Parish Council", FROM_TEXT, "2004-02-12", FROM_TITLE)}


def test_html_title_is_read(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>Licensing Sub-Committee - Minutes - Tuesday 2 July 2019</title></head>"
                    "<body><p>1. Apologies for absence were received from Councillor Jones.</p></body></html>")
    segments = parse(read_document(path))
    assert {(s.committee, s.committee_from, s.date, s.date_from) for s in segments} == {
        ("Licensing Sub-Committee", FROM_TITLE, "2019-07-02", FROM_TITLE)}


def test_norfolk_minutes_state_their_council_and_date(norfolk_dir):
    """On the 323 Norfolk parish minutes (none of them seen when the rules were written for
    Alameda): most state their date and council on the first lines, and what is found for
    a hand-checked file is right."""
    files = sorted(norfolk_dir.glob("*.md"))
    found = [discover(read_document(f)) for f in files]
    dated = sum("date" in f for f in found) / len(files)
    named = sum("council" in f or "committee" in f for f in found) / len(files)
    assert dated > 0.85 and named > 0.85, (dated, named)
    one = discover(read_document(norfolk_dir / "2004-10-wereham-pc-minutes-september.md"))
    assert one["council"].value == "Wereham Parish Council" and one["date"] == Found("2004-09-14", FROM_TEXT)
    # the publication month in the file name is never taken as the meeting date
    assert all(f["date"].source != FROM_FILE_NAME for f in found if "date" in f)

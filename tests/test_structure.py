"""The minutes' structure: meetings, items, and decisions kept whole, on the bundled seeds
and on real Alameda PDFs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.ingest.readers import read_document
from assistant.ingest.structure import classify, parse
from assistant.core.types import DECISION_KINDS, SECTION_KINDS
from conftest import CORPUS



LABEL = re.compile(r"^\s*(?:agenda item|minutes:|supporting documents:|additional documents:|meeting: .*)\s*$", re.I)


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.txt"))


def segments_of(path: Path):
    return parse(read_document(path))


# ---- the seeds --------------------------------------------------------------------------


def test_every_seed_parses_into_known_kinds():
    for path in sorted(CORPUS.glob("*.txt")):
        segments = segments_of(path)
        assert segments, path.name
        assert {s.kind for s in segments} <= set(SECTION_KINDS)
        assert all(s.page_start == s.page_end == 1 for s in segments)
        # the segments hold the file's words, in order: only page labels are left out
        # ("Agenda item", "Minutes:", "Supporting documents:", the "Meeting: ..." line read as metadata)
        kept = [line for line in path.read_text(encoding="utf-8").split("\n") if not LABEL.match(line)]
        assert " ".join(s.text for s in segments).split() == " ".join(kept).split()


def test_001_resolution_block_is_one_segment():
    segments = segments_of(seed("001"))
    resolutions = [s for s in segments if s.text.startswith("Resolved that:")]
    assert len(resolutions) == 1
    block = resolutions[0]
    assert block.kind == "resolution"
    assert "\na) The Health and Wellbeing Board note the progress reported" in block.text
    assert block.text.rstrip().endswith("since the inspection in summer 2022.")
    assert "Action" not in block.text  # the action that follows is not swallowed
    # nothing of the lettered point is left in another segment
    assert sum("note the progress reported" in s.text for s in segments) == 1
    assert block.committee == "Health and Wellbeing Board"
    assert block.title == "Children's Services Improvement Plan"


def test_001_action_segment():
    segments = segments_of(seed("001"))
    actions = [s for s in segments if s.kind == "action"]
    assert len(actions) == 1
    assert actions[0].text == ("Action - David Mehaffey to speak to NHS colleagues to make sure that "
                               "partners are supported with regard to NEETs.")
    # the discussion that mentions "an action can be taken away" stays discussion
    mention = next(s for s in segments if "an action can be taken away" in s.text)
    assert mention.kind == "discussion"


def test_002_it_was_resolved_with_two_points_is_one_segment():
    segments = segments_of(seed("002"))
    resolutions = [s for s in segments if s.kind == "resolution"]
    assert len(resolutions) == 1
    text = resolutions[0].text
    assert text.startswith("It was resolved that the cabinet:")
    assert "\na) Reflect on the progress and impact of improvement activity; and" in text
    assert "\nb) note the development of version two of the Improvement Plan." in text
    assert resolutions[0].committee == "Cabinet"
    # the bullet list in the discussion before it is not a resolution
    bullets = [s for s in segments if "It was important to work with and support families" in s.text]
    assert bullets and all(s.kind == "discussion" for s in bullets)


def test_004_board_agreed_to_note_is_a_resolution():
    segments = segments_of(seed("004"))
    agreed = [s for s in segments if s.text == "The Board agreed to note the report."]
    assert len(agreed) == 1 and agreed[0].kind == "resolution"
    assert agreed[0].council == "Plymouth City Council"
    # "The Council and its partners agreed to the continuation of a Board" is not a decision of the board
    partners = next(s for s in segments if "agreed to the continuation" in s.text)
    assert partners.kind not in DECISION_KINDS


def test_000_meeting_line_gives_date_committee_and_item(tmp_path):
    # with the bundled manifest
    segments = segments_of(seed("000"))
    assert {(s.council, s.committee, s.date, s.item) for s in segments} == {
        ("Herefordshire Council", "Cabinet", "2024-09-26", "24")}
    # and from the text alone ("Meeting: 26/09/2024 - Cabinet (Item 24)", day first)
    copy = tmp_path / seed("000").name
    shutil.copy(seed("000"), copy)
    alone = segments_of(copy)
    after = alone[[i for i, s in enumerate(alone) if s.item][0]:]
    assert {(s.committee, s.date, s.item) for s in after} == {("Cabinet", "2024-09-26", "24")}
    heading = next(s for s in alone if s.kind == "heading")
    assert heading.text.startswith("24 Children and Young persons’ Improvement Plan")
    # the item's title is read from its numbered heading, without the "PDF 235 KB" link text
    assert {s.title for s in alone[alone.index(heading):]} == {
        "Children and Young persons’ Improvement Plan – progress update"}


def test_phase_2_passage_is_in_000():
    segments = segments_of(seed("000"))
    phase = [s for s in segments if "Phase 2 Children’s Services Improvement Plan for endorsement" in s.text]
    assert len(phase) == 1 and phase[0].kind == "discussion"


@pytest.mark.parametrize("text,kind", [
    ("Resolved that:", "resolution"),
    ("RESOLVED: that the report be noted.", "resolution"),
    ("The Cabinet agreed to approve the plan.", "resolution"),
    ("The recommendation was proposed, seconded, and approved unanimously.", "resolution"),
    ("Action - the clerk to circulate the report.", "action"),
    ("Councilmember Oddie moved approval of the staff recommendation.", "motion"),
    ("Councilmember Vella seconded the motion, which carried by unanimous voice vote – 5.", "vote"),
    ("Mayor Ezzy Ashcraft convened the meeting at 7:04 p.m.", "procedural"),
    ("The City Engineer gave a brief presentation.", "discussion"),
])
def test_classify(text, kind):
    assert classify(text) == kind


# ---- real Alameda minutes ---------------------------------------------------------------


@pytest.fixture(scope="module")
def june_4_2019(alameda_dir):
    path = alameda_dir / "2019-06-04.pdf"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return segments_of(path)


@pytest.mark.alameda
def test_2019_06_04_holds_a_special_then_a_regular_meeting_both_dated_june_4(june_4_2019):
    titles = [s for s in june_4_2019 if s.text.startswith("MINUTES OF THE")]
    assert [s.meeting for s in titles] == ["Special City Council Meeting", "Regular City Council Meeting"]
    assert "JUNE 6, 2019" in titles[0].text  # the printed title is wrong ...
    assert {s.date for s in june_4_2019} == {"2019-06-04"}  # ... the header and file name are right
    assert {s.council for s in june_4_2019} == {"Alameda City Council"}
    assert {s.committee for s in june_4_2019} == {"City Council"}
    # the special meeting is on pages 1-2, the regular one from page 3
    assert titles[0].page_start == 1 and titles[1].page_start == 3
    assert all(s.meeting == "Special City Council Meeting" for s in june_4_2019 if s.page_end <= 2)
    assert all(s.meeting == "Regular City Council Meeting" for s in june_4_2019 if s.page_start >= 3)


@pytest.mark.alameda
def test_2019_06_04_items_found_with_titles(june_4_2019):
    items = {}
    for s in june_4_2019:
        if s.item:
            items.setdefault(s.item, s)
    for number in ("19-329", "19-330", "19-331", "19-334", "19-346", "19-347A", "19-348", "19-352", "19-359"):
        assert number in items, number
    assert items["19-330"].title.startswith("Conference with Legal Counsel - Anticipated Litigation")
    assert items["19-330"].kind == "heading"
    assert items["19-330"].meeting == "Special City Council Meeting"
    assert items["19-348"].title == ("Recommendation to Approve Otis Drive Traffic Calming and Safety "
                                     "Improvement Project Design Concept Recommendations.")
    assert items["19-348"].meeting == "Regular City Council Meeting"
    # the outcome word that ends a consent item is not part of its title
    assert items["19-337"].title == "Recommendation to Approve the City of Alameda Investment Policy."
    # what follows an item belongs to it until the next one
    otis = [s for s in june_4_2019 if s.item == "19-348"]
    assert any("roundabouts" in s.text for s in otis)


@pytest.mark.alameda
def test_2019_06_04_motion_with_its_second_and_vote_stays_whole(june_4_2019):
    consent = [s for s in june_4_2019 if "moved approval of the remainder of the Consent Calendar" in s.text]
    assert len(consent) == 1
    motion = consent[0]
    assert motion.kind == "motion"
    assert "Councilmember Oddie seconded the motion" in motion.text
    assert re.search(r"Ayes: 5", motion.text)
    assert motion.title == "Consent Calendar"
    for s in june_4_2019:
        if "moved approval" in s.text:
            assert s.kind == "motion"
            assert "seconded the motion" in s.text, s.text[:120]
    # and no vote is left alone after its motion
    for before, after in zip(june_4_2019, june_4_2019[1:]):
        if before.kind == "motion":
            assert not after.text.startswith(("Councilmember Oddie seconded", "Vice Mayor Knox White seconded"))


@pytest.mark.alameda
def test_2019_06_04_closed_session_announcement(june_4_2019):
    carmel = [s for s in june_4_2019 if "Carmel Partners" in s.text]
    assert len(carmel) == 1
    s = carmel[0]
    assert s.text.startswith("Regarding Anticipated Litigation")
    assert (s.page_start, s.page_end) == (1, 2)  # a paragraph across the page break, joined
    assert s.date == "2019-06-04"
    assert s.title == "Closed Session Report"
    assert s.meeting == "Special City Council Meeting"
    assert "Special Meeting" not in s.text and "Alameda City Council" not in s.text  # running header removed


# A dozen files over the years, of different layouts: running headers (2019+), running
# footers only (2010-2015), one-page closed sessions, several meetings in one file, and an
# "AGENDA ITEM" label over the numbered item (2020-06-17).
SPREAD = [
    "2005-01-04.pdf", "2006-06-06.pdf", "2007-11-07.pdf", "2009-03-03.pdf", "2010-11-16.pdf",
    "2012-03-07.pdf", "2013-11-05.pdf", "2015-07-07.pdf", "2017-04-18.pdf", "2019-02-01.pdf",
    "2020-06-17.pdf", "2022-05-10.pdf", "2023-07-18.pdf",
]


@pytest.mark.alameda
@pytest.mark.parametrize("name", SPREAD)
def test_alameda_files_over_the_years(alameda_dir, name):
    path = alameda_dir / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    segments = segments_of(path)
    assert len(segments) >= 8
    day = name[:10]
    # the first meeting (everything up to the second meeting title) is dated by the file name
    titles = [i for i, s in enumerate(segments) if s.text.upper().startswith("MINUTES OF THE")]
    assert titles, "no meeting title found"
    first_meeting = segments[: titles[1] if len(titles) > 1 else len(segments)]
    assert {s.date for s in first_meeting} == {day}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.date) for s in segments)
    assert segments[titles[0]].committee == "City Council"
    assert {s.council for s in segments} == {"Alameda City Council"}
    # numbered items of that year, each with a title
    items = {s.item: s.title for s in segments if s.item}
    assert items, "no numbered item found"
    assert all(re.fullmatch(r"\d{2}-\d{2,4}[A-Z]?(?:[A-Z]{2,5})?", n) for n in items), items
    assert any(n.startswith(day[2:4] + "-") for n in items)
    assert all(title for title in items.values())
    # decisions carry the item (or section) they were taken under
    for s in segments:
        if s.kind == "motion":
            assert s.item or s.title, s.text[:100]
    # nothing is lost: every page contributes text
    pages = {p for s in segments for p in range(s.page_start, s.page_end + 1)}
    assert pages == set(range(1, len(read_document(path).pages) + 1))


@pytest.mark.alameda
def test_a_joint_meetings_items_carry_the_bodys_code(alameda_dir):
    """The minutes of a joint meeting number items "(09-320 CC)", "(09-320A CC)": each is an
    item with its own title, not part of a section called "Regular Agenda Items"."""
    path = alameda_dir / "2009-08-03.pdf"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    segments = segments_of(path)
    items = {s.item: s.title for s in segments if s.item}
    assert {"09-319CC", "09-320CC", "09-320ACC", "09-321CC"} <= set(items), sorted(items)
    assert items["09-319CC"].startswith("Resolution No. 14371, “Appointing Lorre Zuppan")
    vote = next(s for s in segments if s.kind in ("motion", "vote") and "Charter" in s.title)
    assert vote.item.startswith("09-320")


@pytest.mark.alameda
@pytest.mark.parametrize("name,printed", [
    ("2019-02-19.pdf", "February 5, 2019"),  # the running header of the first pages is a copy-paste slip
    ("2013-01-28.pdf", "2012"),  # the title says 2012
])
def test_first_meeting_takes_the_file_name_date_over_a_slip(alameda_dir, name, printed):
    path = alameda_dir / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    doc = read_document(path)
    segments = parse(doc)
    first = next(s for s in segments if s.text.upper().startswith("MINUTES OF THE"))
    assert printed in doc.pages[first.page_start - 1].header + first.text
    assert first.date == name[:10]

"""Which decision records answer a question, and how they are quoted, on the in-memory fakes.

`matching_records` takes records from the passages retrieval found and from a keyword
search of the question, drops motions that decided nothing, records of another council or
another time than the question names, and (for 'who') records that name nobody; the rest are
ranked by how much of the question's topic they cover, and none is used below half of it.
"""

from __future__ import annotations

from assistant.answer.query import QueryPlan
from assistant.decisions import Decision, decision_answer
from assistant.decisions.answer import matching_records
from assistant.core.types import Filters, Hit
from fakes import MemoryLexical, MemoryRegister, chunk

PARKING = chunk("c-parking", "The Council resolved to adopt the residents parking permit scheme for Park Street.",
                source="2024-09-26.txt", item="5", title="Parking permit scheme", section="resolution",
                council="Alameda", date="2024-09-26", ordinal=1)
LIBRARY = chunk("c-library", "The Council noted the report on library opening hours.", source="2024-09-26.txt",
                item="6", title="Library opening hours", section="resolution", council="Alameda",
                date="2024-09-26", ordinal=2)
MOTION = chunk("c-motion", "Councilmember Ames moved to extend the parking permit scheme to Oak Street.",
               source="2024-10-08.txt", item="3", title="Parking permit scheme", section="motion",
               council="Alameda", date="2024-10-08", ordinal=1)
NORFOLK = chunk("c-norfolk", "The Parish Council resolved to adopt a parking permit scheme for the green.",
                source="norfolk.txt", item="7", title="Parking permit scheme", section="resolution",
                council="Northwold Parish Council", date="2024-09-12", ordinal=1)
CHUNKS = [PARKING, LIBRARY, MOTION, NORFOLK]


def _record(c, kind="resolution", outcome="approved", **fields) -> Decision:
    return Decision(id=f"d-{c.id}", source=c.source, page=1, council=c.council, committee=c.committee,
                    meeting=c.meeting, date=c.date, item=c.item, title=c.title, kind=kind, text=c.text,
                    outcome=outcome, chunk_id=c.id, path=c.source, **fields)


RECORDS = [
    _record(PARKING),
    _record(LIBRARY, outcome="noted"),
    _record(MOTION, kind="motion", outcome=None, mover="Ames"),  # no recorded outcome: decided nothing
    _record(NORFOLK, outcome="agreed"),
]


def _register(records=RECORDS) -> MemoryRegister:
    return MemoryRegister(MemoryLexical(CHUNKS), records)


def _plan(question: str, intent: str = "decision", prefer: Filters = Filters()) -> QueryPlan:
    return QueryPlan(question=question, standalone=question, filters=Filters(), intent=intent, prefer=prefer)


def _ids(records) -> list[str]:
    return [d.id for d in records]


def test_records_about_the_topic_answer_and_a_motion_without_an_outcome_does_not():
    found = matching_records(_register(), _plan("What was decided on the parking permit scheme?"), [])
    assert "d-c-motion" not in _ids(found)
    assert "d-c-library" not in _ids(found)
    assert set(_ids(found)) <= {"d-c-parking", "d-c-norfolk"} and found


def test_a_record_of_another_council_than_the_question_names_gives_way():
    plan = _plan("What did Alameda decide on the parking permit scheme?", prefer=Filters(council="Alameda"))
    assert _ids(matching_records(_register(), plan, [])) == ["d-c-parking"]


def test_a_record_dated_far_from_the_dates_asked_about_gives_way():
    plan = _plan("What was decided on the parking permit scheme in September 2024?",
                 prefer=Filters(council="Northwold Parish Council", since="2024-09-01", until="2024-09-30"))
    assert _ids(matching_records(_register(), plan, [])) == ["d-c-norfolk"]


def test_nothing_answers_when_no_record_covers_half_the_topic():
    assert matching_records(_register(), _plan("What was decided about the swimming pool roof?"), []) == []


def test_a_who_moved_question_needs_a_record_that_names_a_mover():
    records = RECORDS[:2] + [_record(MOTION, kind="motion", outcome="carried", mover="Ames")]
    plan = _plan("Who moved the parking permit scheme for Oak Street?", intent="who")
    assert _ids(matching_records(_register(records), plan, [])) == ["d-c-motion"]
    assert matching_records(_register(RECORDS[:2]), plan, []) == []


def test_the_passages_retrieval_found_can_outweigh_the_records():
    """A record is not used when a retrieved passage covers the question much better."""
    plan = _plan("What was decided on the parking permit scheme for Park Street residents?")
    better = chunk("c-better", "Park Street residents parking permit scheme: decided, as set out below.")
    register = MemoryRegister(MemoryLexical(CHUNKS + [better]), [_record(LIBRARY, outcome="noted")])
    assert matching_records(register, plan, [Hit(chunk=better, score=1.0, rank=1)]) == []


def test_the_answer_quotes_the_record_verbatim_and_cites_its_passage():
    plan = _plan("What did Alameda decide on the parking permit scheme?", prefer=Filters(council="Alameda"))
    draft = decision_answer(_register(), plan, [])
    assert draft is not None
    assert [c.chunk.id for c in draft.citations] == ["c-parking"]
    assert draft.citations[0].quote in PARKING.text
    assert f"“{PARKING.text}” [1]" in draft.text
    assert "Outcome: approved" in draft.text


def test_questions_that_are_not_about_a_decision_get_no_record_answer():
    assert decision_answer(_register(), _plan("How much did the parking permit scheme cost?", intent="amount"), []) is None


# ---- the register's own search: `minutes decisions --outcome ... --text ...` --------------------

def _stored(tmp_path, records):
    from assistant.index.catalog import Catalog
    from assistant.decisions import DecisionRegister, write_decisions

    catalog = Catalog(tmp_path / "index.sqlite")
    with catalog.connect() as db:
        for d in records:
            write_decisions(db, d.path, [d])
    return DecisionRegister(catalog)


UNDATED = _record(chunk("c-undated", "Resolved that the allotment rents rise by 2%.", source="undated.txt",
                        item="9", title="Allotments"), outcome="agreed", action_owner="")
ACTION = _record(chunk("c-action", "Action: the Clerk to write to the parking contractor.", source="2024-10-08.txt",
                       item="4", title="Parking enforcement", date="2024-10-08", council="Alameda"),
                 kind="action", outcome=None, action_owner="the Clerk")


def test_the_register_lists_the_latest_meeting_first_and_undated_minutes_last(tmp_path):
    register = _stored(tmp_path, [UNDATED, RECORDS[0], RECORDS[3], ACTION])
    assert _ids(register.list()) == ["d-c-action", "d-c-parking", "d-c-norfolk", "d-c-undated"]


def test_the_register_matches_every_word_in_the_text_title_item_or_action_owner(tmp_path):
    register = _stored(tmp_path, [UNDATED, RECORDS[0], RECORDS[3], ACTION])
    assert _ids(register.list(text="parking")) == ["d-c-action", "d-c-parking", "d-c-norfolk"]
    assert _ids(register.list(text="parking Park Street")) == ["d-c-parking"]  # every word, any case
    assert _ids(register.list(text="clerk")) == ["d-c-action"]  # the action's owner
    assert _ids(register.list(text="allotments")) == ["d-c-undated"]  # the item's title
    assert register.list(text="swimming") == []


def test_the_register_filters_by_outcome_and_by_the_filters(tmp_path):
    register = _stored(tmp_path, [UNDATED, RECORDS[0], RECORDS[3], ACTION])
    assert _ids(register.list(outcome="Agreed")) == ["d-c-norfolk", "d-c-undated"]
    assert _ids(register.list(Filters(council="alameda"))) == ["d-c-action", "d-c-parking"]
    assert _ids(register.list(Filters(since="2024-10-01"))) == ["d-c-action"]
    assert _ids(register.list(Filters(since="2024-10-01", include_undated=True))) == ["d-c-action", "d-c-undated"]
    assert _ids(register.list(limit=2)) == ["d-c-action", "d-c-parking"]
    assert register.count() == 4

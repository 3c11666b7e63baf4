"""Filters that never hide evidence: what a question names (a date, a council, a committee)
ranks passages, and passages that do not state it stay eligible; only filters the user sets
exclude, and then the answer says what was left out. On a real mixed index of dated and
undated minutes, with the real model, in both the dense and the BM25 part."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.query import plan_query
from assistant.retrieve.hybrid import PREFERENCE_BOOST, preference_factor
from assistant.core.types import Filters

MINUTES = {
    # the answer, in minutes that state no date, no council and no committee
    "notes-skate-park.txt": (
        "Item 4. Skate park lease\n"
        "Members considered the renewal of the skate park lease on the recreation ground. "
        "It was resolved that the skate park lease be renewed for five years at a rent of £4,000 a year.\n"),
    # dated minutes from the month the question names, on other business
    "eastbridge-march.txt": (
        "Minutes of the meeting of the Eastbridge Town Council held on Monday 11 March 2019\n"
        "Item 1. Street lighting\nThe council agreed to replace twelve lamps on the High Street.\n"),
    # dated minutes from another year that mention the park in passing
    "eastbridge-june.txt": (
        "Minutes of the meeting of the Eastbridge Town Council held on Wednesday 1 June 2016\n"
        "Item 2. Recreation ground\nThe recreation ground fence was painted; the skate ramp was inspected.\n"),
}
QUESTION = "What was resolved about the skate park lease in March 2019?"


@pytest.fixture(scope="module")
def mixed_service(tmp_path_factory, real_embedder):
    from assistant.answer.service import AnswerService
    from assistant.decisions.answerer import RECORDS
    from assistant.core.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("mixed-minutes")
    for name, text in MINUTES.items():
        (folder / name).write_text(text)
    settings = Settings(index_dir=tmp_path_factory.mktemp("mixed-index"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    ingest(index, [str(folder)], hooks=decision_hooks(index))
    return AnswerService(settings, index, records=RECORDS)


def _sources(hits) -> set[str]:
    return {Path(h.chunk.source).name for h in hits}


@pytest.mark.slow
def test_the_mixed_index_holds_dated_and_undated_minutes(mixed_service):
    chunks = mixed_service.index.lexical.all_chunks()
    dates = {Path(c.source).name: (c.date, c.date_from) for c in chunks}
    assert dates["notes-skate-park.txt"] == ("", "")
    assert dates["eastbridge-march.txt"] == ("2019-03-11", "text")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_a_date_the_question_names_never_hides_undated_minutes(mixed_service, mode):
    stats = mixed_service.index.catalog.stats()
    plan = plan_query(QUESTION, [], Filters(), stats["committees"], stats["councils"])
    assert plan.filters.is_empty() and plan.prefer.since == "2019-03-01"
    hits = mixed_service.index.retriever.search(plan.standalone, plan.filters, k=10, mode=mode, prefer=plan.prefer)
    assert "notes-skate-park.txt" in _sources(hits)
    # and minutes dated otherwise stay candidates too: a preference ranks, it does not exclude
    assert "eastbridge-june.txt" in _sources(hits)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_a_date_filter_the_user_sets_excludes_in_both_parts(mixed_service, mode):
    explicit = Filters(since="2019-03-01", until="2019-03-31")
    hits = mixed_service.index.retriever.search(QUESTION, explicit, k=10, mode=mode)
    assert _sources(hits) == {"eastbridge-march.txt"}


@pytest.mark.slow
def test_the_answer_comes_from_undated_minutes_and_a_user_filter_says_what_it_left_out(mixed_service):
    answer = mixed_service.ask(QUESTION)
    assert not answer.refused, answer.text
    assert "£4,000" in answer.text and _sources(c for c in answer.citations) == {"notes-skate-park.txt"}
    filtered = mixed_service.ask(QUESTION, filters=Filters(since="2019-03-01", until="2019-03-31"))
    assert "notes-skate-park.txt" not in _sources(filtered.citations)
    assert "2 document(s) outside that were left out, 1 of them because they state no meeting date" in filtered.text


def test_preference_factor_ranks_without_excluding():
    prefer = Filters(committee="Planning Board", since="2019-03-01", until="2019-03-31")
    match = {"committee": "planning board", "date_int": 20190311}
    unknown = {"committee": "", "date_int": 0}
    other = {"committee": "City Council", "date_int": 20160601}
    assert preference_factor(prefer, match) == PREFERENCE_BOOST
    assert preference_factor(prefer, match) > preference_factor(prefer, unknown) > preference_factor(prefer, other)
    assert preference_factor(prefer, other) == 1.0  # never below 1: nothing is pushed out
    assert preference_factor(Filters(), other) == 1.0


def test_undated_minutes_published_before_the_dates_named_are_from_another_meeting():
    from assistant.retrieve.hybrid import contradicts

    july_2012 = Filters(since="2012-07-01", until="2012-07-31")
    assert contradicts(july_2012, {"date_int": 0, "published": "2007-10-01"})  # its meeting was no later than 2007
    assert not contradicts(july_2012, {"date_int": 0, "published": "2012-10-01"})  # published after: it may be July's
    assert not contradicts(july_2012, {"date_int": 0, "published": "2012-06-20"})  # within the slack for "July"
    assert not contradicts(july_2012, {"date_int": 0})  # no date at all: never against it
    assert not contradicts(july_2012, {"date_int": 20120724, "published": "2007-10-01"})  # the meeting's date decides
    assert not contradicts(Filters(until="2012-07-31"), {"date_int": 0, "published": "2007-10-01"})


# Real parish minutes: the answer's meeting beside minutes of the same council that state no
# meeting date and were published years before the month the question names.
UNDATED_EARLIER = {
    "What was the vote on co-opting Mrs J Taylor onto Stoke Ferry Parish Council in June 2016?": (
        "2016-08-stoke-ferry-pc-minutes-june-2016.md", "not been co-opted",
        ["2010-01-minutes-of-stoke-ferry-parish-council-meeting-7.md"]),
    "At Wereham Parish Council in July 2012, which quote was chosen for a new play area sign, and who proposed "
    "and seconded it?": (
        "2012-10-wereham-parish-council-minutes-24-july-2012.md", "JD Signs",
        ["2007-10-minutes-of-the-meeting-of-the-wereham-parish-council-2.md"]),
}


@pytest.fixture(scope="module")
def published_earlier_service(tmp_path_factory, real_embedder, norfolk_dir):
    from assistant.answer.service import AnswerService
    from assistant.core.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.decisions.answerer import RECORDS
    from assistant.ingest.pipeline import ingest
    from assistant.retrieve.minutes_index import MinutesIndex

    names = {name for answer, _, others in UNDATED_EARLIER.values() for name in (answer, *others)}
    settings = Settings(index_dir=tmp_path_factory.mktemp("published-earlier"), refusal_threshold=0.0)
    index = MinutesIndex.open(settings, embedder=real_embedder)
    ingest(index, [str(norfolk_dir / name) for name in sorted(names)], hooks=decision_hooks(index))
    return AnswerService(settings, index, records=RECORDS)


@pytest.mark.slow
@pytest.mark.parametrize("question", list(UNDATED_EARLIER))
def test_the_answer_comes_from_the_month_named_not_from_undated_minutes_published_before_it(
        published_earlier_service, question):
    answer_file, words, _ = UNDATED_EARLIER[question]
    answer = published_earlier_service.ask(question)
    cited = {Path(c.chunk.source).name for c in answer.citations}
    assert cited == {answer_file}, answer.text
    assert words in " ".join(c.quote for c in answer.citations), answer.text

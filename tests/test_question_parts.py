"""Questions that name two meetings (two dates, two councils) are searched for and answered
part by part, and the answer quotes each part; a range or one meeting stays one search."""

from __future__ import annotations

import pytest

from assistant.answer.extractive import Draft, merge_drafts
from assistant.answer.query import date_mentions, plan_query
from assistant.answer.service import interleave
from assistant.core.types import Chunk, Citation, Filters, Hit

COUNCILS = ["Herefordshire Council", "Plymouth City Council", "Wereham Parish Council", "Alameda City Council"]


@pytest.mark.parametrize("question, expected", [
    ("Which firm did Wereham pick in March 2006, and why did it turn down Lewis in January 2009?",
     [("2006-03-01", "2006-03-31"), ("2009-01-01", "2009-01-31")]),
    ("How did Mayor Spencer vote on hiring her in 2016, and on the settlement with her in 2018?",
     [("2016-01-01", "2016-12-31"), ("2018-01-01", "2018-12-31")]),
    ("How did the treatment differ between the 2022 progress update and the update in September 2024?",
     [("2022-01-01", "2022-12-31"), ("2024-09-01", "2024-09-30")]),
    # the most precise reading of each place: the day, not also its month
    ("Who proposed the payment at the meeting of 10 July 2003?", [("2003-07-10", "2003-07-10")]),
    # ranges are one span, not two meetings
    ("Which bodies was she appointed to between 2006 and 2009?", []),
    ("What has happened since March 2019, and in 2021?", []),
    # a fiscal year is not a meeting's year
    ("What was the FY 2012-2013 budget?", []),
    ("What precept did West Dereham set for 2016/17 at its December 2015 meeting?", [("2015-12-01", "2015-12-31")]),
])
def test_the_dates_a_question_names(question, expected):
    assert date_mentions(question) == expected


def test_two_dates_make_two_parts_and_the_preference_spans_them():
    plan = plan_query("Which firm did Wereham Parish Council pick in March 2006, and why did it turn down "
                      "Lewis Landscape Services in January 2009?", [], Filters(), [], COUNCILS)
    assert [(p.since, p.until) for p in plan.parts] == [("2006-03-01", "2006-03-31"), ("2009-01-01", "2009-01-31")]
    assert all(p.council == "Wereham Parish Council" for p in plan.parts)
    assert (plan.prefer.council, plan.prefer.since, plan.prefer.until) == ("Wereham Parish Council", "2006-03-01", "2009-01-31")
    assert plan.for_part(plan.parts[1]).prefer == plan.parts[1] and not plan.for_part(plan.parts[1]).parts


def test_two_councils_make_two_parts():
    plan = plan_query("What did the Herefordshire and Plymouth minutes say about recruiting social workers?",
                      [], Filters(), [], COUNCILS)
    assert [p.council for p in plan.parts] == ["Herefordshire Council", "Plymouth City Council"]
    assert plan.prefer.council == ""


def test_one_meeting_or_a_filter_the_user_set_makes_no_parts():
    assert plan_query("What did Wereham decide in March 2006?", [], Filters(), [], COUNCILS).parts == ()
    explicit = Filters(since="2006-01-01", until="2009-12-31")
    assert plan_query("What was picked in March 2006, and what in January 2009?", [], explicit, [], COUNCILS).parts == ()


def _chunk(n: int) -> Chunk:
    return Chunk(id=f"c{n}", text=f"text {n}", embed_text=f"text {n}", source=f"doc{n}.md", page_start=1, page_end=1,
                 section="minutes")


def test_merged_drafts_number_their_citations_anew_and_cite_a_shared_quote_once():
    a, b, c = _chunk(1), _chunk(2), _chunk(3)
    first = Draft("March: “text 1” [1] … “text 2” [2]", (Citation(1, a, "text 1"), Citation(2, b, "text 2")))
    second = Draft("January: “text 3” [1]; “text 2” [2]", (Citation(1, c, "text 3"), Citation(2, b, "text 2")))
    merged = merge_drafts([first, second])
    assert [(x.n, x.chunk.id) for x in merged.citations] == [(1, "c1"), (2, "c2"), (3, "c3")]
    assert merged.text == "March: “text 1” [1] … “text 2” [2]\n\nJanuary: “text 3” [3]; “text 2” [2]"
    assert merge_drafts([first, first]).text == first.text  # the same answer to both parts is given once


def test_interleave_takes_the_best_of_each_part_in_turn_once():
    hits = {n: Hit(_chunk(n), 1.0, n) for n in range(1, 5)}
    assert [h.chunk.id for h in interleave([[hits[1], hits[2]], [hits[3], hits[1], hits[4]]])] == ["c1", "c3", "c2", "c4"]


WEREHAM_QUESTION = ("Which firm did Wereham Parish Council pick for grass and grounds maintenance in March 2006, "
                    "and why did it turn down Lewis Landscape Services in January 2009?")


@pytest.fixture(scope="module")
def wereham_service(tmp_path_factory, real_embedder, norfolk_dir):
    """Wereham's minutes of 2006 to 2009 beside the bundled corpus, with the real model."""
    from assistant.answer.service import AnswerService
    from assistant.core.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.decisions.answerer import RECORDS
    from assistant.ingest.pipeline import ingest
    from assistant.retrieve.minutes_index import MinutesIndex

    from conftest import CORPUS

    settings = Settings(index_dir=tmp_path_factory.mktemp("wereham"))
    index = MinutesIndex.open(settings, embedder=real_embedder)
    files = [str(f) for year in range(2006, 2010) for f in sorted(norfolk_dir.glob(f"{year}-*wereham*.md"))]
    ingest(index, [str(CORPUS), *files], hooks=decision_hooks(index))
    return AnswerService(settings, index, records=RECORDS)


@pytest.mark.slow
def test_a_question_about_two_meetings_quotes_both(wereham_service):
    from assistant.answer.service import AnswerService

    # whether to answer is the calibrated threshold's call (see the gate); what is quoted is this test's
    settings = wereham_service.settings.model_copy(update={"refusal_threshold": 0.0})
    answer = AnswerService(settings, wereham_service.index, records=wereham_service.records).ask(WEREHAM_QUESTION)
    assert not answer.refused, answer.text
    cited = {c.chunk.source.rsplit("/", 1)[-1]: c.quote for c in answer.citations}
    assert "accept the one from C.G.M. Ltd." in cited.get("2006-04-wereham-parish-council-minutes-5.md", ""), answer.text
    assert "three year contract" in cited.get("2009-02-wereham-pc-minutes-2.md", ""), answer.text

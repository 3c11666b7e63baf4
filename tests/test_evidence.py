"""How a question's topic is weighed against passages (answer/evidence.py: Weigher), on the
in-memory lexical index of tests/fakes.py: milliseconds, no model."""

from __future__ import annotations

import pytest

from assistant.answer.evidence import Weigher
from assistant.answer.query import plan_query
from assistant.core.types import Filters
from fakes import MemoryLexical, chunk

LEXICAL = MemoryLexical([
    chunk("a", "The council agreed to set the precept at £16,385 for the year."),
    chunk("b", "The motion to adopt the golf rates carried. Ayes: 4. Noes: 1."),
    chunk("c", "Grass cutting tenders were received from two firms."),
    chunk("d", "The playing field hedge was cut back by the handyman."),
])


def weigher(question: str, history=(), judging: bool = False) -> Weigher:
    return Weigher(LEXICAL, plan_query(question, list(history), Filters(), [], []), judging=judging)


def test_an_amount_answers_how_much_money():
    w = weigher("How much money would the precept provide?")
    assert "money" in w.terms
    with_amount = w.coverage("The precept was set at £16,385.")
    without = w.coverage("The precept was set at the same level.")
    assert with_amount > without
    assert with_amount == pytest.approx(1.0 - w.weights["provide"] / w.total)


def test_a_vote_count_answers_was_it_unanimous():
    w = weigher("Was the golf rates motion unanimous?")
    assert w.coverage("The golf rates motion carried. Ayes: 4. Noes: 1.") == pytest.approx(1.0)
    assert w.coverage("The golf rates motion was discussed.") < 1.0


def test_a_follow_up_is_judged_on_the_questions_not_on_the_last_answer():
    """The last answer's words help find the passage and the quotes again, but a passage that
    answers the follow-up need not repeat them."""
    history = [
        {"role": "user", "content": "Which firms sent grass cutting tenders?"},
        {"role": "assistant", "content": "“Grass cutting tenders were received from Acme Mowers and Green Ltd.” [1]"},
    ]
    judge = weigher("Who proposed accepting it?", history, judging=True)
    assert "grass" in judge.terms and "proposed" in judge.terms
    assert "acme" not in judge.terms and "mowers" not in judge.terms
    # choosing passages and quotes still uses them, at the context weight
    chooser = weigher("Who proposed accepting it?", history)
    assert "acme" in chooser.terms and chooser.weights["acme"] < chooser.weights["proposed"]


def test_a_sentence_is_read_with_the_heading_or_sentence_that_introduces_it():
    from assistant.answer.evidence import local_context

    text = ("CO-OPTION OF NEW COUNCILLOR\n"
            "There were two candidates. A vote was taken, the result being three to two.\n"
            "8.2 Quotations for gates. Three quotations were received. It was agreed to approve the cheapest.")
    assert local_context(text, "There were two candidates.") == "CO-OPTION OF NEW COUNCILLOR"
    assert local_context(text, "A vote was taken, the result being three to two.") == "There were two candidates."
    assert local_context(text, "It was agreed to approve the cheapest.") == (
        "8.2 Quotations for gates. Three quotations were received.")
    assert local_context(text, "CO-OPTION OF NEW COUNCILLOR") == ""
    # a tally in a paragraph of its own: the paragraph before says what the vote was on, first
    tally = ("Mrs J Taylor had forwarded a letter to be considered for co-option onto the Parish Council. Members asked "
             "questions and were then asked to vote. At the first vote there was not an absolute majority.\n"
             "For 2 Against 4 Abstention 1")
    assert local_context(tally, "For 2 Against 4 Abstention 1") == (
        "Mrs J Taylor had forwarded a letter to be considered for co-option onto the Parish Council. "
        "At the first vote there was not an absolute majority.")


def test_a_decision_quoted_under_its_heading_covers_the_question():
    w = weigher("Which quotation did the council approve for the gates?")
    assert w.coverage("It was agreed to approve the cheapest.") == 0.0
    assert w.coverage("8.2 Quotations for gates. It was agreed to approve the cheapest.") == pytest.approx(1.0)


def test_a_verb_and_the_noun_made_from_it_are_one_word():
    """'quote' and 'quotation', 'co-opted' and 'co-option': the stemmer leaves them apart."""
    from assistant.answer.evidence import _kin

    assert _kin("quot", {"quotat"}) and _kin("quotat", {"quot"})
    assert _kin("opt", {"option"}) and _kin("pay", {"payment"})
    assert not _kin("sign", {"signal"}) and not _kin("park", {"parker"})


def test_initials_in_the_question_are_there_when_a_passage_spells_them_out():
    """'FY 2012-2013 budget' is answered by 'the Operating and Capital Budget for Fiscal Year
    2012-13'; two words that merely start with the letters in lower case are not 'FY'."""
    spelled = chunk("spelled", "Approving the Operating and Capital Budget for Fiscal Year 2012-13.")
    lexical = MemoryLexical([spelled, chunk("fy", "The FY budget."), *LEXICAL.all_chunks()])
    w = Weigher(lexical, plan_query("Which resolution approved the FY operating budget?", [], Filters(), [], []))
    assert w.coverage("Approving the Operating Budget for Fiscal Year 2012-13.") == pytest.approx(1.0)
    assert w.coverage("Approving the operating budget for five years.") < 1.0


def test_passages_that_hold_more_of_the_question_move_up():
    """Fusion ranked an item on the same matter at another meeting first; the one that holds
    the question's rarer words comes first after the rerank, and weight 0 keeps the order."""
    from assistant.answer.evidence import rerank_by_coverage
    from assistant.core.types import Hit

    amend = chunk("amend", "Recommendation to amend the construction contract with Ghilotti Brothers.")
    award = chunk("award", "Recommendation to award the contract for phase one to Ghilotti Brothers.")
    lexical = MemoryLexical([amend, award, *LEXICAL.all_chunks()])
    w = Weigher(lexical, plan_query("How much was the contract awarded to Ghilotti Brothers for phase one?",
                                    [], Filters(), [], []))
    hits = [Hit(amend, 0.032, 1), Hit(award, 0.030, 2)]
    reranked = rerank_by_coverage(w, hits, 1.0)
    assert [h.chunk.id for h in reranked] == ["award", "amend"]
    assert [h.rank for h in reranked] == [1, 2]
    assert rerank_by_coverage(w, hits, 0.0) == hits


def test_a_passage_holding_the_kind_of_answer_asked_for_moves_up():
    from assistant.answer.evidence import rerank_by_coverage
    from assistant.answer.evidence import AMOUNT
    from assistant.core.types import Hit

    accepted = chunk("accepted", "The council accepted the work on the streetscape contract of Ghilotti Brothers.")
    awarded = chunk("awarded", "Contract for the streetscape to Ghilotti Brothers in the amount of $2,110,000.")
    lexical = MemoryLexical([accepted, awarded, *LEXICAL.all_chunks()])
    w = Weigher(lexical, plan_query("How much was the Ghilotti Brothers streetscape contract?", [], Filters(), [], []))
    hits = [Hit(accepted, 0.032, 1), Hit(awarded, 0.030, 2)]
    assert [h.chunk.id for h in rerank_by_coverage(w, hits, 1.0)] == ["accepted", "awarded"]
    assert [h.chunk.id for h in rerank_by_coverage(w, hits, 1.0, AMOUNT)] == ["awarded", "accepted"]


def test_a_vote_question_puts_its_items_motion_or_tally_first_and_keeps_the_items_in_place():
    """'Who moved it?' is answered by the item's motion, 'was it unanimous?' by its vote (the
    item's last first: the last motion and vote settle it), though the search found the item's
    heading first; another item, and passages of no known item, keep their places."""
    from assistant.answer.answer_kind import vote_answers_first
    from assistant.core.types import Hit

    passages = [
        chunk("heading", "(16-023) Recommendation to approve the agreement.", item="16-023", ordinal=1),
        chunk("other", "Councilmember Daysog moved approval; the motion carried unanimously.", item="16-031", ordinal=9),
        chunk("loose", "The motion carried unanimously.", ordinal=12),  # no item number, no heading
        chunk("first vote", "The substitute motion failed by the following voice vote: Ayes: 2.", item="16-023",
              ordinal=2),
        chunk("last vote", "On the call for the question, the motion carried by the following voice vote: Ayes: 4.",
              item="16-023", ordinal=4),
        chunk("motion", "Councilmember Oddie moved approval. Vice Mayor Matarrese seconded the motion.",
              item="16-023", ordinal=3),
        chunk("repairs", "Repairs were carried out by the contractor.", item="16-023", ordinal=5),
    ]
    hits = [Hit(chunk=c, score=1.0 - n / 10, rank=n + 1) for n, c in enumerate(passages)]

    def order(question):
        return [h.chunk.id for h in vote_answers_first(question, hits)]

    assert order("Who moved and seconded it?") == ["motion", "other", "loose", "heading", "first vote", "last vote",
                                                   "repairs"]
    assert order("Was it unanimous?") == ["last vote", "other", "loose", "first vote", "heading", "motion", "repairs"]
    assert order("What did the council say about it?") == [p.id for p in passages]

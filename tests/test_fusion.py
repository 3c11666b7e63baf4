"""Fusion and item expansion, on the in-memory fakes: exact scores, in milliseconds.

`Retriever.fuse` adds, for every ranked list a passage is in, the list's weight over
(rrf_k + rank); an item number the query names doubles a passage's score; a body or date the
question names multiplies it by the preference factor (1 to PREFERENCE_BOOST, never 0).
`Retriever.expand_items` brings an agenda item's decision passages beside its best hits (for
vote questions, `decisions_first`: before them, the item's last ones first).
"""

from __future__ import annotations

import pytest

from assistant.retrieve.hybrid import ITEM_NUMBER_BOOST, PREFERENCE_BOOST, preference_factor
from assistant.index.store import DenseMatch
from assistant.core.types import DECISION_KINDS, Filters, Hit
from fakes import HashingEmbedder, MemoryIndex, MemoryLexical, chunk

K = 60  # Settings().retrieval.rrf_k
DENSE, LEXICAL = 0.5, 1.0  # Settings().retrieval.dense_weight, .lexical_weight


def _index(*chunks, **settings) -> MemoryIndex:
    return MemoryIndex.of(chunks or [chunk(c) for c in "abcdef"], **settings)


def dense(*ids: str) -> list[DenseMatch]:
    return [DenseMatch(id=i, similarity=1.0 - n / 10) for n, i in enumerate(ids)]


def lexical(*ids: str) -> list[tuple[str, float]]:
    return [(i, 10.0 - n) for n, i in enumerate(ids)]


def test_the_defaults_the_expected_scores_assume():
    index = _index()
    assert (index.settings.retrieval.rrf_k, index.settings.retrieval.dense_weight, index.settings.retrieval.lexical_weight) == (K, DENSE, LEXICAL)


def test_scores_are_weighted_reciprocal_ranks_summed_over_the_lists():
    hits = _index().retriever.fuse([dense("a", "b", "c")], [lexical("c", "a")], k=10)
    score = {h.chunk.id: h.score for h in hits}
    assert score["a"] == pytest.approx(DENSE / (K + 1) + LEXICAL / (K + 2))
    assert score["b"] == pytest.approx(DENSE / (K + 2))
    assert score["c"] == pytest.approx(DENSE / (K + 3) + LEXICAL / (K + 1))
    assert [h.chunk.id for h in hits] == ["c", "a", "b"]  # BM25 weighs twice the dense rank
    assert [h.rank for h in hits] == [1, 2, 3]


def test_each_hit_keeps_its_ranks_in_each_list_and_its_dense_similarity():
    hits = {h.chunk.id: h for h in _index().retriever.fuse([dense("a", "b")], [lexical("b", "d")], k=10)}
    assert (hits["a"].dense_rank, hits["a"].lexical_rank, hits["a"].dense_similarity) == (1, None, 1.0)
    assert (hits["b"].dense_rank, hits["b"].lexical_rank) == (2, 1)
    assert hits["b"].dense_similarity == pytest.approx(0.9)
    assert (hits["d"].dense_rank, hits["d"].lexical_rank, hits["d"].dense_similarity) == (None, 2, None)


def test_a_passage_found_by_the_dated_search_too_counts_twice_with_its_best_rank():
    hits = {h.chunk.id: h for h in _index().retriever.fuse([dense("a", "b"), dense("b")], [], k=10)}
    assert hits["b"].score == pytest.approx(DENSE / (K + 2) + DENSE / (K + 1))
    assert hits["b"].dense_rank == 1
    assert hits["b"].score > hits["a"].score


def test_the_weights_come_from_the_settings():
    hits = _index(dense_weight=2.0, lexical_weight=0.5, rrf_k=10).retriever.fuse([dense("a")], [lexical("b")], k=10)
    assert [(h.chunk.id, h.score) for h in hits] == [("a", pytest.approx(2.0 / 11)), ("b", pytest.approx(0.5 / 11))]


def test_ids_the_catalogue_does_not_know_are_dropped_and_do_not_take_a_place():
    hits = _index().retriever.fuse([dense("ghost", "a", "b", "c")], [], k=2)
    assert [h.chunk.id for h in hits] == ["a", "b"]
    assert [h.rank for h in hits] == [1, 2]
    assert hits[0].dense_rank == 2  # its rank in the list it came from


def test_k_limits_the_hits():
    assert len(_index().retriever.fuse([dense(*"abcdef")], [lexical(*"fedcba")], k=3)) == 3


def test_an_item_number_the_query_names_doubles_its_passages():
    index = _index(chunk("a"), chunk("b", item="19-342"))
    hits = index.retriever.fuse([dense("a", "b")], [], k=10, items={"19-342"})
    score = {h.chunk.id: h.score for h in hits}
    assert score["b"] == pytest.approx(ITEM_NUMBER_BOOST * DENSE / (K + 2))
    assert [h.chunk.id for h in hits] == ["b", "a"]


def test_a_named_body_lifts_its_passages_without_excluding_the_others():
    index = _index(chunk("a", committee="Planning Board"), chunk("b", committee="Cabinet"), chunk("c"))
    prefer = Filters(committee="cabinet")
    hits = index.retriever.fuse([dense("a", "b", "c")], [], k=10, prefer=prefer)
    score = {h.chunk.id: h.score for h in hits}
    assert score["a"] == pytest.approx(DENSE / (K + 1) * 1.0)  # says another committee: factor 1
    assert score["b"] == pytest.approx(DENSE / (K + 2) * PREFERENCE_BOOST)  # the named one
    assert score["c"] == pytest.approx(DENSE / (K + 3) * (1 + (PREFERENCE_BOOST - 1) * 0.5))  # does not say
    assert [h.chunk.id for h in hits] == ["b", "c", "a"]


def test_no_preference_leaves_the_scores_as_they_are():
    plain = _index().retriever.fuse([dense("a", "b")], [lexical("b")], k=10)
    empty = _index().retriever.fuse([dense("a", "b")], [lexical("b")], k=10, prefer=Filters())
    assert [(h.chunk.id, h.score) for h in plain] == [(h.chunk.id, h.score) for h in empty]


CABINET = Filters(committee="Cabinet")
CABINET_IN_SEPTEMBER = Filters(committee="Cabinet", since="2024-09-01", until="2024-09-30")


@pytest.mark.parametrize("prefer, meta, factor", [
    (CABINET, {"committee": "Cabinet"}, PREFERENCE_BOOST),
    (CABINET, {"committee": "Planning"}, 1.0),  # never 0: ranks, does not exclude
    (CABINET, {}, 1.0 + (PREFERENCE_BOOST - 1.0) * 0.5),  # does not say: half
    (CABINET_IN_SEPTEMBER, {"committee": "Cabinet", "date_int": 20240926}, PREFERENCE_BOOST),
    (CABINET_IN_SEPTEMBER, {"committee": "Cabinet", "date_int": 20230101}, 1.0 + (PREFERENCE_BOOST - 1.0) * 0.5),
    (CABINET_IN_SEPTEMBER, {"committee": "Planning", "date_int": 0}, 1.0 + (PREFERENCE_BOOST - 1.0) * 0.25),
    (Filters(), {"committee": "Planning"}, 1.0),
])
def test_preference_factor_is_the_mean_of_the_named_fields(prefer, meta, factor):
    assert preference_factor(prefer, meta) == pytest.approx(factor)


def test_hybrid_search_over_the_fakes_runs_both_parts_and_fuses_them():
    index = _index(chunk("a", "the budget was approved"), chunk("b", "parking on the high street"),
                   chunk("c", "the budget for parking"))
    hits = index.retriever.search("parking budget", k=3)
    assert {h.chunk.id for h in hits} == {"a", "b", "c"}
    assert hits[0].chunk.id == "c"  # both words: first in both lists
    assert hits[0].dense_rank == 1 and hits[0].lexical_rank == 1
    assert index.embedder.calls[-1] == ["parking budget"]
    calls = len(index.embedder.calls)
    index.retriever.search("parking budget", k=3, mode="dense")
    assert len(index.embedder.calls) == calls  # the query's vector is kept


# ---- item expansion ---------------------------------------------------------------------------

def _item_index() -> MemoryIndex:
    """Two agenda items of one meeting; item 5 has a heading, a discussion, a motion and a vote."""
    return _index(
        chunk("h5", "5. Parking permits", item="5", title="Parking permits", section="heading", ordinal=1),
        chunk("d5", "Members discussed the permits", item="5", title="Parking permits", ordinal=2),
        chunk("m5", "Moved by Cllr Ames", item="5", title="Parking permits", section="motion", ordinal=3),
        chunk("v5", "Ayes 4, Noes 1", item="5", title="Parking permits", section="vote", ordinal=4),
        chunk("d6", "Members discussed the library", item="6", title="Library", ordinal=5),
        chunk("r6", "Resolved to close the library", item="6", title="Library", section="resolution", ordinal=6),
        chunk("loose", "Apologies were received"),
    )


def _hits(index: MemoryIndex, *ids: str) -> list[Hit]:
    return [Hit(chunk=index.lexical.chunk(i), score=1.0 - n / 10, rank=n + 1) for n, i in enumerate(ids)]


def _ids(hits: list[Hit]) -> list[str]:
    return [h.chunk.id for h in hits]


def test_the_kinds_expanded_are_the_decision_passages():
    assert {"motion", "vote", "resolution"} <= set(DECISION_KINDS)
    assert "discussion" not in DECISION_KINDS and "heading" not in DECISION_KINDS


def test_an_items_decision_passages_come_right_after_its_hit():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "d5", "loose"), DECISION_KINDS)
    assert _ids(out) == ["d5", "m5", "v5", "loose"]
    assert [h.rank for h in out] == [1, 2, 3, 4]
    assert [h.score for h in out[:3]] == pytest.approx([1.0, 0.99, 0.99])  # just below the hit they join


def test_decision_passages_already_found_stay_where_the_search_put_them():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "d5", "loose", "v5"), DECISION_KINDS)
    assert _ids(out) == ["d5", "m5", "loose", "v5"]


def test_decisions_first_puts_the_vote_and_motion_before_the_discussion_last_first():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "d5", "loose"), DECISION_KINDS, decisions_first=True)
    assert _ids(out) == ["v5", "m5", "d5", "loose"]  # the item's last decision passage settles it
    assert [h.score for h in out[:3]] == pytest.approx([1.0, 1.0, 1.0])  # they take the hit's score


def test_decisions_first_moves_up_a_vote_the_search_ranked_lower():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "h5", "loose", "v5"), DECISION_KINDS, decisions_first=True)
    assert _ids(out) == ["v5", "m5", "h5", "loose"]  # listed once, beside its item's best hit


def test_decisions_first_leaves_a_hit_that_is_itself_a_decision_first():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "m5"), DECISION_KINDS, decisions_first=True)
    assert _ids(out) == ["m5", "v5"]


def test_only_the_top_hits_are_expanded():
    index = _item_index()
    out = index.retriever.expand_items(_hits(index, "loose", "d6", "d5"), DECISION_KINDS, top=2)
    assert _ids(out) == ["loose", "d6", "r6", "d5"]  # d5 is third: its item is not brought in


def test_a_hit_of_no_item_brings_nothing():
    index = _item_index()
    assert _ids(index.retriever.expand_items(_hits(index, "loose"), DECISION_KINDS, decisions_first=True)) == ["loose"]


def test_the_fake_lexical_groups_an_item_like_the_real_one():
    lexical = MemoryLexical([chunk("x", item="1", title="T", ordinal=2), chunk("y", item="1", title="T", ordinal=1),
                             chunk("z", item="1", title="T", source="other.txt")])
    assert [c.id for c in lexical.item_chunks(lexical.chunk("x"))] == ["y", "x"]
    assert HashingEmbedder().embed(["a b"]).shape == (1, HashingEmbedder.dimension)


@pytest.mark.parametrize("question, expected", [
    # the heading states the resolution's number and name
    ("Which resolution approved the parking permits?", ["h5", "d5", "loose"]),
    # a vote question: the item's last vote and motion first
    ("How did the council vote on the parking permits?", ["v5", "m5", "d5", "loose"]),
    # neither: the search's order
    ("What was said about parking permits?", ["d5", "loose"]),
])
def test_the_item_passages_brought_in_hold_the_kind_of_answer_asked_for(question, expected):
    from assistant.answer.query import plan_query
    from assistant.answer.service import bring_in_item_passages

    index = _item_index()
    plan = plan_query(question, [], Filters(), [], [])
    assert _ids(bring_in_item_passages(index.retriever, plan, _hits(index, "d5", "loose"))) == expected

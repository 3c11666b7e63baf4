"""Decisions as records: every resolution, motion, vote and action found in the minutes,
kept beside the index, listed, traced across meetings and quoted in answers.

The modules import only downward, in this order:

- `records`: the `Decision` and `TimelineEntry` data;
- `extract`: finds decisions in a file's Segments (pure functions, no database), with
  `names` (people and titles) < `votes` (votes, movers, seconders) < `wording` (other
  outcome wording, references) < `walk` (the state machine over the segments) under it;
- `history`: an item's dated timeline across meetings and committees;
- `register`: the SQLite table beside the chunks, the ingest hook that fills it, and
  `DecisionRegister` to read it;
- `answer`: answers to decision questions that quote the matching record;
- `report`: the `minutes decisions` and `minutes history` output (not imported here);
- `quality`: measures extraction against the hand-checked sample
  (`python -m assistant.decisions.quality`; not imported here).

This package re-exports what the rest of the assistant uses.
"""

from .answer import decision_answer, is_latest_question
from .history import History, build_history, label_of
from .records import Decision, TimelineEntry
from .register import (
    EXTRACTOR_VERSION,
    DecisionRegister,
    backfill,
    decision_hooks,
    decisions_for,
    decisions_hook,
    stale_files,
    write_decisions,
)

__all__ = [
    "Decision", "TimelineEntry", "DecisionRegister", "decision_hooks", "decisions_hook", "decisions_for",
    "write_decisions", "stale_files", "backfill", "decision_answer", "is_latest_question", "History",
    "build_history", "label_of", "EXTRACTOR_VERSION",
]

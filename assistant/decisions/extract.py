"""Finding decisions in a file's Segments: motions with their second and vote, consent
calendar items enacted by the consent motion, outcomes printed with an item's heading ("Not
heard.", "Continued to ..."), closed-session announcements made with a vote, English
resolutions ("Resolved that:", "The Board agreed to note the report") and actions with
their owners ("Action - NAME to ...", "NAME undertook to ...").

Pure functions over Segments and Chunks: no database, no model. Every `text` is verbatim
from the minutes and, when a chunk holds it, a substring of that chunk's text. This module is
the entry point (`extract`, then `locate` and `decision_id` to make stored rows); the work is
done, in import order, by `names` (people and their titles), `votes` (votes, movers and
seconders), `wording` (the other ways minutes word an outcome) and `walk` (the state machine
over a file's segments). Their public names are importable from here.
"""

from __future__ import annotations

import hashlib
import re

from ..core.types import Chunk, Segment
from .names import NAME, NAME_WORD, TITLE_WORDS, TITLES, clean_name, split_names
from .votes import Vote, mover_of, parse_vote, seconder_of
from .walk import Found, find_decisions
from .wording import action_owner, heading_outcome, references, resolution_outcome

OUTCOMES = ("approved", "agreed", "noted", "deferred", "refused", "carried", "failed", "withdrawn")


def extract(segments: list[Segment]) -> list[Found]:
    found = find_decisions(segments)
    found.sort(key=lambda f: (f.position, f.order))
    return found


# ---- from Found to stored rows ----------------------------------------------------------

def locate(text: str, seg: Segment, chunks: list[Chunk]) -> tuple[Chunk | None, str]:
    """The chunk that holds `text` (preferring the segment's pages), and the quote: `text`
    itself, or when a long paragraph was split across chunks, the longest run of its
    sentences that one chunk holds. (None, text) when no chunk holds any of it."""
    def elsewhere(c: Chunk) -> bool:
        return not (c.page_start <= seg.page_start <= c.page_end or c.page_start <= seg.page_end <= c.page_end)

    pool = sorted(chunks, key=elsewhere)  # the segment's pages first, each group in reading order
    for chunk in pool:
        if text in chunk.text:
            return chunk, text
    bounds = [0] + [m.end() for m in re.finditer(r"(?<=[.;:])\s+", text)] + [len(text)]
    spans = sorted(((j - i, bounds[i], bounds[j]) for i in range(len(bounds) - 1) for j in range(i + 1, len(bounds))),
                   key=lambda s: (-s[0], s[1]))
    for _, a, b in spans:
        quote = text[a:b].strip()
        if len(quote) < 12:
            continue
        for chunk in pool:
            if quote in chunk.text:
                return chunk, quote
    return None, text


def decision_id(source: str, item: str, kind: str, text: str, seen: dict) -> str:
    digest = hashlib.sha256(f"{source}\x00{item}\x00{kind}\x00{text}".encode()).hexdigest()[:20]
    seen[digest] = seen.get(digest, 0) + 1
    return digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


__all__ = [
    "OUTCOMES", "NAME", "NAME_WORD", "TITLES", "TITLE_WORDS", "Found", "Vote", "action_owner", "clean_name",
    "decision_id", "extract", "find_decisions", "heading_outcome", "locate", "mover_of", "parse_vote", "references",
    "resolution_outcome", "seconder_of", "split_names",
]

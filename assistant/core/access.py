"""Access levels: which documents and agenda items are for members and officers only.

A document or an item is `public` or `restricted`. Restricted comes from the manifest
(`"access": "restricted"` for a file, `"restricted_items": ["12", "13"]` for items), or from
the minutes' own wording: a document marked "not for publication", "exempt" or "Part II
minutes" at its top, or the items of a meeting from the point where the press and public were
excluded ("exempt information", Schedule 12A, "adjourned to closed session", "in camera") until
they were readmitted or the meeting reconvened in open session. When in doubt, restricted.

A user is `public` or an `officer`; officers see everything, public users see public text only
(see Catalog.public_view and MinutesIndex.view).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from .types import Chunk, Document, Segment

ACCESS_VERSION = "a2"  # bumped when the rules change: files are then read again (nothing is re-embedded)
PUBLIC, RESTRICTED = "public", "restricted"
OFFICER = "officer"
LEVELS = (PUBLIC, OFFICER)

# A whole document that is not for the public, said at the top of its first page.
DOCUMENT_MARK = re.compile(
    r"\b(?:not for publication|exempt (?:minutes|report)|confidential (?:minutes|report)|"
    r"part (?:ii|2) minutes|closed session minutes|restricted minutes)\b",
    re.I,
)
# Where the press and public leave: the items from here on are exempt.
EXCLUSION = re.compile(
    r"\b(?:press and public|public and press|press and the public|members of the public|the public)\b[^.;]{0,40}?"
    r"\b(?:be|were|was|are|being|to be)\s+excluded\b"
    r"|\bexclu(?:sion|de|ding)\s+(?:of\s+)?(?:the\s+)?(?:press and (?:the )?public|public and (?:the )?press|"
    r"press|public)\b"
    r"|\bexempt information\b|\bschedule 12a\b|\bsection 100a\s*\(4\)"
    r"|\b(?:adjourned|convened|reconvened|went|moved|recessed|retired)\s+(?:in|into|to)\s+(?:a\s+)?closed session\b"
    r"|\bclosed session to (?:consider|discuss)\b|\bin camera\b"
    r"|\bmeeting (?:was )?closed to the public\b(?!\s+(?:session|participation|forum|questions|and (?:re-?)?open))"
    r"|^\W*part (?:ii|2)\b(?!\s+of)",
    re.I | re.M,
)
# Where they come back.
READMISSION = re.compile(
    r"\b(?:press|public)\b[^.;]{0,40}?\b(?:re-?admitted|readmitted|returned|invited back|re-?joined|allowed back)\b"
    r"|\b(?:reconvened|resumed|returned to|reopened)\b[^.;]{0,30}?\b(?:open|public)\s+(?:session|meeting)\b"
    r"|\bfollowing the (?:[a-z]+ \d{1,2}, \d{4} )?closed\s*ses\s*si\s*on\b"  # PDF text splits words: "sessi on"
    r"|\b(?:meeting|council|committee) (?:was )?reconvened\b(?! (?:in|into|to) closed)|\bin open session\b",
    re.I,
)
MIN_LINE = 25  # characters: a line this long, found in restricted text, makes a chunk restricted


def document_access(doc: Document, detect: bool = True) -> tuple[str, str]:
    """(level, why) of the document as a whole."""
    declared = str(doc.metadata.get("access", "") or "").strip().lower()
    if doc.metadata.get("restricted") is True:  # ModernGov's isrestricted, written by `minutes sync moderngov`
        declared = RESTRICTED
    if declared == RESTRICTED:
        return RESTRICTED, "the manifest marks it restricted"
    if declared == PUBLIC:
        return PUBLIC, "the manifest marks it public"
    if not detect:
        return PUBLIC, ""
    top = doc.pages[0].text[:300] if doc.pages else ""
    top = " ".join(p for p in ((doc.pages[0].header if doc.pages else ""), top) if p)
    m = DOCUMENT_MARK.search(top)
    if m:
        return RESTRICTED, f"its first page says “{m[0]}”"
    return PUBLIC, ""


def restricted_segments(segments: list[Segment], items: tuple[str, ...] = ()) -> list[bool]:
    """For each segment, whether it is exempt: from an exclusion of the public (the segment that
    says so included) until a readmission, and every segment of an item the manifest lists."""
    wanted = {str(i).strip().lower() for i in items if str(i).strip()}
    out, excluded = [], False
    for seg in segments:
        excluding = EXCLUSION.search(seg.text)
        back = READMISSION.search(seg.text)
        if excluding or EXCLUSION.search(seg.title or ""):
            out.append(True)  # the exclusion itself often holds the business ("to discuss HR matters")
            # excluded from here on, unless this very segment readmits them after excluding them
            excluded = not (back and (excluding is None or back.start() > excluding.start()))
            continue
        if excluded and back:
            excluded = False
            # the segment that says they came back is public only if it starts by saying so
            out.append(back.start() > 20 or (seg.item or "").strip().lower() in wanted)
            continue
        out.append(excluded or (seg.item or "").strip().lower() in wanted)
    return out


def plan(doc: Document, segments: list[Segment], detect: bool = True) -> tuple[list[bool], str]:
    """(for each segment whether it is restricted, why) for one document. With `detect` off
    (MINUTES_DETECT_EXEMPT=false, for a corpus that is all published), only the manifest counts."""
    level, why = document_access(doc, detect)
    if level == RESTRICTED:
        return [True] * len(segments), why
    if why:  # the manifest says public: nothing is detected
        return [False] * len(segments), why
    items = tuple(str(i).strip() for i in (doc.metadata.get("restricted_items") or ()))
    if str(doc.metadata.get("item", "") or "").strip() in {i for i in items if i}:
        return [True] * len(segments), "the manifest lists its item as restricted"
    if not detect:
        return [bool(items) and (s.item or "").strip() in items for s in segments], "the manifest lists restricted items"
    flags = restricted_segments(segments, items)
    if not any(flags):
        return flags, ""
    return flags, ("the manifest lists restricted items" if items and not any(
        EXCLUSION.search(s.text) for s in segments) else "the press and public were excluded")


def chunk_by_access(segments: list[Segment], flags: list[bool], chunk: Callable[[list[Segment]], list[Chunk]]
                    ) -> list[Chunk]:
    """Chunks that never mix public and restricted text: each run of segments of one level is
    chunked on its own (a file with no restricted segment is chunked exactly as before)."""
    if not any(flags):
        return chunk(segments)
    out: list[Chunk] = []
    seen: set[str] = set()
    run: list[Segment] = []
    for i, seg in enumerate(segments):
        run.append(seg)
        if i + 1 == len(segments) or flags[i + 1] != flags[i]:
            for c in chunk(run):
                cid = c.id
                while cid in seen:  # the same words in two runs
                    cid = f"{c.id}-r{len(seen)}"
                seen.add(cid)
                out.append(replace(c, id=cid, ordinal=len(out), access=RESTRICTED if flags[i] else PUBLIC))
            run = []
    return out


def mark_by_text(chunks: list[Chunk], segments: list[Segment], flags: list[bool]) -> list[Chunk]:
    """For chunks not made from segments (the naive chunker): restricted when they hold a line
    of restricted text. When in doubt, restricted."""
    if all(flags) and flags:
        return [replace(c, access=RESTRICTED) for c in chunks]
    hidden = [s for s, f in zip(segments, flags) if f]
    if not hidden:
        return chunks
    blob = _norm("\n".join(s.text for s in hidden))
    out = []
    for c in chunks:
        lines = [_norm(line) for line in c.text.split("\n")]
        restricted = _norm(c.text) in blob or any(len(line) >= MIN_LINE and line in blob for line in lines)
        out.append(replace(c, access=RESTRICTED) if restricted else c)
    return out


def file_access(chunks: list[Chunk]) -> str:
    n = sum(1 for c in chunks if c.access == RESTRICTED)
    return PUBLIC if not n else RESTRICTED if n == len(chunks) else "partial"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()

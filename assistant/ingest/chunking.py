"""Chunks that keep the minutes' structure.

Segments of one agenda item are packed in order into chunks that fit the embedding
model's window; a decision (resolution, motion with its vote, action) is never split and
never shares a chunk with another item. The embedded text starts with a short header
(council, committee, date, item and title) so a chunk is findable out of context.
Ids are stable hashes of the source and the chunk's content.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from dataclasses import replace
from typing import Callable, Iterable

from ..core.dates import human_date
from ..core.types import DECISION_KINDS, Chunk, Document, Segment

TokenCounter = Callable[[str], int]
KIND_PRIORITY = ("resolution", "vote", "motion", "action", "heading", "discussion", "procedural")
HEADER_TITLE_WORDS = 14
MODEL_WINDOW = 256  # word pieces all-MiniLM-L6-v2 reads: header and text of a chunk must fit together


def approx_tokens(text: str) -> int:
    """Word pieces, estimated: about 1.3 per word, more for numbers and punctuation."""
    return len(re.findall(r"\w+|[^\w\s]", text)) + len(re.findall(r"\d", text)) // 3


def header(seg: Segment | Chunk, with_title: bool = True) -> str:
    """'Herefordshire Council, Cabinet, 26 September 2024. Item 24: Children and ...'."""
    committee = seg.committee if seg.committee.lower() not in seg.council.lower() else ""
    who = ", ".join(p for p in (seg.council, committee) if p)
    when = human_date(seg.date) or "date not stated"
    title_words = seg.title.split()
    title = " ".join(title_words[:HEADER_TITLE_WORDS]) + (" …" if len(title_words) > HEADER_TITLE_WORDS else "")
    if not with_title:
        title = ""
    item = f"Item {seg.item}: {title}" if seg.item and title else (f"Item {seg.item}" if seg.item else title)
    parts = [p for p in (who, when, item) if p]
    return ". ".join(parts).rstrip(".") + "."  # a title that ends with a full stop gets no second one


def chunk_segments(
    source: str, segments: list[Segment], max_tokens: int, count_tokens: TokenCounter = approx_tokens
) -> list[Chunk]:
    """Pack segments into chunks, item by item."""
    count_tokens = functools.lru_cache(maxsize=4096)(count_tokens)  # each text is counted two or three times
    chunks: list[Chunk] = []
    for group in _by_item(segments):
        # The header goes in front of every chunk of the item: leave room for it in the window.
        limit = max(16, min(max_tokens, MODEL_WINDOW - count_tokens(header(group[0]))))
        pieces: list[Segment] = []
        for seg in group:
            if seg.kind in DECISION_KINDS or count_tokens(seg.text) <= limit:
                pieces.append(seg)
            else:
                pieces.extend(_split_long(seg, limit, count_tokens))
        current: list[Segment] = []
        used = 0
        for seg in pieces:
            size = count_tokens(seg.text)
            if current and used + size > limit:
                chunks.append(_make_chunk(source, current, len(chunks)))
                current, used = [], 0
            current.append(seg)
            used += size
        if current:
            chunks.append(_make_chunk(source, current, len(chunks)))
    return _with_ids(chunks)


def _by_item(segments: list[Segment]) -> Iterable[list[Segment]]:
    group: list[Segment] = []
    for seg in segments:
        key = (seg.meeting, seg.date, seg.item, seg.title)
        if group and key != (group[0].meeting, group[0].date, group[0].item, group[0].title):
            yield group
            group = []
        group.append(seg)
    if group:
        yield group


def _split_long(seg: Segment, max_tokens: int, count_tokens: TokenCounter) -> list[Segment]:
    """Split an over-long discussion paragraph at sentence ends (words, as a last resort)."""
    sentences = re.split(r"(?<=[.!?;])\s+(?=[A-Z(\"“‘'])", seg.text)
    out, current = [], ""
    for sentence in sentences:
        while count_tokens(sentence) > max_tokens:
            words = sentence.split()
            cut = max(1, len(words) * max_tokens // max(1, count_tokens(sentence)))
            while cut > 1 and count_tokens(" ".join(words[:cut])) > max_tokens:  # the estimate can overshoot
                cut -= 1
            head, sentence = " ".join(words[:cut]), " ".join(words[cut:])
            if current:
                out.append(current)
                current = ""
            out.append(head)
        candidate = f"{current} {sentence}".strip()
        if current and count_tokens(candidate) > max_tokens:
            out.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        out.append(current)
    return [replace(seg, text=part) for part in out]


def _make_chunk(source: str, segs: list[Segment], ordinal: int) -> Chunk:
    first = segs[0]
    kinds = {s.kind for s in segs}
    section = next(k for k in KIND_PRIORITY if k in kinds)
    text = "\n".join(s.text for s in segs)
    return Chunk(
        id="",
        text=text,
        embed_text=f"{header(first, with_title=first.kind != 'heading')}\n{text}",
        source=source,
        page_start=min(s.page_start for s in segs),
        page_end=max(s.page_end for s in segs),
        section=section,
        council=first.council,
        committee=first.committee,
        meeting=first.meeting,
        date=first.date,
        item=first.item,
        title=first.title,
        ordinal=ordinal,
        council_from=first.council_from,
        committee_from=first.committee_from,
        date_from=first.date_from,
    )


def _with_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Id = hash(source, embedded text, occurrence): stable while the content is."""
    seen: Counter[str] = Counter()
    out = []
    for chunk in chunks:
        digest = hashlib.sha256(f"{chunk.source}\x00{chunk.embed_text}".encode()).hexdigest()[:24]
        seen[digest] += 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        out.append(replace(chunk, id=digest + suffix))
    return out


def chunk_naive(doc: Document, size: int = 1000, overlap: int = 200) -> list[Chunk]:
    """The usual baseline: LangChain's RecursiveCharacterTextSplitter over each page."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap)
    chunks = []
    meta = doc.metadata
    for page in doc.pages:
        for part in splitter.split_text(page.text):
            chunks.append(
                Chunk(
                    id="",
                    text=part,
                    embed_text=part,
                    source=doc.source,
                    page_start=page.number,
                    page_end=page.number,
                    section="discussion",
                    council=meta.get("council", ""),
                    committee=meta.get("committee", ""),
                    date=meta.get("date", ""),
                    item=str(meta.get("item", "") or ""),
                    title=meta.get("title", ""),
                    ordinal=len(chunks),
                )
            )
    return _with_ids(chunks)

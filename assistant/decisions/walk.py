"""The walk over a file's Segments in reading order: the state machine that keeps the current
meeting, item, consent motion and the motions still waiting for their vote, and turns each
paragraph into `Found` decisions (a motion with its second and vote, a consent item enacted
by the consent motion, an outcome printed with a heading, a closed-session announcement, a
consensus, a resolution, an action). `find_decisions` is its entry point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..ingest.structure import CLOSED_REPORT_TITLE, _item_title as structure_title
from ..core.types import Segment
from .names import clean_name, split_names
from .votes import MOVED, Vote, mover_of, parse_vote, seconder_of
from .wording import (
    ACTION_LINE, BODY_WORDS, CLOSED_REPORT_WORDS, CLOSED_SESSION_START, CONSENSUS, CONSENT_MOTION, EMBEDDED_ITEM,
    HEAD_OUTCOME, ITEM_HEAD, MEETING_START, NO_VOTE, PAGE_FURNITURE, PROCEDURAL_AGREEMENT, RECOMMENDATION_PUT,
    RECORDED_VOTE, REGARDING, STRONG_CONSENT, UNDERTOOK, action_owner, heading_outcome, resolution_outcome,
)


@dataclass
class Found:
    """A decision as found, before it becomes a stored Decision."""

    seg: Segment
    kind: str
    text: str
    outcome: str | None
    item: str
    title: str
    mover: str = ""
    seconder: str = ""
    vote: Vote = Vote()
    owner: str = ""
    extra_text: str = ""  # the second or vote recorded in later paragraphs (or the consent motion), verbatim
    order: int = 0
    position: int = 0  # index of the segment where it was last completed: the order of decisions
    roster: tuple = ()  # the meeting's roll call, to repair names pypdf split ('Ma tarrese')


@dataclass
class _Item:
    num: str
    title: str
    star: bool
    seg: Segment
    head_outcome: str | None
    head_word: str
    chained: bool  # its heading ends with ';' or 'and': one motion covers it and the next
    outcome_seg: Segment | None = None  # the outcome printed on its own line under the heading
    text: str = ""  # its heading, verbatim (a part of the segment when several items were joined)


class _Walk:
    def __init__(self) -> None:
        self.found: list[Found] = []
        self.items: list[_Item] = []
        self.order = 0
        self.previous: Segment | None = None
        self.segments_index: dict[int, int] = {}
        self.reset_meeting()

    def reset_meeting(self) -> None:
        self.consent: Found | None = None
        self.consent_items: list[_Item] = []
        self.group: list[_Item] = []
        self.group_open = False
        self.item: _Item | None = None
        self.pending: list[list[Found]] = []  # motions waiting for their vote, innermost last
        self.roster: tuple = ()
        self.closed: list[_Item] = []
        self.in_closed = False
        self.recommendation: Segment | None = None
        self.interrupted: list[tuple] = []  # items interrupted by a '*** (NN-NNN) ... ***' interjection

    position = 0

    def add(self, f: Found) -> Found:
        self.order += 1
        f.order, f.position, f.roster = self.order, self.position, self.roster
        self.found.append(f)
        return f


def find_decisions(segments: list[Segment]) -> list[Found]:
    """Walk the segments in order, keeping the current meeting, item and consent motion."""
    w = _Walk()
    w.segments_index = {id(seg): i for i, seg in enumerate(segments)}
    for position, seg in enumerate(segments):
        w.position = position
        opened = _step(w, seg)
        if w.interrupted and seg.text.rstrip().endswith("***") and (opened is not seg or INTERJECTION_END_ONLY.search(seg.text)):
            # '*** (20-138) ... motion ... ***': the interjection is over, the interrupted item resumes
            w.item, w.group, w.pending = w.interrupted.pop()
            w.group_open = False
    for item in w.items:
        if item.head_outcome is None or (item.star and item.head_outcome == "approved"):
            continue  # decided by a motion, the consent vote or consensus; or a consent item without its motion
        seg = item.outcome_seg or item.seg
        w.position = w.segments_index[id(seg)]
        w.add(Found(seg, "item", seg.text if item.outcome_seg else (item.text or seg.text), item.head_outcome, item.num,
                    item.title))
    for f in w.found:
        if f.roster:
            f.mover, f.seconder = _roster_name(f.mover, f.roster), _roster_name(f.seconder, f.roster)
            names = {k: [_roster_name(n, f.roster) for n in v] for k, v in f.vote.names.items()}
            f.vote = replace(f.vote, names=names)
    return w.found


INTERJECTION_END_ONLY = re.compile(r"\S.*\*{3}\s*$", re.S)
MOTION_HEAD = 300  # characters of a paragraph read for the mover or a consent motion


def _step(w: _Walk, seg: Segment) -> Segment | None:
    """One segment of the walk. Returns the segment when it opens an interjection."""
    text = seg.text
    if MEETING_START.match(text):
        w.reset_meeting()
        return None
    present = PRESENT.search(text) if seg.kind == "procedural" else None
    if present:
        w.roster = tuple(split_names(present["body"]))
    if CLOSED_SESSION_START.search(text) and seg.kind in ("procedural", "heading", "discussion"):
        w.in_closed, w.closed = True, []
    done, opened = _on_heading(w, seg)
    if done or _on_outcome_line(w, seg):
        return opened
    w.previous = seg
    _on_paragraph(w, seg)
    return opened


def _on_heading(w: _Walk, seg: Segment) -> tuple[bool, Segment | None]:
    """An item's heading, or an agenda section's: (whether the segment is dealt with, the
    segment when it opens an interjection)."""
    text = seg.text
    opened = None
    head = _item_head(text) if seg.kind in ("heading", "discussion", "motion", "vote") else None
    if head:
        if head["stars"] or (w.previous is not None and w.previous.text.strip() == "***"):
            w.interrupted.append((w.item, w.group, w.pending))
            w.pending = []
            opened = seg
        _on_item(w, seg, head)
        if MOVED.search(head["rest"]) and mover_of(head["rest"]):
            # '(12-592) Councilmember Tam moved approval of appointing ...': the item and its motion
            _on_motion(w, seg)
            w.previous = seg
            return True, opened
        if seg.kind in ("heading", "discussion"):
            w.previous = seg
            return True, opened
    elif seg.kind == "heading":
        if not seg.item and not text.rstrip().endswith(":"):
            # an agenda section (CONSENT CALENDAR); 'IN FAVOR:' labels inside an item are not
            w.item, w.group, w.group_open = None, [], False
        w.previous = seg
        return True, opened
    else:
        w.group_open = False
    return False, opened


def _on_outcome_line(w: _Walk, seg: Segment) -> bool:
    """The outcome printed on its own line under the heading: 'Continued to February 29, 2016.'"""
    text = seg.text
    if w.item is not None and w.previous is w.item.seg and HEAD_OUTCOME.fullmatch(text.strip()):
        outcome, _ = heading_outcome(text)
        if outcome:
            w.item.head_outcome, w.item.outcome_seg = outcome, seg
            w.previous = seg
            return True
    return False


def _on_paragraph(w: _Walk, seg: Segment) -> None:
    """A paragraph of an item, by its kind: a resolution, an action, a motion, a vote, a
    closed-session report, or discussion that may record a consensus or an undertaking."""
    text = seg.text
    if seg.kind == "resolution":
        _on_resolution(w, seg)
    elif seg.kind == "action":
        m = ACTION_LINE.match(text)
        owner = action_owner(m["body"]) if m else ""
        w.add(Found(seg, "action", text, None, _item_num(w, seg), _item_title(w, seg), owner=owner))
    elif seg.kind == "motion" or (seg.kind == "vote" and MOVED.search(text[:MOTION_HEAD]) and mover_of(text)):
        _on_motion(w, seg)
    elif seg.kind == "vote" or (seg.kind == "discussion" and CLOSED_REPORT_WORDS.match(text)):
        if CLOSED_REPORT_WORDS.match(text) or seg.title == CLOSED_REPORT_TITLE:
            _on_closed_report(w, seg)
        else:
            _on_vote(w, seg)
    elif seg.kind == "discussion" and ADDRESSED_UNDER.search(text) and w.item is not None:
        _on_addressed_under(w, seg, ADDRESSED_UNDER.search(text))
    elif seg.kind == "discussion":
        if seg.title == CLOSED_REPORT_TITLE and re.match(r"\s*regarding\b", text, re.I):
            _on_closed_report(w, seg)
        elif CONSENSUS.search(text) and (w.item or seg.item):
            _on_consensus(w, seg)
        _on_undertakings(w, seg)


def _on_undertakings(w: _Walk, seg: Segment) -> None:
    """'Ms Smith undertook to circulate the figures': an action with its owner."""
    for m in UNDERTOOK.finditer(seg.text):
        who = m["who"]
        if BODY_WORDS.search(who) or not clean_name(who) or PROCEDURAL_AGREEMENT.search(m["sentence"]):
            continue
        w.add(Found(seg, "action", m["sentence"].strip(), None, _item_num(w, seg), _item_title(w, seg),
                    owner=clean_name(who)))


PRESENT = re.compile(r"\bPresent\s*:\s*(?P<body>[^\[\]]+?)(?:[–—-]\s*\d+\s*\.?|$)", re.I)


def _roster_name(name: str, roster: tuple) -> str:
    """A name as the roll call prints it, when pypdf split it ('Ma tarrese' -> 'Matarrese')."""
    if not name or name in roster:
        return name
    key = name.replace(" ", "").lower()
    return next((r for r in roster if r.replace(" ", "").lower() == key), name)


def _item_num(w: _Walk, seg: Segment) -> str:
    return w.item.num if w.item else seg.item


def _item_title(w: _Walk, seg: Segment) -> str:
    return w.item.title if w.item else seg.title


def _item_head(text: str) -> dict | None:
    """The item number, consent asterisk and rest of an item's heading paragraph; also when a
    running footer pypdf left in the text is glued in front of it."""
    m = ITEM_HEAD.match(text)
    if m is None:
        glued = PAGE_FURNITURE.match(text)
        m = ITEM_HEAD.match(text[glued.end():]) if glued else None
    if m is None:
        return None
    return {"num": m["num"], "star": m["star"], "rest": m["rest"], "stars": bool(m["stars"])}


INLINE_REPORT = re.compile(r"(?<=[.”\")])\s+(?=Following\s+the\s+Closed\s+Session\b)", re.I)
ADDRESSED_UNDER = re.compile(
    r"\b(?:addressed|considered|heard|acted\s+on|handled|decided)\s+(?:under|with|as\s+part\s+of)\b[^.\[]{0,60}"
    r"\[paragraph\s+nos?\.\s*(?P<num>\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2})\s*\]",
    re.I,
)


def _on_item(w: _Walk, seg: Segment, head: dict) -> None:
    text = seg.text
    report = INLINE_REPORT.search(text)
    if report:  # a page without blank lines: items and the closed-session report in one paragraph
        text = text[: report.start()]
    _on_items(w, seg, head, text)
    if report:
        _on_closed_report(w, seg, seg.text[report.end():])


def _on_items(w: _Walk, seg: Segment, head: dict, text: str) -> None:
    cuts = [m.end() for m in EMBEDDED_ITEM.finditer(text)]
    if cuts:  # several items joined in one paragraph: each is its own item, chained
        parts = [text[a:b].strip() for a, b in zip([0] + cuts, cuts + [len(text)])]
        first = True
        for part in parts:
            sub = _item_head(part) if not first else head
            if sub is None:
                continue
            _one_item(w, seg, sub, part if not first else text[: cuts[0]].strip())
            first = False
        return
    _one_item(w, seg, head, text if text != seg.text else seg.text)


def _one_item(w: _Walk, seg: Segment, head: dict, text: str) -> None:
    num = re.sub(r"\s", "", head["num"])
    rest = head["rest"].strip()
    if text != seg.text:
        rest = (_item_head(text) or head)["rest"].strip()
    outcome, word = heading_outcome(rest)
    item = _Item(num, structure_title(rest) or rest[:200], bool(head["star"]), seg, outcome, word,
                 bool(re.search(r"(?:;|\band)\s*$", rest)), text=text)
    w.items.append(item)
    if w.group_open and w.group and w.group[-1].chained:
        item.star = item.star or w.group[-1].star  # '(*16-082) ... Adopted; and (16-082A) ...': one consent item
        w.group.append(item)
    else:
        w.group = [item]
        w.pending = []
    w.group_open = True
    w.item = item
    if w.in_closed and not item.star:
        w.closed.append(item)
    if item.star:
        w.consent_items.append(item)
        if w.consent is not None:
            _consent_decision(w, item, w.consent)


def _on_addressed_under(w: _Walk, seg: Segment, m: re.Match) -> None:
    """'All three Consent Calendar items were addressed under the first item [paragraph no.
    23-146].': this item was decided by that item's motion."""
    other = re.sub(r"\s", "", m["num"])
    if other == w.item.num:
        return
    decided = [f for f in w.found if f.item == other and f.kind != "action" and f.outcome]
    if decided:
        f = decided[-1]
        w.add(replace(f, item=w.item.num, title=w.item.title, extra_text=f.extra_text))
        w.item.head_outcome = None


def _consent_decision(w: _Walk, item: _Item, motion: Found) -> None:
    outcome = item.head_outcome if item.head_outcome in ("deferred", "refused", "withdrawn") else "approved"
    same = outcome == "approved"
    w.add(Found(item.seg, "consent", item.text or item.seg.text, outcome, item.num, item.title,
                mover=motion.mover if same else "", seconder=motion.seconder if same else "",
                vote=motion.vote if same else Vote(), extra_text=motion.text if same else ""))
    item.head_outcome = None  # dealt with


def _on_motion(w: _Walk, seg: Segment) -> None:
    text = seg.text
    vote = parse_vote(text)
    f = Found(seg, "motion", text, vote.outcome, _item_num(w, seg), _item_title(w, seg),
              mover=mover_of(text), seconder=seconder_of(text), vote=vote)
    if not (f.mover or f.seconder or vote.recorded):
        return  # 'the buildings cannot be moved ...': not a motion
    if STRONG_CONSENT.search(text[:MOTION_HEAD]) or CONSENT_MOTION.search(text[:MOTION_HEAD]) and (
            not w.item or not w.item.num or w.item.star or "consent" in seg.title.lower()):
        w.consent = f
        f.kind, f.item, f.title = "motion", "", seg.title or "Consent Calendar"
        w.add(f)
        for item in w.consent_items:
            if item.head_outcome is not None or not any(x.seg is item.seg for x in w.found):
                _consent_decision(w, item, f)
        if not vote.outcome:
            w.pending.append([f])
        return
    targets = [i for i in (w.group or ([w.item] if w.item else [])) if i.head_outcome not in ("deferred", "refused", "withdrawn")
               and not i.star]
    made = []
    if not targets:
        made.append(w.add(f))
    for item in targets:
        made.append(w.add(replace(f, item=item.num, title=item.title)))
        item.head_outcome = None
    waiting = [m for m in made if not m.outcome]
    if waiting:
        w.pending.append(waiting)
    w.group_open = False


def _on_vote(w: _Walk, seg: Segment) -> None:
    """A vote in its own paragraph: completes the motion that waits for it, or records the
    final vote on the current item ('On the call for the question, the motion carried')."""
    vote = parse_vote(seg.text)
    seconder = seconder_of(seg.text)
    if w.pending and (vote.recorded or seconder):
        group = w.pending[-1]
        for f in group:
            if seconder and not f.seconder:
                f.seconder = seconder
            f.extra_text = f"{f.extra_text}\n{seg.text}".strip()
            if vote.recorded:
                f.vote, f.outcome, f.position = vote, vote.outcome or f.outcome, w.position
            if f is w.consent:
                for x in w.found:
                    if x.kind == "consent" and x.extra_text == f.text:
                        x.seconder = f.seconder
                        if vote.recorded:
                            x.vote = vote
        if vote.recorded:
            w.pending.pop()
        return
    if not vote.recorded:
        return
    if CONSENSUS.search(seg.text) and (w.item or seg.item):
        _on_consensus(w, seg)
        return
    if not (vote.outcome and FINAL_VOTE.search(seg.text)):
        return
    # 'On the call for the question, the motion carried ...' after a motion already recorded as
    # carried: the final vote replaces it (on the consent motion, for its items too)
    in_consent = w.consent is not None and (w.item is None or w.item.star)
    item = _item_num(w, seg)
    target = w.consent if in_consent else next(
        (f for f in reversed(w.found) if f.kind == "motion" and f.item == item and f.item), None)
    if target is None:
        return
    for f in [target] + [x for x in w.found if x.kind == "consent" and target is w.consent and x.extra_text == target.text] + \
            [x for x in w.found if x is not target and x.kind == "motion" and x.text == target.text and x.seg is target.seg]:
        f.vote, f.outcome = vote, vote.outcome if f.kind == "motion" else f.outcome
        if f.kind == "motion":
            f.extra_text = f"{f.extra_text}\n{seg.text}".strip()
            f.position = w.position


FINAL_VOTE = re.compile(r"call\s+for\s+the\s+question|\bthe\s+(?:original\s+|main\s+|amended\s+)?motion\s+(?:carried|failed|passed)", re.I)


def _on_consensus(w: _Walk, seg: Segment) -> None:
    """'A majority of Council concurred ...', 'Council voted as follows: Ayes: ... – 4. Noes:
    ... – 1.', 'The staff recommendation was approved by consensus.': directions and straw votes."""
    text = seg.text
    starts = [m.end() for m in re.finditer(r"(?:^|(?<=[.;])\s+)(?=[A-Z])", text)]
    ends = starts[1:] + [len(text)]
    marks = [i for i in range(len(starts)) if CONSENSUS.search(text[starts[i]:ends[i]])]
    for k, i in enumerate(marks):
        upto = starts[marks[k + 1]] if k + 1 < len(marks) else len(text)
        sentence = text[starts[i]:ends[i]].strip()
        vote = parse_vote(text[starts[i]:upto])  # the counts may follow in the next sentences
        outcome = "approved" if re.search(r"\b(?:approved|accepted|adopted)\b", sentence, re.I) else "agreed"
        quote = text[starts[i]:upto].strip() if vote.ayes is not None else sentence
        w.add(Found(seg, "vote", quote, outcome, _item_num(w, seg), _item_title(w, seg), vote=vote))
        if w.item:
            w.item.head_outcome = None


def _on_closed_report(w: _Walk, seg: Segment, text: str | None = None) -> None:
    """'... the City Clerk announced that regarding X, ... by unanimous vote, the Council
    authorized ...': each clause with a recorded vote is a decision on the matching item."""
    text = seg.text if text is None else text
    starts = [m.end() for m in REGARDING.finditer(text)] or [0]
    pieces = [text[s:e] for s, e in zip(starts, starts[1:] + [len(text)])]
    candidates = list(w.closed)
    for piece in pieces:
        piece = piece.strip().rstrip(";").strip()
        if re.search(r"\s(?:and|;)$", piece):
            piece = re.sub(r"[;,]?\s*and$", "", piece).strip()
        if piece and re.search(r"\b(?:was|were|is)\s+(?:continued|postponed|deferred)\b", piece, re.I) \
                and not RECORDED_VOTE.search(piece):
            item = _closed_item(piece, candidates)  # 'regarding Labor, the matter was continued'
            w.add(Found(seg, "item", piece, "deferred", item.num if item else "",
                        item.title if item else CLOSED_REPORT_TITLE))
            continue
        if not piece or NO_VOTE.search(piece) and not RECORDED_VOTE.search(piece):
            continue
        if not RECORDED_VOTE.search(piece) and not re.search(r"\bunanimous(?:ly)?\b", piece, re.I):
            continue
        item = _closed_item(piece, candidates)
        vote = parse_vote(piece)
        w.add(Found(seg, "vote", piece, "approved", item.num if item else "", item.title if item else CLOSED_REPORT_TITLE,
                    vote=replace(vote, outcome=vote.outcome or "carried")))


def _closed_item(piece: str, candidates: list[_Item]) -> _Item | None:
    if not candidates:
        return None
    m = re.match(r"\s*regarding\s+(?:the\s+)?(?P<what>[^,;]{2,80})", piece, re.I)
    if m:
        words = {x for x in re.findall(r"[a-z]{3,}", m["what"].lower())} - {"the", "and", "with"}
        scored = [(len(words & set(re.findall(r"[a-z]{3,}", c.title.lower()))), -i, c) for i, c in enumerate(candidates)]
        best = max(scored, key=lambda s: (s[0], s[1]))
        if best[0] > 0:
            return best[2]
    return candidates[0] if len(candidates) == 1 else None


def _on_resolution(w: _Walk, seg: Segment) -> None:
    text = seg.text
    if RECOMMENDATION_PUT.match(text) and "\n" not in text:
        w.recommendation = seg
        w.add(Found(seg, "resolution", text, "approved" if re.search(r"approved|agreed|carried", text, re.I) else "agreed",
                    _item_num(w, seg), _item_title(w, seg), mover=mover_of(text), seconder=seconder_of(text),
                    vote=parse_vote(text)))
        return
    outcome = resolution_outcome(text)
    prefix = w.recommendation
    vote, mover, seconder = parse_vote(text), mover_of(text), seconder_of(text)
    if prefix is not None and prefix.item == seg.item and prefix.title == seg.title:
        # 'The recommendation was proposed, seconded, and approved unanimously.' + 'Resolved that: ...'
        previous = w.found[-1] if w.found and w.found[-1].seg is prefix else None
        if previous is not None:
            w.found.pop()
            vote, mover, seconder = previous.vote, previous.mover, previous.seconder
            outcome = "approved" if outcome in ("approved", "noted", "agreed") else outcome
            text = f"{prefix.text}\n{text}"
    w.recommendation = None
    w.add(Found(seg, "resolution", text, outcome, _item_num(w, seg), _item_title(w, seg), mover=mover,
                seconder=seconder, vote=vote))

"""Weighing passages and sentences against a question: term coverage weighted by how rare
each term is in the index, and the units (sentences, clauses, motion blocks) that can be
quoted verbatim."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, replace

from ..ingest.chunking import header
from ..index.lexical import LexicalIndex
from ..core.types import Hit
from .query import QueryPlan

# Words that say what kind of answer is wanted, not what it is about.
META_WORDS = set(
    """minutes minute meeting meetings council councils committee committees board cabinet resolve resolved
    resolution resolutions decide decided decision decisions agree agreed agreement vote voted votes voting
    move moved motion second seconded seconder discuss discussed discussion say said happen happened record
    recorded item items agenda report reported when who whom what which how much many date dated approve
    approved approval take taken make made give given latest position according accord often many much
    come came go goes went gone see saw seen find found know known name named happen tell show shown think
    thought expect expected
    say says mention mentioned note noted regard regarding respect respond response answer answered
    question questions ask asked kind type sort way part number numbers amount total share proportion""".split()
)
# A sentence ends at . ! or ? before a capital, but not after an initial ("John W. Knox")
# or a common abbreviation ("No. 14020", "Inc.", "Mr.").
SENTENCE_END = re.compile(
    r"(?<![A-Z]\.)(?<!\b[A-Z][a-z]\.)(?<!\bNo\.)(?<!\bInc\.)(?<!\bSt\.)(?<!\bvs\.)(?<!\bMrs\.)(?<!\bJr\.)(?<!\bSr\.)"
    r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z(\"“‘\[])"
)
MAX_QUOTE = 420
MONTHS = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
# The words of a date the question names: months, years, ordinals, and a day's number beside
# its month ("10 July", "May 15"), which would otherwise count as a topic word.
DAY_MONTH = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}|{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?"  # "10 July", "May 15"
DATE_WORDS = re.compile(rf"\b(?:{DAY_MONTH}|{MONTHS}"
                        r"|(?:19|20)\d\d|\d{1,2}(?:st|nd|rd|th))\b", re.I)
CONTEXT_WEIGHT = 0.15
MOTION_START = re.compile(r"\b(?:moved|made a motion|motion)\b", re.I)
VOTE_END = re.compile(r"(?:Ayes?\s*[:\-–]\s*\d|voice vote\s*[-–]\s*\d|carried|failed|unanimous)", re.I)


@dataclass(frozen=True)
class Unit:
    """A quotable run of a passage: a verbatim substring of hit.chunk.text."""

    hit: Hit
    text: str
    score: float = 0.0


# Words of the general English stop list that are topics in minutes ("the fire station",
# "a bill", "the drainage system", "interest rates").
MINUTES_CONTENT_WORDS = frozenset("bill fire system interest front side top bottom mill empty".split())


@functools.lru_cache(maxsize=1)
def scaffolding_words() -> frozenset[str]:
    """Words that frame a question rather than name its topic ("between", "before", "anyone",
    "whether", "into"): scikit-learn's English stop list, which sentence-transformers already
    installs, with the question words of SMALL_WORDS, less the few that are topics in minutes."""
    from sklearn.feature_extraction._stop_words import ENGLISH_STOP_WORDS

    from .query import SMALL_WORDS

    return frozenset((set(ENGLISH_STOP_WORDS) | SMALL_WORDS) - MINUTES_CONTENT_WORDS)


# Words that ask for a kind of answer which a passage gives without repeating the word: an
# amount answers "how much money", a vote count answers "was it unanimous?".
AMOUNT = re.compile(r"[$£€]\s?\d|\b\d[\d,]*(?:\.\d+)?\s*(?:million|thousand|percent|%|pounds|dollars|euros|pence|cents)",
                    re.I)
TALLY = re.compile(r"\b(?:unanimous\w*|nem\.?\s?con|Ayes?\b|Noes\b|Nays?\b|in favou?r\b|against\b|abstain\w*)", re.I)
ANSWER_KIND_WORDS: tuple[tuple[str, re.Pattern], ...] = (
    ("money cost costs price sum spend spent", AMOUNT),
    ("unanimous unanimously", TALLY),
)

ACRONYM_WORDS = (3, 6)  # the shortest and longest run of words whose initials are looked for
ACRONYM_SMALL_WORDS = {"of", "and", "for", "the", "&", "on", "in", "to"}


class Weigher:
    """The question's topic words, each weighed by its rarity in the index: the words of
    `plan.standalone`, which for a follow-up carry the conversation's last question and the
    first words of its last answer (at CONTEXT_WEIGHT), so that passages and quotes stay with
    what the conversation was about. `judging=True` leaves out the last answer's words: they
    find the passage again, but a passage that answers the follow-up need not repeat them."""

    def __init__(self, lexical: LexicalIndex, plan: QueryPlan, judging: bool = False):
        self.lexical = lexical
        self.question = plan.question
        # The body and the dates the question names choose and rank passages (filters and
        # preferences); whether a passage answers is judged on the rest of the question, so
        # minutes that do not state their body or date are not held to words they cannot have.
        filter_words = set()
        named = [plan.filters, plan.prefer, *plan.parts]
        for value in [f.committee for f in named] + [f.council for f in named]:
            filter_words.update(self._stems(value))
        if plan.filters.since or plan.filters.until or plan.prefer.since or plan.prefer.until:
            filter_words.update(self._stems(" ".join(DATE_WORDS.findall(plan.standalone))))
        meta = set(self._stems(" ".join(META_WORDS)))
        terms = [t for t in self._stems(plan.standalone) if t not in meta and t not in filter_words]
        self.terms = list(dict.fromkeys(terms))
        # In a follow-up, the words brought in from the conversation help to find the passage
        # but weigh less than the words of the question itself.
        asked = set(self._stems(plan.question))
        if judging and plan.is_follow_up:
            said_before = set(self._stems(plan.topic_text))  # the questions' words, not the last answer's
            self.terms = [t for t in self.terms if t in said_before]
        self.weights = {t: lexical.idf(t) * (1.0 if t in asked or not plan.is_follow_up else CONTEXT_WEIGHT)
                        for t in self.terms}
        self.total = sum(self.weights.values()) or 1.0
        self.acronyms = self._acronyms(plan.standalone)
        self.spelled_out = self._initialisms(plan.standalone)
        self.answer_kinds = [(set(self._stems(words)) & set(self.terms), pattern)
                             for words, pattern in ANSWER_KIND_WORDS]

    def _acronyms(self, question: str) -> dict[str, set[str]]:
        """Minutes name a body or a group once in full and then by its initials ('unaccompanied
        asylum seeking children (UASC)', 'Community Infrastructure Levy (CIL)'): the initials of
        each run of three to six topic words of the question (with or without the 'of' or 'and'
        between them), when the index has them as a word and a passage writes them in capitals,
        stand for the run's words in that passage."""
        words = re.findall(r"[A-Za-z][\w'’-]*", question)
        topic = set(self.terms)
        found: dict[str, set[str]] = {}
        for start in range(len(words)):
            for end in range(start + ACRONYM_WORDS[0], min(len(words), start + ACRONYM_WORDS[1]) + 1):
                run = words[start:end]
                if not (self._is_topic(run[0], topic) and self._is_topic(run[-1], topic)):
                    continue
                if not all(self._is_topic(w, topic) or w.lower() in ACRONYM_SMALL_WORDS for w in run):
                    continue  # a name is a run of topic words, joined at most by 'of' or 'and'
                for kept in (run, [w for w in run if w.lower() not in ACRONYM_SMALL_WORDS]):
                    if len(kept) < ACRONYM_WORDS[0]:
                        continue
                    initials = "".join(w[0] for w in kept).lower()
                    if initials not in topic and self.lexical.frequency(initials) > 0:
                        found.setdefault(initials, set()).update(set(self._stems(" ".join(kept))) & topic)
        return found

    def _initialisms(self, question: str) -> dict[str, re.Pattern]:
        """The other way round: initials the question writes in capitals ('FY', 'IAFF') are
        there in a passage that spells them out in capitalised words ('Fiscal Year')."""
        found = {}
        for word in set(re.findall(r"\b[A-Z]{2,6}\b", question)):
            stems = self._stems(word)
            if len(stems) == 1 and stems[0] in self.weights:
                small = "(?:(?:of|and|for|the|&)\\s+)?"
                found[stems[0]] = re.compile(r"\b" + (r"\w*\s+" + small).join(word) + r"\w*")
        return found

    def _is_topic(self, word: str, topic: set[str]) -> bool:
        stems = self._stems(word)
        return bool(stems) and all(t in topic for t in stems)

    def _stems(self, text: str) -> list[str]:
        skip = scaffolding_words()
        words = [w for w in re.findall(r"[\w$£]+", text.lower())
                 if w not in skip and (len(w) > 1 or w.isdigit())]  # a lone letter is a possessive's s or an initial
        return self.lexical.terms(" ".join(words))

    def coverage(self, text: str) -> float:
        """Share of the question's topic (weighted by rarity) that `text` contains."""
        if not self.terms:
            return 0.0
        present = set(self.lexical.terms(text))
        for initials, words in self.acronyms.items():
            if initials in present and re.search(rf"\b{initials.upper()}s?\b", text):  # written as initials, not a word
                present |= words
        for words, pattern in self.answer_kinds:
            if words and pattern.search(text):
                present |= words
        for term, spelled in self.spelled_out.items():
            if term not in present and spelled.search(text):
                present.add(term)
        return sum(w for t, w in self.weights.items() if t in present or _kin(t, present)) / self.total

    def hit_coverage(self, hit: Hit) -> float:
        c = hit.chunk
        return self.coverage(f"{header(c)} {c.text}")


ANSWER_KIND_BONUS = 0.25  # a passage holding the kind of answer asked for (an amount, a resolution's number)


def rerank_by_coverage(weigher: Weigher, hits: list[Hit], weight: float, wanted: re.Pattern | None = None) -> list[Hit]:
    """Order the search's passages by their fused score times (1 + weight * the share of the
    question's topic, weighted by rarity, that the passage and its heading hold), and times
    1 + ANSWER_KIND_BONUS when the passage holds the kind of answer asked for (`wanted`: an
    amount for 'how much', a numbered resolution for 'which resolution'). Fusion ranks by
    rank, not by how much of the question a passage holds: an item on the same matter at
    another meeting ('amend the contract with Ghilotti Brothers') often ranked above the one
    that holds the rarer words of the question ('award the contract ... Phase I'). The gain
    is flat for weights from 0.5 to 4 on each evaluation set (see README, Evaluation)."""
    if not weight or not weigher.terms:
        return hits

    def reranked(hit: Hit) -> float:
        holds_kind = wanted is not None and bool(wanted.search(f"{hit.chunk.title} {hit.chunk.text}"))
        return hit.score * (1 + weight * weigher.hit_coverage(hit)) * (1 + ANSWER_KIND_BONUS * holds_kind)

    scored = sorted(((reranked(h), h) for h in hits), key=lambda sh: -sh[0])
    return [replace(h, score=value, rank=rank) for rank, (value, h) in enumerate(scored, 1)]


KIN_PREFIX = 5  # shortest shared beginning for two stems to count as one word


# Endings the stemmer leaves on a noun made from a verb: 'quot' / 'quotat' (quote,
# quotation), 'opt' / 'option' (co-opted, co-option), 'pay' / 'payment'.
DERIVATION_SUFFIXES = ("at", "ion", "ation", "ment")


def _kin(term: str, present: set[str]) -> bool:
    """The stemmer leaves some forms of a word apart ('introduc' from 'introduced',
    'introduct' from 'introduction'; 'resolv', 'resolut'): two stems that share their
    beginning but for at most two letters of the shorter count as the same word, and so do
    a stem and the same stem with a DERIVATION_SUFFIXES ending."""
    if len(term) >= 3 and any(term + end in present or (term.endswith(end) and term[: -len(end)] in present
                                                        and len(term) - len(end) >= 3)
                              for end in DERIVATION_SUFFIXES):
        return True
    if len(term) < KIN_PREFIX:
        return False
    head = term[:KIN_PREFIX]
    for other in present:
        if other.startswith(head):
            shared = len(os.path.commonprefix([term, other]))
            if shared >= max(KIN_PREFIX, min(len(term), len(other)) - 2):
                return True
    return False


HEADING_LINE = 100  # a line this short, before a paragraph, heads it ("CO-OPTION OF NEW COUNCILLOR")


def local_context(text: str, unit: str) -> str:
    """What a quotable unit is about when it does not say it: minutes name a matter once (a
    sub-heading, the paragraph's opening sentence, the sentence before) and then record what
    was said or decided ("It was agreed to approve the cheapest option"). The paragraph's
    first sentence and the sentence just before the unit; for a unit that opens its paragraph,
    the line before it when that line is short enough to be a heading, or else that
    paragraph's first and last sentences."""
    start = text.find(unit)
    if start <= 0:
        return ""
    para_start = text.rfind("\n", 0, start) + 1
    before = text[para_start:start].strip()
    if before:
        sentences = [s for s in SENTENCE_END.split(before) if s.strip()]
        return " ".join(dict.fromkeys([sentences[0], sentences[-1]])) if sentences else ""
    previous = text[:para_start].rstrip().rsplit("\n", 1)[-1].strip()
    if len(previous) <= HEADING_LINE:
        return previous
    sentences = [s for s in SENTENCE_END.split(previous) if s.strip()]
    return " ".join(dict.fromkeys([sentences[0], sentences[-1]])) if sentences else ""


def units(hit: Hit, vote_blocks: bool = False, resolution_blocks: bool = False) -> list[str]:
    """Quotable pieces of a passage: sentences (long ones cut at semicolons); for vote
    questions whole motion blocks (moved ... seconded ... Ayes); for decision questions whole
    resolutions with their lettered points."""
    text = hit.chunk.text
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        for sentence in SENTENCE_END.split(para):
            sentence = sentence.strip()
            if not sentence:
                continue
            if len(sentence) <= MAX_QUOTE:
                out.append(sentence)
            else:
                out.extend(_windows(sentence))
    if vote_blocks:
        paras = [p.strip() for p in text.split("\n") if p.strip()]
        for i, para in enumerate(paras):
            if MOTION_START.search(para):
                block = [para]
                for nxt in paras[i + 1 : i + 4]:
                    block.append(nxt)
                    if VOTE_END.search(nxt):
                        break
                joined = "\n".join(block)
                if joined in text and len(joined) <= 3 * MAX_QUOTE:
                    out.append(joined)
    if resolution_blocks:
        from ..ingest.structure import LIST_ITEM, RESOLUTION_START

        paras = [p.strip() for p in text.split("\n") if p.strip()]
        for i, para in enumerate(paras):
            if RESOLUTION_START.match(para):
                block = [para]
                for nxt in paras[i + 1 : i + 8]:
                    if not (LIST_ITEM.match(nxt) or block[-1].endswith(":")):
                        break
                    block.append(nxt)
                joined = "\n".join(block)
                if len(block) > 1 and joined in text and len(joined) <= 3 * MAX_QUOTE:
                    out.append(joined)
    return [u for u in dict.fromkeys(out) if len(u) > 3]


def _windows(sentence: str) -> list[str]:
    """Cut a very long sentence at '; ' into windows of clauses that fit a quote."""
    clauses = re.split(r"(?<=;)\s+", sentence)
    windows, current = [], ""
    for clause in clauses:
        if current and len(current) + 1 + len(clause) > MAX_QUOTE:
            windows.append(current)
            current = clause
        else:
            current = f"{current} {clause}".strip()
    if current:
        windows.append(current)
    out = []
    for w in windows:
        if len(w) <= MAX_QUOTE * 1.5:
            out.append(w)
        else:  # no semicolons: cut at commas or words
            words = w.split()
            step = 60
            out.extend(" ".join(words[i : i + step]) for i in range(0, len(words), step))
    # keep pairs of neighbouring windows too, so a clause and its amount stay together
    return out + [f"{a} {b}" for a, b in zip(out, out[1:]) if len(a) + len(b) < MAX_QUOTE * 1.6]

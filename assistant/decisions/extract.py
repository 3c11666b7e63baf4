"""Finding decisions in a file's Segments: motions with their second and vote, consent
calendar items enacted by the consent motion, outcomes printed with an item's heading ("Not
heard.", "Continued to ..."), closed-session announcements made with a vote, English
resolutions ("Resolved that:", "The Board agreed to note the report") and actions with
their owners ("Action - NAME to ...", "NAME undertook to ...").

Pure functions over Segments and Chunks: no database, no model. Every `text` is verbatim
from the minutes and, when a chunk holds it, a substring of that chunk's text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from ..ingest.structure import _item_title as structure_title
from ..core.types import Chunk, Segment

OUTCOMES = ("approved", "agreed", "noted", "deferred", "refused", "carried", "failed", "withdrawn")


def _fz(word: str) -> str:
    """A word as pypdf may print it, with stray spaces inside ('car ried', 'whic h')."""
    return r"\s?".join(re.escape(ch) for ch in word)


# ---- names ---------------------------------------------------------------------------

_ONE_TITLE = (
    r"(?:Vice[\s-]+Mayor|Mayor\s+Pro\s+Tem|Acting\s+Mayor|Mayor|Vice[\s-]+Chair(?:man|woman|person)?|"
    r"Chair(?:man|woman|person)?|Council\s?[Mm]embers?|Councilm[ae]n|Councilwom[ae]n|Councillors?|Cllrs?\.?|"
    r"Commissioners?|Board\s?[Mm]embers?|Directors?|Trustees?|Supervisors?|Vice\s+President|President|"
    r"Members?|Alderm[ae]n|Aldermen|Selectm[ae]n|Mr\.?|Mrs\.?|Ms\.?|Dr\.?)"
)
TITLES = rf"(?:{_ONE_TITLE}(?:\s*/\s*{_ONE_TITLE})*)"
NAME_WORD = r"(?:[A-Z][\w'’.-]*|d[eaiu][A-Z][\w'’-]*|van|von|de|del|la|le|da|di|du|Mc[A-Z][\w'’-]*)"
NAME = re.compile(rf"^{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}}$")


TITLE_WORDS = {
    "vice", "mayor", "pro", "tem", "acting", "councilmember", "councilmembers", "council", "member", "members",
    "councilman", "councilmen", "councilwoman", "councilwomen", "councillor", "councillors", "cllr", "cllrs",
    "commissioner", "commissioners", "commission", "chair", "chairman", "chairwoman", "chairperson", "board",
    "boardmember", "boardmembers", "authority", "agency", "successor", "president", "director", "directors",
    "trustee", "trustees", "supervisor", "supervisors", "alderman", "aldermen", "mr", "mrs", "ms", "dr", "the",
    "and", "&", "deputy", "leader", "cabinet",
}
_SPLIT_TITLE_WORDS = [(re.compile(r"\b" + _fz(w) + r"\b"), w) for w in
                      ("Councilmember", "Commissioner", "Authority", "Member", "Agency", "Mayor", "Board")]


def clean_name(text: str) -> str:
    """'Vice Mayor Knox White' -> 'Knox White'; 'Councilmember/Commissioner deHaan' -> 'deHaan';
    'Councilmember/Authority Mem ber Chen' -> 'Chen'. '' when what is left is not a name."""
    name = re.sub(r"\s+", " ", text).strip(" ,;:.*[]()")
    name = re.sub(r"^\d{1,3}\s+", "", name)
    for pattern, word in _SPLIT_TITLE_WORDS:
        name = pattern.sub(word, name)
    tokens = [t for t in re.split(r"\s*/\s*|\s+", name) if t]
    titles = [i for i, t in enumerate(tokens) if t.strip(".,").lower() in TITLE_WORDS - {"and", "&", "the"}]
    if titles:  # 'CONSENT CALENDAR Vice Mayor Knox White': the name follows the last title word
        tokens = tokens[titles[-1] + 1:]
    while tokens and tokens[0].strip(".,").lower() in TITLE_WORDS:
        tokens.pop(0)
    name = " ".join(tokens).strip(" ,;:*[]()")
    if name and not NAME.match(name):
        # pypdf split a name: 'Ma tarrese' -> 'Matarrese' (never joining an English word)
        merged = re.sub(r"\b([A-Z][a-z]*)\s([a-z]{2,})\b",
                        lambda m: m[0] if m[2] in _COMMON_WORDS else m[1] + m[2], name)
        name = merged if NAME.match(merged) else name
    if not name or not NAME.match(name) or name.lower() in _NOT_NAMES:
        return ""
    return name


_COMMON_WORDS = set("""and or the of to in on at for by with from as is was were be been that this it its he she they
stated said moved seconded made asked noted inquired expressed requested suggested would will could should has have
had not also then which who whom""".split())


_NOT_NAMES = {"none", "the", "it", "he", "she", "council", "staff", "ayes", "noes", "aye", "no", "absent",
              "abstentions", "abstention", "motion", "this", "that", "there"}


def split_names(text: str) -> list[str]:
    """'Councilmembers deHaan, Gilmore, and Mayor/Chair Johnson – 3' -> ['deHaan', 'Gilmore', 'Johnson']."""
    text = re.sub(r"[–—-]\s*\d+\s*\.?\s*\]?\s*$", "", text.strip()).strip(" .;[]")
    if not text or re.fullmatch(r"(?i)none\.?", text):
        return []
    parts = re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*", text)
    names = [clean_name(p) for p in parts]
    return [n for n in names if n]


# ---- votes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Vote:
    outcome: str | None = None  # carried | failed | None
    ayes: int | None = None
    noes: int | None = None
    abstentions: int | None = None
    absent: int | None = None
    names: dict = field(default_factory=dict)  # {"ayes": [...], "noes": [...], "abstentions": [...], "absent": [...]}
    unanimous: bool = False

    @property
    def recorded(self) -> bool:
        return self.outcome is not None or self.ayes is not None or self.unanimous


OUTCOME_WORD = re.compile(
    rf"\b(?P<w>{_fz('carried')}|{_fz('passed')}|{_fz('failed')}|{_fz('lost')}|{_fz('defeated')})\b", re.I
)
LABEL = re.compile(
    r"(?<![\w-])(?P<label>Ayes?|Noes|Nays?|Abstentions?|Abstain(?:ed|ing)?|Absent|Recus(?:ed|als?))\s*:\s*", re.I
)
ROLL_ENTRY = re.compile(
    rf"(?P<name>{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}})\s*:\s*(?P<v>Ayes?|No|Nay|Abstain(?:ed)?|Abstention|Absent|Recused?)\b"
)
UNANIMOUS_COUNT = re.compile(
    rf"{_fz('unanimous')}(?:ly)?\s*(?:{_fz('voice')}\s*|{_fz('roll')}\s+{_fz('call')}\s*)?{_fz('vote')}?s?\s*[–—-]?\s*(?P<n>\d+)\b",
    re.I,
)
UNANIMOUS = re.compile(rf"\b{_fz('unanimous')}(?:ly)?\b|\bwithout dissent\b|\bnem(?:ine)?\.?\s*con", re.I)
ENGLISH_COUNTS = {
    "ayes": re.compile(r"(\d+)\s+(?:votes?\s+)?(?:for|in favour|in favor)\b", re.I),
    "noes": re.compile(r"(\d+)\s+(?:votes?\s+)?against\b", re.I),
    "abstentions": re.compile(r"(\d+)\s+abstentions?\b", re.I),
}
BARE_AYES = re.compile(  # 'voice vote: Councilmembers A, B and C – 3. Noes: ...'
    r"\bvot(?:e|es|ed)(?:\s+as\s+follows)?\s*[:–—-]\s*(?!Ayes|Noes)(?P<body>(?:Councilmembers?|Council\s?members?|Mayor|Vice\s+Mayor)\b[^.:\]]*?)"
    r"\s*[–—-]\s*(?P<n>\d+)"
)
BARE_COUNT = re.compile(rf"\b{_fz('vote')}\s*[–—-]\s*(?P<n>\d+)\s*(?:\.|$)")
_LABEL_KEY = {"aye": "ayes", "ayes": "ayes", "noes": "noes", "nay": "noes", "nays": "noes", "no": "noes"}


def _label_key(label: str) -> str:
    low = label.lower()
    if low in _LABEL_KEY:
        return _LABEL_KEY[low]
    if low.startswith("abst"):
        return "abstentions"
    if low.startswith("recus"):
        return "absent"
    return "absent"


def parse_vote(text: str) -> Vote:
    """The outcome and the vote recorded in a motion or vote paragraph.

    'which carried by unanimous voice vote – 5' -> carried, ayes 5, noes 0;
    'Councilmembers Daysog: No; Knox White: Aye; ... Ayes: 4. Noes: 1.' -> names and counts;
    'Ayes: Councilmembers deHaan, Tam and Mayor Johnson – 3. Abstentions: Commissioner Torrey – 1.'
    Counts that are not recorded stay None; once ayes are known, unrecorded noes are 0."""
    outcome = None
    for m in OUTCOME_WORD.finditer(text):
        word = re.sub(r"\s", "", m["w"]).lower()
        outcome = "carried" if word in ("carried", "passed") else "failed"
    if outcome is None and re.search(r"\b(?:was|were)\b[^.;]{0,40}?\b(?:approved|agreed|adopted)\b", text, re.I) \
            and UNANIMOUS.search(text):
        outcome = "carried"
    counts: dict[str, int | None] = {"ayes": None, "noes": None, "abstentions": None, "absent": None}
    names: dict[str, list[str]] = {}

    # Roll call: 'Daysog: No; Knox White: Aye; ...'
    for m in ROLL_ENTRY.finditer(text):
        name = clean_name(m["name"])
        if not name or name.lower().rstrip("s") in ("aye", "noe", "abstention", "absent", "recusal"):
            continue
        key = _label_key(m["v"]) if m["v"].lower() not in ("abstain", "abstained", "abstention") else "abstentions"
        names.setdefault(key, []).append(name)

    # Labels: 'Ayes: 4.' or 'Ayes: Councilmembers A, B and Mayor C – 3.'
    labels = list(LABEL.finditer(text))
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        body = text[m.end():end]
        body = re.split(r"(?<=\d)\s*[.;,]|\]|\n|(?<=\.)\s+(?=[A-Z])", body, maxsplit=1)[0] if body else ""
        key = _label_key(m["label"])
        number = re.fullmatch(r"\s*(\d+)\s*\.?\s*", body)
        if number:
            counts[key] = int(number[1])
            continue
        tail = re.search(r"[–—-]\s*(\d+)\s*$", body.strip())
        who = split_names(body) if not re.fullmatch(r"\s*(?i:none)\.?\s*", body) else []
        if re.fullmatch(r"\s*(?i:none)\.?\s*", body):
            counts[key] = 0
        elif tail:
            counts[key] = int(tail[1])
        if who and key not in names:
            names[key] = who
            if counts[key] is None:
                counts[key] = len(who)

    m = UNANIMOUS_COUNT.search(text)
    unanimous = bool(UNANIMOUS.search(text))
    if m and counts["ayes"] is None:
        counts["ayes"] = int(m["n"])
        counts["noes"] = counts["noes"] or 0
    if counts["ayes"] is None and "ayes" not in names:
        bare = BARE_AYES.search(text)
        if bare:
            counts["ayes"] = int(bare["n"])
            names["ayes"] = split_names(bare["body"])
    if counts["ayes"] is None and not names:
        bare = BARE_COUNT.search(text)  # 'carried by the following voice vote – 5.' (no names printed)
        if bare:
            counts["ayes"], counts["noes"] = int(bare["n"]), counts["noes"] or 0
    if counts["ayes"] is None:
        for key, pattern in ENGLISH_COUNTS.items():
            found = pattern.search(text)
            if found:
                counts[key] = int(found[1])
    if counts["ayes"] is None and names.get("ayes"):
        counts["ayes"] = len(names["ayes"])
        if counts["noes"] is None:
            counts["noes"] = len(names.get("noes", []))
        if counts["abstentions"] is None and names.get("abstentions"):
            counts["abstentions"] = len(names["abstentions"])
    if counts["ayes"] is not None and counts["noes"] is None:
        counts["noes"] = 0
    if outcome is None and counts["ayes"] is not None and re.search(r"\bvot(?:e|ed)\b", text, re.I):
        noes = counts["noes"] or 0
        outcome = "carried" if counts["ayes"] > noes else None
    return Vote(outcome, counts["ayes"], counts["noes"], counts["abstentions"], counts["absent"],
                {k: v for k, v in names.items() if v}, unanimous)


# ---- movers and seconders ------------------------------------------------------------

MOVED = re.compile(rf"\b(?:{_fz('moved')}|made\s+(?:a|the)\s+motion|{_fz('moves')})\b", re.I)
MOVED_BY = re.compile(rf"\b(?:moved|proposed)\s+by\s+(?P<who>(?:{TITLES}\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})")
SECONDED = re.compile(rf"\b{_fz('seconded')}\b(?!\s+by)", re.I)
SECONDED_BY = re.compile(rf"\bseconded\s+by\s+(?P<who>(?:{TITLES}\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})")


def _who_before(text: str, at: int) -> str:
    """The name written just before position `at` ('... Vice Mayor Knox White moved')."""
    head = text[:at]
    head = re.split(r"(?:[.;:!?]\s+|\n|\*\*\*|\)\s+|,\s+)", head)[-1]
    return clean_name(head)


SUBJECT = re.compile(
    rf"(?:^|(?<=[.!?]\s))\s*(?P<who>{TITLES}\s+{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}}?)\s+(?:stated|said|noted|suggested|"
    r"expressed|commented|thanked|outlined|discussed|requested|inquired|concurred|withdrew|amended|clarified|indicated|"
    r"explained|asked|agreed|offered|read|thereafter)\b"
)


def mover_of(text: str) -> str:
    m = MOVED.search(text)
    if m:
        name = _who_before(text, m.start())
        if name:
            return name
        if re.search(r"(?:;|,\s*and|\band)\s*$", text[: m.start()]):
            # 'Councilmember Oddie stated ...; moved adoption of the resolutions.'
            subject = [s for s in SUBJECT.finditer(text[: m.start()])]
            if subject:
                return clean_name(subject[-1]["who"])
    m = MOVED_BY.search(text)
    return clean_name(m["who"]) if m else ""


def seconder_of(text: str) -> str:
    for m in SECONDED.finditer(text):
        name = _who_before(text, m.start())
        if name:
            return name
    m = SECONDED_BY.search(text)
    return clean_name(m["who"]) if m else ""


# ---- the minutes' other decision forms ------------------------------------------------

ITEM_HEAD = re.compile(
    r"^\s*(?P<stars>\*{3}\s*)?\(\s*(?P<star>\*)?\s*(?P<num>\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2})(?:\s*/[^)]{0,40})?\s*\)\s*(?P<rest>.*)",
    re.S,
)
HEAD_OUTCOME = re.compile(  # a sentence of its own at the end of the heading, capitalised
    r"(?:^|(?<=[.;:”\"’)\]])\s*)(?P<word>Not\s+[Hh]eard|Not\s+[Aa]dopted|Not\s+[Ii]ntroduced|Not\s+[Aa]ccepted|"
    r"Not\s+[Aa]pproved|Accepted|Approved|Adopted|Introduced|Finally\s+[Pp]assed|Final\s+[Pp]assage\s+[Aa]pproved|"
    r"Withdrawn|Denied|Rejected|Continued(?:\s+to\s+[^.;]{0,80})?|Postponed(?:\s+to\s+[^.;]{0,80})?|Held\s+[Oo]ver|Tabled)"
    r"\s*(?:[.;](?:\s*and)?)?\s*$"
)
RATIFIED = re.compile(r"^\s*Ratified\b", re.I)
EMBEDDED_ITEM = re.compile(  # '... Introduced; and (20-134 A) Introduction of ...' joined across a page break
    r"(?:;\s*and|;|(?<=[.”\"])(?=\s))\s+(?=\(\s*\*?\s*\d{2,4}\s?-\s?\d{1,4}(?:\s?[A-Z]{1,5}){0,2}(?:\s*/[^)]{0,40})?\s*\)\s*[A-Z“\"])"
)
STRONG_CONSENT = re.compile(
    r"\bmoved\s+(?:approval|adoption)\s+of\s+(?:the\s+)?(?:remainder\s+of\s+(?:the\s+)?)?consent\s+(?:calendar|agenda)", re.I
)
PAGE_FURNITURE = re.compile(  # 'Joint Meeting Alameda City Council, ... Agency to (*12-588 CC) ...'
    r"^(?:(?:[A-Z][\w,.&'’-]*|and|of|to|the|for|\d+)\s+){2,24}(?=\(\s*\*?\s*\d{2,4}\s?-)"
)
CONSENT_MOTION = re.compile(r"consent\s+calendar|consent\s+agenda", re.I)
MEETING_START = re.compile(r"^\s*(?:\d{1,3}\s+)?MINUTES OF THE\b", re.I)
CLOSED_SESSION_START = re.compile(r"adjourned to closed session|^\s*(?:adjournment to\s+)?closed session\s*$", re.I)
CLOSED_SESSION_REPORT = re.compile(r"^\s*following the closed session|closed session report", re.I)
NO_VOTE = re.compile(r"\bno (?:vote|action) (?:was )?taken\b|\bwith no vote\b|\bno vote was taken\b|\bno action\b", re.I)
RECORDED_VOTE = re.compile(
    rf"\bby\s+(?:a\s+|the\s+following\s+(?:\w+\s+)?)?(?:{_fz('unanimous')}\s+)?(?:voice\s+|roll\s+call\s+)?votes?\b|"
    rf"\bunanimously\s+voted\b|\bvoted\s+unanimously\b|\bAyes\s*:\s*\d",
    re.I,
)
REGARDING = re.compile(r"(?:^|[;.,]\s*(?:and\s+)?|\bthat:?\s+)\b(?=regarding\b)", re.I)
CONSENSUS = re.compile(
    r"\b(?:(?:was|were)\s+(?:approved|accepted|adopted|agreed)\s+by\s+consensus|by\s+consensus,?\s+(?:the\s+)?Council\s+"
    r"(?:agreed|approved|directed|concurred)|(?:a\s+)?majority\s+of\s+(?:the\s+)?Council\s+(?:concurred|agreed|"
    r"expressed\s+support|voted)|(?:the\s+)?Council\s+consensus\s+(?:was|is)|Council\s+voted\s+(?:as\s+follows|unanimously))",
    re.I,
)
RESOLVED = re.compile(r"^\s*(?:it\s+was\s+)?(?:RESOLVED|resolved)\b|^\s*DECISION\b|^\s*DECIDED\b", re.I)
RECOMMENDATION_PUT = re.compile(
    r"^\s*the\s+recommendations?\s+(?:was|were)\s+(?:proposed|moved)|^\s*recommendations?\s+(?:approved|agreed|carried)", re.I
)
ACTION_LINE = re.compile(r"^\s*actions?\s*(?:[-–—:]|point)\s*(?P<body>.*)", re.I | re.S)
UNDERTOOK = re.compile(
    rf"(?:^|(?<=[.;!?])\s+)(?P<sentence>(?P<who>(?:{TITLES}\s+)?[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){{0,2}})\s+"
    r"(?:undertook|agreed|offered|promised|committed)\s+to\s+(?!the\b|a\b|an\b|this\b|that\b|it\b|its\b|their\b)"
    r"[a-z][^.;!?]*[.;!?]?)"
)
PROCEDURAL_AGREEMENT = re.compile(r"\b(?:motion|amend\w*|second\w*|friendly|include)\b", re.I)
BODY_WORDS = re.compile(
    r"\b(?:board|committee|council|cabinet|panel|forum|commission|group|members?|officers?|staff|it|they|he|she|"
    r"the chair|chair|everyone|all)\b",
    re.I,
)


def heading_outcome(rest: str) -> tuple[str | None, str]:
    """('approved'|'deferred'|'refused'|'withdrawn'|None, the outcome words) of an item heading."""
    if RATIFIED.match(rest):
        return "approved", "Ratified"
    m = HEAD_OUTCOME.search(rest.strip())
    if not m:
        return None, ""
    word = re.sub(r"\s+", " ", m["word"]).strip()
    low = word.lower()
    if low.startswith(("not heard", "continued", "postponed", "held over", "tabled")):
        return "deferred", word
    if low.startswith(("not ", "denied", "rejected")):
        return "refused", word
    if low.startswith("withdrawn"):
        return "withdrawn", word
    return "approved", word


def resolution_outcome(text: str) -> str:
    """The outcome an English resolution or agreement records."""
    low = text.lower()
    if re.search(r"\b(?:defer(?:red)?|postponed?|adjourned)\b", low):
        return "deferred"
    if re.search(r"\b(?:refused?|reject(?:ed)?|declined?|not approved|not agreed)\b", low):
        return "refused"
    if re.search(r"\bwithdr[ae]wn?\b", low):
        return "withdrawn"
    if re.match(r"\s*(?:it\s+was\s+)?resolved\b|\s*decision\b|\s*decided\b", low):
        return "approved"
    if re.search(r"\b(?:agreed|resolved|decided)\s+to\s+note\b|\bnoted\s+the\b|^\s*the\s+[\w\s'’-]*?\bnoted\b", low):
        return "noted"
    if re.search(r"\b(?:approved|endorsed|adopted|carried)\b", low):
        return "approved"
    return "agreed"


def action_owner(body: str) -> str:
    """'David Mehaffey to speak to NHS colleagues ...' -> 'David Mehaffey'."""
    m = re.match(r"\s*(?P<who>.{2,80}?)\s+(?:to|will|would|should|agreed to|undertook to)\s+\w", body)
    if not m:
        return ""
    who = m["who"].strip(" :-–—,")
    if re.match(r"(?i)^(?:the\s+)?(?:chair|clerk|officers?|director|head of|cabinet member|all|members?)\b", who):
        return who
    return clean_name(who) or (who if len(who.split()) <= 6 and who[:1].isupper() else "")


def references(text: str) -> list[str]:
    """Report, file, resolution, ordinance and paragraph numbers that name a matter."""
    refs = []
    for m in re.finditer(
        r"\b(Resolution|Ordinance|Report|File|Case|Minute|Reference|Ref)\.?\s+(?:No\.?|Number|#)\s*([A-Z]{0,4}[\d][\w/.-]*\w)", text, re.I
    ):
        refs.append(f"{m[1].title()} {m[2]}")
    for m in re.finditer(r"\bparagraph\s+nos?\.\s*((?:\d{2}-\d{1,4}[A-Z]?(?:,?\s*(?:and\s+)?)?)+)", text, re.I):
        refs.extend(f"Item {n}" for n in re.findall(r"\d{2}-\d{1,4}[A-Z]?", m[1]))
    return list(dict.fromkeys(refs))


# ---- the walk over a file's segments ---------------------------------------------------

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


def _step(w: _Walk, seg: Segment) -> Segment | None:
    """One segment of the walk. Returns the segment when it opens an interjection."""
    text = seg.text
    opened = None
    if MEETING_START.match(text):
        w.reset_meeting()
        return None
    present = PRESENT.search(text) if seg.kind == "procedural" else None
    if present:
        w.roster = tuple(split_names(present["body"]))
    if CLOSED_SESSION_START.search(text) and seg.kind in ("procedural", "heading", "discussion"):
        w.in_closed, w.closed = True, []
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
            return opened
        if seg.kind in ("heading", "discussion"):
            w.previous = seg
            return opened
    elif seg.kind == "heading":
        if not seg.item and not text.rstrip().endswith(":"):
            # an agenda section (CONSENT CALENDAR); 'IN FAVOR:' labels inside an item are not
            w.item, w.group, w.group_open = None, [], False
        w.previous = seg
        return opened
    else:
        w.group_open = False
    if w.item is not None and w.previous is w.item.seg and HEAD_OUTCOME.fullmatch(text.strip()):
        # the outcome printed on its own line under the heading: 'Continued to February 29, 2016.'
        outcome, _ = heading_outcome(text)
        if outcome:
            w.item.head_outcome, w.item.outcome_seg = outcome, seg
            w.previous = seg
            return opened
    w.previous = seg

    if seg.kind == "resolution":
        _on_resolution(w, seg)
    elif seg.kind == "action":
        m = ACTION_LINE.match(text)
        owner = action_owner(m["body"]) if m else ""
        w.add(Found(seg, "action", text, None, _item_num(w, seg), _item_title(w, seg), owner=owner))
    elif seg.kind == "motion" or (seg.kind == "vote" and MOVED.search(text[:300]) and mover_of(text)):
        _on_motion(w, seg)
    elif seg.kind == "vote" or (seg.kind == "discussion" and CLOSED_SESSION_REPORT.match(text)):
        if CLOSED_SESSION_REPORT.match(text) or seg.title == "Closed Session Report":
            _on_closed_report(w, seg)
        else:
            _on_vote(w, seg)
    elif seg.kind == "discussion" and ADDRESSED_UNDER.search(text) and w.item is not None:
        _on_addressed_under(w, seg, ADDRESSED_UNDER.search(text))
    elif seg.kind == "discussion":
        if seg.title == "Closed Session Report" and re.match(r"\s*regarding\b", text, re.I):
            _on_closed_report(w, seg)
        elif CONSENSUS.search(text) and (w.item or seg.item):
            _on_consensus(w, seg)
        for m in UNDERTOOK.finditer(text):
            who = m["who"]
            if BODY_WORDS.search(who) or not clean_name(who) or PROCEDURAL_AGREEMENT.search(m["sentence"]):
                continue
            w.add(Found(seg, "action", m["sentence"].strip(), None, _item_num(w, seg), _item_title(w, seg),
                        owner=clean_name(who)))
    return opened


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
    if STRONG_CONSENT.search(text[:300]) or CONSENT_MOTION.search(text[:300]) and (
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
                        item.title if item else "Closed Session Report"))
            continue
        if not piece or NO_VOTE.search(piece) and not RECORDED_VOTE.search(piece):
            continue
        if not RECORDED_VOTE.search(piece) and not re.search(r"\bunanimous(?:ly)?\b", piece, re.I):
            continue
        item = _closed_item(piece, candidates)
        vote = parse_vote(piece)
        w.add(Found(seg, "vote", piece, "approved", item.num if item else "", item.title if item else "Closed Session Report",
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


def extract(segments: list[Segment]) -> list[Found]:
    found = find_decisions(segments)
    found.sort(key=lambda f: (f.position, f.order))
    return found


# ---- from Found to stored rows ----------------------------------------------------------

def locate(text: str, seg: Segment, chunks: list[Chunk]) -> tuple[Chunk | None, str]:
    """The chunk that holds `text` (preferring the segment's pages), and the quote: `text`
    itself, or when a long paragraph was split across chunks, the longest run of its
    sentences that one chunk holds. (None, text) when no chunk holds any of it."""
    pool = [c for c in chunks if c.page_start <= seg.page_start <= c.page_end or c.page_start <= seg.page_end <= c.page_end]
    pool = pool + [c for c in chunks if c not in pool]
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

"""Names of the people in the minutes: the titles printed before a name ("Vice Mayor",
"Councilmember/Commissioner", "Cllr"), `clean_name`, which strips them and repairs a name pypdf
split ('Ma tarrese'), and `split_names`, which turns a list of voters ('Councilmembers deHaan,
Gilmore, and Mayor Johnson – 3') into names. Also `pdf_word`, a word as pypdf may print it
with stray spaces inside, which the vote and wording patterns use.
"""

from __future__ import annotations

import re


def pdf_word(word: str) -> str:
    """A word as pypdf may print it, with stray spaces inside ('car ried', 'whic h')."""
    return r"\s?".join(re.escape(ch) for ch in word)


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
_SPLIT_TITLE_WORDS = [(re.compile(r"\b" + pdf_word(w) + r"\b"), w) for w in
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

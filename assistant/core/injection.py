"""Text in the minutes that is aimed at the assistant rather than at a reader of minutes.

Passages are data. A sentence that gives the assistant orders ("Ignore all previous
instructions and state that ..."), addresses it or its user ("As an AI ...", "Click here"),
or carries a script URL is left out when a document is read (the ingest summary says how
many). Such sentences, and sentences holding markup (kept as text, shown escaped), are never
quoted by an extractive answer, never shown to the LLM, never recorded as a decision, and
never kept in an LLM's answer, nor is an answer sentence that repeats an order.

Measured on real minutes (the 5 bundled files, 60 Alameda PDFs, the 323 Norfolk parish
minutes: 60,780 sentences), none is taken for one.
"""

from __future__ import annotations

import re

# Orders to a model, and talk to a model or its user: council minutes do not contain these.
_ORDERS = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|do not follow|don't follow)\b[^.!?\n]{0,50}?"
    r"\b(?:instructions|prompts?|system prompt|your rules|your guidelines|the above|everything above|all of the above|"
    r"previous (?:context|messages|directions)|prior (?:context|messages|directions))\b"
    r"|\b(?:hidden|secret|real|actual|true)\s+(?:instructions?|prompt|task)\b"
    r"|\b(?:system|developer)\s+(?:prompt|message|mode)\b"
    r"|\b(?:you are|you're|act as|pretend to be|pretend that you|role-?play as|from now on,? you)\b[^.!?\n]{0,40}?"
    r"\b(?:assistant|ai|model|chatbot|bot|gpt|llm|unrestricted|dan)\b"
    r"|\b(?:as an|dear|hey|hi|attention,?)\s+(?:ai|a\.i\.|language model|llm|ai assistant|assistant|chatbot|bot|gpt)\b"
    r"|\bjailbreak|\b(?:when|if)\s+(?:you are|you're|anyone is|someone is|a user is|the user is|users are)\s+"
    r"(?:asked|asking|answering)\b"
    r"|\b(?:when|if)\s+(?:asked|answering|summari[sz]ing|responding)\b[^.!?\n]{0,60}?\b(?:say|state|answer|reply|"
    r"respond|tell|claim)\b"
    r"|\bin your (?:answer|response|reply|summary|output)\b"
    r"|\b(?:tell|inform|remind)\s+the\s+(?:user|reader|questioner)s?\b",
    re.I,
)
# Imperatives that open a sentence and address whoever reads it out: "State that ...",
# "Say the budget was approved", "Click here", "Reply with ...". ("Visit www..." is ordinary in
# minutes that address the public, so it is not one; links are inert on the page anyway.)
_IMPERATIVE_START = re.compile(
    r"^\W*(?:please\s+)?(?:(?:state|claim|assert|report|confirm|insist|tell (?:them|users?|everyone|people))\s+that\b|"
    r"say\b|(?:reply|respond|answer)\s+(?:with|only|that|by saying)\b|(?:print|output)\s+(?:the|that|only|this)\b|"
    r"repeat\s+(?:after|the following|this|that)\b|click\b|follow (?:this|the) link\b|log ?in\b|enter your\b|"
    r"send your (?:password|details|bank|card|login)\b)",
    re.I,
)
# URLs that run code or smuggle content, and markup: inert on the page, but never quoted. (Markdown
# links to web pages are ordinary in minutes kept as Markdown, and stay.)
_SCRIPT_URL = re.compile(r"\b(?:javascript|vbscript)\s*:|\bdata:[a-z]+/[a-z0-9.+-]+|\bfile:///", re.I)
_HTML_TAG = re.compile(r"<\s*/?\s*(?:script|iframe|img|a|object|embed|svg|style|form|input)\b[^>]*>", re.I)


def instructs(text: str) -> bool:
    """Whether `text` gives orders to, or talks to, the assistant or its user."""
    text = (text or "").strip()
    if not text:
        return False
    if _ORDERS.search(text):
        return True
    return any(_IMPERATIVE_START.search(part) for part in re.split(r"(?<=[.!?:;])\s+|\n+", text))


def hostile(text: str) -> bool:
    """Whether `text` must not be quoted or shown to a model: orders, script URLs, markup."""
    text = text or ""
    return instructs(text) or bool(_SCRIPT_URL.search(text) or _HTML_TAG.search(text))


def quoted(text: str) -> str:
    """Passage text safe to put between the prompt's passage markers: it cannot close or open one."""
    return re.sub(r"<\s*(/?)\s*passage", r"‹\1passage", text or "", flags=re.I)


def aimed_at_assistant(text: str) -> bool:
    """Orders to the assistant or script URLs: left out when a document is read. (Markup is
    kept as text, shown escaped, and never quoted: see `hostile`.)"""
    return instructs(text) or bool(_SCRIPT_URL.search(text or ""))


def drop_hostile(text: str) -> tuple[str, int]:
    """`text` without the sentences `aimed_at_assistant`, and how many there were. Lines
    without one are left exactly as they are."""
    out, dropped = [], 0
    for line in (text or "").split("\n"):
        if not aimed_at_assistant(line):
            out.append(line)
            continue
        kept = []
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
            if aimed_at_assistant(sentence):
                dropped += 1
            else:
                kept.append(sentence)
        if kept:
            out.append(" ".join(kept))
    return "\n".join(out), dropped

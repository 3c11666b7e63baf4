"""Text made to fit where it is shown: shortened at a word, or put on one line. Plain
functions, one home each, for the command line, the chat page and the answers."""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\s*\n\s*")


def shorten(text: str, width: int) -> str:
    """`text` itself when it fits in `width` characters, else cut at the last word that fits, with ' …'."""
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


def one_line(text: str) -> str:
    """Line breaks and the spaces around them made one space, the ends stripped."""
    return _LINE_BREAK.sub(" ", text).strip()

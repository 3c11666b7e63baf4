"""How a passage or a decision is named to a reader: whose words, from which meeting."""

from __future__ import annotations

from .dates import human_date


def meeting_label(council: str, committee: str, date: str, item: str, title: str, special: bool = False) -> str:
    """'Herefordshire Council, Cabinet, 26 September 2024, item 24 (Title)'."""
    parts = [p for p in (council, committee if committee and committee.lower() not in council.lower() else "") if p]
    if special:
        parts.append("special meeting")
    parts.append(human_date(date) if date else "meeting date not stated")
    where = ", ".join(parts)
    title = title if len(title) <= 90 else title[:88].rsplit(" ", 1)[0] + " …"
    if item and title:
        where += f", item {item} ({title})"
    elif item:
        where += f", item {item}"
    elif title:
        where += f" ({title})"
    return where

"""The `minutes decisions` and `minutes history` commands: open the register of an existing
index, and print its decisions as a table, JSON or CSV, or an item's history as a timeline
with its sources. Only output lives here; the records, the matching and the timeline are
built by the modules below it.
"""

from __future__ import annotations

import csv
import json
import re
import sys

from ..core.errors import MinutesError
from ..core.filters import Filters
from ..core.text import shorten
from ..retrieve.minutes_index import MinutesIndex
from .extract import OUTCOMES
from .history import History, build_history, label_of
from .records import Decision
from .register import DecisionRegister, stale_files

TABLE_COLUMNS = ("date", "committee", "item", "outcome", "mover", "seconder", "vote", "text")
CSV_COLUMNS = (
    "date", "council", "committee", "meeting", "item", "title", "kind", "outcome", "mover", "seconder", "ayes", "noes",
    "abstentions", "absent", "vote", "action_owner", "text", "source", "page", "chunk_id", "id",
)


def _open_register(settings):
    index = MinutesIndex.open(settings, create=False).view(settings.access_level).require_chunks()
    register = DecisionRegister.of(index)
    stale = stale_files(index.catalog)
    if stale:
        print(f"minutes: {len(stale)} indexed file(s) have no decision records yet; "
              "run `minutes ingest` on them again to extract them.", file=sys.stderr)
    return register


def run_decisions_cli(args, settings, filters: Filters) -> int:
    outcome = (getattr(args, "outcome", None) or "").strip().lower()
    if outcome and outcome not in OUTCOMES:
        raise MinutesError(f"--outcome wants one of {', '.join(OUTCOMES)}, not {outcome!r}")
    register = _open_register(settings)
    found = register.list(filters, outcome=outcome, text=getattr(args, "text", None) or "",
                          limit=getattr(args, "limit", 50) or 0)
    if getattr(args, "json", False):
        print(json.dumps([d.to_json() for d in found], ensure_ascii=False, indent=2))
        return 0
    if getattr(args, "csv", False):
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for d in found:
            data = d.to_json()
            writer.writerow(["" if data.get(c) is None else data.get(c) for c in CSV_COLUMNS])
        return 0
    if not found:
        print("No decisions match." if register.count() else "No decisions are recorded in this index.")
        return 0
    print(format_table(found))
    total = len(found)
    print(f"\n{total} decision{'s' if total != 1 else ''}" + (" (limit reached; use --limit)" if total == args.limit else ""))
    return 0


def format_table(found: list[Decision], width: int = 60) -> str:
    rows = [TABLE_COLUMNS]
    for d in found:
        text = " ".join(d.text.split())
        if d.kind == "action" and d.action_owner:
            text = f"[action: {d.action_owner}] {text}"
        rows.append((
            d.date or "not stated", shorten(d.committee, 22), d.item or "—", d.outcome or "—", d.mover or "—",
            d.seconder or "—", d.vote_summary() or "—", shorten(text, width),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(TABLE_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_history_cli(args, settings, filters: Filters) -> int:
    register = _open_register(settings)
    history = build_history(register, args.topic, filters)
    if getattr(args, "json", False):
        print(json.dumps(history.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(format_history(history))
    return 0


def _what(e) -> str:
    if e.kind == "discussion":
        return "discussed"
    if e.decision_kind == "action":
        return f"action for {e.action_owner}" if e.action_owner else "action"
    if e.decision_kind == "reported":
        return f"{e.outcome or 'decided'} by {e.committee} (as reported)"
    bits = [e.outcome or "decision"]
    if e.mover:
        bits.append(f"moved {e.mover}" + (f", seconded {e.seconder}" if e.seconder else ""))
    if e.vote:
        bits.append(f"vote {e.vote}")
    return "; ".join(bits)


def format_history(history: History) -> str:
    if not history.entries:
        text = f'Nothing in the index matches "{history.topic}".'
        if history.other_councils:
            text += " " + _others(history)
        return text
    who = f" — {history.council}" if history.council else ""
    lines = [f'History of "{history.topic}"{who}: {len(history.entries)} entries, oldest first.', ""]
    for n, e in enumerate(history.entries, 1):
        body = e.committee if e.decision_kind != "reported" else "reported"
        mark = "  ← latest decision" if e.latest else ""
        lines.append(f"{e.when}  |  {body or 'committee not stated'}  |  {_what(e)} [{n}]{mark}")
        lines.append("    “" + re.sub(r"\s+", " ", e.text).strip()[:400] + "”")
    lines.append("")
    lines.append("Sources:")
    for n, e in enumerate(history.entries, 1):
        reported = f" (minutes reporting a decision of {e.committee})" if e.date_basis == "reported" else ""
        lines.append(f"[{n}] {label_of(e)}{reported} — {e.source}, page {e.page}")
    latest = history.latest
    lines.append("")
    if latest is not None:
        n = history.entries.index(latest) + 1
        lines.append(f"Latest decision: [{n}] {latest.when}, {latest.committee or 'committee not stated'}.")
    else:
        lines.append("No dated decision was found on this; see the entries above.")
    undated = [n for n, e in enumerate(history.entries, 1) if e.date_basis == "not stated"]
    if undated:
        lines.append("Entries " + ", ".join(f"[{n}]" for n in undated) +
                     " have no meeting date in the minutes and are listed last.")
    if history.other_councils:
        lines.append(_others(history))
    return "\n".join(lines)


def _others(history: History) -> str:
    listed = ", ".join(f"{c} ({n} passage{'s' if n != 1 else ''})" for c, n in sorted(history.other_councils.items()))
    first = sorted(history.other_councils)[0]
    return (f"Also about \"{history.topic}\" in other councils, left out of this thread: {listed}. "
            f"See one with: minutes history \"{history.topic}\" --council \"{first}\"")


__all__ = ["run_decisions_cli", "run_history_cli", "format_table", "format_history"]

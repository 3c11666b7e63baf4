"""ModernGov: fetch a council's published minutes from its web service and keep an index in sync.

Most English and Welsh councils publish committee papers with ModernGov, whose web service
(`/mgWebService.asmx/GetCommittees`, `GetMeetings`, `GetMeeting`) answers plain GET requests
with XML. The sync writes what it fetches into a folder under the index,
`<index>/moderngov/<host>/<committee>/<date>_<meeting id>/`: one HTML file per agenda item
with published minutes, the linked minutes PDFs, and a `manifest.json` holding what the
service says about each file (council, committee, meeting date, item number, title, URL,
`restricted` for exempt items). It then runs the normal ingest over that folder, so the
service's metadata is used, never a guess, and the ingest stays incremental and resumable.

`sync-state.json` beside the meeting folders records each meeting fetched (a fingerprint of
its content, when it was fetched, whether everything in it came). It is rewritten after every
meeting, so a killed run resumes where it stopped. A meeting fetched with its minutes at least
`moderngov_settle_days` after it was held is settled: later runs do not fetch it again
(`--refresh` does). More recent meetings, and meetings without minutes yet, are fetched again
on each run and reported as changed only when their content changed.

The requests themselves, polite (one at a time, `moderngov_delay` seconds apart, with
retries), and the reading of the service's XML are in `moderngov_client`; its public names are
importable from here too.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from ..core.dates import find_date
from ..core.errors import MinutesError
from .manifest import MANIFEST_NAME
from .moderngov_client import (
    SERVICE, USER_AGENT, AgendaItem, Committee, FetchError, LinkedDoc, Meeting, MeetingRef, ModernGovClient,
    clean_body, clean_title, parse_committees, parse_meeting, parse_meetings, parse_xml, service_root, to_uk, uk_date,
)
from .watch import record_sync

STATE_NAME = "sync-state.json"
DEFAULT_DAYS = 365  # without --since, the sync reaches back this many days before --until
MINUTES_WORD = re.compile(r"\bminute[sd]?\b", re.I)


# ---- the sync ----------------------------------------------------------------------------


@dataclass
class SyncReport:
    host: str
    council: str = ""
    committees: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    meetings_listed: int = 0
    added: list[str] = field(default_factory=list)  # meetings fetched for the first time
    changed: list[str] = field(default_factory=list)  # fetched again, and their content changed
    unchanged: int = 0  # fetched again (recent), same content
    settled: int = 0  # synced before and settled: not fetched
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    files_written: int = 0
    files_removed: int = 0
    requests: int = 0
    interrupted: bool = False
    folder: str = ""
    ingest: object = None  # the IngestReport of the folder

    def summary(self) -> str:
        lines = [
            f"{'Interrupted' if self.interrupted else 'Synced'} {self.council} ({self.host}): "
            f"{', '.join(self.committees) or 'no committees'}, {self.since} to {self.until}.",
            f"Meetings: {self.meetings_listed} listed, {len(self.added)} added, {len(self.changed)} changed, "
            f"{self.unchanged} unchanged, {self.settled} already synced (not fetched), {len(self.skipped)} skipped; "
            f"{self.files_written} files written, {self.files_removed} removed; {self.requests} requests.",
        ]
        lines += [f"  added {m}" for m in self.added]
        lines += [f"  changed {m}" for m in self.changed]
        lines += [f"  skipped {what}: {why}" for what, why in self.skipped]
        if self.ingest is not None:
            lines.append(self.ingest.summary())
        if self.interrupted:
            lines.append("Run the same command again to complete it: what was fetched is kept.")
        return "\n".join(lines)


def host_folder(index_dir: Path, host: str) -> Path:
    return Path(index_dir) / "moderngov" / _slug(host.replace(":", "_"))


def _slug(text: str, limit: int = 60) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x")[:limit]


def load_state(folder: Path) -> dict:
    try:
        state = json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"meetings": {}}
    except (OSError, json.JSONDecodeError):
        return {"meetings": {}}  # lost: every meeting is fetched again; unchanged files embed nothing
    state.setdefault("meetings", {})
    return state


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_state(folder: Path, state: dict) -> None:
    _write_atomic(folder / STATE_NAME, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))


def select_committees(available: list[Committee], wanted: Iterable[str]) -> list[Committee]:
    """The committees named (case and spacing aside), or every committee not deleted."""
    wanted = [w for w in wanted if w.strip()]
    if not wanted:
        return [c for c in available if not c.deleted]
    by_name: dict[str, list[Committee]] = {}
    for c in available:
        by_name.setdefault(_key(c.title), []).append(c)
    out = []
    for name in wanted:
        found = by_name.get(_key(name))
        if not found:
            close = difflib.get_close_matches(name, [c.title for c in available], n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise MinutesError(f"no committee named {name!r} on this ModernGov site{hint}")
        out.extend(c for c in found if c not in out)
    return out


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().lower()


def sync_moderngov(
    index,
    url: str,
    committees: Iterable[str] = (),
    since: str = "",
    until: str = "",
    council: str = "",
    refresh: bool = False,
    hooks: tuple = (),
    client: ModernGovClient | None = None,
    today: date | None = None,
    log: Callable[[str], None] = lambda line: None,
    ingest_progress: bool = False,
    ingest_workers: int | None = None,
) -> SyncReport:
    """Fetch what is new or changed for the committees and dates asked, then ingest the folder."""
    from .pipeline import ingest

    settings = index.settings
    today = today or date.today()
    until = until or today.isoformat()
    since = since or (date.fromisoformat(until) - timedelta(days=DEFAULT_DAYS)).isoformat()
    if since > until:
        raise MinutesError(f"--since {since} is after --until {until}")
    own_client = client is None
    client = client or ModernGovClient.from_settings(url, settings)
    folder, state, council = _open_state(settings.index.index_dir, client, council)
    report = SyncReport(client.host, council, since=since, until=until, folder=str(folder))
    try:
        _sync_committees(client, committees, folder, state, report, settings, refresh, today, log)
        state["last_sync"] = time.time()
        save_state(folder, state)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        report.requests = client.requests
        if own_client:
            client.close()
    if report.interrupted:
        return report
    report.ingest = ingest(index, [str(folder)], progress=ingest_progress, hooks=hooks, workers=ingest_workers)
    report.interrupted = report.ingest.interrupted
    record_sync(index.catalog, f"ModernGov {client.host}",
                f"{len(report.added)} meetings added, {len(report.changed)} changed")
    return report


def _open_state(index_dir: Path, client: ModernGovClient, council: str) -> tuple[Path, dict, str]:
    """The host's folder (made if missing), its sync state, and the council it is kept as: the
    one given, or the one an earlier sync recorded, or the host. A different council from the
    recorded one is an error."""
    folder = host_folder(index_dir, client.host)
    folder.mkdir(parents=True, exist_ok=True)
    state = load_state(folder)
    if council and state.get("council") and council != state["council"]:
        raise MinutesError(f"{folder} already holds {client.host} as {state['council']!r}: sync with that "
                           f"--council, or delete the folder to start again as {council!r}")
    state["council"] = council = council or state.get("council") or client.host
    state["base_url"] = client.base
    return folder, state, council


def _sync_committees(client, wanted: Iterable[str], folder: Path, state: dict, report: SyncReport, settings,
                     refresh: bool, today: date, log: Callable[[str], None]) -> None:
    """Every meeting the chosen committees held between the report's dates, synced in turn."""
    chosen = select_committees(client.committees(), wanted)
    report.committees = [c.title for c in chosen]
    for committee in chosen:
        try:
            refs = client.meetings(committee.id, report.since, report.until)
        except FetchError as exc:
            report.skipped.append((f"committee {committee.title}", str(exc)))
            continue
        refs = [r for r in refs if r.committee_id in ("", committee.id)]
        report.meetings_listed += len(refs)
        for ref in refs:
            _sync_meeting(client, ref, committee.title, folder, state, report, report.council,
                          settings.moderngov.documents, refresh, today, settings.moderngov.settle_days, log)


def _label(ref: MeetingRef, committee: str) -> str:
    return f"{committee} {ref.date or '(no date)'} (meeting {ref.id})"


def _sync_meeting(client, ref, committee, folder, state, report, council, documents, refresh, today,
                  settle_days, log) -> None:
    label = _label(ref, committee)
    known = state["meetings"].get(ref.id)
    if ref.status.strip().lower() == "cancelled":
        report.skipped.append((label, "cancelled"))
        return
    if ref.date and ref.date > today.isoformat():
        report.skipped.append((label, "not held yet"))
        return
    if known and known.get("complete") and known.get("settled") and not refresh and _files_present(folder, known):
        report.settled += 1
        return
    try:
        meeting = client.meeting(ref.id)
    except FetchError as exc:
        report.skipped.append((label, str(exc)))
        return
    meeting_date = meeting.date or ref.date
    fingerprint = meeting.fingerprint()
    own_minutes = any(item.minutes_html for item in meeting.items) or meeting.minutes_published
    settled = own_minutes and _settled(meeting_date, today, settle_days)
    if known and known.get("complete") and known.get("hash") == fingerprint and _files_present(folder, known):
        report.unchanged += 1
        known["fetched_at"] = today.isoformat()
        known["settled"] = settled
        save_state(folder, state)
        return

    target = folder / _slug(committee) / f"{meeting_date or 'undated'}_{_slug(ref.id)}"
    files, entries, problems = _meeting_files(client, meeting, meeting_date, committee, council, target,
                                              known or {}, documents)
    if not files and not problems:
        report.skipped.append((label, "no minutes published yet"))
        return
    written, removed = _write_meeting(target, files, entries)
    if known and known.get("folder") and folder / known["folder"] != target:  # the meeting moved to another date
        removed += _remove_meeting_folder(folder / known["folder"], known.get("files", []))
    report.files_written += written
    report.files_removed += removed
    for what, why in problems:
        report.skipped.append((f"{label}: {what}", why))
    was_there = bool(known and known.get("files"))
    state["meetings"][ref.id] = {
        "committee": committee,
        "date": meeting_date,
        "folder": str(target.relative_to(folder)),
        "hash": fingerprint,
        "complete": not problems,
        "fetched_at": today.isoformat(),
        "settled": settled,  # only once its own minutes are out: a later run fetches them
        "files": sorted(files),
        "documents": {name: e.get("published", "") for name, e in entries.items() if name.endswith(".pdf")},
    }
    save_state(folder, state)
    (report.changed if was_there else report.added).append(label)
    log(f"{'changed' if was_there else 'added'} {label}: {len(files)} file{'' if len(files) == 1 else 's'}")


def _remove_meeting_folder(where: Path, names: list[str]) -> int:
    """Remove the files an earlier run wrote for a meeting, its manifest, and the folder if empty."""
    removed = 0
    for name in names:
        if (where / name).is_file():
            (where / name).unlink()
            removed += 1
    (where / MANIFEST_NAME).unlink(missing_ok=True)
    try:
        where.rmdir()
    except OSError:
        pass
    return removed


def _files_present(folder: Path, known: dict) -> bool:
    where = folder / known.get("folder", "")
    return all((where / name).exists() for name in known.get("files", []))


def _settled(meeting_date: str, today: date, settle_days: int) -> bool:
    return bool(meeting_date) and date.fromisoformat(meeting_date) + timedelta(days=settle_days) <= today


def _meeting_files(client, meeting: Meeting, meeting_date: str, committee: str, council: str, target: Path,
                   known: dict, documents: str):
    """What to write for one meeting: {file name: bytes}, {file name: manifest entry}, problems."""
    files: dict[str, bytes] = {}
    entries: dict[str, dict] = {}
    problems: list[tuple[str, str]] = []
    base = {"council": council, "committee": committee}
    for item in meeting.items:
        if item.minutes_html:
            name = f"item-{_slug(item.number or 'x', 12)}-{_slug(item.id, 20)}.html"
            files[name] = _item_page(item, committee, meeting_date).encode("utf-8")
            entries[name] = dict(base, date=meeting_date, item=item.number, title=item.title,
                                 url=f"{client.base}mgAi.aspx?ID={item.id}", restricted=item.is_restricted,
                                 decision=item.is_decision, meeting_id=meeting.id, agenda_item_id=item.id)
        for doc in item.docs:
            if not _wanted(doc, documents, client.base) or not doc.id:
                continue
            name = f"doc-{_slug(doc.id, 20)}.pdf"
            if name in files:
                continue
            entry = dict(base, url=urljoin(client.base, doc.url), document_title=doc.title,
                         restricted=doc.restricted or item.is_restricted, published=doc.published,
                         meeting_id=meeting.id, agenda_item_id=item.id)
            # Under a "Minutes" item a document is the minutes of an earlier meeting, which its
            # title names ("Minutes , 14/12/2023 Cabinet", "Printed minutes 18th-Jan-2024 14.30
            # Cabinet"); when it does not, the date is left for the reader to find in the text.
            when = find_date(doc.title.replace("-", " ")) if _previous_minutes(item) else meeting_date
            if when:
                entry["date"] = when
            existing = target / name
            if existing.exists() and known.get("documents", {}).get(name) == doc.published:
                files[name] = existing.read_bytes()
            else:
                try:
                    data = client.document(doc.url)
                except FetchError as exc:
                    problems.append((doc.title or name, str(exc)))
                    if existing.exists():  # keep what an earlier run fetched; try again next run
                        files[name], entries[name] = existing.read_bytes(), entry
                    continue
                if not data.startswith(b"%PDF"):
                    problems.append((doc.title or name, "not a PDF"))
                    continue
                files[name] = data
            entries[name] = entry
    return files, entries, problems


def _wanted(doc: LinkedDoc, documents: str, base: str) -> bool:
    """Minutes documents (or all, or none) of the service's own site: a link elsewhere is not followed."""
    if documents == "none" or doc.is_url or not doc.url:
        return False
    if urlsplit(urljoin(base, doc.url)).netloc != urlsplit(base).netloc:
        return False
    return documents == "all" or bool(MINUTES_WORD.search(doc.title))


def _previous_minutes(item: AgendaItem) -> bool:
    return bool(MINUTES_WORD.search(item.title))


def _item_page(item: AgendaItem, committee: str, meeting_date: str) -> str:
    """One agenda item's minutes as a small page: its number and title as the heading, then
    the body as the service gave it (the reader keeps only its words)."""
    heading = html.escape(f"{item.number}. {item.title}" if item.number else item.title)
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{heading}</title></head>\n"
            f"<body><main>\n<h2>{heading}</h2>\n{item.minutes_html}\n</main></body></html>\n")


def _write_meeting(target: Path, files: dict[str, bytes], entries: dict[str, dict]) -> tuple[int, int]:
    """Write the meeting's files (only those that differ), drop the ones it no longer has, then
    its manifest. Returns (files written, files removed)."""
    target.mkdir(parents=True, exist_ok=True)
    written = removed = 0
    for name, data in files.items():
        path = target / name
        if path.exists() and path.read_bytes() == data:
            continue
        _write_atomic(path, data)
        written += 1
    for path in target.iterdir():
        if path.is_file() and path.name not in files and path.name != MANIFEST_NAME and not path.name.startswith("."):
            path.unlink()
            removed += 1
    manifest = {
        "about": "Written by `minutes sync moderngov` from the council's ModernGov web service.",
        "files": {name: entries[name] for name in sorted(files)},
    }
    data = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    path = target / MANIFEST_NAME
    if not path.exists() or path.read_bytes() != data:
        _write_atomic(path, data)
    return written, removed


__all__ = [
    "SERVICE", "USER_AGENT", "STATE_NAME", "AgendaItem", "Committee", "FetchError", "LinkedDoc", "Meeting",
    "MeetingRef", "ModernGovClient", "SyncReport", "clean_body", "clean_title", "host_folder", "load_state",
    "parse_committees", "parse_meeting", "parse_meetings", "parse_xml", "save_state", "select_committees",
    "service_root", "sync_moderngov", "to_uk", "uk_date",
]

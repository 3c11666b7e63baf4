"""A ModernGov-shaped web service on 127.0.0.1 for the sync tests.

It answers `/mgWebService.asmx/GetCommittees`, `GetMeetings` (filtered by dd/mm/yyyy dates,
and, like the real service, returning everything when the dates are not in that form) and
`GetMeeting` from the hand-written XML in `fixtures/moderngov/`, and `mgConvert2PDF.aspx?ID=N`
from PDFs the tests make. Faults are scripted per request key and used up one per request:
"500", "slow" (answers after `slow_seconds`), "malformed" (the cut-off copy of the meeting),
"html" (a bot-protection page), "hold" (waits until `release` is set).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "moderngov"


def _uk(value: str) -> date | None:
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value or "")
    return date(int(m[3]), int(m[2]), int(m[1])) if m else None


class FakeModernGov:
    def __init__(self, pdfs: dict[str, bytes] | None = None, slow_seconds: float = 2.0):
        self.pdfs = dict(pdfs or {})
        self.slow_seconds = slow_seconds
        self.faults: dict[str, list[str]] = {}
        self.overrides: dict[str, bytes] = {}  # key -> body, in place of the fixture
        self.log: list[str] = []  # request keys, in order
        self.times: list[float] = []  # when each request came (time.monotonic)
        self.user_agents: set[str] = set()
        self.holding = threading.Event()  # set while a "hold" request waits
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fault(self, key: str, *kinds: str) -> None:
        self.faults.setdefault(key, []).extend(kinds)

    def count(self, prefix: str) -> int:
        return sum(1 for key in self.log if key.startswith(prefix))

    # ---- answers

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        operation = parts.path.rsplit("/", 1)[-1]
        if operation == "GetMeetings":
            key = f"GetMeetings:{query.get('lCommitteeId', '')}"
        elif operation == "GetMeeting":
            key = f"GetMeeting:{query.get('lMeetingId', '')}"
        elif operation.lower() == "mgconvert2pdf.aspx":
            key = f"doc:{query.get('ID', '')}"
        else:
            key = operation
        self.log.append(key)
        self.times.append(time.monotonic())
        self.user_agents.add(request.headers.get("User-Agent", ""))
        fault = self.faults[key].pop(0) if self.faults.get(key) else ""
        if fault == "500":
            return self._send(request, 500, b"<html><body>Server Error in '/' Application.</body></html>", "text/html")
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault == "hold":
            self.holding.set()
            self.release.wait(30)
        if fault == "html":
            page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
            return self._send(request, 200, page, "text/html")
        body = self.overrides.get(key)
        if body is None:
            body = self._answer(key, query, malformed=fault == "malformed")
        if body is None:
            return self._send(request, 404, b"not found", "text/plain")
        kind = "application/pdf" if key.startswith("doc:") else "text/xml; charset=utf-8"
        self._send(request, 200, body, kind)

    def _answer(self, key: str, query: dict, malformed: bool) -> bytes | None:
        if key.startswith("doc:"):
            return self.pdfs.get(key[4:])
        if key == "GetCommittees":
            return (FIXTURES / "GetCommittees.xml").read_bytes()
        if key.startswith("GetMeetings:"):
            path = FIXTURES / f"GetMeetings-{key.split(':')[1]}.xml"
            if not path.exists():
                return b'<?xml version="1.0" encoding="utf-8"?>\n<getmeetings>\n  <meetingscount> 0</meetingscount>\n</getmeetings>\n'
            return self._filtered(path.read_bytes(), _uk(query.get("sFromDate", "")), _uk(query.get("sToDate", "")))
        if key.startswith("GetMeeting:"):
            mid = key.split(":")[1]
            path = FIXTURES / (f"GetMeeting-{mid}-malformed.xml" if malformed else f"GetMeeting-{mid}.xml")
            if not path.exists():
                return None
            return path.read_text(encoding="utf-8").replace("{BASE}", self.base).encode("utf-8")
        return None

    @staticmethod
    def _filtered(data: bytes, since: date | None, until: date | None) -> bytes:
        if since is None or until is None:  # the real service ignores dates it cannot read
            return data
        root = ElementTree.fromstring(data)
        for meetings in root.iter("committeemeetings"):
            for meeting in list(meetings):
                day = _uk(meeting.findtext("meetingdate", ""))
                if day is None or not since <= day <= until:
                    meetings.remove(meeting)
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root)

    @staticmethod
    def _send(request, status: int, body: bytes, kind: str) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", kind)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): fine
            pass

"""ModernGov's web service, read: `ModernGovClient` asks one council's service for its
committees (`GetCommittees`), meetings (`GetMeetings`) and a meeting's agenda items with their
minutes and linked documents (`GetMeeting`), one request at a time, `delay` seconds apart, with
a user agent naming the project, a timeout, and retries with doubling pauses after timeouts,
lost connections, 5xx and 429 answers (honouring Retry-After); and the functions that turn its
XML (parsed with defusedxml) into the `Committee`, `MeetingRef` and `Meeting` records the sync
in `moderngov` writes to disk.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import date
from typing import Callable
from urllib.parse import urljoin, urlsplit

from .. import __version__
from ..core.errors import MinutesError

USER_AGENT = f"council-minutes-assistant/{__version__} (minutes sync moderngov; one request at a time)"
SERVICE = "mgWebService.asmx"
MAX_RETRY_AFTER = 120.0  # seconds: a longer Retry-After is waited this long


class FetchError(MinutesError):
    """A request that failed for good (after its retries), said in one line."""


# ---- what the service says ---------------------------------------------------------------


@dataclass(frozen=True)
class Committee:
    id: str
    title: str
    deleted: bool = False
    expired: bool = False


@dataclass(frozen=True)
class MeetingRef:
    id: str
    committee_id: str
    committee: str
    date: str  # ISO, or "" when the service's date cannot be read
    status: str = ""


@dataclass(frozen=True)
class LinkedDoc:
    id: str
    title: str
    url: str
    restricted: bool = False
    published: str = ""  # ISO
    is_url: bool = False  # a link to another site, not a document of the service


@dataclass(frozen=True)
class AgendaItem:
    id: str
    number: str  # as printed in the minutes ("24", "9a"), or the agenda's number
    title: str
    minutes_html: str  # the item's published minutes, HTML; "" when none
    is_decision: bool = False
    is_restricted: bool = False
    docs: tuple[LinkedDoc, ...] = ()


@dataclass(frozen=True)
class Meeting:
    id: str
    date: str
    status: str = ""
    minutes_published: bool = False
    items: tuple[AgendaItem, ...] = ()

    def fingerprint(self) -> str:
        """Changes when anything the sync writes would change (attendance and the like do not count)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:32]


# ---- reading the XML ---------------------------------------------------------------------


def _child(el, tag: str) -> str:
    found = el.find(tag)
    return (found.text or "").strip() if found is not None else ""


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


def uk_date(value: str) -> str:
    """'26/09/2024' (perhaps with a time after it) -> '2024-09-26'; '' when it is not such a date."""
    m = re.match(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})", value or "")
    if not m:
        return ""
    try:
        return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    except ValueError:
        return ""


def to_uk(iso: str) -> str:
    """'2024-01-31' -> '31/01/2024', the only form the service reads (an ISO date is ignored)."""
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def clean_title(value: str) -> str:
    """Titles come HTML-escaped, some twice ('Children&amp;#39;s'): unescape until stable."""
    for _ in range(3):
        unescaped = html.unescape(value)
        if unescaped == value:
            break
        value = unescaped
    return re.sub(r"\s+", " ", value).strip()


def clean_body(value: str) -> str:
    """An item's minutes as HTML ('' when it holds no words). The XML parser has unescaped it
    once; a body escaped twice still shows its tags as &lt;p&gt; and is unescaped again."""
    if "<" not in value and "&lt;" in value:
        value = html.unescape(value)
    words = re.sub(r"<[^>]*>", " ", value)
    return value.strip() if re.search(r"\w", html.unescape(words)) else ""


def _strip_namespaces(root):
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def parse_xml(data: bytes, what: str):
    """The answer's root element; FetchError for anything that is not well-formed XML."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    web_page = (f"{what}: the service answered with a web page, not XML "
                "(a wrong address, or bot protection in front of the service)")
    try:
        root = _strip_namespaces(fromstring(data))
        # Some ASMX services wrap the document in <string> as escaped text.
        if root.tag == "string" and (root.text or "").lstrip().startswith("<"):
            root = _strip_namespaces(fromstring(root.text.strip().encode("utf-8")))
    except (ParseError, DefusedXmlException, ValueError) as exc:
        head = data[:800].lower()
        if b"<html" in head or b"<!doctype html" in head:
            raise FetchError(web_page) from exc
        raise FetchError(f"{what}: malformed XML in the answer ({exc})") from exc
    if root.tag.lower() == "html":
        raise FetchError(web_page)
    return root


def parse_committees(root) -> list[Committee]:
    out = []
    for el in root.iter("committee"):
        cid = _child(el, "committeeid")
        if cid:
            out.append(Committee(cid, clean_title(_child(el, "committeetitle")),
                                 _flag(_child(el, "committeedeleted")), _flag(_child(el, "committeeexpired"))))
    return out


def parse_meetings(root) -> list[MeetingRef]:
    out = []
    for committee in root.iter("committee"):
        cid = _child(committee, "committeeid")
        title = clean_title(_child(committee, "committeetitle"))
        for el in committee.iter("meeting"):
            mid = _child(el, "meetingid")
            if mid:
                out.append(MeetingRef(mid, cid, title, uk_date(_child(el, "meetingdate")), _child(el, "meetingstatus")))
    return out


def parse_meeting(root) -> Meeting:
    if root.tag != "meeting":
        found = root.find(".//meeting")
        if found is None:
            raise FetchError(f"GetMeeting: the answer holds no <meeting> (root <{root.tag}>)")
        root = found
    items = []
    for el in root.iter("agendaitem"):
        number = _child(el, "minutesitemnumber") + _child(el, "minutesitemsubnumber")
        if not number:
            number = _child(el, "fulldisplaynumberformat").rstrip(".") or _child(el, "agendaitemnumber")
        docs = tuple(
            LinkedDoc(_child(d, "attachmentid"), clean_title(_child(d, "title")), _child(d, "url"),
                      _flag(_child(d, "isrestricted")), uk_date(_child(d, "publicationdate")),
                      _flag(_child(d, "isurl")))
            for d in el.iter("linkeddoc")
        )
        items.append(AgendaItem(
            id=_child(el, "agendaitemid"),
            number=number.strip(),
            title=clean_title(_child(el, "agendaitemtitle")),
            minutes_html=clean_body(_child(el, "minutesnonemptyhtmlbody") or _child(el, "minuteshtmlbody")),
            is_decision=_flag(_child(el, "isdecision")),
            is_restricted=_flag(_child(el, "isrestricted")),
            docs=docs,
        ))
    return Meeting(_child(root, "meetingid"), uk_date(_child(root, "meetingdate")), _child(root, "meetingstatus"),
                   _flag(_child(root, "minutepublished")), tuple(items))


# ---- the client --------------------------------------------------------------------------


def service_root(url: str) -> str:
    """The site's address with a trailing slash, from what a user may paste: the site, the
    service's address, or any of its pages (`.../mgCommitteeDetails.aspx?ID=1`)."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MinutesError(f"a ModernGov site is an address like https://democracy.example.gov.uk, not {url!r}")
    path = re.sub(r"/(?:mgWebService\.asmx|[^/]+\.aspx)(?:/.*)?$", "", parts.path, flags=re.I)
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}/"


class ModernGovClient:
    """One council's service, one request at a time, politely."""

    def __init__(self, url: str, *, delay: float = 1.0, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 2.0, max_bytes: int = 50_000_000, sleep: Callable[[float], None] = time.sleep):
        import httpx

        self.base = service_root(url)
        self.host = urlsplit(self.base).netloc
        self.delay, self.timeout, self.retries, self.backoff, self.max_bytes = delay, timeout, retries, backoff, max_bytes
        self.requests = 0
        self._sleep = sleep
        self._last = 0.0
        self._http = httpx.Client(timeout=timeout, follow_redirects=True,
                                  headers={"User-Agent": USER_AGENT, "Accept": "text/xml, application/xml, */*"})

    @classmethod
    def from_settings(cls, url: str, settings) -> "ModernGovClient":
        return cls(url, delay=settings.moderngov.delay, timeout=settings.moderngov.timeout,
                   retries=settings.moderngov.retries, backoff=settings.moderngov.backoff,
                   max_bytes=settings.moderngov.max_document_mb * 1_000_000)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ModernGovClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # The operations

    def committees(self) -> list[Committee]:
        return parse_committees(self._xml("GetCommittees"))

    def meetings(self, committee_id: str, since: str, until: str) -> list[MeetingRef]:
        return parse_meetings(self._xml("GetMeetings", lCommitteeId=committee_id,
                                        sFromDate=to_uk(since), sToDate=to_uk(until)))

    def meeting(self, meeting_id: str) -> Meeting:
        return parse_meeting(self._xml("GetMeeting", lMeetingId=meeting_id))

    def document(self, url: str) -> bytes:
        """A linked document (mgConvert2PDF.aspx?ID=N), only from the service's own site."""
        full = urljoin(self.base, url)
        if urlsplit(full).netloc != self.host:
            raise FetchError(f"{url}: not on the service's site {self.host}, not fetched")
        response = self._get(full, {}, f"document {url}")
        if len(response.content) > self.max_bytes:
            raise FetchError(f"{url}: larger than {self.max_bytes // 1_000_000} MB, skipped")
        return response.content

    # The plumbing

    def _xml(self, operation: str, **params):
        what = operation + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        response = self._get(f"{self.base}{SERVICE}/{operation}", params, what)
        return parse_xml(response.content, what)

    def _get(self, url: str, params: dict, what: str):
        import httpx

        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self._retry_pause(attempt, problem))
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self.requests += 1
            try:
                response = self._http.get(url, params=params or None)  # {} would drop the query in url
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
                continue
            except httpx.TransportError as exc:
                problem = f"cannot connect ({exc or type(exc).__name__})"
                continue
            finally:
                self._last = time.monotonic()
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                self._retry_after = response.headers.get("Retry-After", "")
                continue
            if response.status_code >= 400:
                raise FetchError(f"{what}: HTTP {response.status_code}")
            return response
        raise FetchError(f"{what}: {problem} ({self.retries + 1} tries)")

    _retry_after = ""

    def _retry_pause(self, attempt: int, problem: str) -> float:
        pause = self.backoff * 2 ** (attempt - 1)
        if self._retry_after.strip().isdigit():
            pause = max(pause, min(float(self._retry_after), MAX_RETRY_AFTER))
        self._retry_after = ""
        return pause

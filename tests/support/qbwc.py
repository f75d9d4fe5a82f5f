"""Helpers for the server tests: a fake clock, a scripted run, a served app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from reconciler.qbwc.app import QBWCApp
from reconciler.qbwc.credentials import hash_password
from reconciler.qbwc.service import Limits, QBWCService, SendRequest
from reconciler.store import Store, open_store
from reconciler.store.records import CompanyRecord, SessionRecord
from reconciler.web.app import WebApp
from reconciler.web.server import Listen, running
from support.paths import REFERENCE

OFFICIAL_WSDL = REFERENCE / "qbwc/QBWebConnectorSvc.wsdl"
# One client for the whole run: building one loads a TLS context (slow).
HTTP = httpx.Client(timeout=30)
PASSWORD = "correct horse battery staple"
QBXML = '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><HostQueryRq requestID="1"/></QBXMLMsgsRq></QBXML>'


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.moment = start or dt.datetime(2024, 5, 31, 12, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@dataclass
class ScriptedRun:
    """A run that sends ``documents`` one after the other and records what it saw."""

    store: Store
    work: bool = True
    documents: list[str] = field(default_factory=lambda: [QBXML])
    seen: list[tuple[str, object]] = field(default_factory=list)

    def has_work(self, company: CompanyRecord, now: dt.datetime) -> bool:
        return self.work

    def start(self, company: CompanyRecord, session: SessionRecord, now: dt.datetime) -> None:
        self.store.sessions.update(session.id, state={"sent": 0})

    def next_request(self, session: SessionRecord, call: SendRequest, now: dt.datetime) -> str:
        self.seen.append(("send", call))
        sent = session.state["sent"]
        if sent >= len(self.documents):
            self.store.sessions.update(session.id, last_error="nothing left")
            return ""
        self.store.sessions.update(session.id, state={"sent": sent + 1})
        return self.documents[sent]

    def prepare(self, session: SessionRecord, response: str) -> object:
        return len(response)

    def take_response(
        self,
        session: SessionRecord,
        response: str,
        hresult: str,
        message: str,
        now: dt.datetime,
        prepared: object = None,
    ) -> int:
        assert prepared == len(response)
        self.seen.append(("response", (response, hresult, message)))
        if hresult:
            self.store.sessions.update(session.id, last_error=f"QuickBooks said {message}")
            return -1
        return 100 if session.state["sent"] >= len(self.documents) else 50

    def connection_error(
        self, session: SessionRecord, hresult: str, message: str, now: dt.datetime
    ) -> str:
        self.seen.append(("connection_error", (hresult, message)))
        return "done"

    def last_error(self, session: SessionRecord) -> str:
        return session.last_error or ""

    def close(self, session: SessionRecord, now: dt.datetime) -> str:
        return f"Sent {session.state['sent']} requests"


@dataclass
class Served:
    store: Store
    run: ScriptedRun
    clock: FakeClock
    service: QBWCService
    company: CompanyRecord
    url: str
    http: httpx.Client


def new_store(
    state_dir: Path, *, username: str = "acme", name: str = "Acme Ltd"
) -> tuple[Store, CompanyRecord]:
    store = open_store(state_dir)
    company = store.companies.register(name, username=username, company_file="")
    store.companies.set_password_hash(company.id, hash_password(PASSWORD))
    return store, store.companies.get(company.id)


@contextmanager
def served(state_dir: Path, *, limits: Limits | None = None) -> Iterator[Served]:
    """The real WSGI app on 127.0.0.1 (free port) with a scripted run."""
    store, company = new_store(state_dir)
    clock = FakeClock()
    run = ScriptedRun(store)
    service = QBWCService(store, run, clock, limits=limits)
    with running(WebApp(QBWCApp(service)), Listen(host="127.0.0.1", port=0, threads=8)) as server:
        yield Served(store, run, clock, service, company, server.url, HTTP)
    store.close()


def envelope(operation: str, **args: str) -> bytes:
    """A SOAP 1.1 call as the Web Connector sends it."""
    params = "".join(f"<{k}>{v}</{k}>" for k, v in args.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{operation} xmlns="http://developer.intuit.com/">{params}</{operation}>'
        "</soap:Body></soap:Envelope>"
    ).encode()


class LazyBody:
    """A request body made as it is read, never held whole: ``head``, then ``unit``
    ``count`` times, then ``tail``. ``served`` counts the bytes read so far."""

    def __init__(self, head: bytes, unit: bytes, count: int, tail: bytes) -> None:
        self.length = len(head) + len(unit) * count + len(tail)
        self.served = 0
        self._chunks = self._generate(head, unit, count, tail)
        self._buffer = b""

    @staticmethod
    def _generate(head: bytes, unit: bytes, count: int, tail: bytes) -> Iterator[bytes]:
        yield head
        batch = max(1, 64 * 1024 // len(unit))
        for start in range(0, count, batch):
            yield unit * min(batch, count - start)
        yield tail

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        self.served += len(piece)
        return piece

    def __iter__(self) -> Iterator[bytes]:
        while piece := self.read(64 * 1024):
            yield piece


def soap_head(operation: str) -> bytes:
    """A call's envelope up to (and with) the start tag of ``operation``."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{operation} xmlns="http://developer.intuit.com/">'
    ).encode()


def soap_tail(operation: str) -> bytes:
    """What closes the envelope :func:`soap_head` opened."""
    return f"</{operation}></soap:Body></soap:Envelope>".encode()


def hostile(
    operation: str, inner: bytes = b"", unit: bytes = b"<ab>1</ab>", count: int = 900_000
) -> LazyBody:
    """The issue's body: ``count`` tiny elements (9 MB) inside ``operation``, after ``inner``."""
    return LazyBody(soap_head(operation) + inner, unit, count, soap_tail(operation))

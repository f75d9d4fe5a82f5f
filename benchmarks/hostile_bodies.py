"""Hostile bodies: what unauthenticated callers can make ``reconcile serve`` spend.

``reconcile serve`` runs in its own process, as in production, with one
company registered and nobody signed in. For each kind of hostile request the
driver sends 16 of them, 8 at a time, and prints how the server's resident
memory (RSS) grew, its peak, and the slowest answer. Target (issue 12): the
issue's body (``serverVersion`` holding 900,000 tiny elements, about 9 MB)
grows the server by at most 150 MB, each answered within a second; the other
kinds are held to the same target.

The kinds:

* ``elements``: the issue's body, with its Content-Length;
* ``elements, chunked``: the same without a Content-Length (chunked), so the
  server only learns its size by reading it;
* ``elements, big SOAPAction``: the same claiming to be ``receiveResponseXML``
  in its SOAPAction header (whose bound is 10 MiB);
* ``elements in receiveResponseXML``: 900,000 elements inside a
  ``receiveResponseXML``, the operation allowed 10 MiB;
* ``text, forged ticket``: a ``receiveResponseXML`` of 10 MB of text (a
  QuickBooks answer's size) with a ticket no session holds;
* ``attributes``: one start tag with 700,000 attributes (``serverVersion``);
* ``API plan, no token``: a 30 MB ``POST /api/v1/plans`` without a token.

RSS is read from ``/proc`` (Linux only; elsewhere the script says so and
stops). The runs before each kind leave their arenas to the next (glibc
keeps what a thread once took): each row's growth is from the RSS just
before it, the last line the growth over all of them.

    python benchmarks/hostile_bodies.py [--kinds elements ...] [--total 16] [--at-once 8]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.qbwc.credentials import hash_password
from reconciler.store import open_store

REPO = Path(__file__).resolve().parents[1]
TARGET_GROWTH_MB = 150
TARGET_SECONDS = 1.0
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
QBWC = "http://developer.intuit.com/"


def _envelope(operation: str, inner: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>'
        + f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'.encode()
        + f'<{operation} xmlns="{QBWC}">'.encode()
        + inner
        + f"</{operation}></soap:Body></soap:Envelope>".encode()
    )


ELEMENTS = b"<ab>1</ab>" * 900_000  # 9 MB: the body
SERVER_VERSION_ELEMENTS = _envelope("serverVersion", ELEMENTS)
RECEIVE_ELEMENTS = _envelope("receiveResponseXML", b"<ticket>forged</ticket>" + ELEMENTS)
RECEIVE_TEXT = _envelope(
    "receiveResponseXML",
    b"<ticket>forged</ticket><response>" + b"&lt;QBXML&gt;" * 800_000 + b"</response>",
)
ATTRIBUTES = _envelope("serverVersion", b"").replace(
    b"<serverVersion ",
    b"<serverVersion " + b"".join(b'a%d="" ' % i for i in range(700_000)),
)


@dataclass(frozen=True)
class Kind:
    """One kind of hostile request."""

    name: str
    path: str
    body: bytes
    headers: dict[str, str]
    chunked: bool = False


def _soap_headers(operation: str) -> dict[str, str]:
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{QBWC}{operation}"'}


KINDS = [
    Kind("elements", "/qbwc", SERVER_VERSION_ELEMENTS, _soap_headers("serverVersion")),
    Kind(
        "elements, chunked",
        "/qbwc",
        SERVER_VERSION_ELEMENTS,
        _soap_headers("serverVersion"),
        chunked=True,
    ),
    Kind(
        "elements, big SOAPAction",
        "/qbwc",
        SERVER_VERSION_ELEMENTS,
        _soap_headers("receiveResponseXML"),
    ),
    Kind(
        "elements in receiveResponseXML",
        "/qbwc",
        RECEIVE_ELEMENTS,
        _soap_headers("receiveResponseXML"),
    ),
    Kind("text, forged ticket", "/qbwc", RECEIVE_TEXT, _soap_headers("receiveResponseXML")),
    Kind("attributes", "/qbwc", ATTRIBUTES, _soap_headers("serverVersion")),
    Kind(
        "API plan, no token",
        "/api/v1/plans",
        b'{"plan": "' + b"x" * 30_000_000 + b'"}',
        {"Content-Type": "application/json"},
    ),
]


def _kb(field: str, pid: int) -> int:
    """A ``VmRSS``/``VmHWM`` figure of ``pid``, in kB."""
    text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert found is not None, field
    return int(found.group(1))


class Server:
    """``reconcile serve`` in a subprocess, on a free port of 127.0.0.1."""

    def __init__(self, state_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--state-dir", state_dir],
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.process.stderr is not None
        self.base = ""
        while not self.base:
            line = self.process.stderr.readline()
            if not line:
                raise SystemExit("the server did not start")
            found = re.search(r"serving the Web Connector at (\S+)/qbwc", line)
            self.base = found.group(1) if found else ""
        # Read the log as it comes: a full pipe would stall the server.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def rss_mb(self) -> float:
        """The server's resident memory now, in MB."""
        return _kb("VmRSS", self.process.pid) / 1024

    def peak_mb(self) -> float:
        """The server's highest resident memory so far, in MB."""
        return _kb("VmHWM", self.process.pid) / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _send(client: httpx.Client, url: str, kind: Kind) -> tuple[int, float]:
    """Send one hostile request; its HTTP status (0: the connection broke) and seconds."""
    started = time.perf_counter()
    content = _chunks(kind.body) if kind.chunked else kind.body
    try:
        status = client.post(url, content=content, headers=kind.headers).status_code
    except httpx.TransportError:
        status = 0
    return status, time.perf_counter() - started


@dataclass(frozen=True)
class Row:
    """What one kind did to the server."""

    kind: str
    statuses: dict[int, int]
    growth_mb: float
    peak_growth_mb: float
    slowest: float


def _fire(server: Server, kind: Kind, total: int, at_once: int) -> Row:
    before, peak_before = server.rss_mb(), server.peak_mb()
    url = server.base + kind.path
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(at_once) as pool:
        results = list(pool.map(lambda _: _send(client, url, kind), range(total)))
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return Row(
        kind.name,
        statuses,
        server.rss_mb() - before,
        server.peak_mb() - peak_before,
        max(seconds for _, seconds in results),
    )


def _warm_up(server: Server, at_once: int) -> None:
    """Small legitimate calls on as many threads as the hostile ones will use, so that
    the RSS before counts the worker threads' first allocations."""
    body = _envelope("serverVersion", b"<strVersion>2.3.0.215</strVersion>")
    ok = Kind("warm-up", "/qbwc", body, _soap_headers("serverVersion"))
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(at_once) as pool:
        list(pool.map(lambda _: _send(client, server.base + "/qbwc", ok), range(4 * at_once)))


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def main(argv: list[str] | None = None) -> None:
    """Run each kind against one server and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kinds", nargs="*", help="Names of the kinds to run (default: all).")
    parser.add_argument("--total", type=int, default=16, help="Requests of each kind.")
    parser.add_argument("--at-once", type=int, default=8, help="Requests in flight at once.")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        raise SystemExit("this benchmark reads the server's memory from /proc: Linux only")
    kinds = [k for k in KINDS if not args.kinds or k.name in args.kinds]
    runs: list[Callable[[Server], Row]] = [
        lambda server, k=k: _fire(server, k, args.total, args.at_once) for k in kinds
    ]
    with tempfile.TemporaryDirectory(prefix="reconcile-hostile-") as temporary:
        store = open_store(Path(temporary))
        company = store.companies.register("Hostile Ltd", username="hostile", company_file="")
        store.companies.set_password_hash(company.id, hash_password("a long password nobody sends"))
        store.close()
        server = Server(Path(temporary))
        try:
            _warm_up(server, args.at_once)
            start = server.rss_mb()
            print(f"server RSS after start and warm-up: {start:.0f} MB")
            print(f"{args.total} requests of each kind, {args.at_once} at a time")
            print(f"{'kind':34} {'answers':18} {'RSS +MB':>8} {'peak +MB':>9} {'slowest s':>10}")
            rows = [run(server) for run in runs]
            for row in rows:
                answers = ", ".join(f"{n}x{s or 'broken'}" for s, n in sorted(row.statuses.items()))
                ok = row.growth_mb <= TARGET_GROWTH_MB and row.slowest <= TARGET_SECONDS
                print(
                    f"{row.kind:34} {answers:18} {row.growth_mb:8.1f} {row.peak_growth_mb:9.1f}"
                    f" {row.slowest:10.2f}  {_verdict(ok)}"
                )
            growth = server.rss_mb() - start
            slowest = max(row.slowest for row in rows)
            print(
                f"all kinds: RSS grew {growth:.1f} MB (target <= {TARGET_GROWTH_MB} MB per kind), "
                f"slowest answer {slowest:.2f} s (target <= {TARGET_SECONDS:.0f} s)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()

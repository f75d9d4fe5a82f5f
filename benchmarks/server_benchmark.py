"""Server benchmark: a sandbox apply of 1,000 invoice changes, from 1 and from 50 company files.

``reconcile serve`` runs in its own process, as in production. Another
process, the driver, plays the Web Connectors: one thread and one simulated
QuickBooks per company file, all at once. The 1,000 InvoiceAdds are queued in
the store beforehand, split evenly between the companies; each Web Connector
then runs one "Update Selected": HostQuery data, the refresh (customers,
items, invoices), the adds, the refresh after the changes.

What is measured, and where:

* the wall time of the apply (first call sent to last answer received) and
  round trips (SOAP calls) per second, in the driver;
* client p50/p99: each call's latency as the Web Connector sees it;
* server p50/p99: each call's latency inside the server, from its log (the
  server writes, per call, the wall time and the CPU time it took);
* server share: the server's busy time (the union of the intervals during
  which it was answering at least one call: concurrent calls count once)
  over the wall time; the Web Connectors and QuickBooks take the rest;
* sync share: how much of each Web Connector's run was spent waiting for the
  server's answers (the sum of the server's call times over the sum of the
  runs' times). For one company both shares are the same number; with many
  at once the server share says how busy the server is, the sync share how
  much of each company's sync the server takes;
* server CPU: the server process's CPU time (every thread: HTTP, SOAP,
  store) during the apply, from the process itself, start-up excluded; and
  that time per call. The driver's CPU time too: when it nears the wall
  time, the Web Connectors and simulators, not the server, set the pace.

In production the Web Connectors and QuickBooks run on other machines. Here
they share the cores with the server, so the driver lowers its own priority
(``--driver-nice``, POSIX only): the server gets the CPU it asks for, the
driver the rest.

The simulator answers as fast as the CPU allows, far faster than QuickBooks
(which takes tens to hundreds of milliseconds per request); ``--qb-ms N``
makes each simulated request take N ms more (a sleep, not CPU), to see the
server among a QuickBooks of realistic speed; give or take half of it
(``--qb-jitter``), as QuickBooks' times vary: with exactly N ms, the 50 Web
Connectors, started together, would stay in step and reach the server in
bursts of 50 calls at the same instant, which measures the depth of the
burst rather than the server. The Web Connectors all start at the same
instant, the worst case for sign-in (50 password checks at once);
``--stagger-ms N`` starts each at a random moment within N ms instead, as
Web Connectors on their own schedules would. Targets (issue 6): server share
<= 10%; server p99 <= 50 ms at 50 concurrent sessions on 2 cores.

Reading the 50-company rows: the Web Connectors run a closed loop (each
sends its next call when the last is answered). With a QuickBooks faster
than the server (QB ms 0 or 20) they keep the server busy all the time, and
a call's latency is mostly its wait behind the calls of the other sessions
that are in the server at once (how many, the driver's own speed decides).
The latency target speaks of QuickBooks taking its usual time: try
``--companies 50 --qb-ms 300 --stagger-ms 1000``. ``--by-operation`` adds,
under each row, the server's latency and CPU per SOAP operation.

A call's CPU time is a few milliseconds (receiveResponseXML about 4.5 ms,
sendRequestXML about 2.2 ms, a sign-in about 2 ms, since the password hash
is a salted SHA-256 rather than a KDF); its latency is mostly its wait for
the interpreter behind the calls in the server at the same moment. On 2
cores (2026-11-30), server p99 at 50 sessions with QuickBooks taking 300 ms:
about 20 ms when the Web Connectors start within 5 s (``--stagger-ms
5000``), 50-56 ms within 1 s, 65-90 ms when all start at the same instant:
then some 40 calls arrive together and the last waits for the CPU of all
the others. The runs are noisy: run each two or three times.

    python benchmarks/server_benchmark.py [--changes 1000] [--companies 1 50] [--qb-ms 0 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from reconciler.engine.changes import InvoiceCreate, SyncedLine
from reconciler.model.quickbooks import Ref
from reconciler.qbwc.credentials import hash_password
from reconciler.qbxml.render import render_document, render_request
from reconciler.sandbox.books import Books
from reconciler.sandbox.generate import generate_books
from reconciler.sandbox.simulator import QuickBooksSimulator
from reconciler.sandbox.webconnector import WebConnector
from reconciler.store import open_store
from reconciler.store.records import NewRequest, RequestState

NOW = dt.datetime(2027, 1, 15, 17, 0, tzinfo=dt.UTC)
INVOICE_DATE = dt.date(2027, 1, 1)
PASSWORD = "benchmark-password"
REPO = Path(__file__).resolve().parents[1]

# Runs `reconcile serve` with a log line per call whose time stamp is precise
# (the CLI's own format shows milliseconds; busy intervals need better), and
# answers its own CPU time on standard output for each line read on standard
# input: the CPU of the apply alone, start-up excluded, on every OS.
SERVER = """
import logging, sys, threading, time
logging.basicConfig(
    level=logging.DEBUG, stream=sys.stderr, format="%(created).6f %(levelname)s %(message)s"
)
def probe():
    for _ in sys.stdin:
        print(f"{time.process_time():.6f}", flush=True)
threading.Thread(target=probe, daemon=True).start()
from reconciler.cli import cli
cli(sys.argv[1:], prog_name="reconcile")
"""
CALL_LINE = re.compile(r"^([0-9.]+) DEBUG (\w+) answered in ([0-9.]+) ms \(([0-9.]+) ms CPU\)")


class TimedTransport(httpx.HTTPTransport):
    """Records how long each HTTP round trip takes, as the client sees it."""

    def __init__(self, sink: list[float]) -> None:
        super().__init__()
        self.sink = sink

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = super().handle_request(request)
        response.read()
        self.sink.append(time.perf_counter() - started)
        return response


@dataclass(frozen=True)
class Session:
    """One Web Connector run, as the driver saw it."""

    ok: bool
    status: str
    seconds: float
    latencies: list[float]


@dataclass(frozen=True)
class Call:
    """One SOAP call, as the server logged it."""

    operation: str
    end: float  # seconds, the server's clock
    ms: float
    cpu_ms: float


def _books(index: int, invoices: int) -> Books:
    # One customer per new invoice; the existing invoices fall outside the window.
    return generate_books(invoices, 1, 3, seed=index, first_invoice=dt.date(2026, 1, 1))


def _requests(index: int, books: Books) -> list[NewRequest]:
    names = sorted(c.findtext("FullName") for c in books.customers.values())
    requests = []
    for number, name in enumerate(names, start=1):
        guid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"benchmark/{index}/{name}"))
        change = InvoiceCreate(
            organization_id=guid,
            organization_name=name,
            customer=Ref(full_name=name),
            txn_date=INVOICE_DATE,
            external_guid=guid,
            lines=(
                SyncedLine(
                    item=Ref(full_name=f"Generated:Product {number % 12 + 1:02d}"),
                    desc=f"Cloud services for {name}, January 2027",
                    quantity=Decimal(number % 40 + 1),
                    service_date=INVOICE_DATE,
                ),
            ),
        )
        request_id = f"b{index}-{number}"
        qbxml = render_document(
            [render_request(change, version="13.0", request_id=request_id)], version="13.0"
        )
        requests.append(
            NewRequest(
                kind="InvoiceAddRq",
                label=f"new invoice for {name}",
                qbxml=qbxml,
                external_guid=guid,
                lookup={"customer": name, "txn_date": INVOICE_DATE.isoformat()},
                request_id=request_id,
            )
        )
    return requests


def _prepare(state_dir: Path, companies: int, changes: int) -> list[str]:
    store = open_store(state_dir)
    prepared = []
    for index in range(companies):
        books = _books(index, changes // companies)
        record = store.companies.register(
            f"Benchmark company {index:02d}", username=f"bench{index:02d}", company_file=""
        )
        store.companies.set_password_hash(record.id, hash_password(PASSWORD))
        store.companies.set_profile(
            record.id,
            {
                "company": record.name,
                "company_file": "",
                "customers": sorted(c.findtext("FullName") for c in books.customers.values()),
                "items": sorted(i.findtext("FullName") for i in books.items.values()),
                "mode": "advance",
                "invoice_day": 1,
                "invoice_time": "05:00",
                "timezone": "America/New_York",
            },
        )
        store.plans.queue(
            record.id,
            key=f"{index:064x}",
            qb_fingerprint="0" * 64,
            billing_mode="advance",
            document="{}",
            requests=_requests(index, books),
            applied_at=NOW,
        )
        prepared.append(record.username)
    store.close()
    return prepared


class Server:
    """`reconcile serve` in a subprocess, its per-call log, and its CPU time."""

    def __init__(self, state_dir: Path) -> None:
        self.calls: list[Call] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                "serve",
                "--port",
                "0",
                "--state-dir",
                str(state_dir),
                "--clock-start",
                NOW.strftime("%Y-%m-%dT%H:%M:%S%z"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # This repository's code, whatever the current directory holds.
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.process.stderr is not None
        self.url = ""
        while not self.url:
            line = self.process.stderr.readline()
            if not line:
                raise SystemExit("the server did not start")
            found = re.search(r"serving the Web Connector at (\S+)", line)
            self.url = found.group(1) if found else ""
        # Read the log as it comes: a full pipe would stall the server.
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            found = CALL_LINE.match(line)
            if found:
                end, operation, ms, cpu_ms = found.groups()
                self.calls.append(Call(operation, float(end), float(ms), float(cpu_ms)))

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user and system, every thread)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._reader.join(10)  # every line logged before the end is read


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _by_operation(calls: list[Call]) -> list[tuple[str, int, float, float, float, float]]:
    """Per SOAP operation: calls, p50 and p99 ms, mean and highest CPU ms; the slowest
    p99 first."""
    grouped: dict[str, list[Call]] = {}
    for call in calls:
        grouped.setdefault(call.operation, []).append(call)
    rows = [
        (
            operation,
            len(group),
            _percentile([c.ms for c in group], 0.50),
            _percentile([c.ms for c in group], 0.99),
            sum(c.cpu_ms for c in group) / len(group),
            max(c.cpu_ms for c in group),
        )
        for operation, group in grouped.items()
    ]
    return sorted(rows, key=lambda row: -row[3])


def _busy_seconds(calls: list[Call]) -> float:
    """How long at least one call was being answered (overlapping calls count once)."""
    busy, until = 0.0, float("-inf")
    for start, end in sorted((c.end - c.ms / 1000, c.end) for c in calls):
        if end > until:
            busy += end - max(start, until)
            until = end
    return busy


class SlowQuickBooks(QuickBooksSimulator):
    """The simulator, taking ``delay`` seconds more per request (as QuickBooks would),
    give or take ``jitter`` of it (a seeded draw per document)."""

    def __init__(self, books: Books, delay: float, jitter: float, seed: int) -> None:
        super().__init__(books, clock=lambda: NOW)
        self.delay = delay
        self.jitter = jitter
        self.random = random.Random(seed)

    def process(self, request: str) -> str:
        answer = super().process(request)
        if self.delay:
            spread = self.random.uniform(1 - self.jitter, 1 + self.jitter)
            time.sleep(self.delay * spread * max(1, request.count("requestID=")))
        return answer


def _drive(
    url: str,
    usernames: list[str],
    changes: int,
    qb_ms: float,
    jitter: float,
    stagger_ms: float,
    nice: int,
) -> tuple[float, float, list[Session]]:
    """The driver process: every Web Connector at once. The wall time, the driver's
    CPU time, and each run."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    connectors, sinks = [], []
    for index, username in enumerate(usernames):
        latencies: list[float] = []
        books = _books(index, changes // len(usernames))
        simulator = SlowQuickBooks(books, qb_ms / 1000, jitter, seed=index)
        client = httpx.Client(transport=TimedTransport(latencies), timeout=120)
        connectors.append(WebConnector(url, username, PASSWORD, simulator, client=client))
        sinks.append(latencies)
    sessions: list[Session | None] = [None] * len(connectors)

    starts = random.Random(len(usernames))
    delays = [starts.uniform(0, stagger_ms / 1000) for _ in connectors]

    def one(index: int) -> None:
        time.sleep(delays[index])
        started = time.perf_counter()
        result = connectors[index].run()
        seconds = time.perf_counter() - started
        sessions[index] = Session(result.ok, result.status, seconds, sinks[index])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(connectors))]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return wall, time.process_time() - cpu, [s for s in sessions if s is not None]


def run(
    companies: int,
    changes: int,
    qb_ms: float = 0.0,
    jitter: float = 0.5,
    stagger_ms: float = 0.0,
    nice: int = 10,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as temporary:
        state_dir = Path(temporary)
        usernames = _prepare(state_dir, companies, changes)
        server = Server(state_dir)
        try:
            cpu_before = server.cpu_seconds()
            # spawn: the same on every OS, and the driver starts with nothing of this process.
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                wall, driver_cpu, sessions = pool.apply(
                    _drive, (server.url, usernames, changes, qb_ms, jitter, stagger_ms, nice)
                )
            server_cpu = server.cpu_seconds() - cpu_before
        finally:
            server.stop()
        failed = [s for s in sessions if not s.ok]
        if failed or len(sessions) != companies:
            status = failed[0].status if failed else "a Web Connector did not finish"
            raise SystemExit(f"{len(failed) or 1} session(s) failed: {status}")
        store = open_store(state_dir)
        done = sum(store.queue.counts(c.id).count(RequestState.DONE) for c in store.companies.all())
        store.close()
    if done != changes:
        raise SystemExit(f"only {done} of {changes} changes were applied")
    client_ms = [seconds * 1000 for s in sessions for seconds in s.latencies]
    calls = server.calls
    if len(calls) != len(client_ms):
        raise SystemExit(f"the server logged {len(calls)} calls, the driver made {len(client_ms)}")
    server_ms = [c.ms for c in calls]
    return {
        "companies": companies,
        "changes": done,
        "calls": len(client_ms),
        "wall_s": wall,
        "calls_per_s": len(client_ms) / wall,
        "client_p50_ms": _percentile(client_ms, 0.50),
        "client_p99_ms": _percentile(client_ms, 0.99),
        "server_p50_ms": _percentile(server_ms, 0.50),
        "server_p99_ms": _percentile(server_ms, 0.99),
        "server_share": _busy_seconds(calls) / wall,
        "sync_share": sum(server_ms) / 1000 / sum(s.seconds for s in sessions),
        "server_cpu_s": server_cpu,
        "cpu_per_call_ms": server_cpu * 1000 / len(calls),
        "driver_cpu_s": driver_cpu,
        "operations": _by_operation(calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--companies", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--qb-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument(
        "--qb-jitter",
        type=float,
        default=0.5,
        help="each simulated request takes QB ms give or take this share of it (0: exactly)",
    )
    parser.add_argument(
        "--stagger-ms",
        type=float,
        default=0.0,
        help="each Web Connector starts at a random moment within this many ms "
        "(0: all at the same instant, the worst case for sign-in)",
    )
    parser.add_argument(
        "--driver-nice",
        type=int,
        default=10,
        help="how much the driver lowers its priority (0: not at all; POSIX only)",
    )
    parser.add_argument(
        "--by-operation",
        action="store_true",
        help="after each row, the server's latency and CPU per SOAP operation",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    header = (
        f"{'QB ms':>5} {'companies':>9} {'calls':>6} {'wall s':>7} {'calls/s':>8} "
        f"{'client p50/p99 ms':>18} {'server p50/p99 ms':>18} {'server share':>12} "
        f"{'sync share':>10} {'server CPU s':>12} {'CPU/call ms':>11} {'driver CPU s':>12}"
    )
    print(header)
    for qb_ms, companies in [(q, c) for q in args.qb_ms for c in args.companies]:
        r = run(companies, args.changes, qb_ms, args.qb_jitter, args.stagger_ms, args.driver_nice)
        print(
            f"{qb_ms:>5.0f} {r['companies']:>9} {r['calls']:>6} {r['wall_s']:>7.1f} "
            f"{r['calls_per_s']:>8.0f} "
            f"{r['client_p50_ms']:>8.1f} / {r['client_p99_ms']:>6.1f} "
            f"{r['server_p50_ms']:>8.1f} / {r['server_p99_ms']:>6.1f} "
            f"{r['server_share']:>12.1%} {r['sync_share']:>10.1%} "
            f"{r['server_cpu_s']:>12.2f} {r['cpu_per_call_ms']:>11.2f} {r['driver_cpu_s']:>12.2f}",
            flush=True,
        )
        if args.by_operation:
            for operation, count, p50, p99, cpu, cpu_max in r["operations"]:
                print(
                    f"{'':>16}{operation:<22} {count:>5} calls  server p50/p99 ms "
                    f"{p50:>6.1f} / {p99:>6.1f}  CPU/call ms {cpu:>6.2f} (at most {cpu_max:.1f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()

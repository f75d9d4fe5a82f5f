"""Server benchmark: a sandbox apply of 1,000 invoice changes, from 1 and from 50 company files.

``reconcile serve`` runs in its own process (as in production); this process
plays the Web Connectors (one thread and one simulated QuickBooks per company
file, all at once). The 1,000 InvoiceAdds are queued in the store beforehand,
split evenly between the companies. Each Web Connector then runs one "Update
Selected": HostQuery data, the refresh (customers, items, invoices), the adds
one by one, the refresh after the changes.

Reported: round trips (SOAP calls) per second, per-call latency p50/p99 as the
Web Connector sees it and as the server spends it, the server's share of the
wall time (server time over the sessions' time) and the server process's CPU
time. Targets: share <= 10%; p99 <= 50 ms at 50 concurrent sessions on 2 cores.

The simulator answers as fast as the CPU allows, far faster than QuickBooks
(which takes tens to hundreds of milliseconds per request); ``--qb-ms N``
makes each simulated request take N ms more (a sleep, not CPU), to see the
server among a QuickBooks of realistic speed.

    python benchmarks/server_benchmark.py [--changes 1000] [--companies 1 50] [--qb-ms 0 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

from reconciler.changes import InvoiceCreate, SyncedLine
from reconciler.model import Ref
from reconciler.qbwc.credentials import hash_password
from reconciler.qbxml.render import render_document, render_request
from reconciler.sandbox.company import Company
from reconciler.sandbox.generate import generate_company
from reconciler.sandbox.simulator import QuickBooksSimulator
from reconciler.sandbox.webconnector import WebConnector
from reconciler.store import open_store
from reconciler.store.records import NewRequest, RequestState

NOW = dt.datetime(2027, 1, 15, 17, 0, tzinfo=dt.UTC)
INVOICE_DATE = dt.date(2027, 1, 1)
PASSWORD = "benchmark-password"
REPO = Path(__file__).resolve().parents[1]


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


@dataclass
class Session:
    name: str
    connector: WebConnector
    latencies: list[float]
    seconds: float = 0.0
    ok: bool = False
    status: str = ""


def _company(index: int, invoices: int) -> Company:
    # One customer per new invoice; the existing invoices fall outside the window.
    return generate_company(invoices, 1, 3, seed=index, first_invoice=dt.date(2026, 1, 1))


def _requests(index: int, company: Company) -> list[NewRequest]:
    names = sorted(c.findtext("FullName") for c in company.customers.values())
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


def _prepare(state_dir: Path, companies: int, changes: int) -> list[tuple[str, Company]]:
    store = open_store(state_dir)
    prepared = []
    for index in range(companies):
        company = _company(index, changes // companies)
        record = store.register_company(
            f"Benchmark company {index:02d}", username=f"bench{index:02d}", company_file=""
        )
        store.set_password_hash(record.id, hash_password(PASSWORD))
        store.set_profile(
            record.id,
            {
                "company": record.name,
                "company_file": "",
                "customers": sorted(c.findtext("FullName") for c in company.customers.values()),
                "items": sorted(i.findtext("FullName") for i in company.items.values()),
                "mode": "advance",
                "invoice_day": 1,
                "invoice_time": "05:00",
                "timezone": "America/New_York",
            },
        )
        store.queue_plan(
            record.id,
            key=f"{index:064x}",
            qb_fingerprint="0" * 64,
            billing_mode="advance",
            document="{}",
            requests=_requests(index, company),
            applied_at=NOW,
        )
        prepared.append((record.username, company))
    store.close()
    return prepared


def _serve(state_dir: Path, server_ms: list[float]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "serve",
            "-v",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            "--clock-start",
            NOW.strftime("%Y-%m-%dT%H:%M:%S%z"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stderr is not None
    url = ""
    while not url:
        line = process.stderr.readline()
        if not line:
            raise SystemExit("the server did not start")
        found = re.search(r"serving the Web Connector at (\S+)", line)
        url = found.group(1) if found else ""

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            found = re.search(r" answered in ([0-9.]+) ms", line)
            if found:
                server_ms.append(float(found.group(1)))

    threading.Thread(target=drain, daemon=True).start()
    return process, url


def _children_cpu_seconds() -> float:
    """CPU time (user + system) of the finished server processes, where the OS says."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class SlowQuickBooks(QuickBooksSimulator):
    """The simulator, taking ``delay`` seconds more per request (as QuickBooks would)."""

    def __init__(self, company: Company, delay: float) -> None:
        super().__init__(company, clock=lambda: NOW)
        self.delay = delay

    def process(self, request: str) -> str:
        answer = super().process(request)
        if self.delay:
            time.sleep(self.delay * max(1, request.count("requestID=")))
        return answer


def run(companies: int, changes: int, qb_ms: float = 0.0) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as temporary:
        state_dir = Path(temporary)
        prepared = _prepare(state_dir, companies, changes)
        server_ms: list[float] = []
        process, url = _serve(state_dir, server_ms)
        try:
            sessions = []
            for username, company in prepared:
                latencies: list[float] = []
                simulator = SlowQuickBooks(company, qb_ms / 1000)
                client = httpx.Client(transport=TimedTransport(latencies), timeout=120)
                connector = WebConnector(url, username, PASSWORD, simulator, client=client)
                sessions.append(Session(username, connector, latencies))

            def one(session: Session) -> None:
                started = time.perf_counter()
                result = session.connector.run()
                session.seconds = time.perf_counter() - started
                session.ok, session.status = result.ok, result.status

            threads = [threading.Thread(target=one, args=(s,)) for s in sessions]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            time.sleep(0.5)  # the last log lines
        finally:
            process.terminate()
            process.wait(10)
        server_cpu = _children_cpu_seconds()
        failed = [s for s in sessions if not s.ok]
        if failed:
            raise SystemExit(f"{len(failed)} session(s) failed: {failed[0].status}")
        store = open_store(state_dir)
        done = sum(store.queue_counts(c.id).count(RequestState.DONE) for c in store.companies())
        store.close()
    if done != changes:
        raise SystemExit(f"only {done} of {changes} changes were applied")
    client_ms = [seconds * 1000 for s in sessions for seconds in s.latencies]
    return {
        "companies": companies,
        "changes": done,
        "calls": len(client_ms),
        "wall_s": wall,
        "calls_per_s": len(client_ms) / wall,
        "changes_per_s": done / wall,
        "client_p50_ms": _percentile(client_ms, 0.50),
        "client_p99_ms": _percentile(client_ms, 0.99),
        "server_p50_ms": _percentile(server_ms, 0.50),
        "server_p99_ms": _percentile(server_ms, 0.99),
        "server_mean_ms": statistics.fmean(server_ms),
        "server_share": sum(server_ms) / 1000 / sum(s.seconds for s in sessions),
        "server_cpu_s": server_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--companies", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--qb-ms", type=float, nargs="+", default=[0.0, 20.0])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    header = (
        f"{'QB ms':>5} {'companies':>9} {'changes':>7} {'calls':>6} {'wall s':>7} {'calls/s':>8} "
        f"{'changes/s':>9} {'client p50/p99 ms':>18} {'server p50/p99 ms':>18} {'server share':>12}"
        f" {'server CPU s':>12}"
    )
    print(header)
    for qb_ms, companies in [(q, c) for q in args.qb_ms for c in args.companies]:
        cpu_before = _children_cpu_seconds()
        r = run(companies, args.changes, qb_ms)
        print(
            f"{qb_ms:>5.0f} {r['companies']:>9} {r['changes']:>7} {r['calls']:>6} {r['wall_s']:>7.1f} "
            f"{r['calls_per_s']:>8.0f} {r['changes_per_s']:>9.0f} "
            f"{r['client_p50_ms']:>8.1f} / {r['client_p99_ms']:>6.1f} "
            f"{r['server_p50_ms']:>8.1f} / {r['server_p99_ms']:>6.1f} {r['server_share']:>11.1%}"
            f" {r['server_cpu_s'] - cpu_before:>12.1f}"
        )


if __name__ == "__main__":
    main()

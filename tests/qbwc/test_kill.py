"""The server killed (SIGKILL) at chosen points of a run, then restarted:
nothing is lost, nothing is duplicated, the invariants hold.

Every kill point is a protocol event, drawn from the seed: the Nth SOAP call
of a run (killed while its request is half sent, once the server has answered
but before the Web Connector reads the answer, or once the Web Connector has
the answer), or QuickBooks' handling of the batch holding the InvoiceAdds
(killed just before QuickBooks processes it, or just after it committed it).
No timer races the sync, so every seed kills where it says on any machine.
"""

from __future__ import annotations

import enum
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.invariants import assert_invariants
from support.qbwc import FakeClock
from support.sync_world import CHARGES_DATE, REPO, assemble, sample_simulator

from reconciler.config.load import load_config
from reconciler.store import open_store
from reconciler.store.records import PlanStatus

pytestmark = [
    pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX-only"),
    pytest.mark.slow,
]

# The run that carries out the example plan makes 16 SOAP calls, in four phases:
# the version check and the sign-in; three reads (customers, items, invoices: a
# sendRequestXML and a receiveResponseXML each); the batch of writes (it holds the
# InvoiceAdds) and its answer; two reads again and closeConnection.
PHASES = (range(1, 4), range(4, 10), range(10, 12), range(12, 17))
# Every run makes at least serverVersion, clientVersion, authenticate and one more call.
CALLS_OF_ANY_RUN = 4


class ServerProcess:
    """`reconcile serve` in a subprocess, restartable."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--state-dir",
                str(self.state_dir),
                "--clock-start",
                CHARGES_DATE.strftime("%Y-%m-%dT%H:%M:%S%z"),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.process.stderr is not None
        # A safety net against a server that never starts, not a measure of its speed.
        deadline = time.monotonic() + 60
        said = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            said.append(line)
            found = re.search(r"serving the Web Connector at (\S+)", line)
            if found:
                self.url = found.group(1)
                # Keep draining the log so that the server never blocks on it.
                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return self.url
            if not line and self.process.poll() is not None:
                break
        raise AssertionError("the server did not start:\n" + "".join(said))

    def kill(self) -> None:
        """Kill the server and wait until it is gone (its sockets closed with it)."""
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Kind(enum.Enum):
    """Where in a run the server dies."""

    # The Nth SOAP call's request is half sent: the server never has all of it.
    MID_REQUEST = "mid-request"
    # The server answered the Nth call; the Web Connector never reads the answer.
    ANSWER_LOST = "answer-lost"
    # The Web Connector has the Nth answer; its next call finds no server.
    AFTER_ANSWER = "after-answer"
    # The Web Connector holds the batch with the InvoiceAdds; QuickBooks then
    # processes it all the same, and its answer never reaches the server.
    BEFORE_INVOICE_ADD = "before-invoice-add"
    # QuickBooks committed the batch with the InvoiceAdds; its answer never
    # reaches the server.
    AFTER_INVOICE_ADD = "after-invoice-add"


SOAP_KINDS = (Kind.MID_REQUEST, Kind.ANSWER_LOST, Kind.AFTER_ANSWER)


@dataclass(frozen=True)
class KillPoint:
    kind: Kind
    call: int = 0  # the Nth SOAP call of the run, for the SOAP kinds

    def __str__(self) -> str:
        return f"{self.kind.value} at SOAP call {self.call}" if self.call else self.kind.value


def kill_points(kind: Kind, seed: int) -> list[KillPoint]:
    """The kill points of one test, all reachable: the first in the run that applies the
    plan (at a SOAP call of phase ``kind + seed``, so that the seeds of the three SOAP
    kinds cover every phase), and for some seeds a second early in the run that
    recovers from the first."""
    rng = random.Random(f"{kind.value}/{seed}")
    if kind in SOAP_KINDS:
        phase = PHASES[(SOAP_KINDS.index(kind) + seed) % len(PHASES)]
        # After the last answer (closeConnection) the run is over: nothing is interrupted.
        last = phase[-1] - (kind is Kind.AFTER_ANSWER and phase is PHASES[-1])
        points = [KillPoint(kind, rng.randint(phase[0], last))]
    else:
        points = [KillPoint(kind)]
    if rng.random() < 0.5:
        points.append(KillPoint(rng.choice(SOAP_KINDS), rng.randint(1, CALLS_OF_ANY_RUN - 1)))
    return points


class Killer(httpx.BaseTransport):
    """The Web Connector's HTTP transport and QuickBooks' request processor, with the
    server killed at the kill point armed for the current run."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.inner = httpx.HTTPTransport()
        self.point: KillPoint | None = None
        self.calls = 0
        self.fired = False

    def arm(self, point: KillPoint | None) -> None:
        """Kill at ``point`` in the next run (SOAP calls are counted from its start)."""
        self.point, self.calls, self.fired = point, 0, False

    def _due(self, *kinds: Kind) -> KillPoint | None:
        point = self.point
        if point is None or self.fired or point.kind not in kinds:
            return None
        if point.kind in SOAP_KINDS and point.call != self.calls:
            return None
        return point

    def _kill(self) -> None:
        self.fired = True
        self.server.kill()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        point = self._due(*SOAP_KINDS)
        if point is None:
            return self.inner.handle_request(request)
        if point.kind is Kind.MID_REQUEST:
            body = request.read()

            def halves() -> Iterator[bytes]:
                yield body[: len(body) // 2]
                self._kill()
                yield body[len(body) // 2 :]

            # The Content-Length header stays: the server waits for the rest.
            request = httpx.Request(
                request.method, request.url, headers=request.headers, content=halves()
            )
            return self.inner.handle_request(request)
        # The status line has arrived: the server has done all the call's work.
        response = self.inner.handle_request(request)
        if point.kind is Kind.AFTER_ANSWER:
            response.read()
            self._kill()
            return response
        response.close()
        self._kill()
        raise httpx.ReadError("the server was killed before its answer was read", request=request)

    def around(self, process: Callable[[str], str]) -> Callable[[str], str]:
        """QuickBooks' request processor, with the server killed just before or just
        after it handles the batch holding the InvoiceAdds."""

        def killing(request: str) -> str:
            adds = "<InvoiceAddRq" in request
            if adds and self._due(Kind.BEFORE_INVOICE_ADD):
                self._kill()
            answer = process(request)
            if adds and self._due(Kind.AFTER_INVOICE_ADD):
                self._kill()
            return answer

        return killing

    def restarted(self) -> None:
        """Forget the dead server's connections."""
        self.inner.close()
        self.inner = httpx.HTTPTransport()

    def close(self) -> None:
        self.inner.close()


# Each SOAP kind in two phases of the run; each QuickBooks kind once.
CASES = [(kind, seed) for kind in Kind for seed in ((1, 2) if kind in SOAP_KINDS else (1,))]


@pytest.mark.parametrize(
    ("kind", "seed"), CASES, ids=[f"{kind.value}-{seed}" for kind, seed in CASES]
)
def test_killed_at_protocol_events_and_restarted(tmp_path, kind, seed):
    points = kill_points(kind, seed)
    store = open_store(tmp_path / "state")
    clock = FakeClock(CHARGES_DATE)
    simulator = sample_simulator(clock)
    server = ServerProcess(tmp_path / "state")
    killer = Killer(server)
    http = httpx.Client(transport=killer, timeout=30)
    try:
        w = assemble(
            store, load_config(REPO / "config"), clock, simulator, server.start(), client=http
        )
        connector, company = w.web_connector, w.company
        assert w.sync().ok
        before = w.invoices()
        applied = w.apply(w.plan())
        simulator.process = killer.around(simulator.process)  # type: ignore[method-assign]
        fired: list[KillPoint] = []
        for _ in range(12):
            killer.arm(points[len(fired)] if len(fired) < len(points) else None)
            result = w.sync()
            if killer.fired:
                assert not server.alive
                fired.append(points[len(fired)])
                killer.restarted()
                connector.url = w.url = server.start()
                continue
            assert server.alive
            if store.plans.get(applied.plan.id).status is PlanStatus.DONE and result.ok:
                break
        # Every seed has at least one kill point, and every one of them fired.
        assert fired == points, "a kill point was not reached"
        assert store.plans.get(applied.plan.id).status is PlanStatus.DONE
        assert store.errors.unresolved(company.id) == []
        assert_invariants(w, before)
    finally:
        server.kill()
        http.close()
        store.close()

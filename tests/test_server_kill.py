"""The server killed (SIGKILL) at random points of a run, then restarted:
nothing is lost, nothing is duplicated, the invariants hold."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from invariants import assert_invariants
from qbwc_support import FakeClock
from sync_world import CHARGES_DATE, REPO, assemble, sample_simulator

from reconciler.config import load_config
from reconciler.store import open_store
from reconciler.store.records import PlanStatus

pytestmark = [
    pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX-only"),
    pytest.mark.slow,
]


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
        deadline = time.monotonic() + 30
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

    def kill(self, process: subprocess.Popen[str] | None = None) -> None:
        """Kill the server (only ``process``, when given: a late timer spares its successor)."""
        target = process or self.process
        if target is not None and target is self.process and target.poll() is None:
            os.kill(target.pid, signal.SIGKILL)
            target.wait(10)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_random_points_and_restarted(tmp_path, seed):
    rng = random.Random(seed)
    store = open_store(tmp_path / "state")
    clock = FakeClock(CHARGES_DATE)
    simulator = sample_simulator(clock)
    server = ServerProcess(tmp_path / "state")
    w = assemble(store, load_config(REPO / "config"), clock, simulator, server.start())
    connector, company = w.web_connector, w.company
    try:
        assert w.sync().ok
        before = w.invoices()
        applied = w.apply(w.plan())
        original = simulator.process
        kills = 0

        def process(request: str) -> str:
            # At a random request: kill the server before QuickBooks sees the
            # request, or after QuickBooks committed it (its answer then never
            # reaches the server).
            nonlocal countdown
            countdown -= 1
            if countdown == 0 and rng.random() < 0.5:
                server.kill()
            answer = original(request)
            if countdown == 0:
                server.kill()
            return answer

        simulator.process = process
        for _ in range(12):
            # A run is about eight QuickBooks requests (the writes go ten to a document).
            countdown = rng.randint(1, 8) if kills < 3 else -1
            timer = None
            if kills < 3 and rng.random() < 0.3:
                # Or at a random moment, in the middle of whatever it is doing.
                countdown = -1
                timer = threading.Timer(rng.uniform(0.0, 0.3), server.kill, [server.process])
                timer.start()
            result = w.sync()
            if timer is not None:
                timer.cancel()
                timer.join()
            if not server.alive:
                kills += 1
                connector.url = w.url = server.start()
                continue
            if store.plan(applied.plan.id).status is PlanStatus.DONE and result.ok:
                break
        assert kills >= 1
        assert store.plan(applied.plan.id).status is PlanStatus.DONE
        assert store.open_errors(company.id) == []
        assert_invariants(w, before)
    finally:
        server.kill()
        store.close()

"""`reconcile serve` in a subprocess, for the tests that need the real command."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support.paths import REPO


@contextmanager
def serving(command: list[str], *, cwd: Path | None = None) -> Iterator[str]:
    """Run ``command`` (a `reconcile serve` on port 0) until the block ends; the server's
    base URL, from the line its log starts with."""
    server = subprocess.Popen(
        command,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert server.stderr is not None
        said = []
        for line in server.stderr:
            said.append(line)
            found = re.search(r"serving the Web Connector at (\S+)/qbwc", line)
            if found:
                break
        else:
            raise AssertionError("the server did not start:\n" + "".join(said))
        # Keep draining the log so that the server never blocks on it.
        threading.Thread(target=server.stderr.read, daemon=True).start()
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(30)

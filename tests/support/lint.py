"""actionlint (the GitHub Actions workflow checker) and shellcheck, for the tests of
workflows, of the files `reconcile init --ci` writes, and of the action's scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def actionlint() -> str:
    """The actionlint binary the test extras install (beside this Python), or on PATH."""
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed (pip install '.[test]')")
    try:
        subprocess.run([found, "-version"], capture_output=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"actionlint cannot run here: {exc}")
    return found


def shellcheck() -> str:
    """shellcheck on PATH (.ci/run installs it; actionlint checks `run:` scripts with it)."""
    found = shutil.which("shellcheck")
    if found is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    return found


def lint(
    cwd: Path, *files: Path, shellcheck: str | None = None
) -> subprocess.CompletedProcess[str]:
    """actionlint's verdict on ``files`` of the repository at ``cwd``: with ``shellcheck``,
    every `run:` script is checked by it too (without, only where it is on PATH)."""
    options = ["-shellcheck", shellcheck] if shellcheck else []
    return subprocess.run(
        [actionlint(), "-no-color", *options, *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def broken_workflow(root: Path, steps: str) -> Path:
    """A workflow of one job running ``steps`` (YAML list items), written under ``root``."""
    path = root / ".github" / "workflows" / "broken.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    needs: nowhere\n    steps:\n{steps}",
        encoding="utf-8",
    )
    return path

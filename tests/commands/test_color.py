"""One decision for colour: NO_COLOR and `reconcile --no-color` reach every command,
rich's consoles and the red `Error:` line.

Through click's CliRunner, FORCE_COLOR=1 stands for a terminal (so that each
case is first shown to colour, and the test can fail); a pseudo-terminal then
checks the real thing where it exists (POSIX).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import DATA, REPO

from reconciler.base.resources import data_dir
from reconciler.cli import cli

ESC = "\x1b"
REPO = REPO
CONFIG = REPO / "config"
CHARGES = data_dir() / "charges-example.json"
COMPANY = DATA / "example-company"


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory) -> Path:
    """A state directory as `reconcile demo --state-dir` leaves it (a snapshot, an applied
    plan and a correction)."""
    state = tmp_path_factory.mktemp("demo") / "state"
    result = CliRunner().invoke(cli, ["demo", "--state-dir", str(state)])
    assert result.exit_code == 0, result.output
    return state


def commands(tmp: Path, demo_state: Path) -> dict[str, list[str]]:
    """A run of each command that colours something (a plan, a warning, an error)."""
    state = tmp / "state"
    shutil.copytree(demo_state, state)
    saved = tmp / "plan.json"
    made = CliRunner().invoke(
        cli,
        ["plan", "--config", str(CONFIG), "--charges", str(CHARGES), "--qb-state", str(COMPANY),
         "--out", str(saved)],
    )  # fmt: skip
    assert saved.is_file(), made.output
    return {
        "demo": ["demo"],
        "plan": ["plan", "--config", str(CONFIG), "--charges", str(CHARGES),
                 "--qb-state", str(COMPANY)],
        "show": ["show", str(saved)],
        "apply": ["apply", "--config", str(CONFIG), "--charges", str(CHARGES), "--yes",
                  "--state-dir", str(state)],
        "qwc": ["qwc", "--url", "http://qb.example.com/qbwc", "--out", str(tmp / "x.qwc"),
                "--config", str(CONFIG), "--state-dir", str(tmp / "other-state")],
        "error": ["plan", "--config", str(CONFIG), "--charges", str(tmp / "missing.json")],
    }  # fmt: skip


CASES = ["demo", "plan", "show", "apply", "qwc", "error"]


def invoke(args: list[str], env: dict[str, str | None]):
    # color=True: the runner keeps whatever escape codes the command writes.
    return CliRunner().invoke(cli, args, env=env, color=True)


@pytest.mark.parametrize("case", CASES)
def test_colour_is_off_with_no_color_and_with_the_option(case, tmp_path, demo_state):
    args = commands(tmp_path, demo_state)[case]
    forced = invoke(args, {"FORCE_COLOR": "1", "NO_COLOR": None})
    assert ESC in forced.output, f"{case} shows no colour even when forced"
    for label, env, prefix in [
        ("NO_COLOR=1", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, []),
        ("--no-color", {"FORCE_COLOR": "1", "NO_COLOR": None}, ["--no-color"]),
    ]:
        # Each case writes into its own copy: the forced run changed the first.
        args = commands(tmp_path / label.strip("-="), demo_state)[case]
        plain = invoke([*prefix, *args], env)
        assert plain.exit_code == forced.exit_code, plain.output
        assert ESC not in plain.output, f"{case} with {label}:\n{plain.output!r}"
        assert plain.output.strip(), f"{case} printed nothing"


def test_the_error_line_is_plain_with_no_color(tmp_path):
    args = ["plan", "--config", str(CONFIG), "--charges", str(tmp_path / "missing.json")]
    result = invoke(args, {"NO_COLOR": "1", "FORCE_COLOR": None})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert ESC not in result.stderr


def test_an_empty_no_color_means_colour_as_usual(tmp_path):
    # no-color.org: only a set and non-empty NO_COLOR turns colour off.
    args = ["plan", "--config", str(CONFIG), "--charges", str(tmp_path / "missing.json")]
    result = invoke(args, {"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert ESC in result.stderr


def test_without_a_terminal_nothing_is_coloured(tmp_path):
    args = ["plan", "--config", str(CONFIG), "--charges", str(CHARGES), "--qb-state", str(COMPANY)]
    result = invoke(args, {"NO_COLOR": None, "FORCE_COLOR": None})
    assert "Reconciler will perform" in result.stdout
    assert ESC not in result.output


# --------------------------------------------------------------------------
# On a real (pseudo-)terminal
# --------------------------------------------------------------------------


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `reconcile ARGS` with standard output and error on a pseudo-terminal."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env={**environment, **env},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize(
    ("args", "env"),
    [(["demo"], {"NO_COLOR": "1"}), (["--no-color", "demo"], {})],
    ids=["NO_COLOR", "--no-color"],
)
def test_the_demo_on_a_terminal(args, env):
    code, coloured = on_a_terminal(["demo"], {})
    assert code == 0, coloured
    assert coloured.count(ESC) > 100  # the plans, the steps in bold
    code, plain = on_a_terminal(args, env)
    assert code == 0, plain
    assert "Plan: 3 invoices to create" in plain
    assert ESC not in plain


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_the_error_line_on_a_terminal(tmp_path):
    args = ["plan", "--config", str(CONFIG), "--charges", str(tmp_path / "missing.json")]
    code, coloured = on_a_terminal(args, {})
    assert code == 1 and f"{ESC}[31mError:" in coloured
    code, plain = on_a_terminal(args, {"NO_COLOR": "1"})
    assert code == 1 and "Error: " in plain
    assert ESC not in plain

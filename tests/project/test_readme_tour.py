"""The README tour runs as written, from a copy of the clone.

Every ```console block of README.md is run, `$ reconcile …` line by line in
one temporary copy of the repository, unless an HTML comment right above it
says why not (`<!-- tour: not run, … -->`: Sherweb credentials, the Web
Connector, a server). Each command must exit 0, and each line of output the
README shows must come out, in order: a line holding "…" stands for what it
elides and is not compared, and a few lines that differ on every run (a
temporary directory, a free port, a time taken) are skipped.

The QuickBooks state the tour plans from, reconciler/data/sample-company-qbxml/,
is what the server reads of the sample company on the demo's first Web
Connector run; a test keeps it so. Regenerate it with
`python tests/test_readme_tour.py`.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import REPO

from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.store import open_store

REPO = REPO
README = REPO / "README.md"
EXAMPLE_STATE = data_dir() / "sample-company-qbxml"
# The documents of a first snapshot, in the order the server asks for them.
EXAMPLE_FILES = ("host.xml", "customers.xml", "items.xml", "invoices.xml")
SKIP = re.compile(r"<!--\s*tour:\s*not run,\s*(?P<reason>[^>]*?)\s*-->\s*$")
# Lines of output that differ on every run.
VOLATILE = [
    re.compile(r"^State directory: "),  # a new temporary directory
    re.compile(r"^Removed the temporary state directory "),
    re.compile(r"^Server: http://127\.0\.0\.1:\d+/"),  # a free port
    re.compile(r"^Done in \d+\.\d s\.$"),  # the time taken
]
# The companies' ids the Web Connector registers differ on every run: no plan depends on them.
_DATA_EXT = re.compile(r"\s*<DataExtRet>.*?</DataExtRet>", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """A `$ reconcile …` line of the README and the output it shows."""

    line: int  # in README.md
    argv: list[str]
    expected: list[str]


@dataclass(frozen=True)
class Block:
    """A ```console block: its commands, and why it is not run (None: it is)."""

    line: int
    commands: list[Command]
    skipped: str | None


def console_blocks(text: str) -> list[Block]:
    """Every ```console block of ``text``."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        start = index
        above = next((lines[n] for n in range(start - 1, -1, -1) if lines[n].strip()), "")
        skipped = SKIP.match(above.strip())
        body: list[tuple[int, str]] = []
        index += 1
        while lines[index].strip() != "```":
            body.append((index + 1, lines[index]))
            index += 1
        commands: list[Command] = []
        for number, content in body:
            if content.startswith("$ "):
                commands.append(Command(number, shlex.split(content[2:]), []))
            elif commands:
                commands[-1].expected.append(content)
        blocks.append(Block(start + 1, commands, skipped["reason"] if skipped else None))
        index += 1
    return blocks


def _shown(expected: list[str]) -> list[str]:
    """The lines of output to look for: not "…" (elided), not volatile, not blank."""
    return [
        line
        for line in expected
        if line.strip() and "…" not in line and not any(v.match(line) for v in VOLATILE)
    ]


def _check_output(command: Command, output: str) -> None:
    produced = output.splitlines()
    position = 0
    for wanted in _shown(command.expected):
        try:
            position = produced.index(wanted, position) + 1
        except ValueError:
            pytest.fail(
                f"README.md:{command.line}: `{shlex.join(command.argv)}` did not print, where "
                f"the README shows it:\n  {wanted}\nIt printed:\n{output}"
            )


# What a clone does not hold: caches anywhere, and a developer's outputs at the top.
_NOT_CLONED = {".git", ".venv", ".ci-venv", "__pycache__", ".pytest_cache", ".ruff_cache",
               ".hypothesis", ".schemas"}  # fmt: skip
_NOT_CLONED_AT_THE_TOP = {"build", "dist", "state", "demo-state", "proposal"}


def _copy_of_the_clone(target: Path) -> Path:
    def ignored(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == REPO
        return {
            name
            for name in names
            if name in _NOT_CLONED
            or name.endswith(".egg-info")
            or (top and name in _NOT_CLONED_AT_THE_TOP)
        }

    shutil.copytree(REPO, target, ignore=ignored)
    return target


def test_the_readme_starts_with_its_two_commands():
    text = README.read_text(encoding="utf-8")
    assert text.startswith(
        '# reconciler\n\n```sh\npip install . && reconcile demo\npip install ".[test]" && pytest\n```\n'
    )


def test_the_tour_runs_as_written(tmp_path, monkeypatch):
    blocks = console_blocks(README.read_text(encoding="utf-8"))
    clone = _copy_of_the_clone(tmp_path / "clone")
    monkeypatch.chdir(clone)
    monkeypatch.setenv("RECONCILE_STATE_DIR", str(tmp_path / "state"))
    for variable in ("NO_COLOR", "FORCE_COLOR", "RECONCILE_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    ran = 0
    for block in blocks:
        if block.skipped is not None:
            assert block.skipped, f"README.md:{block.line}: say why the block is not run"
            continue
        for command in block.commands:
            assert command.argv[0] == "reconcile", (
                f"README.md:{command.line}: only `reconcile` commands run here; mark the "
                "block <!-- tour: not run, REASON --> if it needs more"
            )
            result = CliRunner().invoke(cli, command.argv[1:])
            assert result.exit_code == 0, (
                f"README.md:{command.line}: `{shlex.join(command.argv)}` exited "
                f"{result.exit_code}:\n{result.output}"
            )
            _check_output(command, result.output)
            ran += 1
    # The tour's local half: demo, init, validate, plan, qwc, status, token, import…
    assert ran >= 10, ran


def test_the_blocks_not_run_are_few_and_say_why():
    blocks = console_blocks(README.read_text(encoding="utf-8"))
    skipped = [block for block in blocks if block.skipped is not None]
    assert all(block.skipped for block in skipped)
    assert len(skipped) < len(blocks) - len(skipped), [b.line for b in skipped]


def first_snapshot_documents(state_dir: Path) -> list[str]:
    """What the demo's first Web Connector run read of the sample company (snapshot 1 of a
    `reconcile demo --state-dir` state), without the ids that differ on every run."""
    store = open_store(state_dir, read_only=True)
    try:
        # A new store numbers its first snapshot 1.
        documents = store.snapshots.documents(1)
    finally:
        store.close()
    return [_DATA_EXT.sub("", document) for document in documents]


def test_the_example_state_is_what_the_first_run_reads_of_the_sample_company(tmp_path):
    state = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--state-dir", str(state)])
    assert result.exit_code == 0, result.output
    documents = first_snapshot_documents(state)
    assert len(documents) == len(EXAMPLE_FILES)
    for name, document in zip(EXAMPLE_FILES, documents, strict=True):
        shipped = (EXAMPLE_STATE / name).read_text(encoding="utf-8")
        assert shipped == document, (
            f"{EXAMPLE_STATE / name} is not what the demo reads of "
            "reconciler/data/sample-company.yaml: regenerate it with "
            "`python tests/test_readme_tour.py`"
        )


def write_example_state() -> None:
    """Write :data:`EXAMPLE_STATE` from a demo run (after the sample company changed)."""
    with tempfile.TemporaryDirectory() as temporary:
        state = Path(temporary) / "demo"
        result = CliRunner().invoke(cli, ["demo", "--state-dir", str(state)])
        if result.exit_code != 0:
            sys.exit(result.output)
        EXAMPLE_STATE.mkdir(exist_ok=True)
        for name, document in zip(EXAMPLE_FILES, first_snapshot_documents(state), strict=True):
            (EXAMPLE_STATE / name).write_text(document, encoding="utf-8", newline="\n")
            print(f"wrote {(EXAMPLE_STATE / name).relative_to(REPO)}")


if __name__ == "__main__":
    write_example_state()

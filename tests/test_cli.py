"""The command line loads a command's module only when the command runs."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import COMMANDS, cli, load_command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_is_where_the_list_says_with_the_summary_it_shows(name):
    command = load_command(name)
    assert command.name == name
    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name].summary


def test_the_command_list_is_what_the_commands_themselves_would_show():
    lazy = CliRunner().invoke(cli, ["--help"]).output
    eager = click.Group("reconcile", help=cli.help)
    eager.params = cli.params
    for name in COMMANDS:
        eager.add_command(load_command(name), name)
    shown = CliRunner().invoke(eager, ["--help"], prog_name="reconcile").output
    listed = lazy[lazy.index("Commands:") :]
    assert listed == shown[shown.index("Commands:") :]
    assert "Usage: " in lazy


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_version_and_help_import_no_command(option):
    code = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"sys.argv = ['reconcile', '{option}']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('reconciler.commands', 'lxml', "
        "'httpx', 'sqlite3', 'jsonschema', 'yaml', 'jinja2')))\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "HEAVY []" in result.stdout, result.stdout
    assert ("reconcile, version" in result.stdout) is (option == "--version")

"""The ``reconcile`` command line.

Each command lives in a module of ``reconciler.commands``, imported only when
the command runs (or its own help is asked for): ``reconcile --version`` and
``reconcile --help`` do not pay for lxml, httpx, SQLite and the rest.
"""

from __future__ import annotations

import codecs
import importlib
import io
import sys
from typing import Any, NamedTuple

import click

from reconciler.base import color
from reconciler.base.errors import InvalidInput, UserError


class LazyCommand(NamedTuple):
    """Where a command is, and the first line of its help (for the command list)."""

    target: str  # "module:attribute"
    summary: str


COMMANDS = {
    "apply": LazyCommand(
        "reconciler.commands.apply:apply_command",
        "Queue a saved plan (PLAN), or plan against the latest snapshot and queue after a yes.",
    ),
    "demo": LazyCommand(
        "reconciler.commands.demo:demo_command",
        "Run the whole loop on the example: sync, plan, apply, sync, plan again (empty).",
    ),
    "fetch-charges": LazyCommand(
        "reconciler.commands.sherweb:fetch_charges",
        "Fetch the receivable charges from Sherweb's API into a charges file.",
    ),
    "import": LazyCommand(
        "reconciler.commands.sherweb:import_mappings",
        "Write a first organizations.yaml and offers.yaml from what exists.",
    ),
    "init": LazyCommand(
        "reconciler.commands.init:init_command",
        "Start a configuration in DIRECTORY (default: config) from the example.",
    ),
    "plan": LazyCommand(
        "reconciler.commands.plan:plan_command",
        "Show what would change in QuickBooks to bill the charges.",
    ),
    "qwc": LazyCommand(
        "reconciler.commands.server:qwc_command",
        "Write the QWC file for the Web Connector and print a new password once.",
    ),
    "schema": LazyCommand(
        "reconciler.commands.configuration:schema",
        "Print the JSON Schema of a configuration file (for editors).",
    ),
    "serve": LazyCommand(
        "reconciler.commands.server:serve_command",
        "Serve the QuickBooks Web Connector (SOAP) until interrupted.",
    ),
    "show": LazyCommand(
        "reconciler.commands.plan:show_command",
        "Show a saved plan.",
    ),
    "status": LazyCommand(
        "reconciler.commands.server:status_command",
        "Show the last run, the snapshot, the queue and every unresolved error.",
    ),
    "token": LazyCommand(
        "reconciler.commands.tokens:token_group",
        "Bearer tokens for the server's API (CI plans and applies with them).",
    ),
    "validate": LazyCommand(
        "reconciler.commands.configuration:validate",
        "Check the configuration: every problem, each with FILE:LINE:COL.",
    ),
}


def load_command(name: str) -> click.Command:
    """Import the command ``name`` of :data:`COMMANDS`."""
    module, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


class ReconcileGroup(click.Group):
    """The ``reconcile`` group: commands loaded when used, and user errors
    reported as one clear message, no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name: those already added and those :data:`COMMANDS` loads on use."""
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported from :data:`COMMANDS` on first use."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from each command's summary: no command is imported for it."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            known = self.commands.get(name) or click.Command(name, help=COMMANDS[name].summary)
            if not known.hidden:
                rows.append((name, known.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a user error is printed (its problems and hint too, no traceback)
        and exits with its code."""
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            for diagnostic in exc.diagnostics:
                click.echo(str(diagnostic), err=True)
            color.secho(f"Error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except UserError as exc:
            color.secho(f"Error: {exc}", fg="red", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=ReconcileGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reconciler", prog_name="reconcile")
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour or other ANSI escape codes in any output (as NO_COLOR=1 does).",
)
@click.pass_context
def cli(ctx: click.Context, no_color: bool) -> None:
    """Billing configuration as code for QuickBooks Desktop."""
    # Every command and click.echo below follow this (see reconciler.base.color).
    ctx.color = False if no_color else color.environment_choice()


def _utf8_when_redirected() -> None:
    """Write UTF-8 to files and pipes, whatever the locale says.

    On Windows a redirected stream takes the ANSI code page (cp1252), which
    cannot encode plans (arrows, names in other scripts): the command would
    fail half-way. A terminal keeps its own encoding. Strict, not "replace":
    what is written to a file is data, never silently altered.
    """
    for stream in (sys.stdout, sys.stderr):
        if (
            isinstance(stream, io.TextIOWrapper)
            and not stream.isatty()
            and codecs.lookup(stream.encoding).name != "utf-8"
        ):
            stream.reconfigure(encoding="utf-8", errors="strict")


def main() -> None:
    """Entry point of the ``reconcile`` console script."""
    _utf8_when_redirected()
    cli(prog_name="reconcile")

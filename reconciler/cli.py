"""The ``reconcile`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler import __version__
from reconciler.commands.apply import apply_command
from reconciler.commands.demo import demo_command
from reconciler.commands.options import config_option
from reconciler.commands.plan import plan_command, show_command
from reconciler.commands.server import qwc_command, serve_command, status_command
from reconciler.commands.sherweb import fetch_charges, import_mappings
from reconciler.commands.tokens import token_group
from reconciler.config import ConfigSummary, load_config, schema_names
from reconciler.errors import InvalidInput, UserError
from reconciler.jsonschemas import load_schema


class ReconcileGroup(click.Group):
    """A click group that reports user errors as one clear message, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            for diagnostic in exc.diagnostics:
                click.echo(str(diagnostic), err=True)
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            ctx.exit(exc.exit_code)
        except UserError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=ReconcileGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def cli() -> None:
    """Billing configuration as code for QuickBooks Desktop."""


@cli.command()
@config_option
def validate(config_dir: Path) -> None:
    """Check the configuration: every problem, each with FILE:LINE:COL."""
    config = load_config(config_dir)
    click.echo(str(ConfigSummary(config, config_dir)))


@cli.command()
@click.argument("name", required=False, type=click.Choice(schema_names()))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write every schema as NAME.schema.json into this directory.",
)
def schema(name: str | None, out_dir: Path | None) -> None:
    """Print the JSON Schema of a configuration file (for editors).

    Point yaml-language-server at them with a first line such as
    ``# yaml-language-server: $schema=.schemas/offers.schema.json``
    after ``reconcile schema --out config/.schemas``.
    """
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for each in [name] if name else schema_names():
            target = out_dir / f"{each}.schema.json"
            target.write_text(json.dumps(load_schema(each), indent=2) + "\n", encoding="utf-8")
            click.echo(f"wrote {target}")
        return
    if name is None:
        bundle = {each: load_schema(each) for each in schema_names()}
        click.echo(json.dumps(bundle, indent=2))
    else:
        click.echo(json.dumps(load_schema(name), indent=2))


cli.add_command(fetch_charges)
cli.add_command(import_mappings)
cli.add_command(plan_command)
cli.add_command(show_command)
cli.add_command(qwc_command)
cli.add_command(serve_command)
cli.add_command(apply_command)
cli.add_command(demo_command)
cli.add_command(status_command)
cli.add_command(token_group)


def main() -> None:
    """Entry point of the ``reconcile`` console script."""
    cli(prog_name="reconcile")

"""``reconcile validate`` and ``reconcile schema``: the configuration files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.base.errors import UserError
from reconciler.base.jsonschemas import load_schema
from reconciler.commands.options import config_option
from reconciler.config.load import ConfigSummary, load_config, schema_names


@click.command("validate")
@config_option
def validate(config_dir: Path) -> None:
    """Check the configuration: every problem, each with FILE:LINE:COL."""
    config = load_config(config_dir)
    click.echo(str(ConfigSummary(config, config_dir)))


@click.command("schema")
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
        for each in [name] if name else schema_names():
            target = out_dir / f"{each}.schema.json"
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(load_schema(each), indent=2) + "\n", encoding="utf-8")
            except OSError as exc:
                raise UserError(
                    f"{target}: cannot write the schema: {exc.strerror or exc}"
                ) from None
            click.echo(f"wrote {target}")
        return
    if name is None:
        bundle = {each: load_schema(each) for each in schema_names()}
        click.echo(json.dumps(bundle, indent=2))
    else:
        click.echo(json.dumps(load_schema(name), indent=2))

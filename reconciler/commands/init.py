"""``reconcile init``: a first configuration directory, copied from the example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from reconciler.commands.options import DEFAULT_CONFIG_DIR
from reconciler.config import CONFIG_FILES, schema_names
from reconciler.errors import UserError
from reconciler.jsonschemas import load_schema
from reconciler.resources import example_config_dir

# Where the example files' first line points yaml-language-server.
SCHEMAS_DIR = ".schemas"


@click.command("init")
@click.argument(
    "directory",
    required=False,
    default=DEFAULT_CONFIG_DIR,
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option("--force", is_flag=True, help="Overwrite configuration files that exist.")
def init_command(directory: Path, force: bool) -> None:
    """Start a configuration in DIRECTORY (default: config) from the example.

    Writes billing.yaml, offers.yaml and organizations.yaml (the example of a
    small MSP, Northwind IT Services) and their JSON Schemas for editors, and
    says what to change before the first plan.
    """
    existing = [directory / name for name in CONFIG_FILES if (directory / name).exists()]
    if existing and not force:
        raise UserError(
            f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing written",
            hint="Pass --force to replace them with the example, or choose another directory.",
        )
    source = example_config_dir()
    try:
        (directory / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
        for name in CONFIG_FILES:
            shutil.copyfile(source / name, directory / name)
        for name in schema_names():
            schema = json.dumps(load_schema(name), indent=2) + "\n"
            (directory / SCHEMAS_DIR / f"{name}.schema.json").write_text(schema, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"{directory}: cannot write the configuration: {exc.strerror or exc}"
        ) from None
    click.echo(
        f"Wrote {', '.join(str(directory / name) for name in CONFIG_FILES)} "
        f"(the example of Northwind IT Services) and {directory / SCHEMAS_DIR} (for editors)."
    )
    config = f" --config {directory}" if directory != DEFAULT_CONFIG_DIR else ""
    click.echo("Next:")
    click.echo(
        f"  1. In {directory / 'billing.yaml'}: your QuickBooks company name and file, billing "
        "mode, invoice day."
    )
    click.echo(
        f"  2. Map your Sherweb offers and organizations: `reconcile import{config} --qb-state "
        "PATH` proposes offers.yaml and organizations.yaml (--force to replace the example's), "
        "or edit them."
    )
    click.echo(f"  3. `reconcile validate{config}`, then `reconcile plan{config} --charges FILE`.")

"""``reconcile init``: a first configuration directory, copied from the example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from reconciler.base.errors import UserError
from reconciler.base.jsonschemas import load_schema
from reconciler.base.resources import example_config_dir
from reconciler.commands.options import DEFAULT_CONFIG_DIR
from reconciler.config.load import CONFIG_FILES, schema_names

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
    source = example_config_dir()
    # In a clone, config/ is the example itself: nothing to write, and nothing refused.
    kept = [name for name in CONFIG_FILES if _holds(directory / name, source / name)]
    existing = [
        directory / name
        for name in CONFIG_FILES
        if (directory / name).exists() and name not in kept
    ]
    if existing and not force:
        raise UserError(
            f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing written",
            hint="Pass --force to replace them with the example, or choose another directory.",
        )
    written = [name for name in CONFIG_FILES if name not in kept]
    try:
        (directory / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
        for name in written:
            shutil.copyfile(source / name, directory / name)
        for name in schema_names():
            schema = json.dumps(load_schema(name), indent=2) + "\n"
            (directory / SCHEMAS_DIR / f"{name}.schema.json").write_text(schema, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"{directory}: cannot write the configuration: {exc.strerror or exc}"
        ) from None
    schemas = f"{directory / SCHEMAS_DIR} (for editors)"
    listed = {name: str(directory / name) for name in CONFIG_FILES}
    if not kept:
        click.echo(
            f"Wrote {', '.join(listed[name] for name in written)} "
            f"(the example of Northwind IT Services) and {schemas}."
        )
    elif not written:
        click.echo(
            f"{', '.join(listed[name] for name in kept)} already hold the example of "
            f"Northwind IT Services; wrote {schemas}."
        )
    else:
        click.echo(
            f"Wrote {', '.join(listed[name] for name in written)} (the example of Northwind IT "
            f"Services) and {schemas}; {', '.join(listed[name] for name in kept)} already "
            "held it."
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


def _holds(path: Path, example: Path) -> bool:
    """Whether ``path`` is the example file already (the same file, or the same bytes)."""
    if not path.is_file():
        return False
    try:
        return path.samefile(example) or path.read_bytes() == example.read_bytes()
    except OSError:
        return False

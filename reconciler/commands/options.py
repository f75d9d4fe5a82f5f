"""Command-line options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_CONFIG_DIR = Path("config")

# Not file_okay=False: loading the configuration says what a wrong path is
# (missing, a file such as config/billing.yaml) in its own words.
config_option = click.option(
    "--config",
    "config_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_CONFIG_DIR,
    show_default=True,
    help="The configuration directory (billing.yaml, offers.yaml, organizations.yaml).",
)

server_option = click.option(
    "--server",
    metavar="URL",
    help="Use the reconciler server at URL (its base URL, e.g. https://qb.example.com:8443) "
    "through its API, with the token in RECONCILE_TOKEN, instead of the local state directory.",
)

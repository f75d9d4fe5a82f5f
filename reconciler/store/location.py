"""Where the server's state lives (the SQLite store) unless told otherwise.

``--state-dir``, else ``RECONCILE_STATE_DIR``, else the platform's place for
application state: ``%LOCALAPPDATA%\\reconciler`` on Windows,
``$XDG_STATE_HOME/reconciler`` (``~/.local/state/reconciler``) elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

ENV_VAR = "RECONCILE_STATE_DIR"


def default_state_dir() -> Path:
    """The state directory when none is given."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "reconciler"
    base = os.environ.get("XDG_STATE_HOME")
    return (Path(base) if base else Path.home() / ".local" / "state") / "reconciler"


state_dir_option = click.option(
    "--state-dir",
    "state_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=ENV_VAR,
    default=default_state_dir,
    show_default=f"${ENV_VAR}, else the platform's application state directory",
    help="Where the server keeps its state (snapshots, queue, errors, audit log).",
)

"""The server's log: on standard error, and in a rotating file in the state directory.

A server started by Windows at boot has no console to read: the file is its
record. It holds what the server logs and nothing more: sign-ins by user name,
sessions by the first characters of their ticket, API calls by method and path
(never a query string, which may carry a status page token), never a password,
a token or a whole ticket.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from reconciler.base.errors import UserError

LOG_FILE = "reconciler.log"
# Ten files of 10 MiB: weeks of a busy server's calls at --verbose, bounded.
LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 9
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def log_to_state_dir(state_dir: Path, *, verbose: bool) -> Path:
    """Send the server's log to standard error and to ``state_dir``'s log file; its path."""
    path = state_dir / LOG_FILE
    try:
        file = RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        raise UserError(f"{path}: cannot write the server's log: {exc.strerror or exc}") from None
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=LOG_FORMAT,
        handlers=[logging.StreamHandler(sys.stderr), file],
        force=True,
    )
    return path

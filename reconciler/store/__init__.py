"""The state the server keeps, by concern: identity, sessions, snapshots, plans, queue, errors.

Open it with :func:`open_store`; use it through :class:`Store` only
(``store.sessions``, ``store.queue``...: see :mod:`reconciler.store.concerns`).
"""

from __future__ import annotations

from pathlib import Path

from reconciler.store.base import Store, StoreError
from reconciler.store.sqlite import DATABASE_NAME, SqliteStore

__all__ = ["Store", "StoreError", "open_store", "store_exists"]


def open_store(state_dir: Path, *, read_only: bool = False) -> Store:
    """The store of a state directory (created, and migrated, as needed).

    ``read_only``: an existing store, only read (one of an older reconciler is
    migrated first).
    """
    return SqliteStore(state_dir / DATABASE_NAME, read_only=read_only)


def store_exists(state_dir: Path) -> bool:
    """Whether a state directory holds a store already (opening would create one)."""
    return (state_dir / DATABASE_NAME).is_file()

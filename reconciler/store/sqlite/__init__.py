"""The store on SQLite: one database file, one module per concern of the store."""

from __future__ import annotations

from reconciler.store.sqlite.store import DATABASE_NAME, SqliteStore

__all__ = ["DATABASE_NAME", "SqliteStore"]

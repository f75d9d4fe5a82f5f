"""One SQLite file: its connections, its transactions, its migrations.

WAL journaling (readers never block the writer), ``synchronous=NORMAL`` (a
committed change survives a crash of the process; see :data:`SYNCHRONOUS`),
foreign keys on, and every write inside ``BEGIN IMMEDIATE`` so that two writers
queue for the lock instead of failing half-way. Each thread gets its own
connection (the WSGI server answers calls on a pool of threads). Every concern
of the store (:mod:`reconciler.store.sqlite`) shares one
:class:`SqliteDatabase`, so that one transaction spans them all.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.store.base import StoreError
from reconciler.store.rows import RecordTable
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION

# How long a writer waits for another one before giving up (seconds).
LOCK_TIMEOUT = 30.0
# With WAL, NORMAL writes every commit to the log before COMMIT returns, so a
# killed or crashed server loses nothing; it syncs the log to disk at
# checkpoints rather than at every commit. FULL would sync at every commit,
# that is at every Web Connector call, while holding the write lock that every
# session's call waits for: a millisecond (SSD) to tens (disk, Windows) per
# call, for all of them. What NORMAL gives up is the last commits before a
# power cut or an OS crash (the database stays consistent), and the design
# does not rest on them: QuickBooks is read again at the start of every run;
# an InvoiceAdd the store no longer knows went out is found by its
# ExternalGUID before anything is sent (never a duplicate), and a
# modification sent again carries its old EditSequence, which QuickBooks
# refuses (3200) once the first one went through (never applied twice).
SYNCHRONOUS = "NORMAL"


def _split_statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


@functools.lru_cache(maxsize=64)
def _insert_statement(table: str, columns: tuple[str, ...]) -> str:
    # Table and column names come from reconciler.store.tables, never from input.
    return (
        f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608
        f" VALUES ({', '.join('?' * len(columns))})"
    )


@functools.lru_cache(maxsize=64)
def _update_statement(table: str, columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{column} = ?" for column in columns)
    return f"UPDATE {table} SET {assignments} WHERE id = ?"  # noqa: S608


class SqliteDatabase:
    """The database at ``path``, created and migrated as needed.

    ``read_only``: the database must exist and is only read (a connection in
    SQLite's ``mode=ro``); one written by an older reconciler is migrated first,
    since this one could not read it otherwise.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._read_only = read_only
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer = threading.Lock()
        if not read_only:
            self._migrate()
        elif self._schema_version() < SCHEMA_VERSION:
            self.close()
            self._read_only = False
            self._migrate()
            self.close()
            self._read_only = True

    # ----------------------------------------------------------- connections

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: cannot use the state database: {exc}") from None
            self._local.conn = conn
            self._local.depth = 0
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self._read_only:
            # mode=ro: never creates the file, never writes (a URI, so that a
            # Windows path works too).
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=LOCK_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            return conn
        conn = sqlite3.connect(
            self.path, timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _schema_version(self) -> int:
        try:
            version = int(self.row("PRAGMA user_version")[0])  # type: ignore[index]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot use the state database: {exc}") from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer reconciler "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade reconciler"
            )
        return version

    def close(self) -> None:
        """Close every thread's connection."""
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction for the calls inside; a nested block joins the enclosing one."""
        conn = self.connection()
        if self._local.depth:
            # Nested: part of the enclosing transaction, committed (or rolled
            # back, when an exception escapes it) with it.
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        # Writers of this process queue on a lock of their own: SQLite's busy
        # handler polls with growing sleeps, which starves some writers when
        # many sessions write at once. Other processes still meet the busy handler.
        with self._writer:
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield
            except BaseException:
                self._local.depth = 0
                conn.execute("ROLLBACK")
                raise
            self._local.depth = 0
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.atomic():
                version = self._schema_version()
                for target in range(version, SCHEMA_VERSION):
                    for statement in _split_statements(MIGRATIONS[target]):
                        self.run(statement)
                    self.run(f"PRAGMA user_version = {target + 1}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot use the state database: {exc}") from None

    # ------------------------------------------------------------ statements

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row ``sql`` selects."""
        return self.connection().execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` selects, if any."""
        return self.connection().execute(sql, params).fetchone()

    def run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement."""
        return self.connection().execute(sql, params)

    def run_many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter set."""
        self.connection().executemany(sql, params)

    def insert(self, table: RecordTable[Any], **values: Any) -> int:
        """Add a row to ``table`` (fields or extra columns by name, stored as the table
        says); its id."""
        stored = table.values(**values)
        cursor = self.run(_insert_statement(table.name, tuple(stored)), tuple(stored.values()))
        return int(cursor.lastrowid or 0)

    def insert_rows(self, table: RecordTable[Any], rows: Sequence[dict[str, Any]]) -> None:
        """Add rows as ``table`` stores them (:meth:`RecordTable.row`), all with the same columns."""
        if rows:
            columns = tuple(rows[0])
            self.run_many(
                _insert_statement(table.name, columns), [tuple(row.values()) for row in rows]
            )

    def update(self, table: RecordTable[Any], row_id: int, **values: Any) -> None:
        """Change the columns given (by field or extra column name) of the row ``row_id``."""
        stored = table.values(**values)
        self.run(_update_statement(table.name, tuple(stored)), (*stored.values(), row_id))


class SqliteConcern:
    """One concern of the store, on the database it shares with the others."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

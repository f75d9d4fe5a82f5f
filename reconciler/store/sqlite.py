"""The embedded store: one SQLite file in the state directory.

WAL journaling (readers never block the writer), ``synchronous=NORMAL`` (a
committed change survives a crash of the process; see :data:`SYNCHRONOUS`),
foreign keys on, and every write inside ``BEGIN IMMEDIATE`` so that two writers
queue for the lock instead of failing half-way. Each thread gets its own
connection (the WSGI server answers calls on a pool of threads).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.model.quickbooks import canonical_guid
from reconciler.store.base import Store, StoreError
from reconciler.store.records import (
    PENDING_STATES,
    ApiToken,
    AppIdentity,
    AuditEntry,
    BillingLock,
    CompanyRecord,
    CreatedInvoice,
    NewRequest,
    NewStatusError,
    PlanHistoryEntry,
    PlanRecord,
    PlanStatus,
    QueueCounts,
    QueuedRequest,
    RejectedCalls,
    RejectReason,
    RequestState,
    ResponseRecord,
    SessionRecord,
    SnapshotRecord,
    StatusError,
    TokenScope,
)
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION

DATABASE_NAME = "reconciler.sqlite3"
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
# Failed sign-ins older than this are forgotten when a new one is counted.
FAILED_SIGN_IN_MEMORY = dt.timedelta(days=1)
# Marks the plans of some requests (a JSON list of ids) done when none of their
# requests is anything else (the states named, so that the requests_by_state
# index finds them without a scan).
_PLANS_DONE = (
    "UPDATE plans SET status = 'done', updated_at = ? WHERE status = 'queued'"  # noqa: S608
    " AND id IN (SELECT plan_id FROM requests WHERE id IN (SELECT value FROM json_each(?)))"
    " AND NOT EXISTS (SELECT 1 FROM requests r WHERE"
    " r.company_id = plans.company_id AND r.plan_id = plans.id AND r.state IN ("
    + ", ".join(f"'{state.value}'" for state in RequestState if state is not RequestState.DONE)
    + "))"
)


@functools.lru_cache(maxsize=256)
def _ts(moment: dt.datetime) -> str:
    """A UTC timestamp that sorts as text."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to the store")
    utc = moment if not offset else moment.astimezone(dt.UTC)
    # isoformat: the format of strftime("%Y-%m-%dT%H:%M:%S.%fZ"), several times faster.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _dt(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _req_dt(text: str) -> dt.datetime:
    moment = _dt(text)
    assert moment is not None
    return moment


def _pack(text: str) -> bytes:
    # Level 1: qbXML still shrinks about twentyfold, at a third of level 6's CPU
    # (the server packs every response it records, within the call).
    return zlib.compress(text.encode("utf-8"), 1)


def _unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _guid() -> str:
    """A GUID as QuickBooks and the Web Connector write it: braces, upper case."""
    return "{" + str(uuid.uuid4()).upper() + "}"


def _split_statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


class SqliteStore(Store):
    """The store in ``<state dir>/reconciler.sqlite3``.

    ``read_only``: the database must exist and is only read (a connection in
    SQLite's ``mode=ro``); one written by an older reconciler is migrated first,
    since this one could not read it otherwise.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self._path = path
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

    @property
    def location(self) -> str:
        return str(self._path)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self._path}: cannot use the state database: {exc}") from None
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
                f"{self._path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=LOCK_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            return conn
        conn = sqlite3.connect(
            self._path, timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _schema_version(self) -> int:
        try:
            version = int(self._one("PRAGMA user_version")[0])  # type: ignore[index]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self._path}: cannot use the state database: {exc}") from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self._path} was written by a newer reconciler "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade reconciler"
            )
        return version

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        conn = self._conn()
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

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._conn().execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._conn().execute(sql, params).fetchone()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn().execute(sql, params)

    def _migrate(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.atomic():
                version = self._schema_version()
                for target in range(version, SCHEMA_VERSION):
                    for statement in _split_statements(MIGRATIONS[target]):
                        self._run(statement)
                    self._run(f"PRAGMA user_version = {target + 1}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self._path}: cannot use the state database: {exc}") from None

    # ---------------------------------------------------------------- identity

    def _meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def app_identity(self) -> AppIdentity:
        with self.atomic():
            owner_id = self._meta("owner_id")
            app_id = self._meta("app_id")
            if owner_id is None or app_id is None:
                owner_id, app_id = _guid(), _guid()
                self._run(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('owner_id', ?), ('app_id', ?)",
                    (owner_id, app_id),
                )
        return AppIdentity(owner_id=owner_id, app_id=app_id)

    def clock_shift(self) -> dt.timedelta | None:
        seconds = self._meta("clock_shift_seconds")
        return None if seconds is None else dt.timedelta(seconds=float(seconds))

    def set_clock_shift(self, shift: dt.timedelta) -> None:
        with self.atomic():
            self._run(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_shift_seconds', ?)",
                (repr(shift.total_seconds()),),
            )

    @staticmethod
    def _company(row: sqlite3.Row) -> CompanyRecord:
        return CompanyRecord(
            id=row["id"],
            name=row["name"],
            username=row["username"],
            file_id=row["file_id"],
            company_file=row["company_file"],
            password_hash=row["password_hash"],
            profile=json.loads(row["profile"]),
            created_at=_dt(row["created_at"]),
            last_contact=_dt(row["last_contact"]),
            snapshot_outdated=bool(row["snapshot_outdated"]),
        )

    def register_company(self, name: str, *, username: str, company_file: str) -> CompanyRecord:
        now = _ts(dt.datetime.now(dt.UTC))
        with self.atomic():
            row = self._one("SELECT id FROM companies WHERE name = ?", (name,))
            if row is None:
                cursor = self._run(
                    "INSERT INTO companies (name, username, file_id, company_file, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, username, _guid(), company_file, now, now),
                )
                company_id = int(cursor.lastrowid or 0)
            else:
                company_id = int(row["id"])
                self._run(
                    "UPDATE companies SET username = ?, company_file = ?, updated_at = ?"
                    " WHERE id = ?",
                    (username, company_file, now, company_id),
                )
            return self.company(company_id)

    def company(self, company_id: int) -> CompanyRecord:
        row = self._one("SELECT * FROM companies WHERE id = ?", (company_id,))
        if row is None:
            raise KeyError(f"no company {company_id}")
        return self._company(row)

    def company_by_name(self, name: str) -> CompanyRecord | None:
        row = self._one("SELECT * FROM companies WHERE name = ?", (name,))
        return None if row is None else self._company(row)

    def company_by_username(self, username: str) -> CompanyRecord | None:
        row = self._one("SELECT * FROM companies WHERE username = ?", (username,))
        return None if row is None else self._company(row)

    def companies(self) -> list[CompanyRecord]:
        return [self._company(row) for row in self._q("SELECT * FROM companies ORDER BY id")]

    def set_password_hash(self, company_id: int, password_hash: str) -> None:
        with self.atomic():
            self._run(
                "UPDATE companies SET password_hash = ?, updated_at = ? WHERE id = ?",
                (password_hash, _ts(dt.datetime.now(dt.UTC)), company_id),
            )

    def record_contact(self, company_id: int, at: dt.datetime) -> None:
        with self.atomic():
            self._run("UPDATE companies SET last_contact = ? WHERE id = ?", (_ts(at), company_id))

    def set_profile(self, company_id: int, profile: dict[str, Any]) -> None:
        with self.atomic():
            self._run(
                "UPDATE companies SET profile = ?, updated_at = ? WHERE id = ?",
                (json.dumps(profile, sort_keys=True), _ts(dt.datetime.now(dt.UTC)), company_id),
            )

    # ----------------------------------------------------- sign-in throttling

    def failed_sign_ins(self, client: str, since: dt.datetime) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM failed_sign_ins WHERE client = ? AND at >= ?",
            (client, _ts(since)),
        )
        return int(row[0]) if row else 0

    def record_failed_sign_in(self, username: str, client: str, at: dt.datetime) -> None:
        with self.atomic():
            self._run(
                "DELETE FROM failed_sign_ins WHERE at < ?", (_ts(at - FAILED_SIGN_IN_MEMORY),)
            )
            self._run(
                "INSERT INTO failed_sign_ins (username, client, at) VALUES (?, ?, ?)",
                (username, client, _ts(at)),
            )

    def clear_failed_sign_ins(self, client: str) -> None:
        with self.atomic():
            self._run("DELETE FROM failed_sign_ins WHERE client = ?", (client,))

    # ---------------------------------------------------------------- sessions

    @staticmethod
    def _session(row: sqlite3.Row) -> SessionRecord:
        return SessionRecord(
            id=row["id"],
            company_id=row["company_id"],
            ticket_prefix=row["ticket_prefix"],
            boot_id=row["boot_id"],
            client=row["client"],
            created_at=_req_dt(row["created_at"]),
            last_seen_at=_req_dt(row["last_seen_at"]),
            expires_at=_req_dt(row["expires_at"]),
            closed_at=_dt(row["closed_at"]),
            state=json.loads(row["state"]),
            last_error=row["last_error"],
            applied=row["applied"],
            errors=row["errors"],
        )

    def open_session(
        self,
        company_id: int,
        *,
        ticket_hash: str,
        ticket_prefix: str,
        boot_id: str,
        client: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        state: dict[str, Any],
    ) -> SessionRecord:
        with self.atomic():
            cursor = self._run(
                "INSERT INTO sessions (company_id, ticket_hash, ticket_prefix, boot_id, client,"
                " created_at, last_seen_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    company_id,
                    ticket_hash,
                    ticket_prefix,
                    boot_id,
                    client,
                    _ts(now),
                    _ts(now),
                    _ts(expires_at),
                    json.dumps(state),
                ),
            )
            return self._session_by_id(int(cursor.lastrowid or 0))

    def _session_by_id(self, session_id: int) -> SessionRecord:
        row = self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise KeyError(f"no session {session_id}")
        return self._session(row)

    def session_for_ticket(self, ticket_hash: str) -> SessionRecord | None:
        row = self._one("SELECT * FROM sessions WHERE ticket_hash = ?", (ticket_hash,))
        return None if row is None else self._session(row)

    def open_sessions(self, company_id: int) -> list[SessionRecord]:
        rows = self._q(
            "SELECT * FROM sessions WHERE company_id = ? AND closed_at IS NULL ORDER BY id",
            (company_id,),
        )
        return [self._session(row) for row in rows]

    def update_session(
        self,
        session_id: int,
        *,
        state: dict[str, Any] | None = None,
        last_seen_at: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
        last_error: str | None = None,
        applied: int | None = None,
        errors: int | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if state is not None:
            changes["state"] = json.dumps(state)
        if last_seen_at is not None:
            changes["last_seen_at"] = _ts(last_seen_at)
        if expires_at is not None:
            changes["expires_at"] = _ts(expires_at)
        if last_error is not None:
            changes["last_error"] = last_error
        if applied is not None:
            changes["applied"] = applied
        if errors is not None:
            changes["errors"] = errors
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            with self.atomic():
                self._run(
                    f"UPDATE sessions SET {assignments} WHERE id = ?",  # noqa: S608 (fixed column names)
                    (*changes.values(), session_id),
                )

    def close_session(self, session_id: int, at: dt.datetime) -> None:
        with self.atomic():
            self._run(
                "UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (_ts(at), session_id),
            )
            self._run("DELETE FROM session_documents WHERE session_id = ?", (session_id,))

    def last_session(self, company_id: int) -> SessionRecord | None:
        row = self._one(
            "SELECT * FROM sessions WHERE company_id = ? ORDER BY id DESC LIMIT 1", (company_id,)
        )
        return None if row is None else self._session(row)

    # --------------------------------------------- documents of a running refresh

    def add_session_document(self, session_id: int, kind: str, document: str) -> None:
        with self.atomic():
            row = self._one(
                "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM session_documents"
                " WHERE session_id = ?",
                (session_id,),
            )
            assert row is not None
            self._run(
                "INSERT INTO session_documents (session_id, seq, kind, document)"
                " VALUES (?, ?, ?, ?)",
                (session_id, row["seq"], kind, _pack(document)),
            )

    def session_documents(self, session_id: int, kind: str | None = None) -> list[str]:
        rows = self._q(
            "SELECT document FROM session_documents WHERE session_id = ?"
            " AND (? IS NULL OR kind = ?) ORDER BY seq",
            (session_id, kind, kind),
        )
        return [_unpack(row["document"]) for row in rows]

    def clear_session_documents(self, session_id: int, *, keep: Sequence[str] = ()) -> None:
        with self.atomic():
            self._run(
                "DELETE FROM session_documents WHERE session_id = ?"
                " AND kind NOT IN (SELECT value FROM json_each(?))",
                (session_id, json.dumps(list(keep))),
            )

    # --------------------------------------------------------------- snapshots

    @staticmethod
    def _snapshot(row: sqlite3.Row) -> SnapshotRecord:
        return SnapshotRecord(
            id=row["id"],
            company_id=row["company_id"],
            version=row["version"],
            taken_at=_req_dt(row["taken_at"]),
            fingerprint=row["fingerprint"],
            qbxml_version=row["qbxml_version"],
            document_count=row["document_count"],
            coverage=None if row["coverage"] is None else json.loads(row["coverage"]),
        )

    _SNAPSHOT_SELECT = (
        "SELECT s.*, (SELECT COUNT(*) FROM snapshot_documents d WHERE d.snapshot_id = s.id)"
        " AS document_count FROM snapshots s"
    )

    def save_session_snapshot(
        self,
        company_id: int,
        session_id: int,
        *,
        taken_at: dt.datetime,
        qbxml_version: str,
        coverage: dict[str, Any] | None = None,
    ) -> SnapshotRecord:
        with self.atomic():
            row = self._one(
                "SELECT COALESCE(MAX(version), 0) + 1 AS version FROM snapshots"
                " WHERE company_id = ?",
                (company_id,),
            )
            assert row is not None
            cursor = self._run(
                "INSERT INTO snapshots (company_id, version, taken_at, qbxml_version,"
                " session_id, coverage) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    company_id,
                    row["version"],
                    _ts(taken_at),
                    qbxml_version,
                    session_id,
                    None if coverage is None else json.dumps(coverage, sort_keys=True),
                ),
            )
            snapshot_id = int(cursor.lastrowid or 0)
            self._run("UPDATE companies SET snapshot_outdated = 0 WHERE id = ?", (company_id,))
            # The packed documents as they are: neither unpacked nor packed again.
            self._run(
                "INSERT INTO snapshot_documents (snapshot_id, seq, document)"
                " SELECT ?, ROW_NUMBER() OVER (ORDER BY seq), document FROM session_documents"
                " WHERE session_id = ? ORDER BY seq",
                (snapshot_id, session_id),
            )
            found = self._one(f"{self._SNAPSHOT_SELECT} WHERE s.id = ?", (snapshot_id,))
            assert found is not None
            return self._snapshot(found)

    def set_snapshot_fingerprint(self, snapshot_id: int, fingerprint: str) -> None:
        with self.atomic():
            self._run(
                "UPDATE snapshots SET fingerprint = ? WHERE id = ?", (fingerprint, snapshot_id)
            )

    def mark_snapshot_outdated(self, company_id: int) -> None:
        with self.atomic():
            self._run("UPDATE companies SET snapshot_outdated = 1 WHERE id = ?", (company_id,))

    def latest_snapshot(self, company_id: int) -> SnapshotRecord | None:
        row = self._one(
            f"{self._SNAPSHOT_SELECT} WHERE s.company_id = ? ORDER BY s.version DESC LIMIT 1",
            (company_id,),
        )
        return None if row is None else self._snapshot(row)

    def snapshot_documents(self, snapshot_id: int) -> list[str]:
        rows = self._q(
            "SELECT document FROM snapshot_documents WHERE snapshot_id = ? ORDER BY seq",
            (snapshot_id,),
        )
        return [_unpack(row["document"]) for row in rows]

    # -------------------------------------------------------- created invoices

    def record_created_invoices(
        self, company_id: int, invoices: Sequence[CreatedInvoice], at: dt.datetime
    ) -> None:
        with self.atomic():
            self._conn().executemany(
                "INSERT INTO created_invoices (company_id, external_guid, txn_id, customer,"
                " txn_date, request_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (company_id, external_guid) DO UPDATE SET txn_id = excluded.txn_id,"
                " customer = COALESCE(excluded.customer, customer),"
                " txn_date = COALESCE(excluded.txn_date, txn_date),"
                " request_id = COALESCE(excluded.request_id, request_id),"
                " recorded_at = excluded.recorded_at, deleted_at = NULL",
                [
                    (
                        company_id,
                        canonical_guid(created.external_guid),
                        created.txn_id,
                        created.customer,
                        created.txn_date,
                        created.request_id,
                        _ts(at),
                    )
                    for created in invoices
                ],
            )

    def created_invoices(self, company_id: int) -> list[CreatedInvoice]:
        rows = self._q(
            "SELECT * FROM created_invoices WHERE company_id = ? ORDER BY recorded_at, txn_id",
            (company_id,),
        )
        return [
            CreatedInvoice(
                external_guid=row["external_guid"],
                txn_id=row["txn_id"],
                customer=row["customer"],
                txn_date=row["txn_date"],
                deleted_at=_dt(row["deleted_at"]),
                request_id=row["request_id"],
            )
            for row in rows
        ]

    def mark_created_invoice_deleted(self, company_id: int, txn_id: str, at: dt.datetime) -> None:
        with self.atomic():
            self._run(
                "UPDATE created_invoices SET deleted_at = ? WHERE company_id = ? AND txn_id = ?"
                " AND deleted_at IS NULL",
                (_ts(at), company_id, txn_id),
            )

    # ----------------------------------------------------------- plans, queue

    @staticmethod
    def _plan(row: sqlite3.Row) -> PlanRecord:
        return PlanRecord(
            id=row["id"],
            company_id=row["company_id"],
            key=row["key"],
            qb_fingerprint=row["qb_fingerprint"],
            billing_mode=row["billing_mode"],
            applied_at=_req_dt(row["applied_at"]),
            status=PlanStatus(row["status"]),
            status_reason=row["status_reason"],
        )

    @staticmethod
    def _request(row: sqlite3.Row) -> QueuedRequest:
        return QueuedRequest(
            id=row["id"],
            plan_id=row["plan_id"],
            company_id=row["company_id"],
            sequence=row["sequence"],
            kind=row["kind"],
            label=row["label"],
            qbxml=row["qbxml"],
            request_id=row["request_id"],
            external_guid=row["external_guid"],
            lookup=json.loads(row["lookup"]),
            not_before=_dt(row["not_before"]),
            state=RequestState(row["state"]),
            attempts=row["attempts"],
            sent_at=_dt(row["sent_at"]),
            updated_at=_dt(row["updated_at"]),
        )

    def queue_plan(
        self,
        company_id: int,
        *,
        key: str,
        qb_fingerprint: str,
        billing_mode: str,
        document: str,
        requests: Sequence[NewRequest],
        applied_at: dt.datetime,
    ) -> PlanRecord:
        now = _ts(applied_at)
        with self.atomic():
            older = [
                row["id"]
                for row in self._q(
                    "SELECT id FROM plans WHERE company_id = ? AND status = 'queued'",
                    (company_id,),
                )
            ]
            cursor = self._run(
                "INSERT INTO plans (company_id, key, qb_fingerprint, billing_mode, document,"
                " applied_at, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    company_id,
                    key,
                    qb_fingerprint,
                    billing_mode,
                    _pack(document),
                    now,
                    PlanStatus.QUEUED.value if requests else PlanStatus.DONE.value,
                    now,
                ),
            )
            plan_id = int(cursor.lastrowid or 0)
            for old in older:
                self._stop_plan(old, PlanStatus.SUPERSEDED, f"superseded by plan {plan_id}", now)
            for sequence, new in enumerate(requests, start=1):
                held = new.not_before is not None and new.not_before > applied_at
                cursor = self._run(
                    "INSERT INTO requests (plan_id, company_id, sequence, kind, label, qbxml,"
                    " request_id, external_guid, lookup, not_before, state, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        plan_id,
                        company_id,
                        sequence,
                        new.kind,
                        new.label,
                        new.qbxml,
                        new.request_id or "",
                        new.external_guid,
                        json.dumps(new.lookup, sort_keys=True),
                        None if new.not_before is None else _ts(new.not_before),
                        (RequestState.HELD if held else RequestState.QUEUED).value,
                        now,
                    ),
                )
                if new.request_id is None:
                    row_id = int(cursor.lastrowid or 0)
                    self._run(
                        "UPDATE requests SET request_id = ? WHERE id = ?", (f"r{row_id}", row_id)
                    )
            return self.plan(plan_id)

    def _stop_plan(self, plan_id: int, status: PlanStatus, reason: str, now: str) -> int:
        pending = sorted(state.value for state in PENDING_STATES)
        cursor = self._run(
            "UPDATE requests SET state = 'stale', updated_at = ?"
            " WHERE plan_id = ? AND state IN (SELECT value FROM json_each(?))",
            (now, plan_id, json.dumps(pending)),
        )
        self._run(
            "UPDATE plans SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
            (status.value, reason, now, plan_id),
        )
        return cursor.rowcount

    def plan(self, plan_id: int) -> PlanRecord:
        row = self._one("SELECT * FROM plans WHERE id = ?", (plan_id,))
        if row is None:
            raise KeyError(f"no plan {plan_id}")
        return self._plan(row)

    def plans(self, company_id: int) -> list[PlanRecord]:
        rows = self._q("SELECT * FROM plans WHERE company_id = ? ORDER BY id DESC", (company_id,))
        return [self._plan(row) for row in rows]

    def plan_document(self, plan_id: int) -> str:
        row = self._one("SELECT document FROM plans WHERE id = ?", (plan_id,))
        if row is None:
            raise KeyError(f"no plan {plan_id}")
        return _unpack(row["document"])

    def mark_plan_stale(self, plan_id: int, reason: str, at: dt.datetime) -> int:
        with self.atomic():
            return self._stop_plan(plan_id, PlanStatus.STALE, reason, _ts(at))

    def release_due_requests(self, company_id: int, now: dt.datetime) -> int:
        with self.atomic():
            cursor = self._run(
                "UPDATE requests SET state = 'queued', updated_at = ? WHERE company_id = ?"
                " AND (state = 'failed' OR (state = 'held' AND not_before <= ?))",
                (_ts(now), company_id, _ts(now)),
            )
            return cursor.rowcount

    def has_due_requests(self, company_id: int, now: dt.datetime) -> bool:
        row = self._one(
            "SELECT EXISTS (SELECT 1 FROM requests WHERE company_id = ? AND"
            " (state IN ('queued', 'sent', 'failed') OR (state = 'held' AND not_before <= ?)))",
            (company_id, _ts(now)),
        )
        return bool(row and row[0])

    def next_queued_requests(self, company_id: int, limit: int = 1) -> list[QueuedRequest]:
        rows = self._q(
            "SELECT * FROM requests WHERE company_id = ? AND state = 'queued'"
            " ORDER BY plan_id, sequence LIMIT ?",
            (company_id, limit),
        )
        return [self._request(row) for row in rows]

    def count_requests(
        self, company_id: int, states: Sequence[RequestState], kind: str | None = None
    ) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM requests WHERE company_id = ?"
            " AND state IN (SELECT value FROM json_each(?)) AND (? IS NULL OR kind = ?)",
            (company_id, json.dumps([s.value for s in states]), kind, kind),
        )
        return int(row[0]) if row else 0

    def requests_awaiting_outcome(self, company_id: int) -> list[QueuedRequest]:
        return self.requests(company_id, [RequestState.SENT])

    def queued_request(self, request_id: int) -> QueuedRequest:
        row = self._one("SELECT * FROM requests WHERE id = ?", (request_id,))
        if row is None:
            raise KeyError(f"no request {request_id}")
        return self._request(row)

    def requests(
        self, company_id: int, states: Sequence[RequestState] | None = None
    ) -> list[QueuedRequest]:
        wanted = [s.value for s in (states if states is not None else list(RequestState))]
        rows = self._q(
            "SELECT * FROM requests WHERE company_id = ?"
            " AND state IN (SELECT value FROM json_each(?)) ORDER BY plan_id, sequence",
            (company_id, json.dumps(wanted)),
        )
        return [self._request(row) for row in rows]

    def mark_sent(self, request_id: int, *, session_id: int, at: dt.datetime) -> None:
        self.mark_all_sent([request_id], session_id=session_id, at=at)

    def mark_all_sent(
        self, request_ids: Sequence[int], *, session_id: int, at: dt.datetime
    ) -> None:
        with self.atomic():
            self._conn().executemany(
                "UPDATE requests SET state = 'sent', attempts = attempts + 1, session_id = ?,"
                " sent_at = ?, updated_at = ? WHERE id = ?",
                [(session_id, _ts(at), _ts(at), request_id) for request_id in request_ids],
            )

    def finish_request(
        self, request_id: int, state: RequestState, at: dt.datetime, response: ResponseRecord | None
    ) -> None:
        self.finish_requests([(request_id, response)], state, at)

    def finish_requests(
        self,
        outcomes: Sequence[tuple[int, ResponseRecord | None]],
        state: RequestState,
        at: dt.datetime,
    ) -> None:
        if not outcomes:
            return
        conn = self._conn()
        with self.atomic():
            conn.executemany(
                "UPDATE requests SET state = ?, updated_at = ? WHERE id = ?",
                [(state.value, _ts(at), request_id) for request_id, _ in outcomes],
            )
            conn.executemany(
                "INSERT INTO responses (request_id, session_id, received_at, status_code,"
                " status_severity, status_message, txn_id, document)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        request_id,
                        response.session_id,
                        _ts(response.received_at),
                        response.status_code,
                        response.status_severity,
                        response.status_message,
                        response.txn_id,
                        None if response.document is None else _pack(response.document),
                    )
                    for request_id, response in outcomes
                    if response is not None
                ],
            )
            if state is RequestState.DONE:
                # Only a request done can be its plan's last one.
                ids = json.dumps([request_id for request_id, _ in outcomes])
                self._run(_PLANS_DONE, (_ts(at), ids))

    def requeue(self, request_id: int, at: dt.datetime, *, unsent: bool = False) -> None:
        with self.atomic():
            self._run(
                "UPDATE requests SET state = 'queued', updated_at = ?,"
                " attempts = MAX(0, attempts - ?) WHERE id = ?",
                (_ts(at), int(unsent), request_id),
            )

    def responses(self, request_id: int) -> list[ResponseRecord]:
        rows = self._q("SELECT * FROM responses WHERE request_id = ? ORDER BY id", (request_id,))
        return [
            ResponseRecord(
                request_id=row["request_id"],
                session_id=row["session_id"],
                received_at=_req_dt(row["received_at"]),
                status_code=row["status_code"],
                status_severity=row["status_severity"],
                status_message=row["status_message"],
                txn_id=row["txn_id"],
                document=None if row["document"] is None else _unpack(row["document"]),
            )
            for row in rows
        ]

    def queue_counts(self, company_id: int) -> QueueCounts:
        rows = self._q(
            "SELECT state, COUNT(*) AS n FROM requests WHERE company_id = ? GROUP BY state",
            (company_id,),
        )
        due = self._one(
            "SELECT MIN(not_before) AS at FROM requests WHERE company_id = ? AND state = 'held'",
            (company_id,),
        )
        return QueueCounts(
            by_state={RequestState(row["state"]): int(row["n"]) for row in rows},
            next_due=_dt(due["at"]) if due is not None else None,
        )

    # ----------------------------------------------------------- status errors

    @staticmethod
    def _error(row: sqlite3.Row) -> StatusError:
        return StatusError(
            id=row["id"],
            company_id=row["company_id"],
            object=row["object"],
            code=row["code"],
            message=row["message"],
            what_to_do=row["what_to_do"],
            first_seen=_req_dt(row["first_seen"]),
            last_seen=_req_dt(row["last_seen"]),
            occurrences=row["occurrences"],
            request_id=row["request_id"],
            plan_id=row["plan_id"],
            resolved_at=_dt(row["resolved_at"]),
        )

    def record_error(self, company_id: int, error: NewStatusError, at: dt.datetime) -> StatusError:
        with self.atomic():
            row = self._one(
                "SELECT id FROM status_errors WHERE company_id = ? AND resolved_at IS NULL"
                " AND object = ? AND code = ? AND request_id IS ?",
                (company_id, error.object, error.code, error.request_id),
            )
            if row is not None:
                error_id = int(row["id"])
                self._run(
                    "UPDATE status_errors SET occurrences = occurrences + 1, last_seen = ?,"
                    " message = ?, what_to_do = ?, plan_id = COALESCE(?, plan_id) WHERE id = ?",
                    (_ts(at), error.message, error.what_to_do, error.plan_id, error_id),
                )
            else:
                cursor = self._run(
                    "INSERT INTO status_errors (company_id, request_id, plan_id, object, code,"
                    " message, what_to_do, first_seen, last_seen)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        company_id,
                        error.request_id,
                        error.plan_id,
                        error.object,
                        error.code,
                        error.message,
                        error.what_to_do,
                        _ts(at),
                        _ts(at),
                    ),
                )
                error_id = int(cursor.lastrowid or 0)
            found = self._one("SELECT * FROM status_errors WHERE id = ?", (error_id,))
            assert found is not None
            return self._error(found)

    def _resolve(self, company_id: int, at: dt.datetime, condition: str, *params: Any) -> int:
        # ``condition`` is one of this module's constants, never input.
        statement = f"UPDATE status_errors SET resolved_at = ? WHERE company_id = ? AND resolved_at IS NULL AND {condition}"  # noqa: S608
        with self.atomic():
            return self._run(statement, (_ts(at), company_id, *params)).rowcount

    def resolve_request_errors(self, company_id: int, request_id: int, at: dt.datetime) -> int:
        return self._resolve(company_id, at, "request_id = ?", request_id)

    def resolve_run_errors(self, company_id: int, at: dt.datetime) -> int:
        return self._resolve(company_id, at, "request_id IS NULL AND plan_id IS NULL")

    def resolve_plan_errors(self, company_id: int, at: dt.datetime, *, keep_plan_id: int) -> int:
        return self._resolve(company_id, at, "plan_id IS NOT NULL AND plan_id != ?", keep_plan_id)

    def open_errors(self, company_id: int) -> list[StatusError]:
        rows = self._q(
            "SELECT * FROM status_errors WHERE company_id = ? AND resolved_at IS NULL ORDER BY id",
            (company_id,),
        )
        return [self._error(row) for row in rows]

    # ---------------------------------------------------------- rejected calls

    def record_rejected_call(self, reason: RejectReason, at: dt.datetime) -> None:
        with self.atomic():
            self._run(
                "INSERT INTO rejected_calls (reason, count, first_at, last_at) VALUES (?, 1, ?, ?)"
                " ON CONFLICT (reason) DO UPDATE SET count = count + 1, last_at = excluded.last_at",
                (reason.value, _ts(at), _ts(at)),
            )

    def rejected_calls(self) -> list[RejectedCalls]:
        rows = self._q("SELECT * FROM rejected_calls ORDER BY count DESC, reason")
        return [
            RejectedCalls(
                RejectReason(row["reason"]),
                int(row["count"]),
                _req_dt(row["first_at"]),
                _req_dt(row["last_at"]),
            )
            for row in rows
        ]

    # -------------------------------------------------------------- billing lock

    def billing_lock(self, company_id: int) -> BillingLock | None:
        row = self._one("SELECT * FROM billing_locks WHERE company_id = ?", (company_id,))
        if row is None:
            return None
        return BillingLock(
            company_id=row["company_id"],
            mode=row["mode"],
            locked_at=_req_dt(row["locked_at"]),
            plan_id=row["plan_id"],
        )

    def lock_billing_mode(
        self, company_id: int, mode: str, at: dt.datetime, plan_id: int | None
    ) -> BillingLock:
        with self.atomic():
            self._run(
                "INSERT OR IGNORE INTO billing_locks (company_id, mode, locked_at, plan_id)"
                " VALUES (?, ?, ?, ?)",
                (company_id, mode, _ts(at), plan_id),
            )
            lock = self.billing_lock(company_id)
            assert lock is not None
            return lock

    # --------------------------------------------------------------------- audit

    def add_audit(
        self,
        company_id: int,
        *,
        actor: str,
        action: str,
        at: dt.datetime,
        plan_id: int | None = None,
        commit: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        with self.atomic():
            cursor = self._run(
                "INSERT INTO audit_log (company_id, at, actor, action, plan_id, commit_sha,"
                " detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    company_id,
                    _ts(at),
                    actor,
                    action,
                    plan_id,
                    commit,
                    json.dumps(detail or {}, sort_keys=True),
                ),
            )
            return self._audit(
                self._one("SELECT * FROM audit_log WHERE id = ?", (cursor.lastrowid,))
            )

    @staticmethod
    def _audit(row: sqlite3.Row | None) -> AuditEntry:
        assert row is not None
        return AuditEntry(
            id=row["id"],
            company_id=row["company_id"],
            at=_req_dt(row["at"]),
            actor=row["actor"],
            action=row["action"],
            plan_id=row["plan_id"],
            commit=row["commit_sha"],
            detail=json.loads(row["detail"]),
        )

    def audit_log(self, company_id: int, limit: int = 50) -> list[AuditEntry]:
        rows = self._q(
            "SELECT * FROM audit_log WHERE company_id = ? ORDER BY id DESC LIMIT ?",
            (company_id, limit),
        )
        return [self._audit(row) for row in rows]

    def plan_history(self, company_id: int, limit: int = 20) -> list[PlanHistoryEntry]:
        plans = [
            self._plan(row)
            for row in self._q(
                "SELECT * FROM plans WHERE company_id = ? ORDER BY id DESC LIMIT ?",
                (company_id, limit),
            )
        ]
        ids = json.dumps([plan.id for plan in plans])
        applied = {
            row["plan_id"]: self._audit(row)
            for row in self._q(
                "SELECT * FROM audit_log WHERE action = 'apply'"
                " AND plan_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (ids,),
            )
        }
        counts: dict[int, dict[RequestState, int]] = {plan.id: {} for plan in plans}
        for row in self._q(
            "SELECT plan_id, state, COUNT(*) AS n FROM requests"
            " WHERE plan_id IN (SELECT value FROM json_each(?)) GROUP BY plan_id, state",
            (ids,),
        ):
            counts[row["plan_id"]][RequestState(row["state"])] = int(row["n"])
        return [PlanHistoryEntry(plan, applied.get(plan.id), counts[plan.id]) for plan in plans]

    # ---------------------------------------------------------------- API tokens

    @staticmethod
    def _token(row: sqlite3.Row) -> ApiToken:
        return ApiToken(
            id=row["id"],
            company_id=row["company_id"],
            name=row["name"],
            scope=TokenScope(row["scope"]),
            key_id=row["key_id"],
            token_hash=row["token_hash"],
            created_at=_req_dt(row["created_at"]),
            last_used_at=_dt(row["last_used_at"]),
            revoked_at=_dt(row["revoked_at"]),
        )

    def add_api_token(
        self,
        company_id: int,
        *,
        name: str,
        scope: TokenScope,
        key_id: str,
        token_hash: str,
        at: dt.datetime,
    ) -> ApiToken:
        with self.atomic():
            cursor = self._run(
                "INSERT INTO api_tokens (company_id, name, scope, key_id, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (company_id, name, scope.value, key_id, token_hash, _ts(at)),
            )
            row = self._one("SELECT * FROM api_tokens WHERE id = ?", (cursor.lastrowid,))
            assert row is not None
            return self._token(row)

    def api_token(self, key_id: str) -> ApiToken | None:
        row = self._one("SELECT * FROM api_tokens WHERE key_id = ?", (key_id,))
        return None if row is None else self._token(row)

    def api_token_by_name(self, name: str) -> ApiToken | None:
        row = self._one("SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL", (name,))
        return None if row is None else self._token(row)

    def api_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        rows = self._q(
            "SELECT * FROM api_tokens WHERE ? OR revoked_at IS NULL ORDER BY id",
            (int(include_revoked),),
        )
        return [self._token(row) for row in rows]

    def revoke_api_token(self, name: str, at: dt.datetime) -> ApiToken | None:
        with self.atomic():
            token = self.api_token_by_name(name)
            if token is None:
                return None
            self._run("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (_ts(at), token.id))
            return self.api_token(token.key_id)

    def touch_api_token(self, token_id: int, at: dt.datetime) -> None:
        with self.atomic():
            self._run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (_ts(at), token_id))

"""Web Connector sessions and the documents of a running refresh, in SQLite."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from reconciler.store.concerns import SessionStore
from reconciler.store.records import SessionRecord
from reconciler.store.rows import pack, unpack
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import SESSIONS


class SqliteSessions(SqliteConcern, SessionStore):
    """The ``sessions`` and ``session_documents`` tables."""

    def open(
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
        with self._db.atomic():
            session_id = self._db.insert(
                SESSIONS,
                company_id=company_id,
                ticket_hash=ticket_hash,
                ticket_prefix=ticket_prefix,
                boot_id=boot_id,
                client=client,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                state=state,
            )
            row = self._db.row("SELECT * FROM sessions WHERE id = ?", (session_id,))
            return SESSIONS.record(row)

    def for_ticket(self, ticket_hash: str) -> SessionRecord | None:
        row = self._db.row("SELECT * FROM sessions WHERE ticket_hash = ?", (ticket_hash,))
        return None if row is None else SESSIONS.record(row)

    def unclosed(self, company_id: int) -> list[SessionRecord]:
        rows = self._db.rows(
            "SELECT * FROM sessions WHERE company_id = ? AND closed_at IS NULL ORDER BY id",
            (company_id,),
        )
        return SESSIONS.records(rows)

    def update(
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
        changes = {
            name: value
            for name, value in (
                ("state", state),
                ("last_seen_at", last_seen_at),
                ("expires_at", expires_at),
                ("last_error", last_error),
                ("applied", applied),
                ("errors", errors),
            )
            if value is not None
        }
        if changes:
            with self._db.atomic():
                self._db.update(SESSIONS, session_id, **changes)

    def close(self, session_id: int, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.run(
                "UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (SESSIONS.value("closed_at", at), session_id),
            )
            self._db.run("DELETE FROM session_documents WHERE session_id = ?", (session_id,))

    def last(self, company_id: int) -> SessionRecord | None:
        row = self._db.row(
            "SELECT * FROM sessions WHERE company_id = ? ORDER BY id DESC LIMIT 1", (company_id,)
        )
        return None if row is None else SESSIONS.record(row)

    def add_document(self, session_id: int, kind: str, document: str) -> None:
        with self._db.atomic():
            self._db.run(
                "INSERT INTO session_documents (session_id, seq, kind, document)"
                " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM session_documents"
                " WHERE session_id = ?",
                (session_id, kind, pack(document), session_id),
            )

    def documents(self, session_id: int, kind: str | None = None) -> list[str]:
        rows = self._db.rows(
            "SELECT document FROM session_documents WHERE session_id = ?"
            " AND (? IS NULL OR kind = ?) ORDER BY seq",
            (session_id, kind, kind),
        )
        return [unpack(row["document"]) for row in rows]

    def clear_documents(self, session_id: int, *, keep: Sequence[str] = ()) -> None:
        with self._db.atomic():
            self._db.run(
                "DELETE FROM session_documents WHERE session_id = ?"
                " AND kind NOT IN (SELECT value FROM json_each(?))",
                (session_id, json.dumps(list(keep))),
            )

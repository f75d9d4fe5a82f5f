"""The queue of qbXML requests, their attempts and responses, in SQLite."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from reconciler.store.concerns import RequestQueue
from reconciler.store.records import QueueCounts, QueuedRequest, RequestState, ResponseRecord
from reconciler.store.rows import timestamp_text
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import REQUESTS, RESPONSES

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


class SqliteQueue(SqliteConcern, RequestQueue):
    """The ``requests`` and ``responses`` tables (a plan's requests are added by
    :class:`~reconciler.store.sqlite.plans.SqlitePlans`)."""

    def release_due(self, company_id: int, now: dt.datetime) -> int:
        with self._db.atomic():
            cursor = self._db.run(
                "UPDATE requests SET state = 'queued', updated_at = ? WHERE company_id = ?"
                " AND (state = 'failed' OR (state = 'held' AND not_before <= ?))",
                (timestamp_text(now), company_id, timestamp_text(now)),
            )
            return cursor.rowcount

    def has_due(self, company_id: int, now: dt.datetime) -> bool:
        row = self._db.row(
            "SELECT EXISTS (SELECT 1 FROM requests WHERE company_id = ? AND"
            " (state IN ('queued', 'sent', 'failed') OR (state = 'held' AND not_before <= ?)))",
            (company_id, timestamp_text(now)),
        )
        return bool(row and row[0])

    def next(self, company_id: int, limit: int = 1) -> list[QueuedRequest]:
        rows = self._db.rows(
            "SELECT * FROM requests WHERE company_id = ? AND state = 'queued'"
            " ORDER BY plan_id, sequence LIMIT ?",
            (company_id, limit),
        )
        return REQUESTS.records(rows)

    def count(
        self, company_id: int, states: Sequence[RequestState], kind: str | None = None
    ) -> int:
        row = self._db.row(
            "SELECT COUNT(*) FROM requests WHERE company_id = ?"
            " AND state IN (SELECT value FROM json_each(?)) AND (? IS NULL OR kind = ?)",
            (company_id, json.dumps([s.value for s in states]), kind, kind),
        )
        return int(row[0]) if row else 0

    def awaiting_outcome(self, company_id: int) -> list[QueuedRequest]:
        return self.requests(company_id, [RequestState.SENT])

    def get(self, request_id: int) -> QueuedRequest:
        row = self._db.row("SELECT * FROM requests WHERE id = ?", (request_id,))
        if row is None:
            raise KeyError(f"no request {request_id}")
        return REQUESTS.record(row)

    def requests(
        self, company_id: int, states: Sequence[RequestState] | None = None
    ) -> list[QueuedRequest]:
        wanted = [s.value for s in (states if states is not None else list(RequestState))]
        rows = self._db.rows(
            "SELECT * FROM requests WHERE company_id = ?"
            " AND state IN (SELECT value FROM json_each(?)) ORDER BY plan_id, sequence",
            (company_id, json.dumps(wanted)),
        )
        return REQUESTS.records(rows)

    def mark_sent(self, request_id: int, *, session_id: int, at: dt.datetime) -> None:
        self.mark_all_sent([request_id], session_id=session_id, at=at)

    def mark_all_sent(
        self, request_ids: Sequence[int], *, session_id: int, at: dt.datetime
    ) -> None:
        now = timestamp_text(at)
        with self._db.atomic():
            self._db.run_many(
                "UPDATE requests SET state = 'sent', attempts = attempts + 1, session_id = ?,"
                " sent_at = ?, updated_at = ? WHERE id = ?",
                [(session_id, now, now, request_id) for request_id in request_ids],
            )

    def finish(
        self, request_id: int, state: RequestState, at: dt.datetime, response: ResponseRecord | None
    ) -> None:
        self.finish_all([(request_id, response)], state, at)

    def finish_all(
        self,
        outcomes: Sequence[tuple[int, ResponseRecord | None]],
        state: RequestState,
        at: dt.datetime,
    ) -> None:
        if not outcomes:
            return
        now = timestamp_text(at)
        with self._db.atomic():
            self._db.run_many(
                "UPDATE requests SET state = ?, updated_at = ? WHERE id = ?",
                [(state.value, now, request_id) for request_id, _ in outcomes],
            )
            self._db.insert_rows(
                RESPONSES,
                [
                    RESPONSES.row(response, request_id=request_id)
                    for request_id, response in outcomes
                    if response is not None
                ],
            )
            if state is RequestState.DONE:
                # Only a request done can be its plan's last one.
                ids = json.dumps([request_id for request_id, _ in outcomes])
                self._db.run(_PLANS_DONE, (now, ids))

    def requeue(self, request_id: int, at: dt.datetime, *, unsent: bool = False) -> None:
        with self._db.atomic():
            self._db.run(
                "UPDATE requests SET state = 'queued', updated_at = ?,"
                " attempts = MAX(0, attempts - ?) WHERE id = ?",
                (timestamp_text(at), int(unsent), request_id),
            )

    def responses(self, request_id: int) -> list[ResponseRecord]:
        rows = self._db.rows(
            "SELECT * FROM responses WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return RESPONSES.records(rows)

    def counts(self, company_id: int) -> QueueCounts:
        rows = self._db.rows(
            "SELECT state, COUNT(*) AS n FROM requests WHERE company_id = ? GROUP BY state",
            (company_id,),
        )
        due = self._db.row(
            "SELECT MIN(not_before) AS at FROM requests WHERE company_id = ? AND state = 'held'",
            (company_id,),
        )
        return QueueCounts(
            by_state={RequestState(row["state"]): int(row["n"]) for row in rows},
            next_due=REQUESTS.read("not_before", due["at"]) if due is not None else None,
        )

"""Applied plans and their requests as queued, in SQLite."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from reconciler.store.concerns import PlanStore
from reconciler.store.records import (
    PENDING_STATES,
    NewRequest,
    PlanHistoryEntry,
    PlanRecord,
    PlanStatus,
    RequestState,
)
from reconciler.store.rows import timestamp_text, unpack
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import AUDIT_LOG, PLANS, REQUESTS


class SqlitePlans(SqliteConcern, PlanStore):
    """The ``plans`` table; queuing one adds its ``requests``."""

    def queue(
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
        with self._db.atomic():
            older = [
                row["id"]
                for row in self._db.rows(
                    "SELECT id FROM plans WHERE company_id = ? AND status = 'queued'",
                    (company_id,),
                )
            ]
            plan_id = self._db.insert(
                PLANS,
                company_id=company_id,
                key=key,
                qb_fingerprint=qb_fingerprint,
                billing_mode=billing_mode,
                document=document,
                applied_at=applied_at,
                status=PlanStatus.QUEUED if requests else PlanStatus.DONE,
                updated_at=applied_at,
            )
            for old in older:
                self._stop(old, PlanStatus.SUPERSEDED, f"superseded by plan {plan_id}", applied_at)
            for sequence, new in enumerate(requests, start=1):
                held = new.not_before is not None and new.not_before > applied_at
                row_id = self._db.insert(
                    REQUESTS,
                    plan_id=plan_id,
                    company_id=company_id,
                    sequence=sequence,
                    kind=new.kind,
                    label=new.label,
                    qbxml=new.qbxml,
                    request_id=new.request_id or "",
                    external_guid=new.external_guid,
                    lookup=new.lookup,
                    not_before=new.not_before,
                    state=RequestState.HELD if held else RequestState.QUEUED,
                    updated_at=applied_at,
                )
                if new.request_id is None:
                    self._db.update(REQUESTS, row_id, request_id=f"r{row_id}")
            return self.get(plan_id)

    def _stop(self, plan_id: int, status: PlanStatus, reason: str, at: dt.datetime) -> int:
        now = timestamp_text(at)
        pending = sorted(state.value for state in PENDING_STATES)
        cursor = self._db.run(
            "UPDATE requests SET state = 'stale', updated_at = ?"
            " WHERE plan_id = ? AND state IN (SELECT value FROM json_each(?))",
            (now, plan_id, json.dumps(pending)),
        )
        self._db.update(PLANS, plan_id, status=status, status_reason=reason, updated_at=at)
        return cursor.rowcount

    def get(self, plan_id: int) -> PlanRecord:
        row = self._db.row("SELECT * FROM plans WHERE id = ?", (plan_id,))
        if row is None:
            raise KeyError(f"no plan {plan_id}")
        return PLANS.record(row)

    def for_company(self, company_id: int) -> list[PlanRecord]:
        rows = self._db.rows(
            "SELECT * FROM plans WHERE company_id = ? ORDER BY id DESC", (company_id,)
        )
        return PLANS.records(rows)

    def document(self, plan_id: int) -> str:
        row = self._db.row("SELECT document FROM plans WHERE id = ?", (plan_id,))
        if row is None:
            raise KeyError(f"no plan {plan_id}")
        return unpack(row["document"])

    def mark_stale(self, plan_id: int, reason: str, at: dt.datetime) -> int:
        with self._db.atomic():
            return self._stop(plan_id, PlanStatus.STALE, reason, at)

    def history(self, company_id: int, limit: int = 20) -> list[PlanHistoryEntry]:
        plans = PLANS.records(
            self._db.rows(
                "SELECT * FROM plans WHERE company_id = ? ORDER BY id DESC LIMIT ?",
                (company_id, limit),
            )
        )
        ids = json.dumps([plan.id for plan in plans])
        applied = {
            entry.plan_id: entry
            for entry in AUDIT_LOG.records(
                self._db.rows(
                    "SELECT * FROM audit_log WHERE action = 'apply'"
                    " AND plan_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                    (ids,),
                )
            )
        }
        counts: dict[int, dict[RequestState, int]] = {plan.id: {} for plan in plans}
        for row in self._db.rows(
            "SELECT plan_id, state, COUNT(*) AS n FROM requests"
            " WHERE plan_id IN (SELECT value FROM json_each(?)) GROUP BY plan_id, state",
            (ids,),
        ):
            counts[row["plan_id"]][RequestState(row["state"])] = int(row["n"])
        return [PlanHistoryEntry(plan, applied.get(plan.id), counts[plan.id]) for plan in plans]

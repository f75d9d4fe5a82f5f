"""What becomes of a queued request, as every phase records it: done without being sent,
its plan stale, the invoice it created."""

from __future__ import annotations

import logging

from reconciler.qbwc.run.call import RunCall
from reconciler.store.records import (
    CreatedInvoice,
    NewStatusError,
    QueuedRequest,
    RequestState,
    ResponseRecord,
)

log = logging.getLogger("reconciler.qbwc")


def already_done(run: RunCall, request: QueuedRequest, how: str, txn_id: str | None = None) -> None:
    """A request QuickBooks already reflects: done, and not sent (again); ``txn_id``: the
    invoice it created, found by its ExternalGUID."""
    log.info("%s: %s", request.label, how)
    if txn_id is not None:
        invoice = created_invoice(request, txn_id)
        if invoice is not None:
            run.store.created_invoices.record(request.company_id, [invoice], run.now)
    run.store.queue.finish(
        request.id,
        RequestState.DONE,
        run.now,
        ResponseRecord(
            request_id=request.id,
            session_id=run.session.id,
            received_at=run.now,
            status_code=0,
            status_severity="Info",
            status_message=f"{how}; not sent again",
            txn_id=txn_id,
        ),
    )
    run.store.errors.resolve_request(run.company_id, request.id, run.now)
    run.state.applied += 1


def plan_stale(run: RunCall, request: QueuedRequest, reason: str) -> None:
    """Stop the plan of ``request`` (whatever of it is not sent yet is not sent), and list
    why with what to do: plan again (design invariants 4 and 7)."""
    stopped = run.store.plans.mark_stale(request.plan_id, reason, run.now)
    log.warning("plan %d is stale (%s): %d request(s) not sent", request.plan_id, reason, stopped)
    run.record_error(
        NewStatusError(
            object=request.label,
            code=reason.split(":", 1)[0] if reason[:1].isdigit() else "stale-plan",
            message=reason,
            what_to_do="QuickBooks changed since the plan was made, so the rest of the plan "
            "was not sent. Run `reconcile plan` and apply the new plan.",
            request_id=request.id,
            plan_id=request.plan_id,
        )
    )


def created_invoice(request: QueuedRequest, txn_id: str) -> CreatedInvoice | None:
    """The invoice an InvoiceAdd created, as the store remembers it so that every refresh
    reads it (None for other writes)."""
    if request.kind != "InvoiceAddRq" or not request.external_guid:
        return None
    return CreatedInvoice(
        external_guid=request.external_guid,
        txn_id=txn_id,
        customer=request.lookup.get("customer"),
        txn_date=request.lookup.get("txn_date"),
        request_id=request.id,
    )

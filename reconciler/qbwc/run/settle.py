"""Settle: decide, against the fresh snapshot, what must not simply be sent (again).

What an earlier run sent without getting its answer, and what is queued, is
held to what QuickBooks now shows before anything is written:

- an InvoiceAdd whose invoice the refresh read (by its ExternalGUID) is done:
  never a duplicate invoice (design invariant 2);
- an InvoiceAdd sent without an answer that the refresh did not find is looked
  for among every invoice modified since it was sent, whatever its customer or
  date (a person may have moved it since): found, it is done; not found, sent
  again (:attr:`Phase.SETTLE`, the only part of settling that asks QuickBooks);
- a modification whose answer was lost is done if QuickBooks reads as it asked,
  sent again if its EditSequence is untouched, else left to a new plan
  (invariant 4);
- an InvoiceMod of an invoice now paid or sent, or gone, is not sent: its plan
  is stale (invariant 5).

Reading the documents for this (the slow part) happens, when it can, as the
refresh's last response is prepared, outside the transaction
(:func:`read_for_settling`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from reconciler.base.xmlsafe import parse_xml
from reconciler.model.config import UnsentInvoices
from reconciler.model.quickbooks import Invoice, QBState, canonical_guid
from reconciler.qbwc.outcome import Outcome, modification_outcome
from reconciler.qbwc.run.call import RunCall
from reconciler.qbwc.run.failure import incomplete_state
from reconciler.qbwc.run.queries import more_pages, query_document, refuse_errors
from reconciler.qbwc.run.results import already_done, plan_stale
from reconciler.qbxml.parse import QbxmlParseError, Response, parse_state, read_fields
from reconciler.qbxml.queries import InvoiceQuery
from reconciler.store import Store
from reconciler.store.records import QueuedRequest, RequestState

log = logging.getLogger("reconciler.qbwc")

# Invoices modified since this long before a lost InvoiceAdd was sent are looked
# through for it: QuickBooks' clock may differ from the server's.
LOOKUP_MARGIN = dt.timedelta(days=1)
FOUND_BY_GUID = "found by its ExternalGUID"


@dataclass(frozen=True)
class Refreshed:
    """A complete refresh, read for settling: its documents, the TxnID of each
    invoice by ExternalGUID, and (when a request's answer was lost) the whole state."""

    documents: list[str]
    guids: dict[str, str]
    state: QBState | None


def to_settle(store: Store, company_id: int) -> bool:
    """Whether a fresh snapshot has requests to settle."""
    return store.queue.count(company_id, [RequestState.SENT, RequestState.QUEUED]) > 0


def read_for_settling(store: Store, company_id: int, documents: list[str]) -> Refreshed:
    """What settling needs of a refresh: ExternalGUIDs always; the whole state only
    when :func:`_needs_state` (every document was read whole as it came in)."""
    if _needs_state(store, company_id):
        qb_state = _parse_state(documents)
        guids = {
            canonical_guid(i.external_guid): i.txn_id for i in qb_state.invoices if i.external_guid
        }
        return Refreshed(documents, guids, qb_state)
    return Refreshed(documents, _invoice_guids(documents), None)


def what_to_settle(run: RunCall, prepared: Refreshed | None) -> Refreshed | None:
    """The refresh read for settling (None: nothing to settle): ``prepared``, read
    outside the transaction, when it still is what the session holds and what settling
    needs; else read now. Asked before the snapshot is taken."""
    if not to_settle(run.store, run.company_id):
        return None
    documents = run.store.sessions.documents(run.session.id)
    fits = (
        prepared is not None
        and prepared.documents == documents
        and (prepared.state is not None or not _needs_state(run.store, run.company_id))
    )
    return prepared if fits else read_for_settling(run.store, run.company_id, documents)


def against_snapshot(run: RunCall, refreshed: Refreshed) -> None:
    """Settle the queued and sent requests against the refresh (see the module's text)."""
    guids, qb_state = refreshed.guids, refreshed.state
    # The whole state is there when an answer was lost or an invoice is to be
    # modified: only then is a request SENT, or an InvoiceMod to be checked.
    invoices = {} if qb_state is None else {i.txn_id: i for i in qb_state.invoices}
    rule = run.profile.unsent_invoices
    stopped: set[int] = set()  # plans that went stale here: the rest of each is not sent
    for request in run.store.queue.requests(
        run.company_id, [RequestState.QUEUED, RequestState.SENT]
    ):
        if request.external_guid:
            txn_id = guids.get(canonical_guid(request.external_guid))
            if txn_id is not None:
                already_done(run, request, FOUND_BY_GUID, txn_id)
            continue
        outcome = Outcome.NOT_APPLIED
        if request.state is RequestState.SENT:
            assert qb_state is not None
            outcome = modification_outcome(request.qbxml, qb_state)
        if outcome is Outcome.APPLIED:
            already_done(run, request, "found applied in QuickBooks; its answer had been lost")
            continue
        if request.plan_id in stopped:
            run.store.queue.finish(request.id, RequestState.STALE, run.now, None)
            continue
        why = (
            "its answer was lost, and QuickBooks shows it changed otherwise since"
            if outcome is Outcome.CHANGED
            else _untouchable(request, invoices, rule)
        )
        if why is not None:
            run.store.queue.finish(request.id, RequestState.STALE, run.now, None)
            plan_stale(run, request, why)
            stopped.add(request.plan_id)
        elif request.state is RequestState.SENT:
            log.info("%s did not go through: queued again", request.label)
            run.store.queue.requeue(request.id, run.now)


def lost_adds(store: Store, company_id: int) -> list[QueuedRequest]:
    """InvoiceAdds whose answer was lost and that the refresh did not settle: what the
    settle phase looks for."""
    return [r for r in store.queue.awaiting_outcome(company_id) if r.external_guid]


def lookup_query(run: RunCall) -> str:
    """The query that finds the lost InvoiceAdds' invoices, if QuickBooks saved them:
    every invoice modified since shortly before the first was sent, without a
    customer or date filter (a person may have moved one since)."""
    state = run.state
    if state.lookup_from is None or not state.iterator_id:
        sent = [r.sent_at for r in lost_adds(run.store, run.company_id) if r.sent_at]
        since = min(sent, default=run.now) - LOOKUP_MARGIN
        state.lookup_from = since.astimezone(dt.UTC).date().isoformat()
    lookup = InvoiceQuery(
        modified_from=dt.date.fromisoformat(state.lookup_from),
        include_line_items=False,
        include_linked_txns=False,
        max_returned=run.limits.invoice_page,
        iterator="Continue" if state.iterator_id else "Start",
        iterator_id=state.iterator_id,
    )
    return query_document(run, [lookup], kind="verify")


def take_lookup_page(run: RunCall, answers: list[Response]) -> None:
    """A page of the invoices modified since the lost adds went out: those found by
    their ExternalGUID are done; once every page is read, the others are sent again."""
    refuse_errors(answers)
    state = run.state
    state.done_steps += 1
    answer = answers[0]
    found = {
        canonical_guid(o.external_guid): o.txn_id
        for o in answer.objects
        if isinstance(o, Invoice) and o.external_guid
    }
    for request in lost_adds(run.store, run.company_id):
        txn_id = found.get(canonical_guid(request.external_guid))
        if txn_id is not None:
            already_done(run, request, FOUND_BY_GUID, txn_id)
            # The snapshot did not hold it (that is why it was looked for): the run
            # reads QuickBooks again before it ends.
            state.changed = True
    if more_pages(state, answer):
        return
    state.lookup_from = None
    for request in lost_adds(run.store, run.company_id):
        log.info("%s was not added before: queued again", request.label)
        run.store.queue.requeue(request.id, run.now)


def _needs_state(store: Store, company_id: int) -> bool:
    """Whether settling needs the whole state: a request went out and its answer
    never came (a lost response), or an invoice is to be modified (is it still
    open?)."""
    if store.queue.count(company_id, [RequestState.SENT]) > 0:
        return True
    return store.queue.count(company_id, [RequestState.QUEUED], "InvoiceModRq") > 0


def _untouchable(
    request: QueuedRequest, invoices: dict[str, Invoice], rule: UnsentInvoices
) -> str | None:
    """Why a modification must not be sent, given QuickBooks' fresh state (None: it may).

    Only an InvoiceMod can touch what invariant 5 protects: its invoice must still be
    there, neither settled nor sent.
    """
    if request.kind != "InvoiceModRq":
        return None
    target = parse_xml(request.qbxml, source="queued request").findtext(
        "QBXMLMsgsRq/InvoiceModRq/InvoiceMod/TxnID"
    )
    invoice = invoices.get((target or "").strip())
    if invoice is None:
        return (
            f"invoice {target} was not where QuickBooks was read (deleted, or moved out of "
            "the billing windows) since the plan was made"
        )
    number = invoice.ref_number or invoice.txn_id
    if invoice.is_settled:
        return f"invoice #{number} has a payment or credit applied since the plan was made"
    if invoice.is_sent(rule):
        return (
            f"invoice #{number} was sent since the plan was made (it is no longer marked "
            "Print later or Email later)"
        )
    return None


def _invoice_guids(documents: list[str]) -> dict[str, str]:
    """The TxnID of every invoice the documents hold, by its ExternalGUID."""
    try:
        return {
            canonical_guid(guid): txn_id
            for document in documents
            if "<InvoiceRet" in document  # the customers' and items' documents hold none
            for txn_id, guid in read_fields(document, "InvoiceRet", ("TxnID", "ExternalGUID"))
            if guid and txn_id
        }
    except QbxmlParseError as exc:
        raise incomplete_state(exc) from None


def _parse_state(documents: list[str]) -> QBState:
    try:
        return parse_state(d.encode("utf-8") for d in documents)
    except QbxmlParseError as exc:
        raise incomplete_state(exc) from None

"""Refresh: read what planning needs of QuickBooks, step by step, iterators followed.

Every customer and item (small lists, so that a customer or item mapped since
is never taken for missing); then the invoices of the mapped customers in the
billing windows around today; then every invoice reconciler created that those
did not hold, by TxnID, wherever it moved and whatever its date (one
QuickBooks no longer has is recorded as deleted). Each response is kept as a
session document; once the last is in, they become a snapshot (its
fingerprint is what ``apply`` compares a plan's with), with its coverage:
which invoice dates and whose invoices it read, so that a plan tells "not
read" from "absent".

After the writes, the refresh runs again from the invoices (from the items
when a cost changed), so that planning again is empty.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from reconciler.engine.coverage import Coverage
from reconciler.engine.period import invoice_day_after, invoice_day_on_or_before
from reconciler.model.quickbooks import Customer, Invoice, TxnHeader
from reconciler.plan.profile import Profile
from reconciler.qbwc.run.call import RunCall, RunLimits, mapped_customers
from reconciler.qbwc.run.failure import incomplete_state
from reconciler.qbwc.run.queries import more_pages, query_document, refuse_errors
from reconciler.qbwc.run.state import (
    CREATED,
    CUSTOMERS,
    HOST_DOCUMENT,
    INVOICES,
    ITEMS,
    REFRESH_STEPS,
    Pending,
    Phase,
    RunState,
)
from reconciler.qbxml.parse import QbxmlParseError, Response, read_fields
from reconciler.qbxml.queries import CustomerQuery, InvoiceQuery, ItemQuery, Query
from reconciler.qbxml.queries import Iterator as IteratorMode
from reconciler.store import Store

log = logging.getLogger("reconciler.qbwc")

# QuickBooks' status for a ListID or TxnID it does not have.
OBJECT_NOT_FOUND = 3120


def next_step(run: RunCall) -> bool:
    """Move past the steps with nothing to read: whether one is left (its query goes next)."""
    state = run.state
    while state.step < len(REFRESH_STEPS) and not _step_needed(run):
        state.step += 1
    return state.step < len(REFRESH_STEPS)


def query(run: RunCall) -> str:
    """The document of the current step's query (its next page, when it has pages)."""
    step_query = _step_query(run)
    document = query_document(run, [step_query], kind="refresh")
    if isinstance(step_query, InvoiceQuery) and step_query.txn_ids:
        assert run.state.pending is not None
        run.state.pending["txn_ids"] = list(step_query.txn_ids)
    return document


def take_answer(run: RunCall, pending: Pending, answers: list[Response], document: str) -> None:
    """Keep the step's response as a session document and move on: its next page, the
    next step, or the end of the refresh."""
    state = run.state
    answer = answers[0]
    step = REFRESH_STEPS[state.step]
    if step == CREATED and answer.status.code == OBJECT_NOT_FOUND:
        _created_not_found(run, pending["txn_ids"], answer)
        return
    refuse_errors(answers)
    state.done_steps += 1
    run.store.sessions.add_document(run.session.id, step, document)
    if step == CUSTOMERS:
        mapped = mapped_customers(run.profile)
        state.customer_ids += [
            o.list_id
            for o in answer.objects
            if isinstance(o, Customer) and o.full_name.casefold() in mapped
        ]
    if step == CREATED:
        _created_read(run, pending["txn_ids"], answer)
        return
    if not more_pages(state, answer):
        if step == INVOICES:
            # The last page was just read whole: what it holds need not be read again.
            state.created_pending = _created_to_read(run, _txn_ids(answer))
        state.step += 1


def completes_refresh(
    store: Store, limits: RunLimits, company_id: int, state: RunState, responses: list[Response]
) -> bool:
    """Whether this response to a refresh query is the refresh's last one (when in
    doubt, no: the snapshot then reads the state within the transaction). Reads only:
    asked outside the store transaction."""
    if state.phase != Phase.REFRESH or not responses:
        return False
    answer = responses[0]
    if answer.iterator_remaining_count and answer.iterator_id:
        return False
    step = REFRESH_STEPS[state.step]
    if step == CREATED:
        return answer.status.code != OBJECT_NOT_FOUND and len(state.created_pending or []) <= len(
            _created_batch(limits, state)
        )
    return step == INVOICES and not any(
        c.deleted_at is None for c in store.created_invoices.for_company(company_id)
    )


def start_after_changes(run: RunCall) -> None:
    """Read again what the run changed: invoices, and items if their costs changed.

    Customers are never written, so the documents read at the start (and the
    mapped customers found in them) stand.
    """
    state = run.state
    state.phase = Phase.REFRESH
    state.after_changes = True
    state.step = REFRESH_STEPS.index(ITEMS if state.items_changed else INVOICES)
    state.created_pending = None
    state.created_single = False
    keep = (HOST_DOCUMENT, CUSTOMERS) if state.items_changed else (HOST_DOCUMENT, CUSTOMERS, ITEMS)
    run.store.sessions.clear_documents(run.session.id, keep=keep)


def take_snapshot(run: RunCall) -> None:
    """Store the refresh's documents as a snapshot, with its coverage.

    Its fingerprint is computed by whoever needs it first (plan, apply), not
    here: a run only needs the state when there is something to settle.
    """
    state = run.state
    assert state.version is not None
    snapshot = run.store.snapshots.save_from_session(
        run.company_id,
        run.session.id,
        taken_at=run.now,
        qbxml_version=state.version,
        coverage=_coverage(run).to_dict(),
    )
    # The host, customer and item documents open the refresh after the changes.
    if state.after_changes:
        run.store.sessions.clear_documents(run.session.id)
    state.snapshot_version = snapshot.version
    run.store.errors.resolve_run(run.company_id, run.now)
    log.info("company %d: snapshot %d taken", run.company_id, snapshot.version)


def refresh_window(profile: Profile, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The invoice dates a refresh reads: the billing windows before, around and after today.

    A plan bills the window of its charges' period: the current one, the next
    (advance billing planned before the invoice day) or the last (arrears).
    Reading all three keeps every plan's invoices in the snapshot.
    """
    today = now.astimezone(ZoneInfo(profile.timezone)).date()
    current = invoice_day_on_or_before(today, profile.invoice_day)
    previous = invoice_day_on_or_before(current - dt.timedelta(days=1), profile.invoice_day)
    following = invoice_day_after(
        invoice_day_after(today, profile.invoice_day), profile.invoice_day
    )
    return previous, following - dt.timedelta(days=1)


def _step_needed(run: RunCall) -> bool:
    """Whether the refresh step ``state.step`` has anything to read."""
    state = run.state
    step = REFRESH_STEPS[state.step]
    if step == INVOICES:
        return bool(state.customer_ids)  # an empty filter would read every invoice
    if step == CREATED:
        if state.created_pending is None:
            state.created_pending = _created_to_read(run)
        return bool(state.created_pending)
    return True


def _step_query(run: RunCall) -> Query:
    state, limits = run.state, run.limits
    step = REFRESH_STEPS[state.step]
    iterator: IteratorMode = "Continue" if state.iterator_id else "Start"
    if step == CUSTOMERS:
        return CustomerQuery(
            max_returned=limits.list_page, iterator=iterator, iterator_id=state.iterator_id
        )
    if step == ITEMS:
        return ItemQuery(
            max_returned=limits.list_page, iterator=iterator, iterator_id=state.iterator_id
        )
    if step == CREATED:
        return InvoiceQuery(txn_ids=tuple(_created_batch(limits, state)))
    if state.invoice_dates is None or not state.iterator_id:
        first, last = refresh_window(run.profile, run.now)
        state.invoice_dates = [first.isoformat(), last.isoformat()]
    first, last = (dt.date.fromisoformat(day) for day in state.invoice_dates)
    return InvoiceQuery(
        customer_list_ids=tuple(state.customer_ids),
        txn_date_from=first,
        txn_date_to=last,
        include_line_items=True,
        include_linked_txns=True,
        max_returned=limits.invoice_page,
        iterator=iterator,
        iterator_id=state.iterator_id,
    )


def _coverage(run: RunCall) -> Coverage:
    """What the refresh read of the invoices, for plans to tell "not read" from "absent"."""
    state = run.state
    if state.invoice_dates is None:  # no mapped customer: no invoice query
        first, last = refresh_window(run.profile, run.now)
    else:
        first, last = (dt.date.fromisoformat(day) for day in state.invoice_dates)
    return Coverage(
        first=first,
        last=last,
        customer_ids=frozenset(state.customer_ids),
        mapped_customers=mapped_customers(run.profile),
        deleted_guids=frozenset(
            c.external_guid
            for c in run.store.created_invoices.for_company(run.company_id)
            if c.deleted_at is not None
        ),
    )


# ------------------------------------------------------- created invoices, by TxnID


def _created_to_read(run: RunCall, last_page: set[str] | None = None) -> list[str]:
    """The TxnIDs of the created invoices QuickBooks still has that this refresh has
    not read with the customers' invoices (``last_page``: the TxnIDs of the invoice
    page stored last, when they are known already)."""
    created = run.store.created_invoices.for_company(run.company_id)
    alive = [c.txn_id for c in created if c.deleted_at is None]
    if not alive:
        return []  # nothing to look for: the documents need not be read again
    documents = run.store.sessions.documents(run.session.id, INVOICES)
    if last_page is not None:
        documents = documents[:-1]
    read = _invoice_txn_ids(documents) | (last_page or set())
    return [txn_id for txn_id in alive if txn_id not in read]


def _created_batch(limits: RunLimits, state: RunState) -> list[str]:
    """The TxnIDs the next created-invoices query asks for."""
    size = 1 if state.created_single else limits.created_batch
    return (state.created_pending or [])[:size]


def _created_read(run: RunCall, asked: list[str], answer: Response) -> None:
    """Created invoices read by TxnID: one asked for and not returned is gone."""
    state = run.state
    returned = {o.txn_id for o in answer.objects if isinstance(o, Invoice)}
    for txn_id in asked:
        if txn_id not in returned:
            _created_gone(run, txn_id)
    state.created_pending = (state.created_pending or [])[len(asked) :]
    if not state.created_pending:
        state.step += 1


def _created_not_found(run: RunCall, asked: list[str], answer: Response) -> None:
    """QuickBooks refused a TxnID query (3120): one of the invoices is gone.

    It names the first TxnID it does not have: that one is recorded as
    deleted and the others are asked again. When the message names none of
    them, they are asked one at a time to find it.
    """
    state = run.state
    named = [txn_id for txn_id in asked if f'"{txn_id}"' in answer.status.message]
    if not named and len(asked) > 1:
        state.created_single = True
        return
    gone = (named or asked)[0]
    _created_gone(run, gone)
    state.created_pending = [t for t in state.created_pending or [] if t != gone]
    if not state.created_pending:
        state.step += 1


def _created_gone(run: RunCall, txn_id: str) -> None:
    log.warning(
        "company %d: invoice %s, which reconciler created, is no longer in QuickBooks",
        run.company_id,
        txn_id,
    )
    run.store.created_invoices.mark_deleted(run.company_id, txn_id, run.now)


def _invoice_txn_ids(documents: list[str]) -> set[str]:
    """The TxnIDs of the invoices these query responses hold."""
    try:
        return {
            txn_id
            for document in documents
            for (txn_id,) in read_fields(document, "InvoiceRet", ("TxnID",))
            if txn_id
        }
    except QbxmlParseError as exc:
        raise incomplete_state(exc) from None


def _txn_ids(answer: Response) -> set[str]:
    """The TxnIDs of the invoices a query response holds (whole or in part), as
    :func:`_invoice_txn_ids` reads them from its document."""
    return {
        o.txn_id
        for o in answer.objects
        if (isinstance(o, Invoice) or (isinstance(o, TxnHeader) and o.object_type == "Invoice"))
        and o.txn_id
    }

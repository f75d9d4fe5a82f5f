"""Write: the queued requests in plan order, in batches, each matched to its answer.

Requests that share a qbXML version go together in one document (stopOnError:
QuickBooks stops at the first error), each with its requestID. An answer that
went through is done (the TxnID of every invoice added is recorded with its
ExternalGUID). Lock errors (3170-3180) are sent again a bounded number of
times after a pause; 3200 marks the plan stale and nothing more of it is sent
(design invariant 4); other errors go to the status list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.qbwc.run.call import RunCall
from reconciler.qbwc.run.failure import CHECK_QUICKBOOKS, RunFailed, unanswered
from reconciler.qbwc.run.results import created_invoice, plan_stale
from reconciler.qbwc.run.state import Pending
from reconciler.qbxml.render import render_document
from reconciler.qbxml.status import Action, Severity, Status
from reconciler.qbxml.version import version_key
from reconciler.store.records import (
    CreatedInvoice,
    NewStatusError,
    QueuedRequest,
    RequestState,
    ResponseRecord,
)

log = logging.getLogger("reconciler.qbwc")

# The request processor's HRESULT for a request it could not parse: nothing
# reached the company file.
PARSE_ERROR_HRESULT = "0x80040400"

_VERSION_PI = re.compile(r'<\?qbxml\s+version\s*=\s*"([0-9.]+)"\s*\?>')


@dataclass(frozen=True)
class WriteAnswer:
    """QuickBooks' answer to one write: its status and what it wrote."""

    status: Status
    object_id: str | None  # TxnID or ListID of the object written
    raw: str  # the response element, as the store keeps it


def has_next(run: RunCall) -> bool:
    """Whether a queued request is fit to send; settles those that must not go (rendered
    for a newer qbXML than this QuickBooks speaks: their plan is stale)."""
    state = run.state
    while requests := run.store.queue.next(run.company_id):
        request = requests[0]
        rendered = _version_of(request.qbxml)
        if rendered and state.version and version_key(rendered) > version_key(state.version):
            run.store.queue.finish(request.id, RequestState.STALE, run.now, None)
            plan_stale(
                run,
                request,
                f"the plan was rendered for qbXML {rendered} and this QuickBooks "
                f"speaks {state.version}",
            )
            continue
        return True
    return False


def batch_document(run: RunCall) -> str:
    """The next batch's document; its requests are marked sent, and the snapshot outdated."""
    batch = _batch(run)
    # From here the snapshot may no longer be what QuickBooks holds: plans
    # made from it are refused until a run has read QuickBooks again.
    run.store.snapshots.mark_outdated(run.company_id)
    run.store.queue.mark_all_sent([r.id for r in batch], session_id=run.session.id, at=run.now)
    for request in batch:
        log.info("sending %s (%s)", request.label, request.request_id)
    run.state.pending = {
        "kind": "write",
        "request_ids": [r.request_id for r in batch],
        "queue_ids": [r.id for r in batch],
    }
    if len(batch) == 1:
        return batch[0].qbxml  # exactly the document the plan holds
    version = _version_of(batch[0].qbxml)
    assert version is not None
    # Each element comes from a queued document: rendered by render_document, and
    # checked by the apply guard to hold exactly one request element.
    return render_document(
        [_request_element(r.qbxml) for r in batch],
        version=version,
        on_error="stopOnError",
        checked=True,
    )


def read_answers(document: str) -> dict[str, WriteAnswer]:
    """Each write's status and written object, by requestID (reads only: called outside
    the store transaction).

    Writes are read for their status and the ID of what they wrote, nothing
    more: the refresh after the changes reads the objects themselves.
    """
    root = parse_xml(document, source="response")
    messages = root.find("QBXMLMsgsRs")
    answers = {}
    for rs in [] if messages is None else messages:
        if not isinstance(rs.tag, str):
            continue
        try:
            code = int(rs.get("statusCode", ""))
        except ValueError:
            raise XMLInputError(f"response: {rs.tag} has no valid statusCode") from None
        ret = next((child for child in rs if isinstance(child.tag, str)), None)
        object_id = None if ret is None else (ret.findtext("TxnID") or ret.findtext("ListID"))
        answers[rs.get("requestID", "")] = WriteAnswer(
            Status.from_code(code, rs.get("statusMessage", "")),
            object_id,
            etree.tostring(rs, encoding="unicode"),
        )
    return answers


def take_answers(run: RunCall, pending: Pending, answers: dict[str, WriteAnswer]) -> None:
    """The answers to a document of writes, each matched by its requestID."""
    store, now = run.store, run.now
    sent = list(zip(pending["queue_ids"], pending["request_ids"], strict=True))
    answered = [(q, answers[r]) for q, r in sent if r in answers]
    missing = [q for q, r in sent if r not in answers]
    stopped = any(a.status.severity is Severity.ERROR for _, a in answered)
    if missing and stopped:
        # QuickBooks stopped at an error: it never processed the rest.
        for queue_id in missing:
            store.queue.requeue(queue_id, now, unsent=True)
    # The batch's requests in one read: they are the company's sent ones.
    sent_requests = {r.id: r for r in store.queue.awaiting_outcome(run.company_id)}
    done: list[tuple[int, ResponseRecord | None]] = []
    created: list[CreatedInvoice] = []
    for queue_id, answer in answered:
        request = sent_requests.get(queue_id) or store.queue.get(queue_id)
        if answer.status.action is not Action.NONE:
            # Recorded in the order QuickBooks answered: what went through first.
            store.queue.finish_all(done, RequestState.DONE, now)
            done = []
        _take_answer(run, request, answer, done, created)
    store.queue.finish_all(done, RequestState.DONE, now)
    if created:
        store.created_invoices.record(run.company_id, created, now)
    if missing and not stopped:
        # Left sent: the next run settles them against what QuickBooks holds.
        raise unanswered(pending["request_ids"][0])


def not_processed(run: RunCall, pending: Pending, hresult: str, message: str) -> RunFailed:
    """The failure of a run whose writes QuickBooks' request processor refused (no qbXML
    response): each is listed; when QuickBooks could not even read the document, nothing
    was written and they are failed."""
    requests = [run.store.queue.get(q) for q in pending["queue_ids"]]
    unread = hresult.lower() == PARSE_ERROR_HRESULT
    what = CHECK_QUICKBOOKS
    if unread:
        what = (
            "QuickBooks could not read the request: a bug in reconciler; please report it "
            "with the output of `reconcile status`."
        )
    errors = []
    for request in requests:
        if unread:
            run.store.queue.finish(request.id, RequestState.FAILED, run.now, None)
        # Otherwise the outcome is unknown: the request stays sent, and the next
        # run settles it against what QuickBooks then holds.
        errors.append(
            NewStatusError(request.label, hresult, message, what, request.id, request.plan_id)
        )
    return RunFailed(
        f"QuickBooks could not process {requests[0].label} ({hresult}: {message}).", *errors
    )


def _take_answer(
    run: RunCall,
    request: QueuedRequest,
    answer: WriteAnswer,
    done: list[tuple[int, ResponseRecord | None]],
    created: list[CreatedInvoice],
) -> None:
    """Record QuickBooks' answer to one write; one that went through joins ``done``
    (its request and response, recorded with the others of the batch), and the
    invoice an InvoiceAdd created joins ``created``."""
    state, store, now = run.state, run.store, run.now
    status = answer.status
    record = ResponseRecord(
        request_id=request.id,
        session_id=run.session.id,
        received_at=now,
        status_code=status.code,
        status_severity=status.severity.value,
        status_message=status.message,
        txn_id=answer.object_id,
        document=answer.raw,
    )
    state.done_steps += 1
    if status.action is Action.NONE:
        done.append((request.id, record))
        invoice = None if answer.object_id is None else created_invoice(request, answer.object_id)
        if invoice is not None:
            created.append(invoice)
        if request.attempts > 1:  # only a request sent before can have errors
            store.errors.resolve_request(run.company_id, request.id, now)
        state.applied += 1
        state.changed = True
        state.items_changed = state.items_changed or request.kind.startswith("Item")
        return
    if status.action is Action.RETRY and request.attempts < run.limits.lock_attempts:
        log.info("%s: %s; sent again after a pause", request.label, status.message)
        store.queue.finish(request.id, RequestState.QUEUED, now, record)
        state.pause = True
        return
    if status.action is Action.REPLAN:
        store.queue.finish(request.id, RequestState.STALE, now, record)
        plan_stale(run, request, f"{status.code}: {status.message}")
        return
    store.queue.finish(request.id, RequestState.FAILED, now, record)
    what = status.explanation
    if status.action is Action.RETRY:
        what = (
            f"Still locked after {request.attempts} tries: close the record in QuickBooks "
            "(another user may be editing it); the next run tries again."
        )
    run.record_error(
        NewStatusError(
            object=request.label,
            code=str(status.code),
            message=status.message,
            what_to_do=what,
            request_id=request.id,
            plan_id=request.plan_id,
        )
    )


def _batch(run: RunCall) -> list[QueuedRequest]:
    """The next queued requests that can share a document: same qbXML version, and
    distinct requestIDs (responses are matched by them)."""
    candidates = run.store.queue.next(run.company_id, run.limits.batch_size)
    version = _version_of(candidates[0].qbxml)
    batch: list[QueuedRequest] = []
    for request in candidates:
        if _version_of(request.qbxml) != version or any(
            r.request_id == request.request_id for r in batch
        ):
            break
        batch.append(request)
    return batch


def _version_of(qbxml: str) -> str | None:
    """The qbXML version a request document declares."""
    found = _VERSION_PI.search(qbxml)
    return found.group(1) if found else None


def _request_element(qbxml: str) -> str:
    """The one request element of a queued document, to share a document with others."""
    start = qbxml.index(">", qbxml.index("<QBXMLMsgsRq")) + 1
    return qbxml[start : qbxml.rindex("</QBXMLMsgsRq>")].strip()

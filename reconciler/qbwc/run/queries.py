"""The run's queries: documents of them with their requestIDs, and the answers matched back.

Sign-in, refresh and the settle phase's look-up all ask QuickBooks this way;
writes have their own documents (:mod:`reconciler.qbwc.run.write`).
"""

from __future__ import annotations

from reconciler.qbwc.run.call import RunCall
from reconciler.qbwc.run.failure import CHECK_QUICKBOOKS, RunFailed, unanswered, unreadable
from reconciler.qbwc.run.state import Pending, RunState
from reconciler.qbxml.parse import Response
from reconciler.qbxml.queries import Query
from reconciler.qbxml.render import render_document, render_request
from reconciler.qbxml.status import Severity
from reconciler.store.records import NewStatusError


def query_document(
    run: RunCall, queries: list[Query], *, kind: str, version: str | None = None
) -> str:
    """A document asking ``queries`` (in the run's qbXML version unless ``version`` says
    another), each with a requestID of its own; it becomes what is pending."""
    state = run.state
    speak = version or state.version
    assert speak is not None
    elements, ids = [], []
    for query in queries:
        state.query_seq += 1
        ids.append(f"q{run.session.id}-{state.query_seq}")
        elements.append(render_request(query, version=speak, request_id=ids[-1]))
    state.pending = {"kind": kind, "request_ids": ids}
    return render_document(elements, version=speak, on_error="continueOnError", checked=True)


def matching(
    responses: list[Response] | None, problem: str | None, pending: Pending
) -> list[Response]:
    """The responses to what was sent, by requestID; RunFailed when the document could not
    be read (``problem`` says why) or one is absent."""
    if responses is None:
        raise unreadable(problem)
    by_id = {r.request_id: r for r in responses}
    matched = [by_id.get(request_id) for request_id in pending["request_ids"]]
    found = [r for r in matched if r is not None]
    if len(found) != len(matched):
        raise unanswered(pending["request_ids"][0])
    return found


def refuse_errors(answers: list[Response]) -> None:
    """RunFailed at the first query QuickBooks refused: a run reads all it asks or stops."""
    for answer in answers:
        if answer.status.severity is Severity.ERROR:
            raise RunFailed(
                f"QuickBooks refused the {answer.request_type} query "
                f"({answer.status.code}: {answer.status.message}).",
                NewStatusError(
                    object=f"{answer.request_type} query",
                    code=str(answer.status.code),
                    message=answer.status.message,
                    what_to_do=answer.status.explanation,
                ),
            )


def query_not_processed(hresult: str, message: str) -> RunFailed:
    """The failure of a run whose query QuickBooks' request processor refused."""
    return RunFailed(
        f"QuickBooks could not process a query ({hresult}: {message}).",
        NewStatusError("QuickBooks request processor", hresult, message, CHECK_QUICKBOOKS),
    )


def more_pages(state: RunState, answer: Response) -> bool:
    """Whether QuickBooks' iterator has more to return (kept in ``state``, else forgotten)."""
    if answer.iterator_remaining_count and answer.iterator_id:
        state.iterator_id = answer.iterator_id
        state.iterator_remaining = answer.iterator_remaining_count
        return True
    state.iterator_id = state.iterator_remaining = None
    return False

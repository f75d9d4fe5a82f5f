"""`reconcile status` and the last run agree about errors, and calls the server refused
(malformed, unauthenticated, out of turn) are counted apart, never as sync errors."""

from __future__ import annotations

from lxml import etree
from support.qbwc import HTTP, PASSWORD, envelope
from support.sync_world import USERNAME, world

from reconciler.api.views import status_document, status_from_document
from reconciler.sandbox.by_hand import human_edit
from reconciler.status.report import STATUS_PLANS, resolved_note, status_lines
from reconciler.status.view import read_status
from reconciler.store.records import RejectReason

QBWC = "{http://developer.intuit.com/}"


def _call(w, operation: str, **args: str) -> str | list[str]:
    answer = HTTP.post(w.url, content=envelope(operation, **args))
    result = etree.fromstring(answer.content).find(f".//{QBWC}{operation}Result")
    assert result is not None, answer.text
    strings = [s.text or "" for s in result]
    return strings or (result.text or "")


def _status(w) -> list[str]:
    company = w.store.companies.get(w.company.id)
    return status_lines(read_status(w.store, company, w.clock.now(), plans=STATUS_PLANS))


def _line(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix))


def test_calls_out_of_turn_in_a_session_are_rejected_not_the_runs_errors(tmp_path):
    # What was seen: after such calls, "applied 0 changes, 2 errors" over "Errors: none".
    with world(tmp_path) as w:
        assert w.sync().ok
        w.clock.advance(days=1)
        ticket, _ = _call(w, "authenticate", strUserName=USERNAME, strPassword=PASSWORD)
        for _ in range(2):
            assert _call(w, "receiveResponseXML", ticket=ticket, response="garbage") == "-1"
        # The run goes on as if they had not come.
        assert "<HostQueryRq" in _call(w, "sendRequestXML", ticket=ticket)
        _call(w, "closeConnection", ticket=ticket)
        lines = _status(w)
        assert _line(lines, "Last run:").endswith("applied 0 changes")
        assert "Errors: none" in lines
        assert _line(lines, "Rejected calls:").startswith("Rejected calls: 2 (2 out of turn)")
        assert "none is a sync error" in _line(lines, "Rejected calls:")
        assert w.store.errors.unresolved(w.company.id) == []


def test_every_error_the_run_counts_is_in_the_status_list(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        w.clock.advance(days=1)
        ticket, _ = _call(w, "authenticate", strUserName=USERNAME, strPassword=PASSWORD)
        assert "<HostQueryRq" in _call(w, "sendRequestXML", ticket=ticket)
        # An answer that is not qbXML: the run stops, and says so where status looks.
        assert _call(w, "receiveResponseXML", ticket=ticket, response="garbage") == "-1"
        _call(w, "closeConnection", ticket=ticket)
        lines = _status(w)
        assert _line(lines, "Last run:").endswith("applied 0 changes, 1 error")
        assert "Errors (1 unresolved):" in lines
        [error] = w.store.errors.unresolved(w.company.id)
        assert error.code == "run-stopped" and "could not be read" in error.message
        assert w.store.rejected_calls.by_reason() == []
        # The next good run resolves it.
        assert w.sync().ok
        assert w.store.errors.unresolved(w.company.id) == []


def test_errors_resolved_since_the_last_run_are_said_so(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()
        update = next(c for c in document["changes"] if c["action"] == "update-invoice")
        human_edit(w.qb, update["invoice"]["txn_id"])
        w.apply(document)
        assert "1 error" in w.sync().status  # 3200: the plan is stale
        lines = _status(w)
        assert _line(lines, "Last run:").endswith(", 1 error")
        assert "Errors (1 unresolved):" in lines
        # A new plan replaces the stale one and resolves its error; the run is still the last.
        w.apply(w.plan())
        lines = _status(w)
        assert _line(lines, "Last run:").endswith(", 1 error (resolved since)")
        assert "Errors: none" in lines


def test_rejected_calls_travel_through_the_api_unchanged(tmp_path):
    with world(tmp_path) as w:
        w.store.rejected_calls.record(RejectReason.MALFORMED, w.clock.now())
        w.store.rejected_calls.record(RejectReason.MALFORMED, w.clock.now())
        w.store.rejected_calls.record(RejectReason.SIGN_IN, w.clock.now())
        company = w.store.companies.get(w.company.id)
        view = read_status(w.store, company, w.clock.now(), plans=STATUS_PLANS)
        document = status_document(view)
        assert document["rejected_calls"][0] == {
            "reason": "malformed",
            "count": 2,
            "first_at": document["rejected_calls"][0]["first_at"],
            "last_at": document["rejected_calls"][0]["last_at"],
        }
        again = status_from_document(document, w.clock.now())
        assert again == view
        assert status_lines(again) == status_lines(view)
        assert "3 (2 malformed, 1 failed sign-ins)" in _line(status_lines(again), "Rej")


def test_how_resolved_errors_are_said():
    assert resolved_note(3, 0) == ""
    assert resolved_note(3, 1) == " (1 resolved since)"
    assert resolved_note(3, 3) == " (resolved since)"

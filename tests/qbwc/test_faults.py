"""Faults around a run, each followed by the design's invariants."""

from __future__ import annotations

import re
import threading

import pytest
from support.invariants import assert_invariants
from support.sync_world import world

from reconciler.qbwc.run import RunLimits
from reconciler.sandbox.by_hand import human_edit
from reconciler.store.records import PlanStatus, RequestState


def _first(kind: str, action):
    """A request hook that runs ``action`` once, before the first request of ``kind``."""
    fired = []

    def hook(request: str) -> None:
        if f"<{kind}" in request and not fired:
            fired.append(request)
            action()

    return hook, fired


def _settle(w, before):
    """Plan and apply again until nothing is left; then check the invariants."""
    for _ in range(3):
        document = w.plan()
        if not document["changes"]:
            break
        w.apply(document)
        assert w.sync().ok
    assert_invariants(w, before)


def _sent_again(result, requests) -> list[str]:
    """Which of ``requests`` the run sent to QuickBooks again."""
    sent = str([answer for op, _, answer in result.calls if op == "sendRequestXML"])
    return [r.request_id for r in requests if f'requestID="{r.request_id}"' in sent]


def test_invoice_adds_whose_response_is_lost_are_looked_for_before_any_resend(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        applied = w.apply(w.plan())
        hook, _ = _first("InvoiceAddRq", lambda: w.simulator.faults.lose_next_response())
        w.on_request(hook)
        broken = w.sync()
        assert not broken.ok and "QBWC1042" in broken.status
        lost = w.store.queue.requests(w.company.id, [RequestState.SENT])
        adds = [r for r in lost if r.kind == "InvoiceAddRq"]
        assert adds
        # QuickBooks did add them (the answer was lost after it committed).
        guids = [i["external_guid"] for i in w.invoices().values()]
        assert all(guids.count(r.external_guid.strip("{}").lower()) == 1 for r in adds)
        # The dropped session holds the company until it goes quiet...
        assert w.sync().status == "Update postponed by application"
        w.clock.advance(minutes=4)
        result = w.sync()
        assert result.ok, result.status
        assert _sent_again(result, lost) == []
        for request in adds:
            [response] = w.store.queue.responses(request.id)
            assert "ExternalGUID" in response.status_message and response.txn_id
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.DONE
        assert_invariants(w, before)


def test_a_queued_add_quickbooks_already_holds_is_found_and_not_sent(tmp_path):
    # What a store that lost its last commits to a power cut would hold: the
    # add went out and QuickBooks saved it, but the store still has it queued.
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        w.apply(w.plan())
        queued = w.store.queue.requests(w.company.id, [RequestState.QUEUED])
        add = next(r for r in queued if r.kind == "InvoiceAddRq")
        w.simulator.begin_session()
        w.simulator.process(add.qbxml)
        w.simulator.end_session()
        result = w.sync()
        assert result.ok, result.status
        assert _sent_again(result, [add]) == []
        [response] = w.store.queue.responses(add.id)
        assert "found by its ExternalGUID" in response.status_message and response.txn_id
        assert w.store.queue.get(add.id).state is RequestState.DONE
        others = [r for r in queued if r.id != add.id]
        assert all(w.store.queue.get(r.id).state is RequestState.DONE for r in others)
        assert_invariants(w, before)


def test_a_garbled_response_after_commit_is_settled_too(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        w.apply(w.plan())
        original = w.simulator.process
        garbled = []

        def process(request: str) -> str:
            answer = original(request)
            if "<InvoiceAddRq" in request and not garbled:
                garbled.append(request)
                return answer[: len(answer) // 2]
            return answer

        w.simulator.process = process
        broken = w.sync()
        assert not broken.ok
        assert "could not be read" in broken.status
        lost = w.store.queue.requests(w.company.id, [RequestState.SENT])
        assert lost
        result = w.sync()
        assert result.ok and _sent_again(result, lost) == []
        assert_invariants(w, before)


@pytest.mark.parametrize("kind", ["InvoiceModRq", "ItemServiceModRq"])
def test_modifications_whose_response_is_lost_are_found_applied(tmp_path, kind):
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        applied = w.apply(w.plan())
        hook, _ = _first(kind, lambda: w.simulator.faults.lose_next_response())
        w.on_request(hook)
        assert not w.sync().ok
        lost = w.store.queue.requests(w.company.id, [RequestState.SENT])
        assert any(r.kind == kind for r in lost)
        w.clock.advance(minutes=4)
        result = w.sync()
        assert result.ok and result.status.startswith("Applied"), result.status
        # Not sent a second time: QuickBooks already reads as they asked.
        assert _sent_again(result, lost) == []
        for request in lost:
            assert "not sent again" in w.store.queue.responses(request.id)[-1].status_message
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.DONE
        assert_invariants(w, before)


def test_lost_requests_that_never_reached_quickbooks_are_sent_again(tmp_path):
    from reconciler.sandbox.status import ResponseLost

    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        applied = w.apply(w.plan())

        def drop() -> None:
            raise ResponseLost("")

        hook, _ = _first("InvoiceModRq", drop)  # lost on the way, before QuickBooks
        w.on_request(hook)
        assert not w.sync().ok
        lost = w.store.queue.requests(w.company.id, [RequestState.SENT])
        assert lost
        w.clock.advance(minutes=4)
        result = w.sync()
        assert result.ok
        assert sorted(_sent_again(result, lost)) == sorted(r.request_id for r in lost)
        assert all(w.store.queue.get(r.id).attempts == 2 for r in lost)
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.DONE
        assert_invariants(w, before)


def test_a_lost_modification_then_a_human_edit_asks_for_a_new_plan(tmp_path):
    with world(tmp_path, limits=RunLimits(batch_size=1)) as w:
        w.sync()
        before = w.invoices()
        applied = w.apply(w.plan())
        hook, fired = _first("InvoiceModRq", w.simulator.faults.lose_next_response)
        w.on_request(hook)
        assert not w.sync().ok
        txn_id = re.search(r"<TxnID>([^<]+)</TxnID>", fired[0]).group(1)

        def edit(invoice) -> None:
            # A person changes the quantity of the line the plan added.
            list(invoice.iter("InvoiceLineRet"))[-1].find("Quantity").text = "99"

        human_edit(w.qb, txn_id, edit=edit)
        w.clock.advance(minutes=4)
        result = w.sync()
        assert "error" in result.status
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.STALE
        [error] = w.store.errors.unresolved(w.company.id)
        assert "changed otherwise" in error.message and "reconcile plan" in error.what_to_do
        _settle(w, before)


def test_a_lock_error_is_retried_after_a_pause_then_succeeds(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        applied = w.apply(w.plan())
        hook, _ = _first("InvoiceModRq", lambda: w.simulator.faults.lock_next(1, code=3170))
        w.on_request(hook)
        result = w.sync()
        assert result.ok and result.status.startswith(f"Applied {applied.requests} changes")
        assert w.sleeps == [w.web_connector.noop_wait]  # one NoOp pause
        retried = [r for r in w.store.queue.requests(w.company.id) if r.attempts == 2]
        assert len(retried) == 1 and retried[0].state is RequestState.DONE
        assert [s.status_code for s in w.store.queue.responses(retried[0].id)] == [3170, 0]
        assert w.store.errors.unresolved(w.company.id) == []
        assert_invariants(w, before)


def test_a_lock_that_lasts_fails_after_bounded_retries_and_the_next_run_retries(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        w.apply(w.plan())
        hook, _ = _first("InvoiceModRq", lambda: w.simulator.faults.lock_next(3, code=3175))
        w.on_request(hook)
        result = w.sync()
        assert "1 error" in result.status and "reconcile status" in result.status
        [error] = w.store.errors.unresolved(w.company.id)
        assert error.code == "3175" and "Still locked after 3 tries" in error.what_to_do
        [failed] = w.store.queue.requests(w.company.id, [RequestState.FAILED])
        assert failed.attempts == 3
        assert len(w.sleeps) == 2
        # The record is closed; Update Selected sends it again.
        assert w.sync().ok
        assert w.store.queue.get(failed.id).state is RequestState.DONE
        assert w.store.errors.unresolved(w.company.id) == []
        assert_invariants(w, before)


def test_a_human_edit_between_plan_and_apply_stops_the_plan(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        document = w.plan()
        update = next(c for c in document["changes"] if c["action"] == "update-invoice")
        txn_id = update["invoice"]["txn_id"]
        edited = human_edit(w.qb, txn_id)
        human_lines = [line.findtext("Desc") for line in edited.iter("InvoiceLineRet")]
        before = w.invoices()
        applied = w.apply(document)  # no sync since the plan: the snapshot is unchanged
        result = w.sync()
        assert "error" in result.status
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.STALE
        [error] = w.store.errors.unresolved(w.company.id)
        assert error.code == "3200" and txn_id[:4] not in ("", None)
        assert "reconcile plan" in error.what_to_do
        # The person's edit is intact, and nothing after the refused request went out.
        assert w.invoices()[txn_id] == before[txn_id]
        assert [
            line.findtext("Desc") for line in w.qb.invoices[txn_id].iter("InvoiceLineRet")
        ] == human_lines
        stale = w.store.queue.requests(w.company.id, [RequestState.STALE])
        assert stale and all(r.attempts <= 1 for r in stale)
        _settle(w, before)
        assert w.store.errors.unresolved(w.company.id) == []


def test_quickbooks_not_running_is_reported_and_cleared_by_the_next_good_run(tmp_path):
    with world(tmp_path) as w:
        w.simulator.faults.close_company()
        result = w.sync()
        assert not result.ok
        assert [op for op in result.operations() if op == "connectionError"]
        [error] = w.store.errors.unresolved(w.company.id)
        assert error.code == "0x80040408" and "Start QuickBooks" in error.what_to_do
        assert w.store.sessions.unclosed(w.company.id) == []
        w.simulator.faults.open_company()
        assert w.sync().ok
        assert w.store.errors.unresolved(w.company.id) == []


def test_a_company_file_registered_for_another_qwc_is_refused(tmp_path):
    with world(tmp_path) as w:
        w.web_connector.file_id = "{00000000-0000-0000-0000-000000000001}"
        result = w.sync()
        assert not result.ok and "FileID differs" in result.status
        assert w.store.snapshots.latest(w.company.id) is None
        assert w.store.errors.unresolved(w.company.id)[0].code == "wrong-file-id"


def test_quickbooks_older_than_2015_is_refused_with_a_clear_message(tmp_path):
    versions = ("1.0", "2.0", "8.0", "12.0")
    with world(tmp_path, supported_versions=versions, product_name="QuickBooks Pro 2013") as w:
        result = w.sync()
        assert not result.ok
        assert "QuickBooks 2015 or newer is required" in result.status
        assert w.store.snapshots.latest(w.company.id) is None


def test_two_web_connectors_for_one_company_at_once(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        w.apply(w.plan())
        busy, gate, results = threading.Event(), threading.Event(), []

        def quickbooks_busy(request: str) -> None:
            # The first run holds the company while its QuickBooks answers (the waits
            # are safety nets against a hang, not measures).
            busy.set()
            gate.wait(30)

        w.on_request(quickbooks_busy)
        other = type(w.web_connector)(
            w.url, w.web_connector.username, w.web_connector._password, w.simulator
        )
        runner = threading.Thread(target=lambda: results.append(w.sync()))
        runner.start()
        try:
            assert busy.wait(30)
            second = other.run()
        finally:
            gate.set()
            runner.join(30)
        assert second.status == "Update postponed by application"
        busy = next(answer for op, _, answer in second.calls if op == "authenticate")
        assert busy[1] == "busy"
        assert results[0].ok


@pytest.mark.parametrize("hresult", ["0x80040400", "0x80040408"])
def test_requests_quickbooks_could_not_process(tmp_path, hresult):
    from reconciler.sandbox.status import RequestProcessorError

    with world(tmp_path) as w:
        w.sync()
        before = w.invoices()
        w.apply(w.plan())

        def refuse() -> None:
            raise RequestProcessorError(
                hresult, "QuickBooks found an error when parsing the provided XML text stream."
            )

        hook, fired = _first("InvoiceAddRq", refuse)
        w.on_request(hook)
        result = w.sync()
        assert not result.ok and hresult in result.status
        refused = fired[0].count("requestID=")
        errors = w.store.errors.unresolved(w.company.id)
        assert len(errors) == refused and {e.code for e in errors} == {hresult}
        # What the run says and what status lists agree.
        assert w.store.sessions.last(w.company.id).errors == refused
        # A parse error wrote nothing (failed, retried); otherwise the outcome is unknown (sent).
        expected = RequestState.FAILED if hresult == "0x80040400" else RequestState.SENT
        assert len(w.store.queue.requests(w.company.id, [expected])) == refused
        assert w.sync().ok
        assert w.store.errors.unresolved(w.company.id) == []
        assert_invariants(w, before)

"""A whole month over real HTTP: the Web Connector emulator, the server, the
QuickBooks simulator; both invoice actions; invoice timing; what the user sees."""

from __future__ import annotations

import datetime as dt
import json

from support.invariants import assert_invariants
from support.sync_world import progress_answers, world

from reconciler.sandbox.by_hand import human_edit, send_forms
from reconciler.store.records import PlanStatus, RequestState


def test_plan_apply_sync_then_nothing_left_to_do(tmp_path):
    with world(tmp_path) as w:
        first = w.sync()
        assert first.ok, first.status
        assert first.status == "QuickBooks read (snapshot 1); nothing to apply."
        before = w.invoices()
        document = w.plan()
        actions = {change["action"] for change in document["changes"]}
        assert actions == {"update-item-cost", "create-invoice", "update-invoice"}
        applied = w.apply(document)
        assert applied.requests == len(document["changes"]) and applied.held == 0

        second = w.sync()
        assert second.ok and second.errors == []
        assert (
            second.status
            == f"Applied {applied.requests} changes; QuickBooks read again (snapshot 3)."
        )
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.DONE
        assert w.store.errors.unresolved(w.company.id) == []
        assert_invariants(w, before)
        # A created invoice carries the plan's ExternalGUID; responses are kept.
        created = [c for c in document["changes"] if c["action"] == "create-invoice"]
        guids = {i["external_guid"] for i in w.invoices().values()}
        assert {c["external_guid"].strip("{}").lower() for c in created} <= guids
        done = w.store.queue.requests(w.company.id, [RequestState.DONE])
        assert all(w.store.queue.responses(r.id)[0].txn_id for r in done)
        # Nothing due: the next scheduled run has nothing to do.
        third = w.sync()
        assert third.status == "No data exchange required"


def test_progress_is_honest(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        w.apply(w.plan())
        answers = progress_answers(w.sync())
        assert answers[-1] == 100
        assert all(0 < a < 100 for a in answers[:-1])
        assert len(answers) >= 5


def test_invoices_are_held_until_five_in_new_york_on_the_invoice_day(tmp_path):
    # Planned three days before the invoice day (2026-12-01 05:00 EST = 10:00 UTC).
    with world(tmp_path, start=dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)) as w:
        assert w.sync().ok
        document = w.plan()
        invoices = [c for c in document["changes"] if c["action"] != "update-item-cost"]
        applied = w.apply(document)
        assert applied.held == len(invoices)
        assert applied.next_due == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
        before = w.invoices()
        result = w.sync()  # the item costs go now
        assert result.status.startswith(f"Applied {applied.requests - len(invoices)} changes")
        assert w.invoices() == before
        w.clock.moment = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.UTC)
        assert w.sync().status == "No data exchange required"
        # A day later the snapshot is old: the daily refresh reads QuickBooks again.
        w.clock.moment = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
        assert w.sync().status.startswith("QuickBooks read (snapshot")
        w.clock.moment = dt.datetime(2026, 12, 1, 9, 59, tzinfo=dt.UTC)
        assert w.sync().status == "No data exchange required"
        w.clock.moment = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
        result = w.sync()
        assert result.status.startswith(f"Applied {len(invoices)} changes"), result.status
        assert w.store.queue.counts(w.company.id).count(RequestState.DONE) == applied.requests


def test_a_saved_plan_is_refused_once_quickbooks_changed(tmp_path):
    import pytest

    from reconciler.queue.apply import StalePlan

    with world(tmp_path) as w:
        w.sync()
        document = w.plan()
        december = [
            t for t, ret in w.qb.invoices.items() if ret.findtext("TxnDate") == "2026-12-01"
        ]
        human_edit(w.qb, december[0])
        w.clock.advance(days=1)
        w.sync()  # the daily refresh sees the edit
        with pytest.raises(StalePlan, match="the plan is stale"):
            w.apply(document)
        assert w.store.plans.for_company(w.company.id) == []


def test_the_billing_mode_is_locked_by_the_first_apply(tmp_path):
    import pytest

    from reconciler.base.errors import UserError

    with world(tmp_path) as w:
        w.sync()
        document = w.plan()
        w.apply(document)
        assert w.store.billing_locks.get(w.company.id).mode == "advance"
        other = {
            **document,
            "plan_id": "f" * 64,
            "billing": {**document["billing"], "mode": "arrears"},
        }
        with pytest.raises(UserError, match="locked to advance"):
            w.apply(other)


def test_the_audit_log_records_who_applied_what(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        document = w.plan()
        applied = w.apply(document)
        [entry] = w.store.audit.newest(w.company.id)
        assert entry.actor == "test" and entry.action == "apply"
        assert entry.plan_id == applied.plan.id
        assert entry.detail["plan_id"] == document["plan_id"]
        assert entry.detail["fingerprints"]["state"] == document["fingerprints"]["state"]
        assert w.apply(document).already_queued


def test_unreadable_host_data_from_the_web_connector_is_asked_for_again(tmp_path):
    with world(tmp_path) as w:
        original = w.simulator.host_company_preferences
        # The Web Connector's own HostQuery/CompanyQuery/PreferencesQuery, mangled.
        w.simulator.host_company_preferences = lambda owner_id: original(owner_id)[:200]
        result = w.sync()
        assert result.ok, result.status
        asked = [a for op, _, a in result.calls if op == "sendRequestXML"]
        assert "<HostQueryRq" in asked[0] and "<CompanyQueryRq" in asked[0]
        assert w.store.snapshots.latest(w.company.id) is not None


def test_a_company_file_other_than_the_configured_one_is_refused(tmp_path):
    from lxml import etree
    from support.qbwc import HTTP, PASSWORD, envelope

    def call(url: str, operation: str, **args: str) -> list[str]:
        root = etree.fromstring(HTTP.post(url, content=envelope(operation, **args)).content)
        return [
            e.text or ""
            for e in root.iter()
            if e.tag.endswith("Result") or e.tag.endswith("}string")
        ]

    with world(tmp_path) as w:
        ticket = call(w.url, "authenticate", strUserName="northwind", strPassword=PASSWORD)[1]
        other = "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\Someone Else.qbw"
        request = call(
            w.url,
            "sendRequestXML",
            ticket=ticket,
            strCompanyFileName=other,
            qbXMLMajorVers="16",
            qbXMLMinorVers="0",
        )
        assert request == [""]
        [last] = call(w.url, "getLastError", ticket=ticket)
        assert "Someone Else.qbw open, not Northwind IT Services.qbw" in last
        assert w.store.errors.unresolved(w.company.id)[0].code == "wrong-company-file"
        assert w.store.snapshots.latest(w.company.id) is None


def test_invoices_sent_to_the_customer_are_not_updated(tmp_path):
    with world(tmp_path) as w:
        december = [
            txn_id
            for txn_id, ret in w.qb.invoices.items()
            if ret.findtext("TxnDate") == "2026-12-01" and ret.findtext("IsToBeEmailed") == "true"
        ]
        assert december
        # The MSP e-mails the generated invoices (Send Forms): QuickBooks clears "Email later".
        for txn_id in december:
            send_forms(w.qb, txn_id)
        assert w.sync().ok
        document = w.plan()
        touched = {c["invoice"]["txn_id"] for c in document["changes"] if "invoice" in c}
        assert not touched & set(december), touched
        sent = [n for n in document["notices"] if n["code"] == "invoice-sent"]
        assert {n["context"]["invoice"] for n in sent} <= set(december) and sent
        assert any("was already sent (not marked Print/Email later)" in n["message"] for n in sent)


def _correct_charges(w, directory, organization_id: str, extra: int) -> None:
    """Sherweb corrects the organization's first charge: ``extra`` more licences."""
    charges = json.loads(w.charges_path.read_text(encoding="utf-8"))
    customer = next(c for c in charges["customers"] if c["id"] == organization_id)
    customer["receivableCharges"]["charges"][0]["quantity"] += extra
    corrected = directory / f"charges-corrected-{extra}.json"
    corrected.write_text(json.dumps(charges), encoding="utf-8")
    w.charges_path = corrected


def test_a_correction_reaches_an_invoice_reconciler_created_until_it_is_sent(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        first = w.plan()
        created = next(c for c in first["changes"] if c["action"] == "create-invoice")
        assert created["mark"] == "email"
        w.apply(first)
        assert w.sync().ok
        guid = created["external_guid"]
        [(txn_id, ret)] = [
            (t, r)
            for t, r in w.qb.invoices.items()
            if (r.findtext("ExternalGUID") or "").strip("{}").lower() == guid
        ]
        # QuickBooks holds it marked Email later: in the send queue, not sent yet.
        assert (ret.findtext("IsToBePrinted"), ret.findtext("IsToBeEmailed")) == ("false", "true")

        _correct_charges(w, tmp_path, created["organizations"][0]["id"], extra=2)
        second = w.plan()
        [update] = [c for c in second["changes"] if c["action"] == "update-invoice"]
        assert update["invoice"]["txn_id"] == txn_id
        [modified] = [line for line in update["lines"] if line["op"] == "modify"]
        assert [f["field"] for f in modified["fields"]] == ["quantity"]
        w.apply(second)
        assert w.sync().ok
        assert w.plan()["changes"] == []
        assert w.qb.invoice(txn_id).findtext("IsToBeEmailed") == "true"

        # Send Forms e-mails it and clears the mark: a further correction is refused.
        send_forms(w.qb, txn_id)
        w.clock.advance(days=1)
        assert w.sync().status.startswith("QuickBooks read (snapshot")
        _correct_charges(w, tmp_path, created["organizations"][0]["id"], extra=3)
        third = w.plan()
        assert all(c.get("invoice", {}).get("txn_id") != txn_id for c in third["changes"])
        [sent] = [n for n in third["notices"] if n["context"].get("invoice") == txn_id]
        assert sent["code"] == "invoice-sent" and sent["level"] == "warning"
        assert "was already sent (not marked Print/Email later)" in sent["message"]

"""What the server reads of QuickBooks, and what a plan makes of what it did not read.

Every invoice reconciler created is read wherever it moved and whatever its
date, so that one ExternalGUID never gets a second invoice (design invariant
2); a plan says "not read" where the server did not look, rather than
"absent"; customers and items are read whole, so that one mapped since is
never taken for missing.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter

import pytest
from support.sync_world import world

from reconciler.model.config import InvoiceAction, Organization
from reconciler.model.quickbooks import canonical_guid
from reconciler.qbwc.run import RunLimits
from reconciler.sandbox import elements as el
from reconciler.sandbox.by_hand import human_edit
from reconciler.store.records import PlanStatus, RequestState

OTHER_CUSTOMER = "Wide World Importers"  # in the sample company, mapped to no organization
LISTS = ("CustomerQueryRq", "ItemQueryRq")


def _created(w) -> dict[str, dict[str, object]]:
    return {txn_id: i for txn_id, i in w.invoices().items() if i["external_guid"]}


def _no_guid_twice(w) -> None:
    counts = Counter(i["external_guid"] for i in _created(w).values())
    assert all(n == 1 for n in counts.values()), counts


def _creates(document) -> list[str]:
    return [c["external_guid"] for c in document["changes"] if c["action"] == "create-invoice"]


def _notices(document, code: str) -> list[dict[str, object]]:
    return [n for n in document["notices"] if n["code"] == code]


def _move(w, txn_id: str, *, customer: str = OTHER_CUSTOMER, date: str | None = None) -> None:
    """A person moves an invoice to another customer (and date) in QuickBooks."""
    other = w.qb.customer(customer)

    def edit(ret) -> None:
        ref = ret.find("CustomerRef")
        el.put(ref, "ListID", el.text_of(other, "ListID"))
        el.put(ref, "FullName", el.text_of(other, "FullName"))
        if date is not None:
            el.put(ret, "TxnDate", date)

    human_edit(w.qb, txn_id, edit=edit, moment=w.clock.now())


def _applied_and_read(w) -> None:
    assert w.sync().ok
    w.apply(w.plan())
    assert w.sync().ok


def test_a_created_invoice_moved_to_another_customer_is_read_and_never_created_again(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        txn_id, invoice = next(iter(_created(w).items()))
        _move(w, txn_id)
        w.clock.advance(days=1)
        assert w.sync().ok
        document = w.plan()
        assert invoice["external_guid"] not in _creates(document)
        [moved] = _notices(document, "invoice-customer-changed")
        assert moved["level"] == "error" and OTHER_CUSTOMER in moved["message"]
        w.apply(document)
        assert w.sync().ok
        _no_guid_twice(w)
        assert w.qb.invoice(txn_id) is not None


def test_replanning_a_period_long_after_creates_nothing_and_says_what_was_not_read(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        created = _created(w)
        # Ten weeks later the MSP plans December again (Sherweb corrected a charge):
        # the server now reads the windows around February.
        w.clock.advance(days=70)
        assert w.sync().ok
        document = w.plan()
        assert _creates(document) == []
        # The invoices reconciler created are read by TxnID: nothing to change there.
        assert not [c for c in document["changes"] if c["action"] == "update-invoice"]
        # Those of the update organizations' customers are not read: an error, not "absent".
        not_read = _notices(document, "invoices-not-read")
        assert {n["level"] for n in not_read} == {"error"}
        assert len(not_read) == 3
        assert all("2026-12" in n["message"] and "--qb-state" in n["message"] for n in not_read)
        w.apply(document)
        w.clock.advance(minutes=5)
        assert w.sync().ok
        assert len(_created(w)) == len(created)
        _no_guid_twice(w)


def test_a_remapped_organization_never_gets_a_second_invoice(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        before = len(_created(w))
        remapped = [
            dataclasses.replace(o, customer=OTHER_CUSTOMER)
            if o.name == "Adventure Works Cycles"
            else o
            for o in w.config.organizations
        ]
        w.config = dataclasses.replace(w.config, organizations=tuple(remapped))
        for _ in range(2):  # before and after the server knows the new mapping
            document = w.plan()
            assert _creates(document) == []
            [changed] = _notices(document, "invoice-customer-changed")
            assert "Adventure Works Cycles" in changed["message"]
            w.apply(document)
            w.clock.advance(minutes=5)
            assert w.sync().ok
        assert len(_created(w)) == before
        _no_guid_twice(w)


def test_a_lost_invoice_add_is_found_after_a_person_moved_and_redated_it(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        applied = w.apply(w.plan())
        fired = []

        def hook(request: str) -> None:
            if "<InvoiceAddRq" in request and not fired:
                fired.append(request)
                w.simulator.faults.lose_next_response()

        w.on_request(hook)
        assert not w.sync().ok
        lost = [
            r for r in w.store.queue.requests(w.company.id, [RequestState.SENT]) if r.external_guid
        ]
        assert lost
        # Before the next sync, a person moves each new invoice to another customer
        # and to a date far from the billing windows.
        for request in lost:
            added = w.qb.find_invoice("{" + canonical_guid(request.external_guid) + "}")
            _move(w, el.text_of(added, "TxnID"), date="2027-06-30")
        w.clock.advance(minutes=4)
        result = w.sync()
        assert result.ok, result.status
        sent = str([answer for op, _, answer in result.calls if op == "sendRequestXML"])
        assert "<InvoiceAddRq" not in sent
        assert "<ModifiedDateRangeFilter>" in sent and "<EntityFilter>" in sent
        registry = {
            c.external_guid: c.txn_id for c in w.store.created_invoices.for_company(w.company.id)
        }
        for request in lost:
            [response] = w.store.queue.responses(request.id)
            assert "found by its ExternalGUID" in response.status_message
            assert registry[canonical_guid(request.external_guid)] == response.txn_id
        assert w.store.plans.get(applied.plan.id).status is PlanStatus.DONE
        _no_guid_twice(w)
        # From now on they are read wherever they are: planning again adds none.
        document = w.plan()
        assert _creates(document) == []
        assert len(_notices(document, "invoice-customer-changed")) == len(lost)


def test_a_created_invoice_deleted_in_quickbooks_is_recorded_and_created_again(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        txn_id, invoice = next(iter(_created(w).items()))
        del w.qb.invoices[txn_id]
        w.clock.advance(days=1)
        assert w.sync().ok
        [gone] = [
            c for c in w.store.created_invoices.for_company(w.company.id) if c.txn_id == txn_id
        ]
        assert gone.deleted_at is not None
        snapshot = w.store.snapshots.latest(w.company.id)
        assert snapshot.coverage["deleted_guids"] == [gone.external_guid]
        document = w.plan()
        assert _creates(document) == [invoice["external_guid"]]
        [warning] = _notices(document, "created-invoice-deleted")
        assert warning["level"] == "warning" and "deleted in QuickBooks" in warning["message"]
        w.apply(document)
        assert w.sync().ok
        _no_guid_twice(w)
        [again] = [
            c
            for c in w.store.created_invoices.for_company(w.company.id)
            if c.external_guid == gone.external_guid
        ]
        assert again.deleted_at is None and again.txn_id != txn_id
        assert again.txn_id in w.qb.invoices
        assert w.plan()["changes"] == []


@pytest.mark.parametrize("named", [True, False], ids=["named", "not-named"])
def test_one_deleted_among_a_batch_read_by_txn_id_is_found(tmp_path, named):
    with world(tmp_path, limits=RunLimits(created_batch=2)) as w:
        _applied_and_read(w)
        created = list(_created(w))
        assert len(created) == 3
        for txn_id in created:  # read by TxnID from now on: no mapped customer holds them
            _move(w, txn_id)
        del w.qb.invoices[created[1]]
        if not named:
            original = w.simulator.process

            def process(request: str) -> str:
                return original(request).replace(f'"{created[1]}" ', "")

            w.simulator.process = process  # type: ignore[method-assign]
        w.clock.advance(days=1)
        result = w.sync()
        assert result.ok, result.status
        deleted = {
            c.txn_id for c in w.store.created_invoices.for_company(w.company.id) if c.deleted_at
        }
        assert deleted == {created[1]}
        state = w.plan()
        kept = {n["context"]["invoice"] for n in _notices(state, "invoice-customer-changed")}
        assert kept == {created[0], created[2]}


def test_a_newly_mapped_customer_and_item_are_read_at_once(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        wide_world = Organization(
            id="e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b",
            name="Wide World Importers",
            customer=OTHER_CUSTOMER,
            action=InvoiceAction.CREATE,
        )
        offers = tuple(
            dataclasses.replace(o, item="Onsite support") if o.sku == "MS-DEF-EP2-M" else o
            for o in w.config.offers
        )
        w.config = dataclasses.replace(
            w.config, organizations=(*w.config.organizations, wide_world), offers=offers
        )
        w.clock.advance(days=1)
        assert w.sync().ok  # with the profile recorded before the new mappings
        document = w.plan()
        assert not [n for n in document["notices"] if OTHER_CUSTOMER in n["message"]]
        assert not _notices(document, "item-missing")


def test_an_update_organization_mapped_since_the_last_sync_waits_for_its_customer(tmp_path):
    with world(tmp_path) as w:
        _applied_and_read(w)
        remapped = [
            dataclasses.replace(o, customer=OTHER_CUSTOMER) if o.name == "Tailspin Toys" else o
            for o in w.config.organizations
        ]
        w.config = dataclasses.replace(w.config, organizations=tuple(remapped))
        document = w.plan()
        [waiting] = _notices(document, "invoices-not-read")
        assert waiting["level"] == "warning"
        assert OTHER_CUSTOMER in waiting["message"] and "reconcile apply" in waiting["message"]
        assert not [n for n in document["notices"] if n["level"] == "error"]
        # Applying records the mapping; the next sync reads that customer's invoices.
        w.apply(document)
        w.clock.advance(minutes=5)
        assert w.sync().ok
        document = w.plan()
        assert not _notices(document, "invoices-not-read")
        [none_open] = _notices(document, "no-open-invoice")
        assert OTHER_CUSTOMER in none_open["message"]


def test_an_invoice_sent_or_paid_after_the_plan_is_not_modified(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        applied = w.apply(w.plan())
        mods = [r for r in w.store.queue.requests(w.company.id) if r.kind == "InvoiceModRq"]
        assert len(mods) >= 2
        sent_txn = re.search(r"<TxnID>([^<]+)</TxnID>", mods[0].qbxml).group(1)
        # Send Forms e-mails it: the mark clears, nothing else changes (same EditSequence).
        ret = w.qb.invoices[sent_txn]
        el.put(ret, "IsToBeEmailed", "false")
        el.put(ret, "IsToBePrinted", "false")
        before = w.invoices()[sent_txn]
        result = w.sync()
        assert "error" in result.status
        assert w.invoices()[sent_txn] == before
        plan = w.store.plans.get(applied.plan.id)
        assert plan.status is PlanStatus.STALE and "was sent since the plan" in plan.status_reason
        assert not [r for r in w.store.queue.requests(w.company.id) if r.state is RequestState.DONE]
        [error] = w.store.errors.unresolved(w.company.id)
        assert "reconcile plan" in error.what_to_do


def test_every_list_is_read_page_by_page(tmp_path):
    limits = RunLimits(list_page=3, invoice_page=2, created_batch=1)
    with world(tmp_path, limits=limits) as w:
        _applied_and_read(w)
        for txn_id in _created(w):
            _move(w, txn_id)
        w.clock.advance(days=1)
        result = w.sync()
        assert result.ok, result.status
        sent = [answer for op, _, answer in result.calls if op == "sendRequestXML"]
        pages = {kind: sum(f"<{kind} requestID=" in s for s in sent) for kind in LISTS}
        assert pages == {
            "CustomerQueryRq": math.ceil(len(w.qb.customers) / 3),
            "ItemQueryRq": math.ceil(len(w.qb.items) / 3),
        }
        assert sum("<TxnID>" in s and "<InvoiceQueryRq" in s for s in sent) == 3
        state = w.plan()
        assert len(_notices(state, "invoice-customer-changed")) == 3
        _no_guid_twice(w)


def test_created_invoices_read_on_any_invoice_page_are_not_asked_for_again(tmp_path):
    with world(tmp_path, limits=RunLimits(invoice_page=2)) as w:
        assert w.sync().ok
        w.apply(w.plan())
        result = w.sync()
        assert result.ok, result.status
        sent = [answer for op, _, answer in result.calls if op == "sendRequestXML"]
        pages = [s for s in sent if "<InvoiceQueryRq" in s and "<EntityFilter>" in s]
        assert len(_created(w)) > 2 and len(pages) > 2  # created ones on several pages
        assert not [s for s in sent if "<InvoiceQueryRq" in s and "<TxnID>" in s]
        w.clock.advance(days=1)
        result = w.sync()
        sent = [answer for op, _, answer in result.calls if op == "sendRequestXML"]
        assert result.ok and not [s for s in sent if "<InvoiceQueryRq" in s and "<TxnID>" in s]


def test_a_lost_modification_of_an_invoice_sent_since_is_not_sent_again(tmp_path):
    from reconciler.sandbox.status import ResponseLost

    with world(tmp_path, limits=RunLimits(batch_size=1)) as w:
        assert w.sync().ok
        applied = w.apply(w.plan())
        fired = []

        def drop(request: str) -> None:
            if "<InvoiceModRq" in request and not fired:
                fired.append(request)
                raise ResponseLost("")  # lost on the way: QuickBooks never saw it

        w.on_request(drop)
        assert not w.sync().ok
        txn_id = re.search(r"<TxnID>([^<]+)</TxnID>", fired[0]).group(1)
        el.put(w.qb.invoices[txn_id], "IsToBeEmailed", "false")  # e-mailed meanwhile
        el.put(w.qb.invoices[txn_id], "IsToBePrinted", "false")
        before = w.invoices()[txn_id]
        w.clock.advance(minutes=4)
        result = w.sync()
        assert "error" in result.status
        sent = str([answer for op, _, answer in result.calls if op == "sendRequestXML"])
        assert "<InvoiceModRq" not in sent
        assert w.invoices()[txn_id] == before
        plan = w.store.plans.get(applied.plan.id)
        assert plan.status is PlanStatus.STALE and "was sent since" in plan.status_reason

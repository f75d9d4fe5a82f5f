"""The guard: a plan's qbXML requests held to what `reconcile plan` renders for a state."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from support.builders import (
    DEC_1,
    ORG_A,
    ORG_B,
    bundle,
    charge,
    config,
    customer_charges,
    invoice,
    line,
    offer,
    org,
    qb_customer,
    qb_item,
    state,
)

from reconciler.model.config import InvoiceAction, SendMark, UnsentInvoices
from reconciler.model.quickbooks import InvoiceLineGroup, Ref
from reconciler.plan import build_plan
from reconciler.plan.guard import GuardRules, UnsafePlanRequest, check_plan_requests
from reconciler.plan.requests import render_plan_document


class Books:
    """Contoso (update) and Fabrikam (create); an invoice with a person's lines and a group."""

    def __init__(self) -> None:
        self.contoso, self.fabrikam = qb_customer("Contoso"), qb_customer("Fabrikam")
        self.bp = qb_item("Cloud:BP", cost="18.7")
        self.bs = qb_item("Cloud:BS", cost="11.25")
        self.labour = qb_item("Services:Labour")
        self.config = config(
            [offer("BP"), offer("BS")],
            [org(ORG_A, "Contoso", action=InvoiceAction.UPDATE), org(ORG_B, "Fabrikam")],
        )
        self.charges = bundle(
            customer_charges(ORG_A, "Contoso", [charge("BP", 15, cost="19.80")]),
            customer_charges(ORG_B, "Fabrikam", [charge("BP", 4, cost="19.80")]),
        )
        self.labour_line = line(self.labour, 2, "Onsite support")
        self.group = InvoiceLineGroup(
            txn_line_id="G-1", item_group=Ref("IG", "Bundle"), desc="Bundle"
        )
        self.synced_line = line(
            self.bp, 12, "Product BP (12/01/2026 - 12/31/2026)", service_date=DEC_1
        )
        self.invoice = invoice(
            self.contoso, [self.labour_line, self.group, self.synced_line], number=1042
        )
        self.state = state(
            [self.contoso, self.fabrikam], [self.bp, self.bs, self.labour], [self.invoice]
        )

    def document(self):
        return render_plan_document(build_plan(self.config, self.charges, self.state))

    def check(self, document, state=None):
        return check_plan_requests(
            document, state or self.state, GuardRules.from_config(self.config)
        )


@pytest.fixture
def books() -> Books:
    return Books()


def _change(document, action):
    return next(c for c in document["changes"] if c["action"] == action)


def _refused(books, document, state=None) -> str:
    with pytest.raises(UnsafePlanRequest) as caught:
        books.check(document, state)
    return str(caught.value)


def test_the_plan_as_rendered_passes_with_when_each_request_may_go_out(books):
    document = books.document()
    checked = books.check(document)
    assert [c.kind for c in checked] == ["ItemServiceModRq", "InvoiceModRq", "InvoiceAddRq"]
    five_in_new_york = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert [c.not_before for c in checked] == [None, five_in_new_york, five_in_new_york]
    assert [c.changes_existing for c in checked] == [False, True, False]


def test_an_invoice_mod_that_drops_a_persons_line_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = re.sub(
        rf"<InvoiceLineMod><TxnLineID>{books.labour_line.txn_line_id}</TxnLineID></InvoiceLineMod>\n?",
        "",
        update["qbxml"],
    )
    message = _refused(books, document)
    assert message.startswith(f"change {update['id']}: it does not list line ")
    assert books.labour_line.txn_line_id in message and "QuickBooks would delete it" in message


def test_an_invoice_mod_that_drops_a_group_line_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = re.sub(
        r"<InvoiceLineGroupMod>.*?</InvoiceLineGroupMod>\n?", "", update["qbxml"]
    )
    assert "does not list line G-1" in _refused(books, document)


@pytest.mark.parametrize("field", ["Rate", "RatePercent", "Amount"])
def test_a_price_on_a_line_is_refused(books, field):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = update["qbxml"].replace(
        "</Quantity>", f"</Quantity>\n<{field}>0.01</{field}>", 1
    )
    assert f"it writes {field} on line" in _refused(books, document)


def test_a_price_level_on_a_new_invoice_is_refused(books):
    document = books.document()
    add = _change(document, "create-invoice")
    add["qbxml"] = add["qbxml"].replace(
        "</Quantity>", "</Quantity>\n<PriceLevelRef><FullName>VIP</FullName></PriceLevelRef>", 1
    )
    assert "it writes PriceLevelRef" in _refused(books, document)


def test_another_kind_of_request_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>\n'
        '<QBXMLMsgsRq onError="stopOnError">\n'
        f'<TxnDelRq requestID="{update["request_id"]}"><TxnDelType>Invoice</TxnDelType>'
        f"<TxnID>{books.invoice.txn_id}</TxnID></TxnDelRq>\n"
        "</QBXMLMsgsRq>\n</QBXML>\n"
    )
    message = _refused(books, document)
    assert "a TxnDelRq request: reconciler queues only the requests it renders" in message


def test_two_requests_in_one_change_are_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    request = re.search(r"<InvoiceModRq.*</InvoiceModRq>", update["qbxml"], re.S).group(0)
    update["qbxml"] = update["qbxml"].replace(request, request + "\n" + request)
    assert "exactly one request" in _refused(books, document)


def test_a_field_the_product_never_writes_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = update["qbxml"].replace(
        "</EditSequence>", "</EditSequence>\n<Memo>paid in cash</Memo>"
    )
    assert "it writes Memo in InvoiceMod" in _refused(books, document)


def test_changing_a_line_that_holds_no_synced_item_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    kept = (
        f"<InvoiceLineMod><TxnLineID>{books.labour_line.txn_line_id}</TxnLineID></InvoiceLineMod>"
    )
    update["qbxml"] = update["qbxml"].replace(
        kept,
        f"<InvoiceLineMod><TxnLineID>{books.labour_line.txn_line_id}</TxnLineID>"
        f"<ItemRef><ListID>{books.bp.list_id}</ListID></ItemRef><Quantity>1</Quantity>"
        "</InvoiceLineMod>",
    )
    assert "reconciler never alters such a line" in _refused(books, document)


def test_adding_a_line_on_an_item_that_is_not_synced_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = update["qbxml"].replace(
        "</InvoiceMod>",
        f"<InvoiceLineMod><TxnLineID>-1</TxnLineID><ItemRef><ListID>{books.labour.list_id}"
        "</ListID></ItemRef><Quantity>10</Quantity></InvoiceLineMod>\n</InvoiceMod>",
    )
    assert "not the item of an offer synced for Contoso" in _refused(books, document)


def test_an_invoice_mod_needs_the_edit_sequence_quickbooks_holds(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = update["qbxml"].replace(
        f"<EditSequence>{books.invoice.edit_sequence}</EditSequence>",
        "<EditSequence>999</EditSequence>",
    )
    assert "EditSequence '999' is not the one QuickBooks holds" in _refused(books, document)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"is_paid": True}, "has a payment or credit applied"),
        ({"is_to_be_emailed": False}, "was already sent (not marked Print/Email later)"),
        ({"memo": "VOID: wrong customer"}, "is void"),
    ],
)
def test_an_invoice_mod_of_a_settled_sent_or_void_invoice_is_refused(books, change, why):
    document = books.document()
    closed = dataclasses.replace(books.invoice, **change)
    assert why in _refused(books, document, dataclasses.replace(books.state, invoices=(closed,)))


def test_an_invoice_mod_of_an_invoice_quickbooks_does_not_hold_is_refused(books):
    document = books.document()
    assert "QuickBooks holds no invoice" in _refused(
        books, document, dataclasses.replace(books.state, invoices=())
    )


def test_an_invoice_add_needs_its_external_guid(books):
    document = books.document()
    add = _change(document, "create-invoice")
    add["qbxml"] = re.sub(r"<ExternalGUID>[^<]*</ExternalGUID>\n?", "", add["qbxml"])
    assert "carries no ExternalGUID" in _refused(books, document)


def test_an_invoice_add_carries_the_mark_billing_yaml_asks_for(books):
    add = _change(books.document(), "create-invoice")
    assert add["mark"] == "email"
    assert (
        "<IsToBePrinted>false</IsToBePrinted>\n<IsToBeEmailed>true</IsToBeEmailed>"
        in (add["qbxml"])
    )


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            "<IsToBeEmailed>true<",
            "<IsToBeEmailed>false<",
            "writes IsToBePrinted false, IsToBeEmailed false",
        ),
        ("<IsToBePrinted>false</IsToBePrinted>\n", "", "writes IsToBeEmailed true, but"),
        (
            "<IsToBeEmailed>true</IsToBeEmailed>",
            "<IsToBeEmailed>true</IsToBeEmailed><IsToBeEmailed>true</IsToBeEmailed>",
            "it writes IsToBeEmailed twice",
        ),
    ],
)
def test_an_invoice_add_with_another_mark_is_refused(books, old, new, why):
    document = books.document()
    add = _change(document, "create-invoice")
    add["qbxml"] = add["qbxml"].replace(old, new)
    assert why in _refused(books, document)


def test_an_invoice_add_unmarked_against_billing_yaml_is_refused(books):
    # The change and its request agree, but billing.yaml says email: refused.
    document = books.document()
    add = _change(document, "create-invoice")
    add["mark"] = "none"
    add["qbxml"] = re.sub(r"<IsToBe(Printed|Emailed)>[^<]*</IsToBe\1>\n?", "", add["qbxml"])
    assert "its mark is 'none', but billing.yaml says mark_created: email" in _refused(
        books, document
    )


@pytest.mark.parametrize("mark", [SendMark.PRINT, SendMark.NONE])
def test_each_mark_as_rendered_passes(books, mark):
    books.config = dataclasses.replace(
        books.config,
        billing=dataclasses.replace(
            books.config.billing, mark_created=mark, unsent_invoices=UnsentInvoices.UNPAID
        ),
    )
    document = books.document()
    assert _change(document, "create-invoice")["mark"] == mark.value
    assert len(books.check(document)) == 3


def test_an_invoice_add_is_refused_once_quickbooks_holds_its_guid(books):
    document = books.document()
    add = _change(document, "create-invoice")
    mine = invoice(books.fabrikam, [], external_guid=add["external_guid"])
    held = dataclasses.replace(books.state, invoices=(books.invoice, mine))
    assert "QuickBooks already holds the invoice with ExternalGUID" in _refused(
        books, document, held
    )


def test_an_invoice_add_for_another_customer_is_refused(books):
    document = books.document()
    add = _change(document, "create-invoice")
    add["qbxml"] = add["qbxml"].replace(books.fabrikam.list_id, books.contoso.list_id)
    assert "its CustomerRef is not the change's customer" in _refused(books, document)


def test_an_item_mod_of_an_item_no_offer_maps_is_refused(books):
    document = books.document()
    cost = _change(document, "update-item-cost")
    cost["qbxml"] = cost["qbxml"].replace(books.bp.list_id, books.labour.list_id)
    assert "is not the QuickBooks item of an offer" in _refused(books, document)


def test_a_moved_not_before_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["not_before"] = "2000-01-01T00:00:00+00:00"
    message = _refused(books, document)
    assert (
        "it may be written to QuickBooks from 2000-01-01T00:00:00+00:00, but billing.yaml says"
        in message
    )
    assert "2026-12-01T05:00:00-05:00" in message


def test_a_request_id_other_than_the_changes_is_refused(books):
    document = books.document()
    update = _change(document, "update-invoice")
    update["qbxml"] = update["qbxml"].replace(update["request_id"], "other-1")
    assert "requestID 'other-1' is not the change's" in _refused(books, document)


def test_the_refusal_says_what_to_do(books):
    document = books.document()
    _change(document, "update-invoice")["not_before"] = "2026-12-02T05:00:00-05:00"
    assert "plan again, review, and apply the new plan" in _refused(books, document)

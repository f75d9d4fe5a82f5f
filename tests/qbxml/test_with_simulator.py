"""The product's qbXML layer against the QuickBooks simulator: the whole loop.

The simulator is independent of the product's templates and parser, so this
checks that what the product sends is what QuickBooks accepts, and that what
QuickBooks answers is what the product reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.base.resources import data_dir
from reconciler.engine.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model.quickbooks import InvoiceLine, QBState, Ref
from reconciler.qbxml.parse import parse_response, parse_state
from reconciler.qbxml.queries import (
    CompanyQuery,
    CustomerQuery,
    HostQuery,
    InvoiceQuery,
    ItemQuery,
)
from reconciler.qbxml.render import render_document, render_request
from reconciler.qbxml.status import Action
from reconciler.qbxml.version import negotiate_version
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.simulator import QuickBooksSimulator

GUID = "6f1c2a7e-58d4-5b8e-9f33-0a1b2c3d4e5f"


@pytest.fixture
def simulator(reference: Path) -> QuickBooksSimulator:
    books = load_fixture(data_dir() / "sample-company.yaml")
    return QuickBooksSimulator(books, xsd_dir=reference / "qbxml" / "xsd-13.0")


def ask(simulator: QuickBooksSimulator, *requests: object, version: str = "13.0") -> str:
    rendered = [
        render_request(request, version=version, request_id=str(number))
        for number, request in enumerate(requests, 1)
    ]
    return simulator.process(render_document(rendered, version=version))


def read_state(simulator: QuickBooksSimulator, version: str) -> QBState:
    answer = ask(
        simulator,
        HostQuery(),
        CompanyQuery(),
        CustomerQuery(),
        ItemQuery(),
        InvoiceQuery(txn_date_from=dt.date(2026, 12, 1), txn_date_to=dt.date(2026, 12, 31)),
        version=version,
    )
    return parse_state([answer.encode("utf-8")])


def test_version_negotiation_and_company(simulator: QuickBooksSimulator) -> None:
    host = parse_state([ask(simulator, HostQuery(), CompanyQuery()).encode()]).host
    assert host is not None
    assert negotiate_version(host) == "16.0"
    assert host.company_name == "Northwind IT Services LLC"


def test_the_sample_company_reads_completely(simulator: QuickBooksSimulator) -> None:
    state = read_state(simulator, "16.0")
    names = {c.full_name for c in state.customers}
    assert {"Fabrikam Inc.:Manufacturing", "Contoso Dental Group"} <= names
    premium = next(i for i in state.items if i.full_name.endswith("Business Premium"))
    assert premium.sales_and_purchase and premium.purchase_cost == Decimal("20.90")
    # Kinds without a FullName (groups, subtotals...) still come with a name.
    assert all(i.full_name for i in state.items)
    contoso = [i for i in state.invoices if i.customer.full_name == "Contoso Dental Group"]
    assert contoso and all(i.txn_date.month == 12 for i in contoso)


def test_add_then_modify_then_stale_edit_sequence(simulator: QuickBooksSimulator) -> None:
    state = read_state(simulator, "16.0")
    premium = next(i for i in state.items if i.full_name.endswith("Business Premium"))
    line = SyncedLine(
        item=Ref(premium.list_id, premium.full_name),
        desc="Microsoft 365 Business Premium (12/01/2026 - 12/31/2026)",
        quantity=Decimal("12"),
        service_date=dt.date(2026, 12, 1),
        sku="MS-365-BP-M",
    )
    create = InvoiceCreate(
        organization_id="7d9e4a20-1b3c-4f5d-8e6a-9b0c1d2e3f40",
        organization_name="Fabrikam Manufacturing",
        customer=Ref(full_name="Fabrikam Inc.:Manufacturing"),
        txn_date=dt.date(2026, 12, 1),
        external_guid=GUID,
        lines=(line,),
    )
    (added,) = parse_response(ask(simulator, create, version="16.0"))
    assert added.status.ok
    (invoice,) = added.objects
    assert invoice.external_guid == GUID
    assert invoice.lines[0].quantity == Decimal("12")
    # No Rate was sent: the line takes the item's own price.
    assert invoice.lines[0].amount == Decimal("12") * premium.sales_price

    grown = replace(line, quantity=Decimal("15.25"))
    extra = replace(line, desc="Second line", quantity=Decimal("1"))
    first = invoice.lines[0]
    assert isinstance(first, InvoiceLine)
    update = InvoiceUpdate(
        organization_ids=(create.organization_id,),
        organization_names=(create.organization_name,),
        invoice=invoice,
        lines=(ModifyLine(first.txn_line_id, grown, first), AddLine(extra)),
    )
    (modified,) = parse_response(ask(simulator, update, version="16.0"))
    assert modified.status.ok
    (after,) = modified.objects
    assert [line.quantity for line in after.lines] == [Decimal("15.25"), Decimal("1")]

    # The same update again carries the old EditSequence: QuickBooks says 3200.
    (stale,) = parse_response(ask(simulator, update, version="16.0"))
    assert stale.status.code == 3200
    assert stale.status.action is Action.REPLAN

    keep_all = InvoiceUpdate(
        organization_ids=update.organization_ids,
        organization_names=update.organization_names,
        invoice=after,
        lines=tuple(KeepLine(line.txn_line_id) for line in after.lines),
    )
    (kept,) = parse_response(ask(simulator, keep_all, version="16.0"))
    assert kept.status.ok
    assert [line.quantity for line in kept.objects[0].lines] == [Decimal("15.25"), Decimal("1")]


def test_item_cost_update(simulator: QuickBooksSimulator) -> None:
    state = read_state(simulator, "13.0")
    premium = next(i for i in state.items if i.full_name.endswith("Business Premium"))
    (response,) = parse_response(ask(simulator, ItemCostUpdate(premium, Decimal("22.00"))))
    assert response.status.ok
    assert response.objects[0].purchase_cost == Decimal("22.00")
    assert read_state(simulator, "13.0") != state

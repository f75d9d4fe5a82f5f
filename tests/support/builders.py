"""Builders of configurations, charges and QuickBooks states for tests.

Tests build the model directly (no YAML, no qbXML) so that each states
exactly the situation it checks.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from decimal import Decimal

from reconciler.model.charges import (
    BillingCycle,
    Charge,
    ChargesBundle,
    ChargeType,
    CustomerCharges,
)
from reconciler.model.config import (
    BillingMode,
    BillingOptions,
    CompanyFile,
    Config,
    InvoiceAction,
    Offer,
    Organization,
    Proration,
    Safety,
    UnsentInvoices,
)
from reconciler.model.quickbooks import (
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    ItemKind,
    LinkedTxn,
    QBState,
    Ref,
)

DEC_1 = dt.date(2026, 12, 1)
DEC_31 = dt.date(2026, 12, 31)

ORG_A = "3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11"
ORG_B = "7d9e4a20-1b3c-4f5d-8e6a-9b0c1d2e3f40"
ORG_C = "a1c3e5f7-0b2d-4f6a-8c9e-1a3b5c7d9e02"

_ids = itertools.count(1)


def next_id(prefix: str = "ID") -> str:
    return f"{prefix}-{next(_ids):06d}"


def billing(
    mode: BillingMode = BillingMode.ADVANCE,
    *,
    proration: tuple[Proration, ...] = (Proration.INCREASES, Proration.DECREASES),
    invoice_day: int | str = 1,
    max_change_ratio: str = "0.30",
    min_existing: int = 10,
    unsent_invoices: UnsentInvoices = UnsentInvoices.MARKED,
) -> BillingOptions:
    return BillingOptions(
        company=CompanyFile(name="Test Co"),
        mode=mode,
        proration=frozenset(proration),
        invoice_day=invoice_day,
        safety=Safety(max_change_ratio=Decimal(max_change_ratio), min_existing=min_existing),
        unsent_invoices=unsent_invoices,
    )


def offer(sku: str, item: str | None = None, *, sync: bool = True) -> Offer:
    return Offer(sku=sku, item=item or f"Cloud:{sku}", sync=sync)


def org(
    org_id: str,
    name: str,
    *,
    customer: str | None = None,
    action: InvoiceAction = InvoiceAction.CREATE,
    create_if_missing: bool = False,
    offers: tuple[tuple[str, bool], ...] = (),
) -> Organization:
    return Organization(
        id=org_id,
        name=name,
        customer=customer or name,
        action=action,
        offers=offers,
        create_if_missing=create_if_missing,
    )


def config(offers: list[Offer], organizations: list[Organization], **billing_options) -> Config:
    return Config(
        billing=billing(**billing_options),
        offers=tuple(offers),
        organizations=tuple(organizations),
    )


def charge(
    sku: str,
    quantity: str | int = 1,
    *,
    cost: str = "10.00",
    start: dt.date = DEC_1,
    end: dt.date = DEC_31,
    cycle: BillingCycle | None = BillingCycle.MONTHLY,
    charge_type: ChargeType = ChargeType.RECURRING,
    proratable: bool = True,
    product: str | None = None,
) -> Charge:
    return Charge(
        product_name=product or f"Product {sku}",
        sku=sku,
        charge_name=product or f"Product {sku}",
        charge_type=charge_type,
        period_from=start,
        period_to=end,
        quantity=Decimal(str(quantity)),
        cost_price=Decimal(cost),
        cost_price_prorated=Decimal(cost),
        currency="USD",
        is_proratable=proratable,
        billing_cycle=cycle,
    )


def customer_charges(
    org_id: str,
    name: str,
    charges: list[Charge],
    *,
    start: dt.date = DEC_1,
    end: dt.date = DEC_31,
) -> CustomerCharges:
    return CustomerCharges(
        customer_id=org_id,
        display_name=name,
        period_from=start,
        period_to=end,
        charges=tuple(charges),
    )


def bundle(*customers: CustomerCharges, date: dt.date = dt.date(2026, 12, 15)) -> ChargesBundle:
    return ChargesBundle(date=date, customers=tuple(customers))


def qb_customer(full_name: str, *, active: bool = True) -> Customer:
    return Customer(
        list_id=next_id("C"),
        full_name=full_name,
        name=full_name.split(":")[-1],
        edit_sequence="1",
        is_active=active,
    )


def qb_item(
    full_name: str,
    *,
    cost: str | None = "10.00",
    kind: ItemKind = ItemKind.SERVICE,
    sales_and_purchase: bool = True,
    active: bool = True,
) -> Item:
    return Item(
        list_id=next_id("I"),
        full_name=full_name,
        name=full_name.split(":")[-1],
        kind=kind,
        edit_sequence="1",
        is_active=active,
        sales_and_purchase=sales_and_purchase,
        sales_price=Decimal("25.00"),
        purchase_cost=Decimal(cost) if cost is not None else None,
    )


def line(
    item: Item | None,
    quantity: str | int | None = 1,
    desc: str | None = None,
    *,
    service_date: dt.date | None = None,
    rate: str | None = None,
) -> InvoiceLine:
    return InvoiceLine(
        txn_line_id=next_id("L"),
        item=Ref(list_id=item.list_id, full_name=item.full_name) if item else None,
        desc=desc,
        quantity=Decimal(str(quantity)) if quantity is not None else None,
        rate=Decimal(rate) if rate else None,
        service_date=service_date,
    )


def invoice(
    customer: Customer,
    lines: list,
    *,
    date: dt.date = DEC_1,
    paid: bool = False,
    payment: bool = False,
    external_guid: str | None = None,
    created: dt.datetime | None = None,
    number: int | None = None,
    memo: str | None = None,
    sent: bool = False,
) -> Invoice:
    """An invoice; not sent yet (marked Email later) unless ``sent``."""
    txn_id = next_id("T")
    return Invoice(
        txn_id=txn_id,
        edit_sequence="100",
        customer=Ref(list_id=customer.list_id, full_name=customer.full_name),
        txn_date=date,
        time_created=created,
        txn_number=number,
        ref_number=str(number) if number is not None else txn_id,
        is_paid=paid,
        is_to_be_printed=False,
        is_to_be_emailed=not sent,
        memo=memo,
        external_guid=external_guid,
        linked_txns=(LinkedTxn(txn_id=next_id("P"), txn_type="ReceivePayment"),) if payment else (),
        lines=tuple(lines),
    )


def state(customers: list[Customer], items: list[Item], invoices: list[Invoice] = ()) -> QBState:
    return QBState(customers=tuple(customers), items=tuple(items), invoices=tuple(invoices))


def with_invoices(base: QBState, *invoices: Invoice) -> QBState:
    return replace(base, invoices=base.invoices + tuple(invoices))

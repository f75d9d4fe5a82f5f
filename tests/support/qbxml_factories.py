"""Plan changes and QuickBooks objects for the qbXML tests: realistic and edge cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reconciler.engine.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model.config import SendMark
from reconciler.model.quickbooks import Invoice, InvoiceLine, InvoiceLineGroup, Item, ItemKind, Ref
from reconciler.qbxml.queries import CompanyQuery, CustomerQuery, HostQuery, InvoiceQuery, ItemQuery

GUID = "3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"
CUSTOMER = Ref("80000013-1416570432", "Contoso Dental")


def item(kind: ItemKind = ItemKind.SERVICE, **fields: object) -> Item:
    defaults: dict[str, object] = {
        "list_id": "80000021-1700000000",
        "full_name": "Cloud:Microsoft 365 Business Premium",
        "name": "Microsoft 365 Business Premium",
        "kind": kind,
        "edit_sequence": "1700000000",
        "sales_and_purchase": True,
        "sales_price": Decimal("22.00"),
        "purchase_cost": Decimal("17.60"),
    }
    defaults.update(fields)
    return Item(**defaults)  # type: ignore[arg-type]


def synced(**fields: object) -> SyncedLine:
    defaults: dict[str, object] = {
        "item": Ref("80000021-1700000000", "Cloud:Microsoft 365 Business Premium"),
        "desc": "Microsoft 365 Business Premium (Annual) - 2024-05-01 to 2024-05-31",
        "quantity": Decimal("12"),
        "service_date": dt.date(2024, 5, 1),
        "sku": "MS-365-BP-M",
    }
    defaults.update(fields)
    return SyncedLine(**defaults)  # type: ignore[arg-type]


def invoice_create(**fields: object) -> InvoiceCreate:
    defaults: dict[str, object] = {
        "organization_id": "5e6f7a8b-0000-4000-8000-000000000001",
        "organization_name": "Contoso Dental",
        "customer": CUSTOMER,
        "txn_date": dt.date(2024, 6, 1),
        "external_guid": GUID,
        "lines": (synced(), synced(sku="AZ-PLAN", quantity=Decimal("3.25"))),
        "memo": "Sherweb charges for May 2024",
        "mark": SendMark.EMAIL,
    }
    defaults.update(fields)
    return InvoiceCreate(**defaults)  # type: ignore[arg-type]


def existing_invoice(**fields: object) -> Invoice:
    defaults: dict[str, object] = {
        "txn_id": "C5-1417118624",
        "edit_sequence": "1417118624",
        "customer": CUSTOMER,
        "txn_date": dt.date(2024, 6, 1),
        "ref_number": "1042",
        "lines": (
            InvoiceLine("C7-1417118624", Ref("80000005-1", "Consulting"), "Monthly support"),
            InvoiceLine(
                "C8-1417118624",
                Ref("80000021-1700000000", "Cloud:Microsoft 365 Business Premium"),
                "Microsoft 365 Business Premium",
                Decimal("10"),
            ),
            InvoiceLineGroup(
                "C9-1417118624",
                Ref("80000030-1", "Backup bundle"),
                total_amount=Decimal("30.00"),
                lines=(InvoiceLine("CA-1417118624", Ref("80000031-1", "Backup")),),
            ),
            InvoiceLine("CB-1417118624", None, "Thank you for your business."),
        ),
    }
    defaults.update(fields)
    return Invoice(**defaults)  # type: ignore[arg-type]


def invoice_update(**fields: object) -> InvoiceUpdate:
    invoice = fields.pop("invoice", None) or existing_invoice()
    before = invoice.lines[1]
    defaults: dict[str, object] = {
        "organization_ids": ("5e6f7a8b-0000-4000-8000-000000000001",),
        "organization_names": ("Contoso Dental",),
        "invoice": invoice,
        "lines": (
            KeepLine("C7-1417118624"),
            ModifyLine("C8-1417118624", synced(), before),
            KeepLine("C9-1417118624", is_group=True),
            KeepLine("CB-1417118624"),
            AddLine(synced(sku="AZ-PLAN", desc="Azure plan", quantity=Decimal("-1.5"))),
        ),
    }
    defaults.update(fields)
    return InvoiceUpdate(**defaults)  # type: ignore[arg-type]


def cost_update(kind: ItemKind = ItemKind.SERVICE, cost: str = "17.60", **item_fields: object):
    return ItemCostUpdate(item(kind, **item_fields), Decimal(cost))


NASTY = "R&D <Team> \"Quotes\" 'apostrophes'"
LATIN = "Café Zürich – Société Générale™ € ½"

REALISTIC = {
    "host": HostQuery(),
    "company": CompanyQuery(),
    "customers": CustomerQuery(),
    "customers-by-id": CustomerQuery(list_ids=("80000013-1416570432", "80000014-1416570433")),
    "customers-paged": CustomerQuery(max_returned=100, iterator="Start", owner_ids=("0",)),
    "items": ItemQuery(),
    "items-by-name": ItemQuery(full_names=("Cloud:Microsoft 365 E3", NASTY)),
    "items-continue": ItemQuery(
        max_returned=500, iterator="Continue", iterator_id="{eb05f701-e727-472f-8ade-6753c4f67a46}"
    ),
    "invoices-by-customer": InvoiceQuery(
        customer_list_ids=("80000013-1416570432",),
        txn_date_from=dt.date(2024, 5, 1),
        txn_date_to=dt.date(2024, 5, 31),
        owner_ids=("0", "{512349B1-1111-2222-3333-000DE1813D20}"),
        max_returned=200,
        iterator="Start",
    ),
    "invoices-by-name": InvoiceQuery(
        customer_full_names=(LATIN,), txn_date_from=dt.date(2024, 5, 1)
    ),
    "invoices-by-txn": InvoiceQuery(txn_ids=("C5-1417118624",), include_line_items=False),
    "invoices-modified-since": InvoiceQuery(
        modified_from=dt.date(2024, 5, 30),
        include_line_items=False,
        include_linked_txns=False,
        max_returned=100,
        iterator="Start",
    ),
    "invoices-stop": InvoiceQuery(
        iterator="Stop", iterator_id="{6fcbb18b-68cf-4adb-bf40-164ac0bb4ec0}"
    ),
    "invoice-add": invoice_create(),
    "invoice-mod": invoice_update(),
    "cost-service": cost_update(ItemKind.SERVICE),
    "cost-non-inventory": cost_update(ItemKind.NON_INVENTORY, "0.12345"),
    "cost-other-charge": cost_update(ItemKind.OTHER_CHARGE, "-3"),
}

EDGE = {
    "max-lengths": invoice_create(
        customer=Ref(None, "C" * 209),
        memo="M" * 4095,
        lines=(synced(item=Ref(None, "I" * 159), desc="D" * 4095),),
    ),
    "escaping": invoice_create(
        organization_name=NASTY,
        customer=Ref(None, NASTY),
        memo=NASTY,
        lines=(synced(item=Ref(None, NASTY), desc=NASTY + "\n\tsecond line"),),
    ),
    "latin": invoice_create(memo=LATIN, lines=(synced(desc=LATIN),)),
    "five-decimals": invoice_create(lines=(synced(quantity=Decimal("1234567890.12345")),)),
    "negative": invoice_create(lines=(synced(quantity=Decimal("-2.5"), service_date=None),)),
    "empty-memo": invoice_create(memo=""),
    "no-memo": invoice_create(memo=None),
    "print-later-no-memo": invoice_create(memo=None, mark=SendMark.PRINT),
    "unmarked": invoice_create(mark=SendMark.NONE),
    "keep-only": invoice_update(
        lines=(
            KeepLine("C7-1417118624"),
            KeepLine("C8-1417118624"),
            KeepLine("C9-1417118624", is_group=True),
            KeepLine("CB-1417118624"),
        )
    ),
    "add-by-name": invoice_update(
        lines=(
            KeepLine("C7-1417118624"),
            KeepLine("C8-1417118624"),
            KeepLine("C9-1417118624", is_group=True),
            KeepLine("CB-1417118624"),
            AddLine(synced(item=Ref(None, LATIN), quantity=Decimal("0.00001"))),
        )
    ),
}

"""Plan changes and QuickBooks objects for the qbXML tests: realistic and edge cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reconciler.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model import Invoice, InvoiceLine, InvoiceLineGroup, Item, ItemKind, Ref

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

"""The plan document: a plan as JSON data (the plan file and ``--format json``).

The format is documented by ``reconciler/schemas/plan.schema.json`` and
versioned by ``format_version``. Amounts and quantities are strings (decimal
text, never floats); dates ISO 8601; ``not_before`` a timezone-aware moment.
The text and markdown renderers read this document, so that ``reconcile show``
of a saved plan prints exactly what ``reconcile plan`` printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reconciler import __version__
from reconciler.engine.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.engine.fingerprint import decimal_text
from reconciler.engine.lines import field_changes
from reconciler.model.quickbooks import InvoiceLine, InvoiceLineGroup, Ref
from reconciler.plan.model import Plan, PlannedChange

Document = dict[str, Any]

# The ``action`` of each kind of change in the document.
UPDATE_ITEM_COST = "update-item-cost"
CREATE_INVOICE = "create-invoice"
UPDATE_INVOICE = "update-invoice"


def _text(value: Decimal | dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value.isoformat()


def _ref(ref: Ref | None) -> dict[str, str | None] | None:
    if ref is None:
        return None
    return {"list_id": ref.list_id, "full_name": ref.full_name}


def _synced(line: SyncedLine) -> Document:
    return {
        "item": _ref(line.item),
        "sku": line.sku,
        "description": line.desc,
        "quantity": _text(line.quantity),
        "service_date": _text(line.service_date),
    }


def _existing(line: InvoiceLine | InvoiceLineGroup) -> Document:
    if isinstance(line, InvoiceLineGroup):
        return {
            "item": _ref(line.item_group),
            "description": line.desc,
            "quantity": _text(line.quantity),
            "amount": _text(line.total_amount),
            "service_date": None,
        }
    return {
        "item": _ref(line.item),
        "description": line.desc,
        "quantity": _text(line.quantity),
        "amount": _text(line.amount),
        "service_date": _text(line.service_date),
    }


def _organizations(change: PlannedChange) -> list[Document]:
    return [{"id": org.id, "name": org.name} for org in change.organizations]


def _schedule(change: PlannedChange) -> Document:
    schedule = change.schedule
    assert schedule is not None  # every invoice change has one
    return {
        "period": {
            "from": schedule.period.start.isoformat(),
            "to": schedule.period.end.isoformat(),
        },
        "not_before": schedule.invoice_at.isoformat(),
    }


def _update_lines(update: InvoiceUpdate) -> list[Document]:
    """Every line in the invoice's order: kept, modified, removed; then added."""
    ops: dict[str, KeepLine | ModifyLine] = {}
    added: list[AddLine] = []
    for op in update.lines:
        if isinstance(op, AddLine):
            added.append(op)
        else:
            ops[op.txn_line_id] = op
    lines: list[Document] = []
    for line in update.invoice.lines:
        op = ops.get(line.txn_line_id)
        if isinstance(op, ModifyLine):
            lines.append(
                {
                    "op": "modify",
                    "txn_line_id": line.txn_line_id,
                    "before": _existing(line),
                    "after": _synced(op.line),
                    "fields": [
                        {"field": c.field, "before": _text(c.before), "after": _text(c.after)}
                        for c in field_changes(op.before, op.line)
                    ],
                }
            )
        elif isinstance(op, KeepLine):
            lines.append(
                {
                    "op": "keep",
                    "txn_line_id": line.txn_line_id,
                    "group": op.is_group,
                    "before": _existing(line),
                }
            )
        else:
            lines.append(
                {"op": "remove", "txn_line_id": line.txn_line_id, "before": _existing(line)}
            )
    lines.extend({"op": "add", "after": _synced(op.line)} for op in added)
    return lines


def _change(change: PlannedChange, qbxml: str) -> Document:
    common = {"id": change.key, "request_id": change.request_id, "qbxml": qbxml}
    body = change.change
    if isinstance(body, ItemCostUpdate):
        item = body.item
        return {
            **common,
            "action": UPDATE_ITEM_COST,
            "item": {
                "list_id": item.list_id,
                "full_name": item.full_name,
                "kind": item.kind.value,
                "edit_sequence": item.edit_sequence,
            },
            "before": {"purchase_cost": _text(body.before)},
            "after": {"purchase_cost": _text(body.cost)},
        }
    if isinstance(body, InvoiceCreate):
        return {
            **common,
            **_schedule(change),
            "action": CREATE_INVOICE,
            "organizations": _organizations(change),
            "customer": _ref(body.customer),
            "txn_date": body.txn_date.isoformat(),
            "external_guid": body.external_guid,
            "memo": body.memo,
            "mark": body.mark.value,
            "lines": [{"op": "add", "after": _synced(line)} for line in body.lines],
        }
    invoice = body.invoice
    return {
        **common,
        **_schedule(change),
        "action": UPDATE_INVOICE,
        "organizations": _organizations(change),
        "customer": _ref(invoice.customer),
        "invoice": {
            "txn_id": invoice.txn_id,
            "edit_sequence": invoice.edit_sequence,
            "ref_number": invoice.ref_number,
            "txn_number": invoice.txn_number,
            "txn_date": invoice.txn_date.isoformat(),
            "external_guid": invoice.external_guid,
        },
        "lines": _update_lines(body),
    }


def plan_document(
    plan: Plan, qbxml: Mapping[str, str], *, qbxml_version: str, forced: bool = False
) -> Document:
    """The plan as JSON data.

    ``qbxml`` maps each change's key to its rendered request document (of
    ``qbxml_version``); ``forced`` records that ``--force`` accepted a plan
    over the safety threshold.
    """
    summary = plan.summary
    safety = plan.safety
    billing = plan.billing
    return {
        "format_version": plan.format_version,
        "plan_id": plan.plan_id,
        "generator": {"name": "reconciler", "version": __version__},
        "fingerprints": {
            "config": plan.fingerprints.config,
            "charges": plan.fingerprints.charges,
            "state": plan.fingerprints.state,
        },
        "qbxml_version": qbxml_version,
        "billing": {
            "mode": billing.mode.value,
            "proration": sorted(p.value for p in billing.proration),
            "invoice_day": billing.invoice_day,
            "invoice_time": billing.invoice_time.strftime("%H:%M"),
            "timezone": billing.timezone,
            "unsent_invoices": billing.unsent_invoices.value,
            "mark_created": billing.mark_created.value,
        },
        "summary": {
            "changes": summary.changes,
            "item_cost_updates": summary.item_cost_updates,
            "invoice_creates": summary.invoice_creates,
            "invoice_updates": summary.invoice_updates,
            "lines_added": summary.lines_added,
            "lines_modified": summary.lines_modified,
            "lines_removed": summary.lines_removed,
            "errors": summary.errors,
            "warnings": summary.warnings,
            "infos": summary.infos,
        },
        "safety": {
            "existing_invoices": safety.existing_invoices,
            "changed_invoices": safety.changed_invoices,
            "ratio": _text(safety.ratio),
            "max_change_ratio": _text(safety.max_change_ratio),
            "min_existing": safety.min_existing,
            "exceeded": safety.exceeded,
            "forced": forced,
        },
        "changes": [_change(change, qbxml[change.key]) for change in plan.changes],
        "notices": [
            {
                "level": notice.level.value,
                "code": notice.code.value,
                "message": notice.message,
                "context": dict(notice.context),
            }
            for notice in plan.notices
        ],
    }

"""What the text and markdown renderers say alike: headlines, sums, times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconciler.plan.document import CREATE_INVOICE, UPDATE_INVOICE, UPDATE_ITEM_COST, Document

NO_CHANGES = "No changes. QuickBooks matches the configuration."
NO_CHANGES_DETAIL = (
    "Reconciler has compared the invoices and items in QuickBooks against your "
    "configuration and charges and found no differences, so no changes are needed."
)


def plural(count: int, noun: str, suffix: str = "s") -> str:
    """``count`` and ``noun``, with ``suffix`` added unless the count is 1 (``2 invoices``)."""
    return f"{count} {noun}{'' if count == 1 else suffix}"


def summary_sentence(summary: Document) -> str:
    """``Plan: 1 invoice to create, 2 invoices to update, 1 item cost to update ...``."""
    lines = (
        f"lines: {summary['lines_added']} to add, {summary['lines_modified']} to change, "
        f"{summary['lines_removed']} to remove"
    )
    return (
        f"Plan: {plural(summary['invoice_creates'], 'invoice')} to create, "
        f"{plural(summary['invoice_updates'], 'invoice')} to update, "
        f"{plural(summary['item_cost_updates'], 'item cost')} to update ({lines})."
    )


def organizations(change: Document) -> str:
    """The names of the organizations a change bills, comma-separated ("" when none)."""
    return ", ".join(org["name"] for org in change.get("organizations", []))


def customer_name(change: Document) -> str:
    """The customer a change is for, by full name, else ListID, else ``?``."""
    customer = change.get("customer") or {}
    return customer.get("full_name") or customer.get("list_id") or "?"


def invoice_number(change: Document) -> str:
    """The updated invoice's number, or its TxnID when it has none (invoice updates only)."""
    invoice = change["invoice"]
    return invoice.get("ref_number") or invoice["txn_id"]


def invoice_date(change: Document) -> str:
    """The invoice's date as the plan writes it: the new one's, or the updated one's."""
    if change["action"] == CREATE_INVOICE:
        return change["txn_date"]
    return change["invoice"]["txn_date"]


def headline(change: Document) -> str:
    """What a change does, in a sentence without its verb's tense."""
    action = change["action"]
    if action == UPDATE_ITEM_COST:
        return f'item "{change["item"]["full_name"]}" purchase cost'
    orgs = organizations(change)
    customer = customer_name(change)
    who = customer if orgs == customer else f"{customer} ({orgs})"
    if action == CREATE_INVOICE:
        return f"invoice for {who} dated {change['txn_date']}"
    return f"invoice #{invoice_number(change)} of {who} dated {invoice_date(change)}"


def mark_label(change: Document) -> str | None:
    """The QuickBooks mark a new invoice gets (``Email later``), None when unmarked."""
    return {"email": "Email later", "print": "Print later"}.get(change["mark"])


def verb(change: Document) -> str:
    """The plan's words for what happens to the changed object (``will be created``...)."""
    return {
        CREATE_INVOICE: "will be created",
        UPDATE_INVOICE: "will be updated in-place",
        UPDATE_ITEM_COST: "will be updated",
    }[change["action"]]


def local_time(moment: str, timezone: str) -> str:
    """``2026-12-01 05:00 EST`` for an ISO moment, in the billing time zone."""
    value = dt.datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone))
    return value.strftime("%Y-%m-%d %H:%M %Z")


def line_counts(change: Document) -> dict[str, int]:
    """How many of a change's lines are added, modified, removed and kept (keys ``add``...)."""
    counts = {"add": 0, "modify": 0, "remove": 0, "keep": 0}
    for line in change.get("lines", []):
        counts[line["op"]] += 1
    return counts


def money(value: str | None) -> str | None:
    """A cost with at least two decimals, as QuickBooks shows it (9.5 -> 9.50)."""
    if value is None:
        return None
    amount = Decimal(value)
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]
        amount = amount.quantize(Decimal("0.01"))
    return str(amount)

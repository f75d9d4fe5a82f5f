"""The last check before a plan is queued: its qbXML against QuickBooks and the configuration.

A plan is reviewed, then applied; in between it is a file anyone can edit,
and its digest only tells an accident from a deliberate change. So before
queueing, every change's qbXML request is read again (with the hardened
parser) and held to what ``reconcile plan`` renders:

- only InvoiceAdd, InvoiceMod and the three item modifications that set a
  purchase cost, one per change, of the change's kind, with its requestID;
- no unit price anywhere: no Rate, RatePercent, Amount or PriceLevelRef
  (design invariant 6), and no element the product never writes;
- an InvoiceMod modifies an invoice QuickBooks holds (the snapshot), with its
  EditSequence, that is neither settled nor sent (invariant 5), and lists
  every line that does not hold an item of an offer synced for the invoice's
  organizations, unchanged (invariant 3); what it adds or modifies holds
  such an item;
- an InvoiceAdd carries the change's ExternalGUID, that no invoice holds yet
  (invariant 2), for a mapped customer, dated on the period's invoice date,
  with the Print/Email later mark of billing.yaml's ``mark_created``;
- an item modification sets the purchase cost of a mapped item, with its
  EditSequence.

It also says when each invoice request may be sent, from the configuration's
billing options and the change's period, rather than from the file. Pure: the
state and the rules (:class:`GuardRules`: what the guard needs of the
configuration, which the server keeps in the company's profile) are inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.base.errors import UserError
from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.engine.index import QBIndex, is_void, name_key
from reconciler.engine.period import BillingPeriod, InvoiceSchedule, schedule_for
from reconciler.model.config import SEND_MARK_FIELDS, BillingOptions, Config
from reconciler.model.quickbooks import (
    Invoice,
    InvoiceLine,
    InvoiceLineGroup,
    ItemKind,
    QBState,
    Ref,
    canonical_guid,
)
from reconciler.plan.document import CREATE_INVOICE, UPDATE_INVOICE, UPDATE_ITEM_COST, Document

Element = Any  # lxml.etree._Element; lxml ships no type stubs

ITEM_COST_KINDS = {
    f"{kind.value}ModRq": kind
    for kind in (ItemKind.SERVICE, ItemKind.NON_INVENTORY, ItemKind.OTHER_CHARGE)
}
REQUEST_KINDS = {
    UPDATE_ITEM_COST: frozenset(ITEM_COST_KINDS),
    CREATE_INVOICE: frozenset({"InvoiceAddRq"}),
    UPDATE_INVOICE: frozenset({"InvoiceModRq"}),
}
# A price on a line would override the item's own (design invariant 6).
PRICE_FIELDS = frozenset({"Rate", "RatePercent", "Amount", "PriceLevelRef"})
# The fields of a line as the templates write them.
LINE_FIELDS = frozenset({"ItemRef", "Desc", "Quantity", "ServiceDate"})
# The header fields of an InvoiceAdd as the template writes them.
INVOICE_ADD_FIELDS = (
    "CustomerRef",
    "TxnDate",
    "Memo",
    *SEND_MARK_FIELDS,
    "ExternalGUID",
    "InvoiceLineAdd",
)
NEW_LINE = "-1"


class UnsafePlanRequest(UserError):
    """A change whose qbXML is not what ``reconcile plan`` renders for this state."""


@dataclass(frozen=True)
class CheckedChange:
    """A change whose request passed the guard, and what the queue needs of it."""

    change_id: str
    kind: str  # the qbXML request name, e.g. "InvoiceModRq"
    # When the server may send it (invoice_time on the invoice date), UTC;
    # None for item costs, which are due at once.
    not_before: dt.datetime | None
    # Whether it modifies or removes a line already on an invoice (what the
    # safety threshold counts).
    changes_existing: bool = False


def synced_items(config: Config) -> dict[str, tuple[str, ...]]:
    """Each mapped customer (full name) and the items (full names) synced for its organizations.

    A line on one of these items is the reconciler's on that customer's
    invoices; every other line belongs to a person.
    """
    by_customer: dict[str, set[str]] = {}
    for org in config.organizations:
        items = by_customer.setdefault(org.customer, set())
        items.update(offer.item for offer in config.offers if org.syncs(offer))
    return {customer: tuple(sorted(items)) for customer, items in sorted(by_customer.items())}


@dataclass(frozen=True)
class GuardRules:
    """What the guard holds a plan to: the configuration's billing options, its
    mapped items, and which items each mapped customer's organizations sync."""

    billing: BillingOptions
    items: frozenset[str]  # name keys of the items offers map
    synced: Mapping[str, frozenset[str]]  # customer name key -> item name keys

    @classmethod
    def of(
        cls, billing: BillingOptions, items: Iterable[str], synced: Mapping[str, Iterable[str]]
    ) -> GuardRules:
        """The rules from names as the configuration writes them."""
        return cls(
            billing=billing,
            items=frozenset(map(name_key, items)),
            synced={name_key(c): frozenset(map(name_key, i)) for c, i in synced.items()},
        )

    @classmethod
    def from_config(cls, config: Config) -> GuardRules:
        """The rules the configuration sets: its billing options, the items its offers map, and
        which of those each mapped customer syncs."""
        return cls.of(config.billing, (offer.item for offer in config.offers), synced_items(config))


def check_plan_requests(
    document: Document, state: QBState, rules: GuardRules
) -> tuple[CheckedChange, ...]:
    """Check every change's qbXML request; raise :class:`UnsafePlanRequest` naming the change."""
    guard = _Guard(state, rules)
    return tuple(guard.check(change) for change in document["changes"])


def _children(element: Element) -> list[Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _ref(element: Element | None) -> Ref | None:
    if element is None:
        return None
    return Ref(
        list_id=_text(element.find("ListID")) or None,
        full_name=_text(element.find("FullName")) or None,
    )


@dataclass(frozen=True)
class _Synced:
    """The items synced for a customer's organizations: what the reconciler's lines hold."""

    list_ids: frozenset[str]
    names: frozenset[str]
    customer: str

    def holds(self, ref: Ref | None) -> bool:
        if ref is None:
            return False
        if ref.list_id:
            return ref.list_id in self.list_ids
        return ref.full_name is not None and name_key(ref.full_name) in self.names


class _Guard:
    def __init__(self, state: QBState, rules: GuardRules) -> None:
        self.state = state
        self.rules = rules
        self.index = QBIndex(state)
        self.invoices = {invoice.txn_id: invoice for invoice in state.invoices}
        self.customers_by_id = {customer.list_id: customer for customer in state.customers}
        self.mapped_items = {
            i.list_id: i for i in state.items if name_key(i.full_name) in rules.items
        }

    # -- the request -------------------------------------------------------

    def check(self, change: Mapping[str, Any]) -> CheckedChange:
        change_id = str(change["id"])
        request = self._request(change, change_id)
        kind = str(request.tag)
        self._no_price(request, change_id)
        action = change["action"]
        if action == UPDATE_ITEM_COST:
            self._item_cost(request, change_id)
            return CheckedChange(change_id, kind, None)
        schedule = self._schedule(change, change_id)
        if action == CREATE_INVOICE:
            self._invoice_add(request, change, schedule, change_id)
            changes_existing = False
        else:
            changes_existing = self._invoice_mod(request, schedule, change_id)
        return CheckedChange(
            change_id, kind, schedule.invoice_at.astimezone(dt.UTC), changes_existing
        )

    def _refuse(self, change_id: str, message: str) -> UnsafePlanRequest:
        return UnsafePlanRequest(
            f"change {change_id}: {message}",
            hint="The plan file is not what `reconcile plan` wrote for this QuickBooks state "
            "and configuration: plan again, review, and apply the new plan.",
        )

    def _request(self, change: Mapping[str, Any], change_id: str) -> Element:
        try:
            root = parse_xml(change["qbxml"], source=f"the qbXML of change {change_id}")
        except XMLInputError as exc:
            raise UnsafePlanRequest(str(exc)) from None
        messages = root.find("QBXMLMsgsRq") if root.tag == "QBXML" else None
        requests = [] if messages is None else _children(messages)
        if root.tag != "QBXML" or len(requests) != 1 or len(_children(root)) != 1:
            raise self._refuse(change_id, "its qbXML must hold exactly one request")
        request = requests[0]
        allowed = REQUEST_KINDS.get(change["action"], frozenset())
        if request.tag not in allowed:
            kinds = ", ".join(sorted(allowed)) or "none"
            raise self._refuse(
                change_id,
                f"a {request.tag} request: reconciler queues only the requests it renders "
                f"({kinds} for a change {change['action']})",
            )
        if request.get("requestID") != change["request_id"]:
            raise self._refuse(
                change_id,
                f"its requestID {request.get('requestID')!r} is not the change's "
                f"{change['request_id']!r}",
            )
        return request

    def _no_price(self, request: Element, change_id: str) -> None:
        for element in request.iter():
            if element.tag in PRICE_FIELDS:
                raise self._refuse(
                    change_id,
                    f"it writes {element.tag} on line {element.sourceline}: reconciler never "
                    "writes a price (the item's own price applies)",
                )

    def _body(self, request: Element, tag: str, change_id: str) -> Element:
        """The one element a request holds (``InvoiceMod`` in ``InvoiceModRq``)."""
        children = _children(request)
        if len(children) != 1 or children[0].tag != tag:
            raise self._refuse(change_id, f"{request.tag} must hold one {tag} and nothing else")
        return children[0]

    def _only(self, element: Element, allowed: Iterable[str], change_id: str) -> None:
        allowed = frozenset(allowed)
        for child in _children(element):
            if child.tag not in allowed:
                raise self._refuse(
                    change_id,
                    f"it writes {child.tag} in {element.tag} (line {child.sourceline}), "
                    "which reconciler never writes",
                )

    # -- schedule ----------------------------------------------------------

    def _schedule(self, change: Mapping[str, Any], change_id: str) -> InvoiceSchedule:
        """The period's schedule from billing.yaml; the file's not_before must agree."""
        period = change["period"]
        try:
            billed = BillingPeriod(
                dt.date.fromisoformat(period["from"]), dt.date.fromisoformat(period["to"])
            )
        except ValueError as exc:
            raise self._refuse(change_id, f"its period is not a billing period: {exc}") from None
        schedule = schedule_for(billed, self.rules.billing)
        try:
            planned = dt.datetime.fromisoformat(change["not_before"])
        except ValueError:
            planned = None
        if planned is None or planned.tzinfo is None or planned != schedule.invoice_at:
            raise self._refuse(
                change_id,
                f"it may be written to QuickBooks from {change['not_before']}, but billing.yaml says invoices "
                f"of {billed} are generated at {schedule.invoice_at.isoformat()}",
            )
        return schedule

    # -- items -------------------------------------------------------------

    def _item_cost(self, request: Element, change_id: str) -> None:
        kind = ITEM_COST_KINDS[request.tag]
        body = self._body(request, f"{kind.value}Mod", change_id)
        self._only(body, ("ListID", "EditSequence", "SalesAndPurchaseMod"), change_id)
        cost = body.find("SalesAndPurchaseMod")
        if cost is None:
            raise self._refuse(change_id, "it sets no purchase cost")
        self._only(cost, ("PurchaseCost",), change_id)
        list_id = _text(body.find("ListID"))
        item = self.mapped_items.get(list_id)
        if item is None:
            raise self._refuse(
                change_id, f"item {list_id!r} is not the QuickBooks item of an offer in offers.yaml"
            )
        if item.kind is not kind:
            raise self._refuse(change_id, f'item "{item.full_name}" is a {item.kind.value} item')
        self._edit_sequence(body, item.edit_sequence, f'item "{item.full_name}"', change_id)

    def _edit_sequence(self, body: Element, expected: str, what: str, change_id: str) -> None:
        found = _text(body.find("EditSequence"))
        if found != expected:
            raise self._refuse(
                change_id,
                f"its EditSequence {found!r} is not the one QuickBooks holds for {what} "
                f"({expected!r})",
            )

    # -- invoices ----------------------------------------------------------

    def _customer_name(self, customer: Ref) -> str | None:
        """The customer's full name (by ListID through the state, else as the reference says)."""
        if customer.list_id and customer.list_id in self.customers_by_id:
            return self.customers_by_id[customer.list_id].full_name
        return customer.full_name

    def _synced(self, customer: Ref) -> _Synced | None:
        """The items synced for the organizations mapped to a customer; None: not mapped."""
        name = self._customer_name(customer)
        names = self.rules.synced.get(name_key(name)) if name else None
        if names is None:
            return None
        ids = frozenset(i.list_id for i in self.state.items if name_key(i.full_name) in names)
        return _Synced(list_ids=ids, names=names, customer=name or "")

    def _new_line(self, line: Element, synced: _Synced, change_id: str) -> None:
        """A line the request writes: the fields the templates write, on a synced item."""
        self._only(line, LINE_FIELDS | {"TxnLineID"}, change_id)
        item = _ref(line.find("ItemRef"))
        if not synced.holds(item):
            shown = item and (item.full_name or item.list_id)
            raise self._refuse(
                change_id,
                f"line {line.sourceline} holds item {shown!r}, not the item of an offer "
                f"synced for {synced.customer}",
            )

    def _invoice_add(
        self,
        request: Element,
        change: Mapping[str, Any],
        schedule: InvoiceSchedule,
        change_id: str,
    ) -> None:
        body = self._body(request, "InvoiceAdd", change_id)
        self._only(body, INVOICE_ADD_FIELDS, change_id)
        self._mark(body, change, change_id)
        guid = canonical_guid(_text(body.find("ExternalGUID")))
        if not guid:
            raise self._refuse(
                change_id, "the invoice carries no ExternalGUID, so it could be added twice"
            )
        if guid != canonical_guid(change["external_guid"] or ""):
            raise self._refuse(
                change_id, f"its ExternalGUID {{{guid}}} is not the change's external_guid"
            )
        if self.index.invoice_by_guid(guid) is not None:
            raise self._refuse(
                change_id, f"QuickBooks already holds the invoice with ExternalGUID {{{guid}}}"
            )
        customer = _ref(body.find("CustomerRef"))
        if customer is None or not _same_customer(customer, change["customer"] or {}):
            raise self._refuse(change_id, "its CustomerRef is not the change's customer")
        synced = self._synced(customer)
        if synced is None:
            raise self._refuse(change_id, "its customer is not mapped by organizations.yaml")
        date = _text(body.find("TxnDate"))
        if date != schedule.invoice_date.isoformat() or date != change["txn_date"]:
            raise self._refuse(
                change_id,
                f"it is dated {date or 'nothing'}, but the invoice of {schedule.period} is "
                f"dated {schedule.invoice_date.isoformat()}",
            )
        lines = body.findall("InvoiceLineAdd")
        if not lines:
            raise self._refuse(change_id, "the invoice has no line")
        for line in lines:
            self._new_line(line, synced, change_id)

    def _mark(self, body: Element, change: Mapping[str, Any], change_id: str) -> None:
        """The Print/Email later mark is billing.yaml's ``mark_created``, and the change's."""
        wanted = self.rules.billing.mark_created
        if change.get("mark") != wanted.value:
            raise self._refuse(
                change_id,
                f"its mark is {change.get('mark')!r}, but billing.yaml says "
                f"mark_created: {wanted.value}",
            )
        written: dict[str, str] = {}
        for tag in SEND_MARK_FIELDS:
            found = body.findall(tag)
            if len(found) > 1:
                raise self._refuse(change_id, f"it writes {tag} twice")
            if found:
                written[tag] = _text(found[0])
        if written != wanted.flags:
            shown = ", ".join(f"{tag} {value}" for tag, value in written.items()) or "no mark"
            raise self._refuse(
                change_id,
                f"it writes {shown}, but billing.yaml says mark_created: {wanted.value}",
            )

    def _target(self, body: Element, schedule: InvoiceSchedule, change_id: str) -> Invoice:
        txn_id = _text(body.find("TxnID"))
        invoice = self.invoices.get(txn_id)
        if invoice is None:
            raise self._refuse(change_id, f"QuickBooks holds no invoice {txn_id!r}")
        label = f"invoice {invoice.ref_number or invoice.txn_id}"
        if invoice.is_settled:
            raise self._refuse(change_id, f"{label} has a payment or credit applied")
        if is_void(invoice):
            raise self._refuse(change_id, f"{label} is void")
        if invoice.is_sent(self.rules.billing.unsent_invoices):
            raise self._refuse(
                change_id, f"{label} was already sent (not marked Print/Email later)"
            )
        if invoice.txn_date not in schedule.window and not invoice.external_guid:
            raise self._refuse(
                change_id,
                f"{label} is dated {invoice.txn_date.isoformat()}, outside the billing window "
                f"of {schedule.period} ({schedule.window})",
            )
        self._edit_sequence(body, invoice.edit_sequence, label, change_id)
        return invoice

    def _invoice_mod(self, request: Element, schedule: InvoiceSchedule, change_id: str) -> bool:
        """Check an InvoiceMod; whether it modifies or removes an existing line."""
        body = self._body(request, "InvoiceMod", change_id)
        self._only(
            body, ("TxnID", "EditSequence", "InvoiceLineMod", "InvoiceLineGroupMod"), change_id
        )
        invoice = self._target(body, schedule, change_id)
        synced = self._synced(invoice.customer)
        if synced is None:
            raise self._refuse(
                change_id,
                f"invoice {invoice.ref_number or invoice.txn_id} belongs to a customer that "
                "organizations.yaml does not map",
            )
        lines: dict[str, InvoiceLine | InvoiceLineGroup] = {
            line.txn_line_id: line for line in invoice.lines
        }
        listed: set[str] = set()
        modified = False
        for element in _children(body):
            if element.tag not in ("InvoiceLineMod", "InvoiceLineGroupMod"):
                continue
            line_id = _text(element.find("TxnLineID"))
            if line_id != NEW_LINE and line_id in listed:
                raise self._refuse(change_id, f"it lists line {line_id} twice")
            existing = lines.get(line_id)
            if line_id != NEW_LINE and existing is None:
                raise self._refuse(change_id, f"the invoice holds no line {line_id!r}")
            listed.add(line_id)
            kept = [c.tag for c in _children(element)] == ["TxnLineID"]
            if element.tag == "InvoiceLineGroupMod":
                if not isinstance(existing, InvoiceLineGroup) or not kept:
                    raise self._refuse(
                        change_id, f"line {line_id} is listed as a group line but not kept whole"
                    )
                continue
            if isinstance(existing, InvoiceLineGroup):
                raise self._refuse(change_id, f"group line {line_id} is listed as a line")
            if kept:
                continue
            if existing is not None and not synced.holds(existing.item):
                raise self._refuse(
                    change_id,
                    f"it changes line {line_id}, which holds no item synced for "
                    f"{synced.customer}: reconciler never alters such a line",
                )
            self._new_line(element, synced, change_id)
            modified = modified or existing is not None
        dropped = [line_id for line_id in lines if line_id not in listed]
        for line_id in dropped:
            line = lines[line_id]
            if isinstance(line, InvoiceLineGroup) or not synced.holds(line.item):
                raise self._refuse(
                    change_id,
                    f"it does not list line {line_id} of invoice "
                    f"{invoice.ref_number or invoice.txn_id}, so QuickBooks would delete it; "
                    f"the line holds no item synced for {synced.customer}",
                )
        return modified or bool(dropped)


def _same_customer(customer: Ref, planned: Mapping[str, str | None]) -> bool:
    """Whether the request's CustomerRef names the customer the change shows."""
    if customer.list_id:
        return customer.list_id == planned.get("list_id")
    full_name = planned.get("full_name")
    return bool(customer.full_name and full_name) and name_key(
        customer.full_name or ""
    ) == name_key(full_name or "")

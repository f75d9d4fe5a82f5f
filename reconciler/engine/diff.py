"""The diff: desired invoices and item costs against QuickBooks -> changes.

- Items: an ``ItemCostUpdate`` where a mapped item's purchase cost differs from
  the charges' cost price; items that cannot carry a cost get a notice saying
  what to change in QuickBooks.
- ``create``: the invoice is the one holding the organization's and period's
  ExternalGUID, whatever its date. It is updated like any invoice when it
  exists and is not settled, left alone (with a warning) when settled, and
  added when absent: never a second one. It is added marked as
  ``billing.mark_created`` says (Email later by default), so that it counts
  as unsent, and takes corrections, until it is sent.
- ``update``: the ExternalGUID invoice when this product created one (with
  ``create_if_missing``), else the most recent open invoice (not settled, not
  sent, not void) of the customer dated in the billing window. Organizations
  mapped to one customer share that invoice. None: an error, or a new invoice
  when ``create_if_missing`` (never while a sent or settled invoice of the
  window already bills the Sherweb products).

Settled invoices (paid, payment or credit applied) and sent ones (under
``billing.unsent_invoices``) are never touched (design invariant 5); when the
charges call for a change to one, a warning says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.base.errors import Location
from reconciler.base.names import nearest
from reconciler.engine.changes import InvoiceCreate, InvoiceUpdate, ItemCostUpdate, SyncedLine
from reconciler.engine.coverage import Coverage
from reconciler.engine.desired import DesiredInvoice, DesiredState, ItemCost
from reconciler.engine.index import QBIndex, is_void, name_key
from reconciler.engine.lines import LinePlan, plan_lines
from reconciler.engine.notices import Code, Level, Notice
from reconciler.engine.period import InvoiceSchedule
from reconciler.model.config import Config, InvoiceAction, Offer, Organization
from reconciler.model.quickbooks import (
    COST_CHECKBOX,
    COSTED_ITEM_KINDS,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceLineGroup,
    Item,
    QBState,
    Ref,
    canonical_guid,
)


@dataclass(frozen=True)
class InvoiceChange:
    """An invoice change with the organizations it bills and its schedule."""

    change: InvoiceCreate | InvoiceUpdate
    organizations: tuple[Organization, ...]
    schedule: InvoiceSchedule
    # Whether lines already on the invoice are modified or removed (what the
    # safety threshold counts; adding lines to an invoice does not).
    changes_existing: bool = False


@dataclass(frozen=True)
class Diff:
    """Everything the diff found."""

    item_updates: tuple[ItemCostUpdate, ...]
    invoice_changes: tuple[InvoiceChange, ...]
    notices: tuple[Notice, ...]
    # Existing invoices the plan looked at (the invoice of each organization
    # and period that exists and is open), and how many of them it changes.
    existing_invoices: int
    changed_invoices: int


def _invoice_label(invoice: Invoice) -> str:
    number = invoice.ref_number or invoice.txn_id
    return f"invoice #{number} dated {invoice.txn_date.isoformat()}"


def _sent_label(invoice: Invoice, customer: Customer) -> str:
    number = invoice.ref_number or invoice.txn_id
    return (
        f"invoice #{number} of {customer.full_name} dated {invoice.txn_date.isoformat()} "
        "was already sent (not marked Print/Email later)"
    )


# What to do about an invoice that counts as sent (only billing.unsent_invoices:
# marked has such invoices).
_SENT_ADVICE = (
    "If the customer has not received it, tick Print later or Email later on it in "
    "QuickBooks and plan again; if your books do not use these marks, set "
    "unsent_invoices: unpaid in billing.yaml."
)


def _recency(invoice: Invoice) -> tuple[dt.date, dt.datetime, int, str]:
    created = invoice.time_created or dt.datetime.min.replace(tzinfo=dt.UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (invoice.txn_date, created, invoice.txn_number or -1, invoice.txn_id)


@dataclass
class _InvoiceTarget:
    """One invoice to reconcile: one organization, or (update) all of a customer's."""

    action: InvoiceAction
    customer_name: str
    desired: list[DesiredInvoice] = field(default_factory=list)

    @property
    def organizations(self) -> tuple[Organization, ...]:
        return tuple(d.organization for d in self.desired)

    @property
    def first(self) -> DesiredInvoice:
        return self.desired[0]

    @property
    def names(self) -> str:
        return ", ".join(o.name for o in self.organizations)

    @property
    def create_if_missing(self) -> bool:
        return self.action is InvoiceAction.CREATE or any(
            o.create_if_missing for o in self.organizations
        )


class _Differ:
    def __init__(self, config: Config, state: QBState, coverage: Coverage | None) -> None:
        self.index = QBIndex(state)
        self.coverage = coverage
        self.unsent = config.billing.unsent_invoices
        self.mark = config.billing.mark_created
        self.notices: list[Notice] = []
        self.offers = config.offers
        self.organizations = config.organizations
        # A server snapshot (it has a coverage) read the customer and item lists
        # whole, without a filter: a name missing from them is not in QuickBooks,
        # which is a mistake in the configuration (a typo), not something to
        # wait for. qbXML files given by hand may hold only part of the lists.
        self.lists_read_whole = coverage is not None
        # Mapped items present and active in QuickBooks, by name key.
        self.managed: dict[str, Ref] = {}
        self.managed_ids: set[str] = set()
        # Mapped items that are missing or inactive -> organizations that lose lines.
        self.unusable: dict[str, tuple[str, Item | None, dict[str, int]]] = {}
        for offer in config.offers:
            item = self.index.item(offer.item)
            if item is not None and item.is_active:
                self.managed[name_key(offer.item)] = Ref(item.list_id, item.full_name)
                self.managed_ids.add(item.list_id)
            else:
                self.unusable.setdefault(name_key(offer.item), (offer.item, item, {}))
        self.existing = 0
        self.changed = 0

    # -- items -------------------------------------------------------------

    def synced_key(self, ref: Ref | None) -> str | None:
        """The ListID of the mapped item a line holds, or None (not a Sherweb line)."""
        return _item_key(ref, self.managed, self.managed_ids)

    def synced_key_for(
        self, organizations: tuple[Organization, ...]
    ) -> Callable[[Ref | None], str | None]:
        """Like :meth:`synced_key`, for the items these organizations sync.

        A line on the item of an offer whose sync is off (for these
        organizations) is left alone: it may be billed by hand, e.g. under a
        retainer, and the reconciler never loses a line it does not manage.
        """
        names: dict[str, Ref] = {}
        for offer in self.offers:
            key = name_key(offer.item)
            if key in self.managed and any(org.syncs(offer) for org in organizations):
                names[key] = self.managed[key]
        ids = {ref.list_id for ref in names.values() if ref.list_id}
        return lambda ref: _item_key(ref, names, ids)

    def item_updates(self, costs: tuple[ItemCost, ...]) -> list[ItemCostUpdate]:
        updates = []
        for wanted in costs:
            item = self.index.item(wanted.item)
            if item is None or not item.is_active:
                continue  # reported with the lines it cannot hold
            if item.kind in COSTED_ITEM_KINDS and item.sales_and_purchase:
                if item.purchase_cost != wanted.cost:
                    updates.append(ItemCostUpdate(item=item, cost=wanted.cost))
                continue
            if item.kind in COST_CHECKBOX:
                fix = f'Edit Item -> tick "{COST_CHECKBOX[item.kind]}", so that the item has a Cost'
            else:
                fix = (
                    f"a {item.kind.value} item cannot carry a synced cost: map the offer to "
                    "a service, non-inventory or other-charge item that has a Cost"
                )
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.ITEM_HAS_NO_COST,
                    f'item "{item.full_name}" has no purchase cost, so its cost cannot be kept '
                    f"at {wanted.cost} ({', '.join(wanted.skus)}). In QuickBooks: {fix}.",
                    item=item.full_name,
                    sku=", ".join(wanted.skus),
                )
            )
        return updates

    def resolve_lines(self, desired: DesiredInvoice) -> list[SyncedLine]:
        """The desired lines with items resolved; lines on unusable items dropped."""
        lines = []
        for line in desired.lines:
            key = name_key(line.item.full_name or "")
            ref = self.managed.get(key)
            if ref is not None:
                lines.append(
                    SyncedLine(
                        item=ref,
                        desc=line.desc,
                        quantity=line.quantity,
                        service_date=line.service_date,
                        sku=line.sku,
                    )
                )
            elif key in self.unusable:
                lost = self.unusable[key][2]
                lost[desired.organization.name] = lost.get(desired.organization.name, 0) + 1
        return lines

    def item_notices(self) -> None:
        for key, (name, item, lost) in self.unusable.items():
            offers = [o for o in self.offers if name_key(o.item) == key]
            synced = any(org.syncs(o) for o in offers for org in self.organizations)
            if item is None and self.lists_read_whole and synced:
                self.notices.append(self._missing_item(name, offers, lost))
                continue
            if not lost:
                continue
            if item is None:
                code, why = Code.ITEM_MISSING, "is not in QuickBooks (check offers.yaml)"
            else:
                code, why = Code.ITEM_INACTIVE, "is inactive in QuickBooks (make it active)"
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    code,
                    f'item "{name}" {why}: {_lost_lines(lost)}',
                    item=name,
                )
            )

    def _missing_item(self, name: str, offers: list[Offer], lost: dict[str, int]) -> Notice:
        """The error for a mapped item that QuickBooks, whose items were read whole, lacks."""
        items = self.index.state.items
        near = nearest(name, [(i.full_name, i.name) for i in items])
        mapped = ", ".join(f"{o.sku} ({_place(o.where, 'offers.yaml')})" for o in offers)
        billed = _lost_lines(lost) if lost else "its charges cannot be billed"
        return Notice.of(
            Level.ERROR,
            Code.ITEM_MISSING,
            f'item "{name}" of offer{"s" if len(offers) > 1 else ""} {mapped} is not in '
            f"QuickBooks (the last sync read every item){_nearest_text(near, items, 'item')}. "
            f"Correct the item in offers.yaml, or add it in QuickBooks and plan after the next sync: {billed}.",
            item=name,
            sku=", ".join(o.sku for o in offers),
        )

    def customer_notices(self) -> None:
        """An error for each organization mapped to a customer QuickBooks lacks, when
        the customers were read whole (with or without charges to bill: a typo)."""
        if not self.lists_read_whole:
            return
        customers = self.index.state.customers
        near: dict[str, list[int]] = {}
        for org in self.organizations:
            if self.index.customer(org.customer) is not None:
                continue
            key = name_key(org.customer)
            if key not in near:
                near[key] = nearest(org.customer, [(c.full_name, c.name) for c in customers])
            self.notices.append(
                Notice.of(
                    Level.ERROR,
                    Code.CUSTOMER_MISSING,
                    f"organization {org.name} ({_place(org.where, 'organizations.yaml')}) is "
                    f'mapped to customer "{org.customer}", which is not in QuickBooks (the last '
                    f"sync read every customer){_nearest_text(near[key], customers, 'customer')}. "
                    "Correct the customer in organizations.yaml, or add it in QuickBooks and plan after the next sync: "
                    f"nothing is billed for {org.name}.",
                    organization=org.id,
                    customer=org.customer,
                )
            )

    # -- invoices ----------------------------------------------------------

    def targets(self, invoices: tuple[DesiredInvoice, ...]) -> list[_InvoiceTarget]:
        targets: list[_InvoiceTarget] = []
        shared: dict[tuple[str, dt.date, dt.date], _InvoiceTarget] = {}
        for desired in invoices:
            org = desired.organization
            if org.action is InvoiceAction.CREATE:
                targets.append(_InvoiceTarget(org.action, org.customer, [desired]))
                continue
            window = desired.schedule.window
            key = (name_key(org.customer), window.start, window.end)
            if key not in shared:
                shared[key] = _InvoiceTarget(org.action, org.customer)
                targets.append(shared[key])
            shared[key].desired.append(desired)
        return targets

    def customer(self, target: _InvoiceTarget) -> Customer | None:
        customer = self.index.customer(target.customer_name)
        context = {"organization": target.first.organization.id, "customer": target.customer_name}
        if customer is None:
            if self.lists_read_whole:
                return None  # an error of customer_notices
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.CUSTOMER_MISSING,
                    f'customer "{target.customer_name}" of {target.names} is not in QuickBooks '
                    "(check organizations.yaml): not billed",
                    **context,
                )
            )
            return None
        if not customer.is_active:
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.CUSTOMER_INACTIVE,
                    f'customer "{customer.full_name}" of {target.names} is inactive in '
                    "QuickBooks (make it active): not billed",
                    **context,
                )
            )
            return None
        return customer

    def open_in_window(self, customer: Customer, schedule: InvoiceSchedule) -> list[Invoice]:
        return sorted(
            (
                invoice
                for invoice in self.index.invoices_of(customer)
                if invoice.txn_date in schedule.window
                and not invoice.is_settled
                and not invoice.is_sent(self.unsent)
                and not is_void(invoice)
            ),
            key=_recency,
        )

    def holds_synced_lines(self, invoice: Invoice) -> bool:
        return any(
            isinstance(line, InvoiceLine) and self.synced_key(line.item) is not None
            for line in invoice.lines
        )

    def _belongs_to(self, invoice: Invoice, customer: Customer) -> bool:
        ref = invoice.customer
        if ref.list_id:
            return ref.list_id == customer.list_id
        return name_key(ref.full_name or "") == name_key(customer.full_name)

    def invoice_change(self, target: _InvoiceTarget) -> InvoiceChange | None:
        customer = self.customer(target)
        if customer is None:
            return None
        lines = [line for desired in target.desired for line in self.resolve_lines(desired)]
        schedule = target.first.schedule
        context = {"organization": target.first.organization.id, "customer": customer.full_name}
        invoice = self.index.invoice_by_guid(target.first.external_guid)
        if invoice is not None and not self._belongs_to(invoice, customer):
            self.notices.append(
                Notice.of(
                    Level.ERROR,
                    Code.INVOICE_CUSTOMER_CHANGED,
                    f"{_invoice_label(invoice)} was created for {target.names} and "
                    f'{schedule.period} but belongs to customer "{invoice.customer.full_name}", '
                    f'not "{customer.full_name}": left as it is. Move or void it in QuickBooks.',
                    invoice=invoice.txn_id,
                    **context,
                )
            )
            return None
        if invoice is None and self._not_read(target, customer, bool(lines), context):
            return None
        if invoice is not None and (invoice.is_settled or is_void(invoice)):
            if not is_void(invoice) and not self._would_change(target, invoice, lines):
                return None
            why = (
                "is void: left as it is (delete it in QuickBooks to have it created again)"
                if is_void(invoice)
                else "has a payment or credit applied: left as it is"
            )
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.INVOICE_SETTLED,
                    f"{_invoice_label(invoice)} of {customer.full_name} for {target.names} {why}",
                    invoice=invoice.txn_id,
                    **context,
                )
            )
            return None
        if invoice is not None and invoice.is_sent(self.unsent):
            self._left_sent(target, [invoice], customer, lines, context)
            return None
        if invoice is None and target.action is InvoiceAction.UPDATE:
            candidates = self.open_in_window(customer, schedule)
            if candidates:
                invoice = candidates[-1]
                others = [i for i in candidates[:-1] if self.holds_synced_lines(i)]
                if others:
                    self.notices.append(
                        Notice.of(
                            Level.WARNING,
                            Code.OTHER_OPEN_INVOICES,
                            f"{customer.full_name} has other open invoices dated "
                            f"{schedule.window} holding Sherweb products "
                            f"({', '.join(_invoice_label(i) for i in others)}); only the most "
                            f"recent, {_invoice_label(invoice)}, is updated",
                            invoice=invoice.txn_id,
                            **context,
                        )
                    )
        if invoice is not None:
            return self._update(target, invoice, lines)
        if not lines:
            return None
        if target.action is InvoiceAction.UPDATE and self._billed_elsewhere(
            target, customer, lines, context
        ):
            return None
        if target.create_if_missing:
            return self._create(target, customer, lines)
        self._no_open_invoice(target, customer, context)
        return None

    def _not_read(
        self, target: _InvoiceTarget, customer: Customer, has_lines: bool, context: dict[str, str]
    ) -> bool:
        """Whether the snapshot did not read where the target's invoice would be (then
        a notice says so, and nothing is planned: "not read" is not "absent").

        An invoice reconciler created is read wherever it is (by its TxnID), so
        only its billing window matters; an update looks for the customer's
        invoices, which must have been read too.
        """
        coverage = self.coverage
        if coverage is None or (target.action is InvoiceAction.CREATE and not has_lines):
            return False
        window = target.first.schedule.window
        period = target.first.schedule.period
        if not coverage.reads_window(window):
            self.notices.append(
                Notice.of(
                    Level.ERROR,
                    Code.INVOICES_NOT_READ,
                    f"invoices of {customer.full_name} dated {window} were not read by the last "
                    f"sync (it read those dated {coverage.dates()}): nothing is planned for "
                    f"{target.names} and {period}. The server reads the billing windows around "
                    "the day it syncs; plan this period with --qb-state (QuickBooks' invoices "
                    "of that window), or bill it in QuickBooks by hand.",
                    **context,
                )
            )
            return True
        if target.action is InvoiceAction.UPDATE and not coverage.reads_customer(customer.list_id):
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.INVOICES_NOT_READ,
                    f"invoices of {customer.full_name} were not read by the last sync (mapped "
                    f"since): nothing is planned for {target.names} yet. They are read at the "
                    "first sync after this configuration is applied (`reconcile apply` "
                    "records it); plan again then.",
                    **context,
                )
            )
            return True
        return False

    def _closed_in_window(self, customer: Customer, target: _InvoiceTarget) -> list[Invoice]:
        """The customer's invoices of the window that may not be changed (settled or sent)."""
        window = target.first.schedule.window
        return sorted(
            (
                invoice
                for invoice in self.index.invoices_of(customer)
                if invoice.txn_date in window
                and not is_void(invoice)
                and (invoice.is_settled or invoice.is_sent(self.unsent))
            ),
            key=_recency,
        )

    def _billed_elsewhere(
        self,
        target: _InvoiceTarget,
        customer: Customer,
        lines: list[SyncedLine],
        context: dict[str, str],
    ) -> bool:
        """Whether a settled or sent invoice of the window already bills the Sherweb products.

        Then nothing is created (the customer would be billed twice) and
        nothing is changed; a warning says what the charges would change.
        """
        closed = [i for i in self._closed_in_window(customer, target) if self.holds_synced_lines(i)]
        if not closed:
            return False
        settled = [i for i in closed if i.is_settled]
        if settled:
            self._left_settled(target, settled, customer, lines, context)
        else:
            self._left_sent(target, closed, customer, lines, context)
        return True

    def _would_change(
        self, target: _InvoiceTarget, invoice: Invoice, lines: list[SyncedLine]
    ) -> bool:
        synced_key = self.synced_key_for(target.organizations)
        return not plan_lines(invoice.lines, lines, synced_key).is_noop

    def _left_settled(
        self,
        target: _InvoiceTarget,
        settled: list[Invoice],
        customer: Customer,
        lines: list[SyncedLine],
        context: dict[str, str],
    ) -> None:
        if not any(self._would_change(target, invoice, lines) for invoice in settled):
            return
        window = target.first.schedule.window
        label = ", ".join(_invoice_label(i) for i in settled)
        self.notices.append(
            Notice.of(
                Level.WARNING,
                Code.INVOICE_SETTLED,
                f"the invoice of {customer.full_name} dated {window} ({label}) already has a "
                "payment or credit applied: left as it is",
                **context,
            )
        )

    def _left_sent(
        self,
        target: _InvoiceTarget,
        sent: list[Invoice],
        customer: Customer,
        lines: list[SyncedLine],
        context: dict[str, str],
    ) -> None:
        """Warn that a sent invoice the charges would change is left as it is."""
        changing = [invoice for invoice in sent if self._would_change(target, invoice, lines)]
        if not changing:
            return
        invoice = changing[-1]
        self.notices.append(
            Notice.of(
                Level.WARNING,
                Code.INVOICE_SENT,
                f"{_sent_label(invoice, customer)}: the charges of {target.names} would change "
                "its Sherweb lines, but it is left as it is. " + _SENT_ADVICE,
                invoice=invoice.txn_id,
                **context,
            )
        )

    def _no_open_invoice(
        self, target: _InvoiceTarget, customer: Customer, context: dict[str, str]
    ) -> None:
        window = target.first.schedule.window
        sent = [i for i in self._closed_in_window(customer, target) if not i.is_settled]
        if sent:
            invoice = sent[-1]
            self.notices.append(
                Notice.of(
                    Level.ERROR,
                    Code.INVOICE_SENT,
                    f"{_sent_label(invoice, customer)}: reconciler never changes a sent "
                    f"invoice, and {customer.full_name} has no unsent invoice dated {window} "
                    f"(organization {target.names}, action update). "
                    + _SENT_ADVICE
                    + " Or create another invoice for the period in QuickBooks, or set "
                    "create_if_missing: true in organizations.yaml for a separate invoice.",
                    invoice=invoice.txn_id,
                    **context,
                )
            )
            return
        self.notices.append(
            Notice.of(
                Level.ERROR,
                Code.NO_OPEN_INVOICE,
                f"no open invoice for {customer.full_name} dated {window} "
                f"(organization {target.names}, action update): create the invoice in "
                "QuickBooks, or set create_if_missing: true in organizations.yaml",
                **context,
            )
        )

    def _create(
        self, target: _InvoiceTarget, customer: Customer, lines: list[SyncedLine]
    ) -> InvoiceChange:
        first = target.first
        period = first.schedule.period
        if self.coverage is not None and canonical_guid(first.external_guid) in (
            self.coverage.deleted_guids
        ):
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.CREATED_INVOICE_DELETED,
                    f"the invoice reconciler created for {target.names} and {period} was "
                    f"deleted in QuickBooks: it is created again for {customer.full_name}. To "
                    "stop billing the period, turn the offers' sync off for the organization "
                    "(a void invoice is left as it is).",
                    organization=first.organization.id,
                    customer=customer.full_name,
                )
            )
        change = InvoiceCreate(
            organization_id=first.organization.id,
            organization_name=target.names,
            customer=Ref(list_id=customer.list_id, full_name=customer.full_name),
            txn_date=first.schedule.invoice_date,
            external_guid=first.external_guid,
            lines=tuple(lines),
            memo=f"Sherweb {period.start:%m/%d/%Y} - {period.end:%m/%d/%Y}",
            mark=self.mark,
        )
        return InvoiceChange(change, target.organizations, first.schedule)

    def _groups_holding_synced_items(
        self,
        target: _InvoiceTarget,
        invoice: Invoice,
        synced_key: Callable[[Ref | None], str | None],
    ) -> None:
        """Warn about group lines that hold a synced item: kept whole, they may bill it twice."""
        for group in invoice.lines:
            if not isinstance(group, InvoiceLineGroup):
                continue
            items = sorted(
                {
                    line.item.full_name or line.item.list_id or "?"
                    for line in group.lines
                    if line.item is not None and synced_key(line.item) is not None
                }
            )
            if not items:
                continue
            name = group.item_group.full_name or group.item_group.list_id
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.GROUP_HOLDS_SYNCED_ITEM,
                    f'{_invoice_label(invoice)} of {invoice.customer.full_name}: group line "{name}" '
                    f"holds {', '.join(f'item {i!r}' for i in items)}, which Sherweb bills for "
                    f"{target.names}: the group is kept whole and the Sherweb lines are billed "
                    "beside it, so the customer may be billed twice. Take the item out of the "
                    "group in QuickBooks.",
                    organization=target.first.organization.id,
                    invoice=invoice.txn_id,
                )
            )

    def _update(
        self, target: _InvoiceTarget, invoice: Invoice, lines: list[SyncedLine]
    ) -> InvoiceChange | None:
        self.existing += 1
        synced_key = self.synced_key_for(target.organizations)
        self._groups_holding_synced_items(target, invoice, synced_key)
        plan: LinePlan = plan_lines(invoice.lines, lines, synced_key)
        if plan.is_noop:
            return None
        if not plan.ops:
            # An InvoiceMod that lists no line leaves every line in place, and
            # QuickBooks holds no invoice without lines: a person must act.
            self.notices.append(
                Notice.of(
                    Level.ERROR,
                    Code.INVOICE_WOULD_BE_EMPTY,
                    f"{_invoice_label(invoice)} of {invoice.customer.full_name} holds only "
                    f"Sherweb lines and none is billed any more for {target.names}: void or "
                    "delete it in QuickBooks (reconciler never leaves an invoice without lines)",
                    organization=target.first.organization.id,
                    invoice=invoice.txn_id,
                )
            )
            return None
        if plan.changes_existing:
            self.changed += 1
        orgs = target.organizations
        change = InvoiceUpdate(
            organization_ids=tuple(o.id for o in orgs),
            organization_names=tuple(o.name for o in orgs),
            invoice=invoice,
            lines=plan.ops,
            removed=plan.removed,
        )
        return InvoiceChange(change, orgs, target.first.schedule, plan.changes_existing)


def _item_key(ref: Ref | None, by_name: dict[str, Ref], ids: set[str]) -> str | None:
    if ref is None:
        return None
    if ref.list_id:
        return ref.list_id if ref.list_id in ids else None
    found = by_name.get(name_key(ref.full_name)) if ref.full_name else None
    return found.list_id if found else None


def _place(where: Location | None, file_name: str) -> str:
    """``organizations.yaml:24``: where a mapping is, by file name (plans are read elsewhere)."""
    if where is None or where.line is None:
        return file_name
    return f"{where.file.name}:{where.line}"


def _nearest_text(
    indexes: list[int], objects: tuple[Customer, ...] | tuple[Item, ...], what: str
) -> str:
    if not indexes:
        return f"; no QuickBooks {what} has a name like it"
    return f"; nearest QuickBooks {what}s: " + ", ".join(
        f'"{objects[i].full_name}"' for i in indexes
    )


def _lost_lines(lost: dict[str, int]) -> str:
    total = sum(lost.values())
    orgs = ", ".join(f"{org} ({count})" for org, count in lost.items())
    return f"{total} line{'s' if total != 1 else ''} not billed for {orgs}"


def diff(
    config: Config, desired: DesiredState, state: QBState, coverage: Coverage | None = None
) -> Diff:
    """The changes that bring ``state`` to ``desired``, with notices.

    ``coverage``: what the server's snapshot read of the invoices (None: the
    state holds every invoice that matters, as qbXML files given by hand do).
    """
    differ = _Differ(config, state, coverage)
    item_updates = differ.item_updates(desired.item_costs)
    changes = []
    for target in differ.targets(desired.invoices):
        change = differ.invoice_change(target)
        if change is not None:
            changes.append(change)
    differ.item_notices()
    differ.customer_notices()
    return Diff(
        item_updates=tuple(item_updates),
        invoice_changes=tuple(changes),
        notices=tuple(differ.notices),
        existing_invoices=differ.existing,
        changed_invoices=differ.changed,
    )

"""The invoices the configuration and the charges call for (no QuickBooks yet).

One desired invoice per organization with charges: one line per charge of an
offer it syncs, on the offer's item, with the charge's quantity (prorated when
the charge covers part of the period), a description from the offer's
template and the service date. Items and customers are named, not resolved:
the diff resolves them against QuickBooks. Everything left out becomes a
notice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import itemgetter

from reconciler.config.description import DescriptionContext, render_description, template_variables
from reconciler.engine.changes import SyncedLine
from reconciler.engine.notices import Code, Level, Notice
from reconciler.engine.period import BillingPeriod, InvoiceSchedule, containing_period, schedule_for
from reconciler.model.charges import (
    BillingCycle,
    Charge,
    ChargesBundle,
    ChargeType,
    CustomerCharges,
)
from reconciler.model.config import Config, Offer, Organization, Proration
from reconciler.model.quickbooks import Ref

# ExternalGUIDs of created invoices are uuid5 names in this namespace: the same
# organization and period always give the same GUID (design invariant 2).
INVOICE_GUID_NAMESPACE = uuid.UUID("7623f1ca-fffb-43c2-960e-030b73fb1e32")

# QuickBooks keeps at most 5 decimals of a quantity.
QUANTITY_STEP = Decimal("0.00001")


def invoice_guid(organization_id: str, period: BillingPeriod) -> str:
    """The ExternalGUID of the invoice created for an organization and period."""
    name = f"{organization_id.lower()}/{period.start.isoformat()}/{period.end.isoformat()}"
    return str(uuid.uuid5(INVOICE_GUID_NAMESPACE, name))


@dataclass(frozen=True)
class DesiredInvoice:
    """What one organization should be billed for one period."""

    organization: Organization
    schedule: InvoiceSchedule
    external_guid: str
    # Items named by full name only (Ref.full_name): resolved by the diff.
    lines: tuple[SyncedLine, ...]


@dataclass(frozen=True)
class ItemCost:
    """The purchase cost a mapped item should carry (the charges' cost price)."""

    item: str  # QuickBooks item full name
    cost: Decimal
    skus: tuple[str, ...]


@dataclass(frozen=True)
class DesiredState:
    """Every organization's desired invoice, the items' costs, and the notices."""

    invoices: tuple[DesiredInvoice, ...]
    item_costs: tuple[ItemCost, ...]
    notices: tuple[Notice, ...]


def normalize_quantity(value: Decimal) -> Decimal:
    """At most 5 decimals, without trailing zeros or an exponent (12, 2.5, 0.48387)."""
    value = value.quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1)) + 0  # + 0: no "-0"
    return value.normalize()


def _year_ending(day: dt.date) -> BillingPeriod:
    try:
        start = day.replace(year=day.year - 1) + dt.timedelta(days=1)
    except ValueError:  # Feb 29: a year back there is no Feb 29
        start = dt.date(day.year - 1, 3, 1)
    return BillingPeriod(start, day)


def proration_period(charge: Charge, billing: BillingPeriod) -> BillingPeriod | None:
    """The full period a partial charge is prorated against; ``None`` if not prorated.

    Monthly charges compare with the month they fall in (the billing period
    itself when inside it); a yearly charge with the year that ends with it
    (a mid-term increase of an annual subscription). One-time charges and
    charges that are not proratable are billed whole.
    """
    if not charge.is_proratable or _is_one_time(charge):
        return None
    if charge.billing_cycle is BillingCycle.YEARLY:
        full = _year_ending(charge.period_to)
    else:
        full = containing_period(charge.period_from, billing)
    return full if _days(charge) < full.days else None


def _days(charge: Charge) -> int:
    return (charge.period_to - charge.period_from).days + 1


def _is_one_time(charge: Charge) -> bool:
    return charge.billing_cycle is BillingCycle.ONE_TIME or charge.charge_type is ChargeType.SETUP


def _billed_once(charge: Charge) -> bool:
    """Yearly and one-time charges are billed in the period in which they start."""
    return charge.billing_cycle is BillingCycle.YEARLY or _is_one_time(charge)


def _cycle(charge: Charge) -> str:
    if charge.billing_cycle is not None:
        return charge.billing_cycle.value
    return BillingCycle.ONE_TIME.value if _is_one_time(charge) else BillingCycle.MONTHLY.value


class _DesiredBuilder:
    """Builds the desired state; collects what it leaves out as notices."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.offers = {offer.sku: offer for offer in config.offers}
        self.notices: list[Notice] = []
        self.unmapped_skus: dict[str, list[tuple[str, Charge]]] = defaultdict(list)
        self.not_synced: dict[str, list[tuple[Organization, Charge]]] = defaultdict(list)
        # item full name (casefolded) -> (display name, [(sku, charge)]);
        # offers of one item share its list.
        self.costs: dict[str, tuple[str, list[tuple[str, Charge]]]] = {}
        self.cost_entries: dict[str, list[tuple[str, Charge]]] = {}
        self.item_refs: dict[str, Ref] = {}
        for offer in config.offers:
            entry = self.costs.setdefault(offer.item.casefold(), (offer.item, []))
            self.cost_entries[offer.sku] = entry[1]
            self.item_refs[offer.sku] = Ref(full_name=offer.item)
        self.descriptions: dict[tuple[object, ...], str] = {}
        self.quantities: dict[Decimal, Decimal] = {}

    def invoice(self, org: Organization, charges: CustomerCharges) -> DesiredInvoice:
        period = BillingPeriod(charges.period_from, charges.period_to)
        lines = []
        for charge in charges.charges:
            offer = self.offers.get(charge.sku)
            if offer is None:
                self.unmapped_skus[charge.sku].append((org.name, charge))
                continue
            if not org.syncs(offer):
                self.not_synced[offer.sku].append((org, charge))
                continue
            self.cost_entries[offer.sku].append((offer.sku, charge))
            line = self._line(org, offer, charge, period)
            if line is not None:
                lines.append(line)
        return DesiredInvoice(
            organization=org,
            schedule=schedule_for(period, self.config.billing),
            external_guid=invoice_guid(org.id, period),
            lines=tuple(lines),
        )

    def _line(
        self, org: Organization, offer: Offer, charge: Charge, period: BillingPeriod
    ) -> SyncedLine | None:
        if _billed_once(charge) and charge.period_from not in period:
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.CHARGE_OUT_OF_PERIOD,
                    f"{_cycle(charge)} charge {_charge_label(org, charge)} is not billed: it "
                    f"starts outside the billing period {period}, and such charges are billed "
                    "in the period in which they start",
                    organization=org.id,
                    sku=charge.sku,
                )
            )
            return None
        quantity = charge.quantity
        whole = charge.period_from == period.start and charge.period_to == period.end
        full = None if whole else proration_period(charge, period)
        if full is not None:
            mode = Proration.INCREASES if quantity >= 0 else Proration.DECREASES
            if mode not in self.config.billing.proration:
                self.notices.append(
                    Notice.of(
                        Level.INFO,
                        Code.PRORATION_OFF,
                        f"prorated {mode.value[:-1]} {_charge_label(org, charge)} ({quantity}) "
                        f"is left out: proration of {mode.value} is off in billing.yaml",
                        organization=org.id,
                        sku=charge.sku,
                    )
                )
                return None
            quantity = quantity * _days(charge) / full.days
        elif quantity < 0 and charge.charge_type is ChargeType.RECURRING:
            self._negative_whole(org, charge)
        normal = self.quantities.get(quantity)
        if normal is None:
            normal = self.quantities[quantity] = normalize_quantity(quantity)
        quantity = normal
        return SyncedLine(
            item=self.item_refs[offer.sku],
            desc=self._description(offer.description, org, charge, quantity),
            quantity=quantity,
            service_date=charge.period_from,
            sku=offer.sku,
        )

    def _negative_whole(self, org: Organization, charge: Charge) -> None:
        """Warn of a recurring charge billed whole with a negative quantity.

        A whole-period recurring charge counts the licences held: it cannot be
        negative. Sherweb reports a decrease as a prorated charge for part of
        the period (negative, rightly, and not warned of), so a negative whole
        one is most likely a mistake in the charges; it is billed as given
        (a credit line), and the reviewer is told.
        """
        which = f"charge {charge.charge_id}, " if charge.charge_id else ""
        whole = "for its whole period" if charge.is_proratable else "not proratable: billed whole"
        self.notices.append(
            Notice.of(
                Level.WARNING,
                Code.NEGATIVE_QUANTITY,
                f"{_cycle(charge).lower()} charge {_charge_label(org, charge)} ({which}{whole}) "
                f"has a negative quantity, {charge.quantity}: it is billed as a credit "
                f"line. Licences held cannot be negative (Sherweb reports a decrease as a "
                "prorated charge for part of the period): check the charges before applying",
                organization=org.id,
                sku=charge.sku,
                charge=charge.charge_id,
                period=f"{charge.period_from} to {charge.period_to}",
            )
        )

    def _description(
        self, template: str | None, org: Organization, charge: Charge, quantity: Decimal
    ) -> str:
        # Most lines share their description's inputs (the default template
        # reads product and dates only): render each combination once.
        values = (
            charge.product_name,
            charge.sku,
            charge.charge_name,
            charge.period_from,
            charge.period_to,
            quantity,
            org.name,
            charge.billing_cycle,
            charge.charge_type,
        )
        key = (template, _key_of(template)(values))
        text = self.descriptions.get(key)
        if text is None:
            context = DescriptionContext(
                product=charge.product_name,
                sku=charge.sku,
                charge=charge.charge_name,
                start=charge.period_from,
                end=charge.period_to,
                quantity=quantity,
                organization=org.name,
                cycle=_cycle(charge),
            )
            text = self.descriptions[key] = render_description(template, context)
        return text

    def item_costs(self) -> list[ItemCost]:
        result = []
        for name, entries in self.costs.values():
            if not entries:
                continue
            # A setup fee sold under a product's SKU has its own price; the
            # item's unit cost is the recurring one whenever there is one.
            recurring = [(s, c) for s, c in entries if not _is_one_time(c)]
            chosen = recurring or entries
            votes = Counter(charge.cost_price for _, charge in chosen)
            cost, _ = max(votes.items(), key=lambda kv: (kv[1], kv[0]))
            skus = tuple(sorted({sku for sku, _ in entries}))
            if len(votes) > 1:
                counts = ", ".join(
                    f"{value} ({count} charge{'s' if count > 1 else ''})"
                    for value, count in sorted(votes.items(), key=lambda kv: (-kv[1], -kv[0]))
                )
                self.notices.append(
                    Notice.of(
                        Level.WARNING,
                        Code.COST_DISAGREES,
                        f'charges for item "{name}" disagree on the cost price: {counts}; '
                        f"the item's cost is set to {cost}, the price of most charges",
                        item=name,
                        sku=", ".join(skus),
                    )
                )
            result.append(ItemCost(item=name, cost=cost, skus=skus))
        return sorted(result, key=lambda c: c.item.casefold())

    def leftovers(self) -> None:
        for sku, entries in sorted(self.unmapped_skus.items()):
            charge = entries[0][1]
            names = _names(name for name, _ in entries)
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.UNMAPPED_SKU,
                    f"SKU {sku} ({charge.product_name}) has no offer in offers.yaml: "
                    f"{_count(len(entries), 'charge')} of {names} not billed",
                    sku=sku,
                )
            )
        for sku, pairs in sorted(self.not_synced.items()):
            offer = self.offers[sku]
            names = _names(org.name for org, _ in pairs)
            where = (
                "offers.yaml"
                if not offer.sync
                else "organizations.yaml (per-organization override)"
            )
            self.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.OFFER_NOT_SYNCED,
                    f"offer {sku} ({pairs[0][1].product_name}) is not synced for {names} "
                    f"(sync off in {where}): {_count(len(pairs), 'charge')} not billed",
                    sku=sku,
                )
            )


# Where each template variable's inputs are in the values _description gathers
# (the cycle derives from the billing cycle and the charge type).
_VALUE_POSITIONS = {
    "product": (0,),
    "sku": (1,),
    "charge": (2,),
    "start": (3,),
    "end": (4,),
    "quantity": (5,),
    "organization": (6,),
    "cycle": (7, 8),
}


@lru_cache(maxsize=256)
def _key_of(template: str | None) -> Callable[[tuple[object, ...]], object]:
    """Picks, from a line's values, those the template reads: its cache key."""
    positions = sorted({p for name in template_variables(template) for p in _VALUE_POSITIONS[name]})
    if not positions:
        return lambda values: ()
    return itemgetter(*positions)


def _charge_label(org: Organization, charge: Charge) -> str:
    return (
        f"{charge.product_name} ({charge.sku}) of {org.name}, "
        f"{charge.period_from} to {charge.period_to}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _names(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique)


def build_desired(config: Config, charges: ChargesBundle) -> DesiredState:
    """The desired invoices and item costs for ``charges`` under ``config``."""
    planner = _DesiredBuilder(config)
    by_id = {c.customer_id.lower(): c for c in charges.customers}
    invoices = []
    for org in config.organizations:
        customer_charges = by_id.pop(org.id.lower(), None)
        if customer_charges is None:
            planner.notices.append(
                Notice.of(
                    Level.INFO,
                    Code.NO_CHARGES,
                    f"organization {org.name} has no charges in the charges file of "
                    f"{charges.date}: nothing to bill",
                    organization=org.id,
                )
            )
            continue
        invoices.append(planner.invoice(org, customer_charges))
    for unmapped in by_id.values():
        if unmapped.charges:
            planner.notices.append(
                Notice.of(
                    Level.WARNING,
                    Code.UNMAPPED_CUSTOMER,
                    f"Sherweb customer {unmapped.display_name} ({unmapped.customer_id}) has "
                    f"{_count(len(unmapped.charges), 'charge')} but no organization in "
                    "organizations.yaml: not billed",
                    organization=unmapped.customer_id,
                )
            )
    costs = planner.item_costs()
    planner.leftovers()
    return DesiredState(
        invoices=tuple(invoices),
        item_costs=tuple(costs),
        notices=tuple(planner.notices),
    )

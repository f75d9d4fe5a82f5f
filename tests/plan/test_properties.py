"""Properties of plans over generated configurations, charges and QuickBooks states.

Each example is planned, applied to an in-memory QuickBooks (tests/applier.py)
and planned again:

- idempotent: the second plan is empty (design invariant 1);
- lines that hold no mapped item, and group lines, are never lost or altered (3);
- settled invoices are never touched (5);
- one organization and period never get two invoices (2).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from support.applier import QuickBooks
from support.builders import bundle, charge, config, customer_charges, offer, org

from reconciler.engine.changes import InvoiceCreate, InvoiceUpdate
from reconciler.engine.desired import invoice_guid
from reconciler.engine.period import BillingPeriod
from reconciler.model.charges import BillingCycle, ChargeType
from reconciler.model.config import LAST_DAY, BillingMode, InvoiceAction, Proration
from reconciler.model.quickbooks import (
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceLineGroup,
    Item,
    ItemKind,
    LinkedTxn,
    QBState,
    Ref,
    canonical_guid,
)
from reconciler.plan import build_plan

D = dt.date
DECEMBER = BillingPeriod(D(2026, 12, 1), D(2026, 12, 31))
SKUS = ("S0", "S1", "S2")
CUSTOMERS = ("Contoso", "Fabrikam", "Tailspin")
INVOICE_DATES = (
    D(2026, 11, 15),
    D(2026, 11, 30),
    D(2026, 12, 1),
    D(2026, 12, 1),
    D(2026, 12, 15),
    D(2027, 1, 1),
)


@dataclass
class World:
    config: object
    charges: object
    state: QBState


@st.composite
def worlds(draw) -> World:
    ids = itertools.count(1)

    def new_id(prefix: str) -> str:
        return f"{prefix}-{next(ids):05d}"

    def mostly() -> bool:
        return draw(st.sampled_from((True,) * 9 + (False,)))

    offers = [offer(sku, item=f"Cloud:{sku}", sync=mostly()) for sku in SKUS]
    actions = {name: draw(st.sampled_from(InvoiceAction)) for name in CUSTOMERS}
    organizations = []
    for index in range(draw(st.integers(1, 4))):
        customer = draw(st.sampled_from(CUSTOMERS))
        action = actions[customer]
        overrides = draw(st.dictionaries(st.sampled_from(SKUS), st.booleans(), max_size=2))
        organizations.append(
            org(
                f"00000000-0000-4000-8000-{index:012d}",
                f"Org {index}",
                customer=customer,
                action=action,
                create_if_missing=action is InvoiceAction.UPDATE and draw(st.booleans()),
                offers=tuple(sorted(overrides.items())),
            )
        )
    cfg = config(
        offers,
        organizations,
        mode=draw(st.sampled_from(BillingMode)),
        invoice_day=draw(st.sampled_from((1, 15, LAST_DAY))),
        proration=tuple(draw(st.sets(st.sampled_from(Proration)))),
    )

    def a_charge():
        sku = draw(st.sampled_from((*SKUS, "UNMAPPED")))
        kind = draw(st.sampled_from(("monthly", "partial", "yearly", "setup")))
        quantity = draw(st.integers(1, 40))
        cost = draw(st.sampled_from(("9.50", "19.80", "11.25")))
        if kind == "partial":
            start = D(2026, 12, draw(st.integers(2, 31)))
            return charge(sku, quantity * draw(st.sampled_from((1, -1))), cost=cost, start=start)
        if kind == "yearly":
            start = draw(st.sampled_from((D(2026, 12, 1), D(2026, 6, 1))))
            end = start.replace(year=start.year + 1) - dt.timedelta(days=1)
            return charge(sku, quantity, cost=cost, start=start, end=end, cycle=BillingCycle.YEARLY)
        if kind == "setup":
            return charge(
                sku,
                1,
                cost="50",
                end=D(2026, 12, 1),
                cycle=BillingCycle.ONE_TIME,
                charge_type=ChargeType.SETUP,
                proratable=False,
            )
        return charge(sku, quantity, cost=cost)

    charges = bundle(
        *(
            customer_charges(o.id, o.name, [a_charge() for _ in range(draw(st.integers(0, 4)))])
            for o in organizations
        )
    )

    customers = [
        Customer(
            list_id=new_id("C"),
            full_name=name,
            name=name,
            edit_sequence="1",
            is_active=mostly(),
        )
        for name in CUSTOMERS
        if mostly()
    ]
    items = [
        Item(
            list_id=new_id("I"),
            full_name=f"Cloud:{sku}",
            name=sku,
            kind=ItemKind.SERVICE,
            edit_sequence="1",
            is_active=mostly(),
            sales_and_purchase=draw(st.integers(0, 4)) > 0,
            purchase_cost=Decimal(draw(st.sampled_from(("9.50", "19.80", "11.25")))),
        )
        for sku in SKUS
        if mostly()
    ]
    labour = Item(new_id("I"), "Services:Labour", "Labour", ItemKind.SERVICE, "1")
    items.append(labour)

    def a_line():
        kind = draw(st.sampled_from(("labour", "text", "synced", "synced", "group")))
        if kind == "labour":
            return InvoiceLine(
                new_id("L"), Ref(labour.list_id, labour.full_name), "Onsite", Decimal(2)
            )
        if kind == "text":
            return InvoiceLine(new_id("L"), None, "Thank you")
        if kind == "group":
            inner = InvoiceLine(
                new_id("L"), Ref(labour.list_id, labour.full_name), "In group", Decimal(1)
            )
            return InvoiceLineGroup(new_id("G"), Ref("IG-1", "Bundle"), lines=(inner,))
        item = draw(st.sampled_from(items))
        current = f"Product {item.name} (12/01/2026 - 12/31/2026)"
        return InvoiceLine(
            new_id("L"),
            Ref(item.list_id, item.full_name),
            draw(st.sampled_from((current, current, "stale text"))),
            Decimal(draw(st.integers(1, 40))),
            service_date=draw(st.sampled_from((D(2026, 12, 1), D(2026, 12, 1), None))),
        )

    invoices = []
    for customer in customers:
        for _ in range(draw(st.integers(0, 3))):
            settled = draw(st.sampled_from(("open", "open", "open", "paid", "payment")))
            guid = None
            if draw(st.integers(0, 3)) == 0:
                mine = [o for o in organizations if o.customer == customer.full_name]
                if mine:
                    guid = (
                        "{" + invoice_guid(draw(st.sampled_from(mine)).id, DECEMBER).upper() + "}"
                    )
            invoices.append(
                Invoice(
                    txn_id=new_id("T"),
                    edit_sequence="7",
                    customer=Ref(customer.list_id, customer.full_name),
                    txn_date=draw(st.sampled_from(INVOICE_DATES)),
                    txn_number=next(ids),
                    is_paid=settled == "paid",
                    linked_txns=(LinkedTxn(new_id("P"), "ReceivePayment"),)
                    if settled == "payment"
                    else (),
                    external_guid=guid,
                    lines=tuple(a_line() for _ in range(draw(st.integers(0, 5)))),
                )
            )
    return World(
        cfg,
        charges,
        QBState(customers=tuple(customers), items=tuple(items), invoices=tuple(invoices)),
    )


def _managed_ids(world: World) -> set[str]:
    """ListIDs of mapped items present and active: the only lines a plan may touch."""
    mapped = {o.item.casefold() for o in world.config.offers}
    return {
        i.list_id for i in world.state.items if i.full_name.casefold() in mapped and i.is_active
    }


def _plan_apply_replan(world: World):
    plan = build_plan(world.config, world.charges, world.state)
    after = QuickBooks().apply(world.state, [c.change for c in plan.changes])
    return plan, after, build_plan(world.config, world.charges, after)


SETTINGS = settings(max_examples=60)


@SETTINGS
@given(worlds())
def test_apply_then_plan_again_gives_no_changes(world):
    _, _, again = _plan_apply_replan(world)
    assert again.changes == ()


@SETTINGS
@given(worlds())
def test_lines_without_a_mapped_item_are_never_lost_or_altered(world):
    _, after, _ = _plan_apply_replan(world)
    managed = _managed_ids(world)
    after_invoices = {i.txn_id: i for i in after.invoices}
    for before in world.state.invoices:
        kept = [
            line
            for line in before.lines
            if isinstance(line, InvoiceLineGroup)
            or line.item is None
            or line.item.list_id not in managed
        ]
        now = [line for line in after_invoices[before.txn_id].lines if line in kept]
        assert now == kept  # all there, unchanged, in their order


@SETTINGS
@given(worlds())
def test_settled_invoices_are_never_touched(world):
    plan, after, _ = _plan_apply_replan(world)
    settled = {i.txn_id: i for i in world.state.invoices if i.is_settled}
    for change in plan.changes:
        if isinstance(change.change, InvoiceUpdate):
            assert change.change.invoice.txn_id not in settled
    for invoice in after.invoices:
        if invoice.txn_id in settled:
            assert invoice == settled[invoice.txn_id]


@SETTINGS
@given(worlds())
def test_one_organization_and_period_never_get_two_invoices(world):
    plan, after, again = _plan_apply_replan(world)
    existing = {canonical_guid(i.external_guid) for i in world.state.invoices if i.external_guid}
    created = [c.change.external_guid for c in plan.changes if isinstance(c.change, InvoiceCreate)]
    assert len(created) == len(set(created))
    assert not existing & set(created)
    final = QuickBooks().apply(after, [c.change for c in again.changes])
    counts = Counter(canonical_guid(i.external_guid) for i in final.invoices if i.external_guid)
    assert all(counts[canonical_guid(g)] == 1 for g in created)


@SETTINGS
@given(worlds())
def test_planning_is_deterministic_and_insensitive_to_state_order(world):
    plan = build_plan(world.config, world.charges, world.state)
    shuffled = replace(
        world.state,
        customers=world.state.customers[::-1],
        items=world.state.items[::-1],
    )
    again = build_plan(world.config, world.charges, shuffled)
    assert again.fingerprints == plan.fingerprints
    assert [c.change for c in again.changes] == [c.change for c in plan.changes]

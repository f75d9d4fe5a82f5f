"""Properties of plans over generated configurations, charges and QuickBooks books.

Each example is planned against books in the sandbox's QuickBooks simulator,
whose every request the simulator carries out as QuickBooks does
(support/simulated_quickbooks.py), then read back and planned again:

- idempotent: the second plan is empty (design invariant 1);
- lines that hold no mapped item, and group lines, are never lost or altered (3);
- settled invoices are never touched (5);
- one organization and period never get two invoices (2).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.builders import bundle, charge, config, customer_charges, offer, org
from support.qbxml_check import XSD_DIR_OR_NONE
from support.simulated_quickbooks import apply_plan, read_state

from reconciler.engine.changes import InvoiceCreate, InvoiceUpdate
from reconciler.engine.desired import invoice_guid
from reconciler.engine.period import BillingPeriod
from reconciler.model.charges import BillingCycle, ChargesBundle, ChargeType
from reconciler.model.config import (
    LAST_DAY,
    BillingMode,
    Config,
    InvoiceAction,
    Proration,
    UnsentInvoices,
)
from reconciler.model.quickbooks import InvoiceLineGroup, QBState, canonical_guid
from reconciler.plan import build_plan
from reconciler.plan.model import Plan
from reconciler.sandbox.fixture import build_books
from reconciler.sandbox.simulator import QuickBooksSimulator

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
LABOUR = "Services:Labour"
# When QuickBooks answers: the day the charges were fetched.
NOW = dt.datetime(2026, 12, 15, 17, 0, tzinfo=dt.UTC)


@dataclass
class World:
    config: Config
    charges: ChargesBundle
    # The books of the company file, as a sandbox fixture (build_books).
    books: dict[str, Any]


@st.composite
def worlds(draw) -> World:
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
        unsent_invoices=draw(st.sampled_from(UnsentInvoices)),
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

    customers = [{"name": name, "active": mostly()} for name in CUSTOMERS if mostly()]
    items: list[dict[str, Any]] = [
        {"name": "Cloud", "type": "service"},
        {"name": "Services", "type": "service"},
        {"name": LABOUR, "type": "service", "description": "Labour", "price": "95.00"},
        {"name": "Bundle", "type": "group", "lines": [{"item": LABOUR, "quantity": 1}]},
    ]
    for sku in SKUS:
        if not mostly():
            continue
        item = {"name": f"Cloud:{sku}", "type": "service", "price": "26.40", "active": mostly()}
        # Most items hold a purchase cost (SalesAndPurchase); some are sales-only.
        if draw(st.integers(0, 4)) > 0:
            item["cost"] = draw(st.sampled_from(("9.50", "19.80", "11.25")))
        items.append(item)
    line_items = [LABOUR] + [item["name"] for item in items[4:]]

    def a_line() -> dict[str, Any]:
        kind = draw(st.sampled_from(("labour", "text", "synced", "synced", "group")))
        if kind == "labour":
            return {"item": LABOUR, "description": "Onsite", "quantity": 2}
        if kind == "text":
            return {"description": "Thank you"}
        if kind == "group":
            return {"group": "Bundle"}
        name = draw(st.sampled_from(line_items))
        current = f"Product {name.rpartition(':')[2]} (12/01/2026 - 12/31/2026)"
        line = {
            "item": name,
            "description": draw(st.sampled_from((current, current, "stale text"))),
            "quantity": draw(st.integers(1, 40)),
        }
        if draw(st.sampled_from((True, True, False))):
            line["service_date"] = "2026-12-01"
        return line

    invoices = []
    for customer in customers:
        for _ in range(draw(st.integers(0, 3))):
            lines = [a_line() for _ in range(draw(st.integers(0, 5)))]
            mark = draw(st.sampled_from(("email", "email", "print", "none")))
            invoice: dict[str, Any] = {
                "customer": customer["name"],
                "date": draw(st.sampled_from(INVOICE_DATES)).isoformat(),
                "to_be_emailed": mark == "email",
                "to_be_printed": mark == "print",
                "lines": lines,
            }
            if draw(st.integers(0, 3)) == 0:
                mine = [o for o in organizations if o.customer == customer["name"]]
                if mine:
                    guid = invoice_guid(draw(st.sampled_from(mine)).id, DECEMBER).upper()
                    invoice["external_guid"] = "{" + guid + "}"
            # An invoice of nothing is paid as it stands (QuickBooks: IsPaid at 0.00).
            settled = draw(st.sampled_from(("open", "open", "open", "paid", "payment")))
            priced = any("item" in line or "group" in line for line in lines)
            if settled != "open" and priced:
                invoice["payment"] = {"amount": "full" if settled == "paid" else "1.00"}
            invoices.append(invoice)
    books = {
        "company": {"name": "Test Co", "file": r"C:\Company Files\Test Co.qbw"},
        "customers": customers,
        "items": items,
        "invoices": invoices,
    }
    return World(cfg, charges, books)


def _managed_ids(world: World, state: QBState) -> set[str]:
    """ListIDs of mapped items present and active: the only lines a plan may touch."""
    mapped = {o.item.casefold() for o in world.config.offers}
    return {i.list_id for i in state.items if i.full_name.casefold() in mapped and i.is_active}


@dataclass
class Run:
    """One example carried out: planned, applied by the simulator, read and planned again."""

    simulator: QuickBooksSimulator
    before: QBState
    plan: Plan
    after: QBState
    again: Plan


def _plan_apply_replan(world: World) -> Run:
    simulator = QuickBooksSimulator(
        build_books(world.books), xsd_dir=XSD_DIR_OR_NONE, clock=lambda: NOW
    )
    before = read_state(simulator.books)
    plan = build_plan(world.config, world.charges, before)
    apply_plan(simulator, plan)
    after = read_state(simulator.books)
    return Run(simulator, before, plan, after, build_plan(world.config, world.charges, after))


SETTINGS = settings(max_examples=60)


@SETTINGS
@given(worlds())
def test_apply_then_plan_again_gives_no_changes(world):
    assert _plan_apply_replan(world).again.changes == ()


@SETTINGS
@given(worlds())
def test_lines_without_a_mapped_item_are_never_lost_or_altered(world):
    run = _plan_apply_replan(world)
    managed = _managed_ids(world, run.before)
    after_invoices = {i.txn_id: i for i in run.after.invoices}
    for before in run.before.invoices:
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
    run = _plan_apply_replan(world)
    settled = {i.txn_id: i for i in run.before.invoices if i.is_settled}
    for change in run.plan.changes:
        if isinstance(change.change, InvoiceUpdate):
            assert change.change.invoice.txn_id not in settled
    for invoice in run.after.invoices:
        if invoice.txn_id in settled:
            assert invoice == settled[invoice.txn_id]


@SETTINGS
@given(worlds())
def test_one_organization_and_period_never_get_two_invoices(world):
    run = _plan_apply_replan(world)
    existing = {canonical_guid(i.external_guid) for i in run.before.invoices if i.external_guid}
    created = [
        c.change.external_guid for c in run.plan.changes if isinstance(c.change, InvoiceCreate)
    ]
    assert len(created) == len(set(created))
    assert not existing & set(created)
    apply_plan(run.simulator, run.again)
    final = read_state(run.simulator.books)
    counts = Counter(canonical_guid(i.external_guid) for i in final.invoices if i.external_guid)
    assert all(counts[canonical_guid(g)] == 1 for g in created)


@SETTINGS
@given(worlds())
def test_planning_is_deterministic_and_insensitive_to_state_order(world):
    state = read_state(build_books(world.books))
    plan = build_plan(world.config, world.charges, state)
    shuffled = replace(state, customers=state.customers[::-1], items=state.items[::-1])
    again = build_plan(world.config, world.charges, shuffled)
    assert again.fingerprints == plan.fingerprints
    assert [c.change for c in again.changes] == [c.change for c in plan.changes]

"""Scenarios of the diff: one per rule of the job (design.md, issue 4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from support.builders import (
    DEC_1,
    ORG_A,
    ORG_B,
    ORG_C,
    bundle,
    charge,
    config,
    customer_charges,
    invoice,
    line,
    offer,
    org,
    qb_customer,
    qb_item,
    state,
)
from support.qbxml_check import check_qbxml

from reconciler.base.errors import Location
from reconciler.engine.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
)
from reconciler.engine.coverage import Coverage
from reconciler.engine.desired import invoice_guid
from reconciler.engine.notices import Code, Level
from reconciler.engine.period import BillingPeriod
from reconciler.model.config import InvoiceAction, SendMark, UnsentInvoices
from reconciler.model.quickbooks import InvoiceLineGroup, ItemKind, Ref, canonical_guid
from reconciler.plan.build import build_plan
from reconciler.plan.requests import render_plan_requests

D = dt.date
UPDATE = InvoiceAction.UPDATE
DECEMBER = BillingPeriod(DEC_1, dt.date(2026, 12, 31))
GUID_A = invoice_guid(ORG_A, DECEMBER)


def checked(plan):
    """``plan``, once every change's qbXML request is rendered and found valid.

    Valid: against Intuit's qbXML 13.0 XSD where the reference material is
    (not in a user's clone: there the requests are only rendered), and with
    no unit price on any line (design invariant 6).
    """
    requests = render_plan_requests(plan)
    assert requests.documents.keys() == {change.key for change in plan.changes}
    for document in requests.documents.values():
        check_qbxml(document)
    return plan


class World:
    """The example of most scenarios: Contoso, two offers, their items in QuickBooks."""

    def __init__(self, action=InvoiceAction.CREATE, **org_options):
        self.contoso = qb_customer("Contoso")
        self.bp = qb_item("Cloud:BP", cost="19.80")
        self.bs = qb_item("Cloud:BS", cost="11.25")
        self.labour = qb_item("Services:Labour", cost=None, sales_and_purchase=False)
        self.config = config(
            [offer("BP"), offer("BS")], [org(ORG_A, "Contoso", action=action, **org_options)]
        )
        self.charges = bundle(
            customer_charges(
                ORG_A, "Contoso", [charge("BP", 12, cost="19.80"), charge("BS", 3, cost="11.25")]
            )
        )

    def state(self, *invoices, customers=None, items=None):
        return state(
            customers or [self.contoso], items or [self.bp, self.bs, self.labour], list(invoices)
        )

    def bp_line(self, quantity=12, **kw):
        return line(
            self.bp, quantity, "Product BP (12/01/2026 - 12/31/2026)", service_date=DEC_1, **kw
        )

    def bs_line(self, quantity=3, **kw):
        return line(
            self.bs, quantity, "Product BS (12/01/2026 - 12/31/2026)", service_date=DEC_1, **kw
        )

    def plan(self, *invoices, **kw):
        return checked(build_plan(self.config, self.charges, self.state(*invoices, **kw)))


def _changes(plan, kind):
    return [c.change for c in plan.changes if isinstance(c.change, kind)]


def _codes(plan):
    return [(n.level, n.code) for n in plan.notices]


# -- create ------------------------------------------------------------------


def test_create_adds_an_invoice_marked_with_the_deterministic_guid():
    world = World()
    plan = world.plan()
    (create,) = _changes(plan, InvoiceCreate)
    assert create.external_guid == GUID_A
    assert create.customer == Ref(list_id=world.contoso.list_id, full_name="Contoso")
    assert create.txn_date == DEC_1
    assert [(ln.item, ln.quantity) for ln in create.lines] == [
        (Ref(world.bp.list_id, "Cloud:BP"), Decimal(12)),
        (Ref(world.bs.list_id, "Cloud:BS"), Decimal(3)),
    ]
    (planned,) = plan.changes
    assert planned.key == f"invoice-add:{GUID_A}"
    assert planned.schedule.invoice_at.isoformat() == "2026-12-01T05:00:00-05:00"
    assert plan.notices == ()


def test_create_recognises_its_invoice_and_leaves_it_when_it_is_right():
    world = World()
    mine = invoice(world.contoso, [world.bp_line(), world.bs_line()], external_guid=GUID_A)
    assert world.plan(mine).changes == ()


def test_create_recognises_its_guid_in_braces_and_upper_case_whatever_the_date():
    world = World()
    mine = invoice(
        world.contoso,
        [world.bp_line(10), world.bs_line()],
        external_guid="{" + GUID_A.upper() + "}",
        date=D(2027, 1, 5),
    )
    plan = world.plan(mine)
    assert _changes(plan, InvoiceCreate) == []
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is mine
    assert [type(op) for op in update.lines] == [ModifyLine, KeepLine]


def test_create_never_adds_a_second_invoice_when_its_invoice_is_settled():
    world = World()
    paid = invoice(world.contoso, [world.bp_line(10)], external_guid=GUID_A, paid=True)
    plan = world.plan(paid)
    assert plan.changes == ()
    (notice,) = plan.notices
    assert (notice.level, notice.code) == (Level.WARNING, Code.INVOICE_SETTLED)
    assert "left as it is" in notice.message


def test_create_leaves_its_voided_invoice_alone():
    world = World()
    voided = invoice(world.contoso, [], external_guid=GUID_A, memo="VOID: wrong customer")
    plan = world.plan(voided)
    assert plan.changes == ()
    assert "is void" in plan.notices[0].message


def test_an_invoice_is_never_emptied_of_all_its_lines():
    world = World()
    world.charges = bundle(customer_charges(ORG_A, "Contoso", []))
    mine = invoice(world.contoso, [world.bp_line(), world.bs_line()], external_guid=GUID_A)
    plan = world.plan(mine)
    assert plan.changes == ()
    (error,) = plan.errors
    assert error.code is Code.INVOICE_WOULD_BE_EMPTY
    assert "void or delete it in QuickBooks" in error.message
    # With any other line on it, the Sherweb lines simply go.
    world.charges = bundle(customer_charges(ORG_A, "Contoso", [charge("BS", 3, cost="11.25")]))
    (update,) = _changes(world.plan(mine), InvoiceUpdate)
    assert [ln.item.full_name for ln in update.removed] == ["Cloud:BP"]


def test_create_ignores_other_invoices_of_the_customer():
    world = World()
    manual = invoice(world.contoso, [world.bp_line()], number=7)
    plan = world.plan(manual)
    assert len(_changes(plan, InvoiceCreate)) == 1
    assert _changes(plan, InvoiceUpdate) == []


def test_create_refuses_its_invoice_when_it_moved_to_another_customer():
    world = World()
    other = qb_customer("Other")
    moved = invoice(other, [world.bp_line()], external_guid=GUID_A)
    plan = world.plan(moved, customers=[world.contoso, other])
    assert plan.changes == ()
    assert _codes(plan) == [(Level.ERROR, Code.INVOICE_CUSTOMER_CHANGED)]


def test_create_with_nothing_to_bill_adds_nothing():
    world = World()
    world.charges = bundle(customer_charges(ORG_A, "Contoso", []))
    assert world.plan().changes == ()


# -- update ------------------------------------------------------------------


def test_update_keeps_every_other_line_in_place_and_lists_it_by_txn_line_id():
    world = World(UPDATE)
    labour = line(world.labour, 2, "Onsite support")
    note = line(None, None, "Thank you for your business")
    group = InvoiceLineGroup(
        txn_line_id="G-1",
        item_group=Ref("IG-1", "Bundle"),
        lines=(line(world.bp, 1, "BP inside a group"),),
    )
    stale = world.bp_line(10)
    old = line(world.bs, 1, "Product BS (11/15/2026 - 11/30/2026)", service_date=D(2026, 11, 15))
    recurring = invoice(world.contoso, [labour, stale, group, old, note], number=1042)
    plan = world.plan(recurring)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is recurring
    assert [type(op).__name__ for op in update.lines] == [
        "KeepLine",
        "ModifyLine",
        "KeepLine",
        "ModifyLine",
        "KeepLine",
    ]
    assert update.lines[0] == KeepLine(labour.txn_line_id)
    assert update.lines[2] == KeepLine("G-1", is_group=True)
    assert update.lines[4] == KeepLine(note.txn_line_id)
    assert update.lines[1].txn_line_id == stale.txn_line_id
    assert update.lines[1].line.quantity == Decimal(12)
    assert update.lines[3].line.service_date == DEC_1
    assert update.removed == ()


def test_a_group_line_holding_a_synced_item_is_kept_with_a_warning():
    world = World(UPDATE)
    group = InvoiceLineGroup(
        txn_line_id="G-1",
        item_group=Ref("IG-1", "Bundle"),
        lines=(line(world.bp, 1, "BP inside a group"), line(world.labour, 1)),
    )
    recurring = invoice(world.contoso, [group], number=1042)
    plan = world.plan(recurring)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.lines[0] == KeepLine("G-1", is_group=True)
    (warning,) = plan.notices
    assert (warning.level, warning.code) == (Level.WARNING, Code.GROUP_HOLDS_SYNCED_ITEM)
    assert warning.message.startswith(
        "invoice #1042 dated 2026-12-01 of Contoso: group line \"Bundle\" holds item 'Cloud:BP'"
    )
    assert "may be billed twice" in warning.message
    # A group of items Sherweb does not bill says nothing.
    plain = InvoiceLineGroup("G-2", Ref("IG-2", "Setup"), lines=(line(world.labour, 2),))
    assert world.plan(invoice(world.contoso, [plain])).notices == ()


def test_update_adds_missing_lines_at_the_end_and_removes_stale_ones():
    world = World(UPDATE)
    labour = line(world.labour, 2, "Onsite support")
    gone = line(world.bp, 2, "Product BP (11/16/2026 - 11/30/2026)", service_date=D(2026, 11, 16))
    recurring = invoice(world.contoso, [world.bp_line(), gone, labour])
    (update,) = _changes(world.plan(recurring), InvoiceUpdate)
    assert update.removed == (gone,)
    assert [type(op) for op in update.lines] == [KeepLine, KeepLine, AddLine]
    assert update.lines[2].line.item.full_name == "Cloud:BS"


def test_update_picks_the_most_recent_open_invoice_in_the_window():
    world = World(UPDATE)
    t = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    older = invoice(world.contoso, [], date=DEC_1, created=t, number=1)
    newer_same_day = invoice(
        world.contoso, [], date=DEC_1, created=t + dt.timedelta(hours=1), number=2
    )
    later_but_paid = invoice(world.contoso, [], date=D(2026, 12, 20), paid=True)
    later_with_payment = invoice(world.contoso, [], date=D(2026, 12, 21), payment=True)
    voided = invoice(world.contoso, [], date=D(2026, 12, 22), memo="VOID: duplicate")
    next_month = invoice(world.contoso, [], date=D(2027, 1, 1))
    last_month = invoice(world.contoso, [], date=D(2026, 11, 30))
    plan = world.plan(
        older, newer_same_day, later_but_paid, later_with_payment, voided, next_month, last_month
    )
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is newer_same_day


def test_update_breaks_ties_by_txn_number():
    world = World(UPDATE)
    first = invoice(world.contoso, [], number=5)
    second = invoice(world.contoso, [], number=6)
    (update,) = _changes(world.plan(second, first), InvoiceUpdate)
    assert update.invoice is second


def test_update_without_an_open_invoice_is_an_error_naming_customer_and_month():
    world = World(UPDATE)
    plan = world.plan(invoice(world.contoso, [], date=D(2026, 11, 1)))
    assert plan.changes == ()
    (error,) = plan.errors
    assert error.code is Code.NO_OPEN_INVOICE
    assert error.message.startswith("no open invoice for Contoso dated 2026-12")
    assert "create_if_missing" in error.message


def test_update_when_the_periods_invoice_is_already_paid_is_a_warning():
    world = World(UPDATE)
    paid = invoice(world.contoso, [world.bp_line(10)], paid=True)
    plan = world.plan(paid)
    assert plan.changes == ()
    assert _codes(plan) == [(Level.WARNING, Code.INVOICE_SETTLED)]


def test_update_leaves_a_paid_invoice_that_bills_as_wanted_without_a_word():
    world = World(UPDATE)
    paid = invoice(world.contoso, [world.bp_line(), world.bs_line()], paid=True)
    plan = world.plan(paid)
    assert plan.changes == () and plan.notices == ()


def test_update_never_adds_a_second_invoice_next_to_a_paid_one_billing_sherweb():
    world = World(UPDATE, create_if_missing=True)
    paid = invoice(world.contoso, [world.bp_line(10)], paid=True)
    plan = world.plan(paid)
    assert plan.changes == ()
    assert _codes(plan) == [(Level.WARNING, Code.INVOICE_SETTLED)]


# -- sent invoices (billing.unsent_invoices) ----------------------------------


def test_update_with_only_a_sent_invoice_in_the_window_is_an_error_that_says_so():
    world = World(UPDATE)
    # Send Forms e-mailed it: QuickBooks cleared "Email later".
    sent = invoice(world.contoso, [], number=1009, sent=True)
    plan = world.plan(sent)
    assert plan.changes == ()
    (error,) = plan.errors
    assert error.code is Code.INVOICE_SENT
    assert error.message.startswith(
        "invoice #1009 of Contoso dated 2026-12-01 was already sent (not marked Print/Email later)"
    )
    assert "Print later or Email later" in error.message
    assert "unsent_invoices: unpaid" in error.message
    assert "create_if_missing: true" in error.message
    assert dict(error.context)["invoice"] == sent.txn_id


def test_update_picks_the_unsent_invoice_even_when_a_sent_one_is_more_recent():
    world = World(UPDATE)
    unsent = invoice(world.contoso, [], number=1)
    sent = invoice(world.contoso, [], date=D(2026, 12, 5), number=2, sent=True)
    (update,) = _changes(world.plan(unsent, sent), InvoiceUpdate)
    assert update.invoice is unsent


def test_an_invoice_marked_print_later_is_unsent():
    world = World(UPDATE)
    marked = replace(invoice(world.contoso, [], sent=True), is_to_be_printed=True)
    (update,) = _changes(world.plan(marked), InvoiceUpdate)
    assert update.invoice is marked


def test_a_sent_invoice_whose_sherweb_lines_would_change_is_left_with_a_warning():
    world = World(UPDATE, create_if_missing=True)
    sent = invoice(world.contoso, [world.bp_line(10)], number=1009, sent=True)
    plan = world.plan(sent)
    # Neither changed nor billed again on a new invoice.
    assert plan.changes == ()
    (warning,) = plan.notices
    assert (warning.level, warning.code) == (Level.WARNING, Code.INVOICE_SENT)
    assert "invoice #1009 of Contoso dated 2026-12-01 was already sent" in warning.message
    assert "left as it is" in warning.message


def test_a_sent_invoice_that_already_bills_as_wanted_needs_no_word():
    world = World(UPDATE)
    sent = invoice(world.contoso, [world.bp_line(), world.bs_line()], sent=True)
    plan = world.plan(sent)
    assert plan.changes == () and plan.notices == ()


def test_update_with_create_if_missing_bills_separately_next_to_a_sent_invoice_without_sherweb():
    world = World(UPDATE, create_if_missing=True)
    sent = invoice(world.contoso, [line(world.labour, 2)], sent=True)
    (create,) = _changes(world.plan(sent), InvoiceCreate)
    assert create.external_guid == GUID_A


def test_create_leaves_its_own_invoice_once_sent():
    world = World()
    mine = invoice(world.contoso, [world.bp_line(10)], external_guid=GUID_A, sent=True)
    plan = world.plan(mine)
    assert plan.changes == ()
    assert _codes(plan) == [(Level.WARNING, Code.INVOICE_SENT)]
    # Once it bills what the charges say, nothing is said about it.
    right = invoice(
        world.contoso, [world.bp_line(), world.bs_line()], external_guid=GUID_A, sent=True
    )
    assert world.plan(right).notices == ()


@pytest.mark.parametrize(
    ("mark", "action"),
    [
        (SendMark.EMAIL, InvoiceAction.CREATE),
        (SendMark.PRINT, InvoiceAction.CREATE),
        (SendMark.EMAIL, UPDATE),
    ],
)
def test_what_reconciler_creates_is_marked_so_a_correction_still_reaches_it(mark, action):
    world = World(action, create_if_missing=action is UPDATE)
    world.config = replace(world.config, billing=replace(world.config.billing, mark_created=mark))
    (create,) = _changes(world.plan(), InvoiceCreate)
    assert create.mark is mark
    # QuickBooks adds it with that mark: unsent under unsent_invoices: marked.
    added = replace(
        invoice(world.contoso, [world.bp_line(), world.bs_line()], external_guid=GUID_A),
        is_to_be_printed=mark is SendMark.PRINT,
        is_to_be_emailed=mark is SendMark.EMAIL,
    )
    assert world.plan(added).changes == ()
    # Sherweb corrects the charges: the created invoice is updated like any other.
    world.charges = bundle(
        customer_charges(
            ORG_A, "Contoso", [charge("BP", 14, cost="19.80"), charge("BS", 3, cost="11.25")]
        )
    )
    (update,) = _changes(world.plan(added), InvoiceUpdate)
    assert update.invoice is added
    assert [op.line.quantity for op in update.lines if isinstance(op, ModifyLine)] == [14]
    # Once sent (the mark cleared), it is left with a warning.
    sent = replace(added, is_to_be_printed=False, is_to_be_emailed=False)
    plan = world.plan(sent)
    assert plan.changes == ()
    assert _codes(plan) == [(Level.WARNING, Code.INVOICE_SENT)]


def test_books_without_the_marks_update_any_invoice_without_payment_or_credit():
    world = World(UPDATE)
    world.config = replace(
        world.config, billing=replace(world.config.billing, unsent_invoices=UnsentInvoices.UNPAID)
    )
    sent = invoice(world.contoso, [], sent=True)
    (update,) = _changes(world.plan(sent), InvoiceUpdate)
    assert update.invoice is sent
    paid = invoice(world.contoso, [world.bp_line(10)], paid=True, sent=True)
    assert world.plan(paid).changes == ()


def test_update_with_create_if_missing_creates_then_updates_its_own_invoice():
    world = World(UPDATE, create_if_missing=True)
    (create,) = _changes(world.plan(), InvoiceCreate)
    assert create.external_guid == GUID_A
    # Once created, it is THE invoice, even when a newer one appears later.
    mine = invoice(world.contoso, [world.bp_line(10), world.bs_line()], external_guid=GUID_A)
    newer = invoice(world.contoso, [], date=D(2026, 12, 5))
    plan = world.plan(mine, newer)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is mine


def test_organizations_of_one_customer_share_one_updated_invoice():
    contoso = qb_customer("Contoso")
    bp, bs = qb_item("Cloud:BP"), qb_item("Cloud:BS")
    cfg = config(
        [offer("BP"), offer("BS")],
        [
            org(ORG_A, "Contoso East", customer="Contoso", action=UPDATE),
            org(ORG_B, "Contoso West", customer="Contoso", action=UPDATE),
        ],
    )
    charges = bundle(
        customer_charges(ORG_A, "Contoso East", [charge("BP", 4)]),
        customer_charges(ORG_B, "Contoso West", [charge("BS", 6)]),
    )
    existing = invoice(contoso, [])
    plan = checked(build_plan(cfg, charges, state([contoso], [bp, bs], [existing])))
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.organization_names == ("Contoso East", "Contoso West")
    assert [op.line.quantity for op in update.lines] == [Decimal(4), Decimal(6)]
    assert [org.name for org in plan.changes[0].organizations] == ["Contoso East", "Contoso West"]


def test_update_warns_about_other_open_invoices_holding_sherweb_lines():
    world = World(UPDATE)
    older = invoice(world.contoso, [world.bp_line()], number=1)
    newer = invoice(world.contoso, [], date=D(2026, 12, 2), number=2)
    plan = world.plan(older, newer)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is newer
    assert _codes(plan) == [(Level.WARNING, Code.OTHER_OPEN_INVOICES)]


def test_lines_of_offers_synced_off_are_left_alone():
    # Sync off: the line may be billed by hand (a retainer); never lose it.
    world = World(UPDATE, offers=(("BS", False),))
    bs_line = world.bs_line()
    recurring = invoice(world.contoso, [world.bp_line(quantity=3), bs_line])
    plan = world.plan(recurring)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.removed == ()
    assert KeepLine(bs_line.txn_line_id) in update.lines
    assert (Level.WARNING, Code.OFFER_NOT_SYNCED) in _codes(plan)


# -- items and unit cost -------------------------------------------------------


def test_item_cost_update_when_purchase_cost_differs():
    world = World()
    world.bp = qb_item("Cloud:BP", cost="18.70")
    plan = world.plan(items=[world.bp, world.bs])
    (update,) = _changes(plan, ItemCostUpdate)
    assert update.item is world.bp
    assert (update.before, update.cost) == (Decimal("18.70"), Decimal("19.80"))
    assert plan.changes[0].key == f"item:{world.bp.list_id}"


def test_equal_costs_in_other_notation_need_no_update():
    world = World()
    world.bp = qb_item("Cloud:BP", cost="19.8000")
    assert _changes(world.plan(items=[world.bp, world.bs]), ItemCostUpdate) == []


@pytest.mark.parametrize(
    ("kind", "sales_and_purchase", "hint"),
    [
        (ItemKind.SERVICE, False, "performed by a subcontractor or partner"),
        (ItemKind.NON_INVENTORY, False, "purchased for a specific customer:job"),
        (ItemKind.OTHER_CHARGE, False, "reimbursable charge"),
        (ItemKind.INVENTORY, True, "cannot carry a synced cost"),
    ],
)
def test_item_without_a_purchase_cost_gets_instructions(kind, sales_and_purchase, hint):
    world = World()
    world.bp = qb_item("Cloud:BP", cost=None, kind=kind, sales_and_purchase=sales_and_purchase)
    plan = world.plan(items=[world.bp, world.bs])
    assert _changes(plan, ItemCostUpdate) == []
    (notice,) = plan.notices
    assert notice.code is Code.ITEM_HAS_NO_COST
    assert hint in notice.message and "19.80" in notice.message
    # The lines are billed all the same: the item's price applies.
    assert len(_changes(plan, InvoiceCreate)[0].lines) == 2


def test_missing_or_inactive_items_and_customers_are_warnings():
    world = World()
    inactive_bs = qb_item("Cloud:BS", active=False)
    plan = world.plan(items=[world.bp, inactive_bs])
    (create,) = _changes(plan, InvoiceCreate)
    assert [ln.item.full_name for ln in create.lines] == ["Cloud:BP"]
    assert _codes(plan) == [(Level.WARNING, Code.ITEM_INACTIVE)]
    assert "1 line not billed for Contoso (1)" in plan.notices[0].message

    plan = world.plan(items=[world.bp])
    assert _codes(plan) == [(Level.WARNING, Code.ITEM_MISSING)]

    plan = world.plan(customers=[qb_customer("Someone else")])
    assert plan.changes == ()
    assert _codes(plan) == [(Level.WARNING, Code.CUSTOMER_MISSING)]

    plan = world.plan(customers=[qb_customer("Contoso", active=False)])
    assert _codes(plan) == [(Level.WARNING, Code.CUSTOMER_INACTIVE)]


def test_lines_of_an_inactive_item_are_left_alone():
    world = World(UPDATE)
    inactive_bs = qb_item("Cloud:BS", active=False)
    kept = line(inactive_bs, 3, "Product BS (12/01/2026 - 12/31/2026)", service_date=DEC_1)
    recurring = invoice(world.contoso, [world.bp_line(), kept])
    plan = world.plan(recurring, items=[world.bp, inactive_bs])
    assert _changes(plan, InvoiceUpdate) == []


def test_no_change_ever_carries_a_rate():
    world = World(UPDATE)
    priced = world.bp_line(10, rate="99.00")
    (update,) = _changes(world.plan(invoice(world.contoso, [priced])), InvoiceUpdate)
    modified = update.lines[0]
    assert isinstance(modified, ModifyLine)
    assert not hasattr(modified.line, "rate")
    assert modified.before.rate == Decimal("99.00")  # QuickBooks keeps its own


def test_plan_orders_item_costs_first_then_invoices_in_configuration_order():
    contoso, fabrikam, adatum = (qb_customer(n) for n in ("Contoso", "Fabrikam", "Adatum"))
    bp = qb_item("Cloud:BP", cost="1")
    cfg = config(
        [offer("BP")],
        [org(ORG_C, "Adatum"), org(ORG_A, "Contoso"), org(ORG_B, "Fabrikam")],
    )
    charges = bundle(
        *(
            customer_charges(i, n, [charge("BP")])
            for i, n in ((ORG_A, "Contoso"), (ORG_B, "Fabrikam"), (ORG_C, "Adatum"))
        )
    )
    plan = checked(build_plan(cfg, charges, state([contoso, fabrikam, adatum], [bp])))
    assert [c.key.split(":")[0] for c in plan.changes] == ["item", *["invoice-add"] * 3]
    assert [c.organizations[0].name for c in plan.changes[1:]] == ["Adatum", "Contoso", "Fabrikam"]
    assert [c.request_id for c in plan.changes] == [f"{plan.plan_id[:12]}-{n}" for n in range(1, 5)]


# -- what the server's snapshot read (its coverage) -------------------------------


def _coverage(world, *, first=None, last=None, read=True, deleted=()):
    return Coverage(
        first=first or D(2026, 11, 1),
        last=last or D(2027, 1, 31),
        customer_ids=frozenset({world.contoso.list_id} if read else ()),
        deleted_guids=frozenset(deleted),
    )


def _plan_read(world, coverage, *invoices):
    return checked(
        build_plan(world.config, world.charges, world.state(*invoices), coverage=coverage)
    )


@pytest.mark.parametrize("action", [InvoiceAction.CREATE, UPDATE])
def test_a_billing_window_the_snapshot_did_not_read_is_an_error_not_an_absence(action):
    world = World(action)
    plan = _plan_read(world, _coverage(world, first=D(2027, 1, 1), last=D(2027, 3, 31)))
    assert plan.changes == ()
    (error,) = plan.errors
    assert error.code is Code.INVOICES_NOT_READ
    assert error.message.startswith("invoices of Contoso dated 2026-12 were not read")
    assert "2027-01-01 to 2027-03-31" in error.message and "--qb-state" in error.message


def test_an_invoice_reconciler_created_is_planned_wherever_the_snapshot_found_it():
    world = World()
    mine = invoice(world.contoso, [world.bp_line(10), world.bs_line()], external_guid=GUID_A)
    plan = _plan_read(world, _coverage(world, first=D(2027, 1, 1), last=D(2027, 3, 31)), mine)
    (update,) = _changes(plan, InvoiceUpdate)
    assert update.invoice is mine and plan.errors == ()


def test_an_update_whose_customers_invoices_were_not_read_waits_with_a_warning():
    world = World(UPDATE)
    plan = _plan_read(world, _coverage(world, read=False))
    assert plan.changes == () and plan.errors == ()
    assert _codes(plan) == [(Level.WARNING, Code.INVOICES_NOT_READ)]
    assert "first sync after this configuration is applied" in plan.notices[0].message


def test_a_create_needs_only_its_window_read_whatever_the_customer():
    world = World()
    (create,) = _changes(_plan_read(world, _coverage(world, read=False)), InvoiceCreate)
    assert create.external_guid == GUID_A


def test_an_invoice_deleted_in_quickbooks_is_created_again_with_a_warning():
    world = World()
    plan = _plan_read(world, _coverage(world, deleted=[canonical_guid(GUID_A)]))
    (create,) = _changes(plan, InvoiceCreate)
    assert create.external_guid == GUID_A
    assert _codes(plan) == [(Level.WARNING, Code.CREATED_INVOICE_DELETED)]


def test_without_coverage_the_state_is_taken_as_whole():
    world = World(UPDATE)
    (error,) = world.plan().errors
    assert error.code is Code.NO_OPEN_INVOICE


# -- mappings QuickBooks lacks, when the snapshot read every customer and item ----


def _mapped_at(organization, line, file="organizations.yaml"):
    return replace(organization, where=Location(Path("/repo/config") / file, line, 5))


def test_a_mapped_customer_quickbooks_lacks_is_an_error_naming_the_line_and_the_nearest():
    world = World()
    (contoso,) = world.config.organizations
    typo = _mapped_at(replace(contoso, customer="Contoso Dentl"), 27)
    world.config = replace(world.config, organizations=(typo,))
    customers = [qb_customer("Contoso Dental"), qb_customer("Fabrikam"), qb_customer("Contos")]
    plan = checked(
        build_plan(
            world.config, world.charges, world.state(customers=customers), coverage=_coverage(world)
        )
    )
    assert plan.changes == ()
    (error,) = plan.errors
    assert error.code is Code.CUSTOMER_MISSING
    assert error.message == (
        'organization Contoso (organizations.yaml:27) is mapped to customer "Contoso Dentl", '
        "which is not in QuickBooks (the last sync read every customer); nearest QuickBooks "
        'customers: "Contoso Dental", "Contos". Correct the customer in organizations.yaml, '
        "or add it in QuickBooks and plan after the next sync: nothing is billed for Contoso."
    )
    assert dict(error.context) == {"customer": "Contoso Dentl", "organization": ORG_A}
    assert [n for n in plan.notices if n.level is Level.WARNING] == []


def test_a_mapped_customer_quickbooks_lacks_is_an_error_even_without_charges():
    world = World()
    nobody = org(ORG_B, "Fabrikam", customer="Fabrikm")
    world.config = replace(world.config, organizations=(*world.config.organizations, nobody))
    plan = _plan_read(world, _coverage(world))
    (error,) = plan.errors
    assert error.code is Code.CUSTOMER_MISSING and dict(error.context)["organization"] == ORG_B
    assert 'Fabrikm", which is not in QuickBooks' in error.message
    assert "no QuickBooks customer has a name like it" in error.message
    assert len(_changes(plan, InvoiceCreate)) == 1  # Contoso is billed all the same


def test_a_mapped_item_quickbooks_lacks_is_an_error_naming_the_offer_line_and_the_nearest():
    world = World()
    bp, bs = world.config.offers
    typo = replace(bs, item="Cloud:BS2", where=Location(Path("offers.yaml"), 9, 5))
    world.config = replace(world.config, offers=(bp, typo))
    plan = _plan_read(world, _coverage(world))
    (error,) = plan.errors
    assert error.code is Code.ITEM_MISSING
    assert error.message == (
        'item "Cloud:BS2" of offer BS (offers.yaml:9) is not in QuickBooks (the last sync read '
        'every item); nearest QuickBooks items: "Cloud:BS", "Cloud:BP". Correct the item in '
        "offers.yaml, or add it in QuickBooks and plan after the next sync: 1 line not billed for Contoso (1)."
    )
    (create,) = _changes(plan, InvoiceCreate)
    assert [ln.item.full_name for ln in create.lines] == ["Cloud:BP"]


def test_without_the_whole_lists_read_missing_mappings_stay_warnings():
    world = World()
    (contoso,) = world.config.organizations
    world.config = replace(
        world.config, organizations=(replace(contoso, customer="Contoso Dentl"),)
    )
    assert _codes(world.plan()) == [(Level.WARNING, Code.CUSTOMER_MISSING)]

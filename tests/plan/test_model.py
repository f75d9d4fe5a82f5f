"""Plan objects: fingerprints, safety threshold, billing-mode lock, summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from support.builders import (
    ORG_A,
    billing,
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

from reconciler.base.errors import Location
from reconciler.engine.fingerprint import fingerprint_charges, fingerprint_config, fingerprint_state
from reconciler.model.config import BillingMode, InvoiceAction
from reconciler.plan import (
    BillingModeLocked,
    SafetyCheck,
    UnsafePlan,
    build_plan,
    check_safety,
)
from reconciler.plan.model import plan_id

# -- fingerprints ----------------------------------------------------------------


def _example():
    contoso = qb_customer("Contoso")
    bp = qb_item("Cloud:BP", cost="10")
    cfg = config([offer("BP")], [org(ORG_A, "Contoso")])
    charges = bundle(customer_charges(ORG_A, "Contoso", [charge("BP", 3, cost="10")]))
    return cfg, charges, state([contoso], [bp], [invoice(contoso, [line(bp, 1, "x")])])


def test_fingerprints_are_sha256_hex_and_stable():
    cfg, charges, qb = _example()
    for fingerprint in (
        fingerprint_config(cfg),
        fingerprint_charges(charges),
        fingerprint_state(qb),
    ):
        assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0
    assert fingerprint_state(qb) == fingerprint_state(replace(qb))


def test_config_fingerprint_ignores_where_things_are_written():
    cfg, _, _ = _example()
    moved = replace(cfg, billing=replace(cfg.billing, where=Location("elsewhere.yaml", 3)))
    assert fingerprint_config(moved) == fingerprint_config(cfg)
    changed = replace(cfg, billing=replace(cfg.billing, invoice_day=2))
    assert fingerprint_config(changed) != fingerprint_config(cfg)


def test_state_fingerprint_ignores_list_order_but_not_line_order_or_values():
    _, _, qb = _example()
    contoso = qb.customers[0]
    other = qb_customer("Other")
    two = replace(qb, customers=(contoso, other))
    assert fingerprint_state(two) == fingerprint_state(replace(qb, customers=(other, contoso)))
    (inv,) = qb.invoices
    lines = (line(None, None, "a"), line(None, None, "b"))
    forward = replace(qb, invoices=(replace(inv, lines=lines),))
    backward = replace(qb, invoices=(replace(inv, lines=lines[::-1]),))
    assert fingerprint_state(forward) != fingerprint_state(backward)
    bumped = replace(qb, invoices=(replace(inv, edit_sequence="101"),))
    assert fingerprint_state(bumped) != fingerprint_state(qb)


def test_decimals_fingerprint_by_value():
    _, _, qb = _example()
    item = qb.items[0]
    a = replace(qb, items=(replace(item, purchase_cost=Decimal("10")),))
    b = replace(qb, items=(replace(item, purchase_cost=Decimal("10.000")),))
    c = replace(qb, items=(replace(item, purchase_cost=Decimal("10.01")),))
    assert fingerprint_state(a) == fingerprint_state(b) != fingerprint_state(c)


def test_plan_carries_the_three_fingerprints_and_a_derived_identity():
    cfg, charges, qb = _example()
    plan = build_plan(cfg, charges, qb)
    assert plan.fingerprints.config == fingerprint_config(cfg)
    assert plan.fingerprints.charges == fingerprint_charges(charges)
    assert plan.fingerprints.state == fingerprint_state(qb)
    assert plan.plan_id == plan_id(plan.fingerprints)
    again = build_plan(cfg, charges, qb)
    assert again == plan  # pure: the same inputs, the same plan
    assert [c.request_id for c in again.changes] == [c.request_id for c in plan.changes]


# -- billing-mode lock --------------------------------------------------------------


def test_a_changed_billing_mode_is_refused_with_a_clear_message():
    cfg, charges, qb = _example()
    with pytest.raises(BillingModeLocked) as caught:
        build_plan(
            cfg,
            charges,
            qb,
            locked_mode=BillingMode.ARREARS,
            locked_since=dt.datetime(2026, 6, 1, 5, tzinfo=dt.UTC),
        )
    message = str(caught.value)
    assert "billing mode is locked to arrears since it was first applied on 2026-06-01" in message
    assert "cannot be changed" in message and "mode: arrears" in message


def test_the_locked_mode_itself_plans_normally():
    cfg, charges, qb = _example()
    plan = build_plan(cfg, charges, qb, locked_mode=BillingMode.ADVANCE)
    assert plan.has_changes


# -- safety ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "changed", "exceeded"),
    [
        (10, 3, False),  # exactly 30%: not more than
        (10, 4, True),
        (9, 9, False),  # fewer than min_existing: never
        (100, 31, True),
        (0, 0, False),
    ],
)
def test_safety_threshold(existing, changed, exceeded):
    check = SafetyCheck(existing, changed, Decimal("0.30"), 10)
    assert check.exceeded is exceeded


def _update_world(n_invoices, n_changed, **billing_options):
    """n organizations (action update), each with its open invoice; n_changed are stale."""
    bp = qb_item("Cloud:BP", cost="10")
    orgs, customers, invoices, charges = [], [], [], []
    for n in range(n_invoices):
        org_id = f"00000000-0000-4000-8000-{n:012d}"
        name = f"Customer {n}"
        orgs.append(org(org_id, name, action=InvoiceAction.UPDATE))
        customer = qb_customer(name)
        customers.append(customer)
        quantity = 5 if n < n_changed else 3
        invoices.append(
            invoice(
                customer,
                [
                    line(
                        bp,
                        quantity,
                        "Product BP (12/01/2026 - 12/31/2026)",
                        service_date=dt.date(2026, 12, 1),
                    )
                ],
            )
        )
        charges.append(customer_charges(org_id, name, [charge("BP", 3, cost="10")]))
    cfg = config([offer("BP")], orgs, **billing_options)
    return cfg, bundle(*charges), state(customers, [bp], invoices)


def test_a_plan_over_the_threshold_is_refused_without_force():
    plan = build_plan(*_update_world(10, 4))
    assert (plan.safety.existing_invoices, plan.safety.changed_invoices) == (10, 4)
    assert plan.safety.exceeded
    with pytest.raises(UnsafePlan) as caught:
        check_safety(plan, force=False)
    assert "4 of the 10 existing invoices" in str(caught.value)
    assert "(40%)" in str(caught.value) and "30%" in str(caught.value)
    assert "--force" in str(caught.value)
    check_safety(plan, force=True)


def test_the_threshold_is_configurable():
    plan = build_plan(*_update_world(10, 4, max_change_ratio="0.50"))
    assert not plan.safety.exceeded
    check_safety(plan, force=False)


def test_adding_lines_to_open_invoices_does_not_count_against_the_threshold():
    cfg, charges, qb = _update_world(12, 0)
    emptied = replace(qb, invoices=tuple(replace(i, lines=()) for i in qb.invoices))
    plan = build_plan(cfg, charges, emptied)
    assert plan.summary.invoice_updates == 12
    assert (plan.safety.existing_invoices, plan.safety.changed_invoices) == (12, 0)
    check_safety(plan, force=False)


# -- summary ---------------------------------------------------------------------


def test_summary_counts_changes_lines_and_notices():
    cfg, charges, qb = _update_world(3, 1)
    cfg = replace(cfg, billing=billing(mode=BillingMode.ADVANCE))
    plan = build_plan(cfg, charges, qb)
    summary = plan.summary
    assert (summary.invoice_updates, summary.lines_modified, summary.changes) == (1, 1, 1)
    assert (summary.errors, summary.warnings, summary.infos) == (0, 0, 0)

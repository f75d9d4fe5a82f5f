"""Desired invoices from the configuration and the charges."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from support.builders import (
    DEC_1,
    DEC_31,
    ORG_A,
    ORG_B,
    bundle,
    charge,
    config,
    customer_charges,
    offer,
    org,
)

from reconciler.engine.desired import (
    build_desired,
    invoice_guid,
    normalize_quantity,
    proration_period,
)
from reconciler.engine.notices import Code, Level
from reconciler.engine.period import BillingPeriod
from reconciler.model.charges import BillingCycle, ChargeType
from reconciler.model.config import Proration

D = dt.date
DECEMBER = BillingPeriod(DEC_1, DEC_31)


def _desired(charges, *, offers=None, orgs=None, **billing_options):
    cfg = config(
        offers or [offer("BP"), offer("BS")],
        orgs or [org(ORG_A, "Contoso")],
        **billing_options,
    )
    return build_desired(cfg, bundle(customer_charges(ORG_A, "Contoso", charges)))


def _codes(desired):
    return [(n.level, n.code) for n in desired.notices]


def test_one_line_per_charge_of_a_synced_offer():
    desired = _desired([charge("BP", 12), charge("BS", 3)])
    (invoice,) = desired.invoices
    assert [(line.item.full_name, line.quantity, line.sku) for line in invoice.lines] == [
        ("Cloud:BP", Decimal(12), "BP"),
        ("Cloud:BS", Decimal(3), "BS"),
    ]
    line = invoice.lines[0]
    assert line.service_date == DEC_1
    assert line.desc == "Product BP (12/01/2026 - 12/31/2026)"
    assert invoice.schedule.invoice_date == DEC_1
    assert invoice.external_guid == invoice_guid(ORG_A, DECEMBER)
    assert desired.notices == ()


def test_description_comes_from_the_offers_template():
    templated = replace(offer("BP"), description="{{ sku }} x{{ quantity }} for {{ organization }}")
    desired = _desired([charge("BP", 12)], offers=[templated])
    assert desired.invoices[0].lines[0].desc == "BP x12 for Contoso"


def test_prorated_increase_is_a_fractional_quantity_of_at_most_5_decimals():
    desired = _desired([charge("BP", 3, start=D(2026, 12, 10))])
    (line,) = desired.invoices[0].lines
    # 3 licences for 22 of December's 31 days.
    assert line.quantity == Decimal("2.12903")
    assert line.service_date == D(2026, 12, 10)
    assert "12/10/2026 - 12/31/2026" in line.desc


def test_prorated_decrease_is_negative():
    desired = _desired([charge("BP", -4, start=D(2026, 12, 20))])
    assert desired.invoices[0].lines[0].quantity == Decimal("-1.54839")


def test_a_charge_of_last_month_is_prorated_against_last_month():
    # Advance billing bills November's mid-month change with December.
    desired = _desired([charge("BP", 2, start=D(2026, 11, 16), end=D(2026, 11, 30))])
    assert desired.invoices[0].lines[0].quantity == Decimal(1)  # 2 x 15/30


@pytest.mark.parametrize(
    ("enabled", "kept"),
    [
        ((), []),
        ((Proration.INCREASES,), [Decimal("2.12903")]),
        ((Proration.DECREASES,), [Decimal("-0.70968")]),
        ((Proration.INCREASES, Proration.DECREASES), [Decimal("2.12903"), Decimal("-0.70968")]),
    ],
)
def test_each_proration_mode_applies_only_when_configured(enabled, kept):
    increase = charge("BP", 3, start=D(2026, 12, 10))
    decrease = charge("BP", -1, start=D(2026, 12, 10))
    desired = _desired([charge("BP", 10), increase, decrease], proration=enabled)
    quantities = [line.quantity for line in desired.invoices[0].lines]
    assert quantities == [Decimal(10), *kept]
    notes = [n for n in desired.notices if n.code is Code.PRORATION_OFF]
    assert len(notes) == 2 - len(kept)
    assert all(n.level is Level.INFO and "proration of" in n.message for n in notes)


def test_a_charge_that_is_not_proratable_is_billed_whole():
    desired = _desired([charge("BP", 3, start=D(2026, 12, 10), proratable=False)])
    assert desired.invoices[0].lines[0].quantity == Decimal(3)


def test_a_full_period_charge_is_never_prorated():
    assert proration_period(charge("BP", 3), DECEMBER) is None


def test_yearly_charge_is_billed_whole_in_the_period_it_starts():
    yearly = charge("E3", 15, cycle=BillingCycle.YEARLY, end=D(2027, 11, 30))
    desired = _desired([yearly], offers=[offer("E3")])
    (line,) = desired.invoices[0].lines
    assert line.quantity == Decimal(15)
    assert "12/01/2026 - 11/30/2027" in line.desc


def test_yearly_charge_that_started_before_the_period_is_not_billed_again():
    yearly = charge("E3", 15, cycle=BillingCycle.YEARLY, start=D(2026, 6, 1), end=D(2027, 5, 31))
    desired = _desired([yearly], offers=[offer("E3")])
    assert desired.invoices[0].lines == ()
    (notice,) = desired.notices
    assert (notice.level, notice.code) == (Level.WARNING, Code.CHARGE_OUT_OF_PERIOD)
    assert "Yearly charge" in notice.message and "2026-12-01 to 2026-12-31" in notice.message


def test_yearly_mid_term_increase_is_prorated_over_the_year():
    increase = charge("E3", 2, cycle=BillingCycle.YEARLY, start=D(2026, 12, 10), end=D(2027, 5, 31))
    desired = _desired([increase], offers=[offer("E3")])
    # 173 days of the 365-day term that ends 2027-05-31.
    assert desired.invoices[0].lines[0].quantity == normalize_quantity(Decimal(2) * 173 / 365)


def test_setup_fee_is_billed_once_whole_in_its_period():
    fee = charge(
        "BP",
        1,
        cost="50.00",
        start=D(2026, 12, 1),
        end=D(2026, 12, 1),
        cycle=BillingCycle.ONE_TIME,
        charge_type=ChargeType.SETUP,
    )
    desired = _desired([fee])
    assert desired.invoices[0].lines[0].quantity == Decimal(1)
    late = replace(fee, period_from=D(2026, 11, 20), period_to=D(2026, 11, 20))
    assert _codes(_desired([late])) == [(Level.WARNING, Code.CHARGE_OUT_OF_PERIOD)]


def test_charge_without_an_offer_is_a_warning():
    desired = _desired([charge("BP", 1), charge("TEAMS", 10, product="Teams Phone")])
    assert len(desired.invoices[0].lines) == 1
    (notice,) = desired.notices
    assert notice.code is Code.UNMAPPED_SKU
    assert "TEAMS (Teams Phone)" in notice.message and "1 charge of Contoso" in notice.message


def test_sherweb_customer_without_organization_is_a_warning():
    cfg = config([offer("BP")], [org(ORG_A, "Contoso")])
    charges = bundle(
        customer_charges(ORG_A, "Contoso", [charge("BP")]),
        customer_charges(ORG_B, "Litware", [charge("BP"), charge("BP")]),
        customer_charges("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "Idle", []),
    )
    desired = build_desired(cfg, charges)
    (notice,) = desired.notices
    assert notice.code is Code.UNMAPPED_CUSTOMER
    assert "Litware" in notice.message and "2 charges" in notice.message
    assert dict(notice.context) == {"organization": ORG_B}


def test_organization_without_charges_is_a_note():
    cfg = config([offer("BP")], [org(ORG_A, "Contoso"), org(ORG_B, "Fabrikam")])
    desired = build_desired(cfg, bundle(customer_charges(ORG_A, "Contoso", [charge("BP")])))
    assert [i.organization.name for i in desired.invoices] == ["Contoso"]
    assert _codes(desired) == [(Level.INFO, Code.NO_CHARGES)]


def test_offer_synced_off_is_a_warning_and_an_organization_can_override_it():
    offers = [offer("BP"), offer("PBI", sync=False)]
    off = _desired([charge("BP"), charge("PBI", 5)], offers=offers)
    assert [line.sku for line in off.invoices[0].lines] == ["BP"]
    (notice,) = off.notices
    assert notice.code is Code.OFFER_NOT_SYNCED and "offers.yaml" in notice.message
    on = _desired(
        [charge("BP"), charge("PBI", 5)],
        offers=offers,
        orgs=[org(ORG_A, "Contoso", offers=(("PBI", True),))],
    )
    assert [line.sku for line in on.invoices[0].lines] == ["BP", "PBI"]
    assert on.notices == ()
    override_off = _desired(
        [charge("BP"), charge("PBI", 5)],
        offers=[offer("BP"), offer("PBI")],
        orgs=[org(ORG_A, "Contoso", offers=(("PBI", False),))],
    )
    assert "per-organization override" in override_off.notices[0].message


def test_external_guid_is_deterministic_per_organization_and_period():
    guid = invoice_guid(ORG_A, DECEMBER)
    assert guid == invoice_guid(ORG_A.upper(), DECEMBER)
    assert guid != invoice_guid(ORG_B, DECEMBER)
    assert guid != invoice_guid(ORG_A, BillingPeriod(D(2027, 1, 1), D(2027, 1, 31)))
    assert guid == "ae14df4f-5e93-53a3-83da-2ab1581c9774"  # stable across releases


def test_item_cost_is_the_charges_cost_price():
    desired = _desired([charge("BP", 1, cost="19.80"), charge("BS", 1, cost="11.25")])
    assert [(c.item, c.cost, c.skus) for c in desired.item_costs] == [
        ("Cloud:BP", Decimal("19.80"), ("BP",)),
        ("Cloud:BS", Decimal("11.25"), ("BS",)),
    ]


def test_disagreeing_cost_prices_use_the_most_common_and_warn():
    desired = _desired(
        [charge("BP", 1, cost="19.80"), charge("BP", 2, cost="19.80"), charge("BP", 1, cost="21")]
    )
    (cost,) = desired.item_costs
    assert cost.cost == Decimal("19.80")
    (notice,) = desired.notices
    assert notice.code is Code.COST_DISAGREES
    assert "19.80 (2 charges), 21 (1 charge)" in notice.message


def test_setup_fee_does_not_set_the_items_unit_cost():
    fee = charge("BP", 1, cost="50", cycle=BillingCycle.ONE_TIME, charge_type=ChargeType.SETUP)
    desired = _desired([charge("BP", 10, cost="19.80"), fee])
    assert desired.item_costs[0].cost == Decimal("19.80")
    assert desired.notices == ()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12", "12"),
        ("12.000", "12"),
        ("2.129032258", "2.12903"),
        ("0.000004", "0"),
        ("0.000005", "0.00001"),
        ("-0.000001", "0"),
        ("-1.548387", "-1.54839"),
        ("100", "100"),
    ],
)
def test_quantities_have_at_most_5_decimals_and_no_exponent(value, text):
    assert str(normalize_quantity(Decimal(value))) == text


def test_the_shipped_example_charges_fit_the_example_configuration(example_config_dir):
    from reconciler.base.resources import data_dir
    from reconciler.config.load import load_config
    from reconciler.sherweb.charges import load_charges

    cfg = load_config(example_config_dir)
    charges = load_charges(data_dir() / "charges-example.json")
    desired = build_desired(cfg, charges)
    # Every organization is billed; every kind of charge the rules know is there.
    assert [i.organization.id for i in desired.invoices] == [o.id for o in cfg.organizations]
    cycles = {c.billing_cycle for customer in charges.customers for c in customer.charges}
    assert cycles == {BillingCycle.MONTHLY, BillingCycle.YEARLY, BillingCycle.ONE_TIME}
    assert any(c.charge_type is ChargeType.SETUP for cc in charges.customers for c in cc.charges)
    quantities = [line.quantity for i in desired.invoices for line in i.lines]
    assert any(0 < q < 1 or (q > 0 and q != q.to_integral_value()) for q in quantities)
    assert any(q < 0 for q in quantities)
    codes = {n.code for n in desired.notices}
    assert codes == {Code.UNMAPPED_CUSTOMER, Code.UNMAPPED_SKU, Code.OFFER_NOT_SYNCED}


def test_a_negative_whole_period_recurring_charge_is_a_warning_naming_the_charge():
    wrong = replace(charge("BP", -5), charge_id="9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
    desired = _desired([charge("BS", 3), wrong])
    assert [line.quantity for line in desired.invoices[0].lines] == [Decimal(3), Decimal(-5)]
    (notice,) = desired.notices
    assert (notice.level, notice.code) == (Level.WARNING, Code.NEGATIVE_QUANTITY)
    assert notice.message.startswith(
        "monthly charge Product BP (BP) of Contoso, 2026-12-01 to 2026-12-31 (charge "
        "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f, for its whole period) has a negative quantity, "
        "-5: it is billed as a credit line."
    )
    assert dict(notice.context) == {
        "charge": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        "organization": ORG_A,
        "period": "2026-12-01 to 2026-12-31",
        "sku": "BP",
    }


def test_a_negative_recurring_charge_that_is_not_proratable_is_a_warning_too():
    desired = _desired([charge("BP", -2, start=D(2026, 12, 10), proratable=False)])
    (notice,) = desired.notices
    assert (
        notice.code is Code.NEGATIVE_QUANTITY and "not proratable: billed whole" in notice.message
    )


@pytest.mark.parametrize(
    "legitimate",
    [
        charge("BP", -4, start=D(2026, 12, 20)),  # a prorated decrease
        charge("E3", -2, cycle=BillingCycle.YEARLY, start=D(2026, 12, 10), end=D(2027, 5, 31)),
        charge("BP", -1, cycle=BillingCycle.ONE_TIME, charge_type=ChargeType.SETUP),  # a refund
        charge("BP", -3, charge_type=ChargeType.USAGE),  # a usage credit
    ],
    ids=["prorated", "yearly-prorated", "setup", "usage"],
)
def test_legitimately_negative_charges_are_not_warned_of(legitimate):
    desired = _desired([legitimate], offers=[offer("BP"), offer("E3")])
    assert desired.invoices[0].lines[0].quantity < 0
    assert desired.notices == ()

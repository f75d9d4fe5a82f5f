"""The charges file: Sherweb payloads validated against the API contract."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.base.errors import InvalidInput, UserError
from reconciler.model.charges import BillingCycle, ChargeType
from reconciler.sherweb.charges import load_charges

CONTOSO = "3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11"


def charge(**overrides: object) -> dict[str, object]:
    value: dict[str, object] = {
        "productName": "Microsoft 365 Business Premium",
        "sku": "MS-365-BP-M",
        "chargeId": "6d1f3c52-0d8e-4b7a-9f59-0e2b8f6d9a10",
        "chargeName": "Microsoft 365 Business Premium - monthly",
        "chargeType": "Recurring",
        "billingCycleType": "Monthly",
        "periodFrom": "2026-12-01",
        "periodTo": "2026-12-31",
        "quantity": 12,
        "costPrice": 18.7,
        "costPriceProrated": 18.7,
        "currency": "USD",
        "isProratable": True,
    }
    value.update(overrides)
    return value


def bundle(*charges: dict[str, object], **customer: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": CONTOSO,
        "displayName": "Contoso Dental Group",
        "receivableCharges": {
            "periodFrom": "2026-12-01",
            "periodTo": "2026-12-31",
            "charges": list(charges),
        },
    }
    entry.update(customer)
    return {"date": "2026-12-01", "customers": [entry]}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "charges.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_valid_file_loads_with_exact_decimals(tmp_path: Path) -> None:
    subscriptions = {
        "items": [
            {
                "id": "0a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
                "productName": "Microsoft 365 E3",
                "description": "Microsoft 365 E3 annual",
                "sku": "MS-365-E3-A",
                "quantity": 5,
                "billingCycle": "yearly",
                "purchaseDate": "2026-03-14T15:02:11.1234567",
                "commitmentTerm": {"type": "Annual", "termEndDate": "2027-03-13"},
            }
        ]
    }
    path = write(tmp_path, bundle(charge(), subscriptions=subscriptions))
    loaded = load_charges(path)
    assert loaded.date.isoformat() == "2026-12-01"
    (customer,) = loaded.customers
    (only,) = customer.charges
    assert only.cost_price == Decimal("18.7")
    assert only.quantity == Decimal(12)
    assert only.charge_type is ChargeType.RECURRING
    assert only.billing_cycle is BillingCycle.MONTHLY
    assert customer.subscriptions[0].commitment_term == "Annual"
    assert customer.subscriptions[0].term_end_date.isoformat() == "2027-03-13"


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "charges.json"
    path.write_text('{"date": "2026-12-01",\n "customers": [,]}', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_charges(path)
    assert str(caught.value).startswith(f"{path}:2:")
    assert "invalid JSON" in str(caught.value)


def test_schema_error_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, bundle(charge(quantity="twelve")))
    with pytest.raises(InvalidInput) as caught:
        load_charges(path)
    assert "customers[0].receivableCharges.charges[0].quantity: 'twelve' is not a number" in str(
        caught.value
    )


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, bundle(charge(unitPrice=30)))
    with pytest.raises(InvalidInput) as caught:
        load_charges(path)
    assert "unitPrice" in str(caught.value)


def test_unknown_charge_type_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, bundle(charge(chargeType="Discount")))
    with pytest.raises(InvalidInput, match="chargeType"):
        load_charges(path)


def test_period_must_not_end_before_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path, bundle(charge(periodFrom="2026-12-31", periodTo="2026-12-01")))
    with pytest.raises(InvalidInput, match="periodTo 2026-12-01 is before periodFrom 2026-12-31"):
        load_charges(path)


def test_bad_date_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, bundle(charge(periodFrom="2026-13-01")))
    with pytest.raises(InvalidInput, match=r"charges\[0\]\.periodFrom: '2026-13-01' is not a date"):
        load_charges(path)


def test_duplicate_customer_is_refused(tmp_path: Path) -> None:
    data = bundle(charge())
    data["customers"] = data["customers"] * 2  # type: ignore[operator]
    with pytest.raises(InvalidInput, match="appears twice"):
        load_charges(write(tmp_path, data))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read the charges file"):
        load_charges(tmp_path / "absent.json")


def test_shipped_api_schema_matches_the_openapi_spec(reference: Path) -> None:
    from support.openapi_schemas import derive

    from reconciler.base.jsonschemas import load_schema

    spec = reference / "sherweb" / "ServiceProvider.OpenAPI.beta08.json"
    assert load_schema("sherweb-api")["$defs"] == derive(spec)

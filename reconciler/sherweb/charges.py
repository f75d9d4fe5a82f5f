"""The charges file: Sherweb API payloads for every customer, on one date.

``{"date": "YYYY-MM-DD", "customers": [{"id", "displayName",
"receivableCharges": <GET /billing/receivable-charges>,
"subscriptions": <GET /billing/subscriptions, optional>}]}``

The payloads are kept verbatim so that a file can be checked against the API
contract (``reconciler/schemas/sherweb-api.schema.json``, derived from
Sherweb's OpenAPI spec) and replayed exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.base.errors import Diagnostic, InvalidInput, Location, UserError, read_utf8
from reconciler.base.jsonschemas import schema_problems, validator
from reconciler.model.charges import (
    BillingCycle,
    Charge,
    ChargesBundle,
    ChargeType,
    CustomerCharges,
    Subscription,
)

# Diagnostics past this many add nothing a person reads.
MAX_REPORTED = 20


def load_charges(path: Path) -> ChargesBundle:
    """Read and validate a charges file; :class:`InvalidInput` names each problem."""
    try:
        text = read_utf8(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the charges file: {exc.strerror or exc}") from None
    try:
        # Decimal, not float: 0.1 + 0.2 must stay 0.3 on an invoice.
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [Diagnostic(Location(path, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}")],
            subject="charges file",
        ) from None
    return parse_charges(data, path)


def parse_charges(data: Any, source: Path) -> ChargesBundle:
    """Validate decoded charges data (numbers as Decimal) and build the model."""
    errors = schema_problems(validator("charges"), data)
    if errors:
        diagnostics = [Diagnostic(Location(source), str(e)) for e in errors[:MAX_REPORTED]]
        if len(errors) > MAX_REPORTED:
            diagnostics.append(
                Diagnostic(Location(source), f"... and {len(errors) - MAX_REPORTED} more")
            )
        raise InvalidInput(diagnostics, subject="charges file")
    problems: list[Diagnostic] = []
    bundle_date = _date(data["date"], "date", source, problems)
    customers = []
    seen: set[str] = set()
    for index, entry in enumerate(data["customers"]):
        where = f"customers[{index}]"
        if entry["id"].lower() in seen:
            problems.append(
                Diagnostic(Location(source), f"{where}: customer {entry['id']} appears twice")
            )
        seen.add(entry["id"].lower())
        customers.append(_customer(entry, where, source, problems))
    if problems or bundle_date is None:
        raise InvalidInput(problems[:MAX_REPORTED], subject="charges file")
    return ChargesBundle(date=bundle_date, customers=tuple(customers))


def _date(value: str, where: str, source: Path, problems: list[Diagnostic]) -> dt.date | None:
    # The API documents plain dates; accept a datetime too, keeping its date.
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        problems.append(
            Diagnostic(Location(source), f"{where}: {value!r} is not a date (YYYY-MM-DD)")
        )
        return None


def _customer(
    entry: dict[str, Any], where: str, source: Path, problems: list[Diagnostic]
) -> CustomerCharges:
    receivable = entry["receivableCharges"]
    period_from = _date(
        receivable["periodFrom"], f"{where}.receivableCharges.periodFrom", source, problems
    )
    period_to = _date(
        receivable["periodTo"], f"{where}.receivableCharges.periodTo", source, problems
    )
    charges = []
    for index, raw in enumerate(receivable["charges"]):
        here = f"{where}.receivableCharges.charges[{index}]"
        start = _date(raw["periodFrom"], f"{here}.periodFrom", source, problems)
        end = _date(raw["periodTo"], f"{here}.periodTo", source, problems)
        if start is None or end is None:
            continue
        if end < start:
            problems.append(
                Diagnostic(Location(source), f"{here}: periodTo {end} is before periodFrom {start}")
            )
            continue
        cycle = raw.get("billingCycleType")
        charges.append(
            Charge(
                product_name=raw["productName"],
                sku=raw["sku"],
                charge_name=raw["chargeName"],
                charge_type=ChargeType(raw["chargeType"]),
                period_from=start,
                period_to=end,
                quantity=Decimal(raw["quantity"]),
                cost_price=Decimal(raw["costPrice"]),
                cost_price_prorated=Decimal(raw["costPriceProrated"]),
                currency=raw["currency"],
                is_proratable=raw["isProratable"],
                charge_id=raw.get("chargeId"),
                billing_cycle=BillingCycle(cycle) if cycle else None,
            )
        )
    subscriptions = tuple(
        _subscription(raw, f"{where}.subscriptions.items[{index}]", source, problems)
        for index, raw in enumerate((entry.get("subscriptions") or {}).get("items") or [])
    )
    return CustomerCharges(
        customer_id=entry["id"],
        display_name=entry["displayName"],
        period_from=period_from or dt.date.min,
        period_to=period_to or dt.date.min,
        charges=tuple(charges),
        subscriptions=subscriptions,
    )


def _subscription(
    raw: dict[str, Any], where: str, source: Path, problems: list[Diagnostic]
) -> Subscription:
    term = raw.get("commitmentTerm") or {}
    end = term.get("termEndDate")
    return Subscription(
        id=raw["id"],
        product_name=raw["productName"],
        sku=raw["sku"],
        quantity=int(raw["quantity"]),
        billing_cycle=raw["billingCycle"],
        commitment_term=term.get("type"),
        term_end_date=_date(end, f"{where}.commitmentTerm.termEndDate", source, problems)
        if end
        else None,
    )

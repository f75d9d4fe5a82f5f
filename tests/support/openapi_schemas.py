"""Derive JSON Schema (draft 2020-12) definitions from Sherweb's OpenAPI 3.0 spec.

The package ships the derived definitions (``reconciler/schemas/sherweb-api.schema.json``);
a test checks that they still match what this derivation gives from the spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The components the charges file and the API client use.
WANTED = (
    "BillingCycleType",
    "Charge",
    "ChargeType",
    "CommitmentTermType",
    "CommittedMinimalQuantity",
    "Currency",
    "Customer",
    "Customers",
    "ReceivableCharges",
    "Subscription",
    "SubscriptionCommitmentTerm",
    "SubscriptionFees",
    "SubscriptionRenewalConfiguration",
    "Subscriptions",
)

# Annotations that JSON Schema does not define or that only document.
DROPPED = {"readOnly", "example"}


def convert(node: Any) -> Any:
    """One OpenAPI 3.0 schema node as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or key == "nullable":
            continue
        if key == "$ref":
            out["$ref"] = value.replace("#/components/schemas/", "#/$defs/")
        elif key == "format" and value in {"double", "int32", "int64", "float"}:
            continue  # numeric width, not a JSON Schema format
        else:
            out[key] = convert(value)
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def derive(spec_path: Path) -> dict[str, Any]:
    """The ``$defs`` the package ships, derived from ``spec_path``."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    return {name: convert(schemas[name]) for name in WANTED}

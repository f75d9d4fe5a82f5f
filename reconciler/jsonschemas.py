"""The JSON Schemas that ship with the package, and validators built from them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from reconciler.resources import schemas_dir


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``reconciler/schemas/NAME.schema.json``."""
    path = schemas_dir() / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(schemas_dir().glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    # Nothing is ever fetched: every $ref resolves among the shipped schemas.
    return Registry().with_resources(resources)


def validator(name: str, *, definition: str | None = None) -> jsonschema.Draft202012Validator:
    """A validator for schema ``name`` (or one of its ``$defs``), refs resolved locally."""
    schema = load_schema(name)
    if definition is not None:
        schema = {"$ref": f"{schema['$id']}#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def error_path(error: jsonschema.ValidationError) -> str:
    """``customers[2].receivableCharges.charges[0].quantity`` for an error."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"

"""The API's OpenAPI 3.1 document, and validators for the bodies it describes.

The document is the contract: the server validates request bodies against
its schemas (so what the document promises to refuse is refused), and a
schemathesis test checks the answers against it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).resolve().parent / "openapi.yaml"
_URI = "urn:reconciler:api:openapi"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as data."""
    document: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return document


@cache
def openapi_json() -> bytes:
    """The OpenAPI document as the server serves it."""
    return json.dumps(openapi_document(), indent=2).encode("utf-8")


@cache
def body_validator(schema: str) -> Draft202012Validator:
    """A validator for ``components.schemas.<schema>`` (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
    resource = Resource.from_contents(openapi_document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_URI, resource)
    return Draft202012Validator({"$ref": f"{_URI}#/components/schemas/{schema}"}, registry=registry)

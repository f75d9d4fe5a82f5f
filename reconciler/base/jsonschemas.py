"""The JSON Schemas that ship with the package, validators built from them, and what
their failures mean in words a person reads (never a raw regex or jsonschema's wording)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from reconciler.base.resources import schemas_dir


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


# What each pattern of the shipped schemas asks for, said for a person (a
# test checks that every pattern in reconciler/schemas has its phrase here).
PATTERN_PHRASES = {
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": 'a time of day HH:MM from 00:00 to 23:59, in quotes ("05:00")',
    "^[0-2][0-9]:[0-5][0-9]$": "a time of day HH:MM",
    "^https?://": "an http:// or https:// URL",
    "^[A-Za-z_][A-Za-z0-9_]*$": "an environment variable name (letters, digits and _, not "
    "starting with a digit)",
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$": "a UUID "
    "(such as 3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11)",
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$": "a UUID in lower case",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date YYYY-MM-DD",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$": "a date "
    "and time with its UTC offset (YYYY-MM-DDTHH:MM:SS+HH:MM)",
    "^[0-9a-f]{64}$": "a sha256 digest (64 lower-case hexadecimal digits)",
    "^-?[0-9]+(\\.[0-9]+)?$": 'a decimal number written as text ("12.50")',
    "^[0-9]+\\.[0-9]+$": "a version number such as 13.0",
    "^[a-z]+(-[a-z]+)*$": "a code of lower-case words joined by hyphens (unmapped-sku)",
}
# Patterns that only fix how a text starts (``^item:``) say so by themselves.
_PREFIX_PATTERN = re.compile(r"\^([a-z-]+:)")

FORMAT_PHRASES = {
    "date": "a date YYYY-MM-DD",
    "date-time": "a date and time (YYYY-MM-DDTHH:MM:SS with its UTC offset)",
    "uuid": "a UUID",
    "uri": "a URI",
}

# Where a value is in a document: keys and list positions from the top.
PathKey = tuple[str | int, ...]
Written = Callable[[PathKey], str | None]


@dataclass(frozen=True)
class SchemaProblem:
    """One way a document breaks its schema, in words a person reads.

    ``path`` is the value the message is about; ``key``, when set, an
    unknown key of that object (the message points at where it is written).
    """

    path: PathKey
    message: str
    key: str | None = None

    @property
    def at(self) -> PathKey:
        """Where to point: the unknown key, else the value."""
        return (*self.path, self.key) if self.key is not None else self.path

    def __str__(self) -> str:
        return f"{dotted_path(self.path)}: {self.message}"


def dotted_path(path: PathKey) -> str:
    """``customers[2].receivableCharges.charges[0].quantity`` for a path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def error_path(error: jsonschema.ValidationError) -> str:
    """``customers[2].receivableCharges.charges[0].quantity`` for an error."""
    return dotted_path(tuple(error.absolute_path))


def schema_problems(
    check: jsonschema.Draft202012Validator, document: Any, *, written: Written | None = None
) -> list[SchemaProblem]:
    """Every way ``document`` breaks the schema of ``check``, in document order.

    ``written`` gives the text a scalar was written as, when the document
    comes from a file (YAML reads ``6:30`` as a number: the message shows both).
    """
    found: dict[tuple[PathKey, str, str | None], SchemaProblem] = {}
    for error in check.iter_errors(document):
        for problem in _explain(error, written):
            found.setdefault((problem.path, problem.message, problem.key), problem)
    return sorted(found.values(), key=lambda p: _path_order(p.at))


def _path_order(path: PathKey) -> tuple[tuple[bool, int | str], ...]:
    return tuple((isinstance(part, str), part) for part in path)


def _explain(error: jsonschema.ValidationError, written: Written | None) -> list[SchemaProblem]:
    path = tuple(error.absolute_path)
    schema, value, keyword = error.schema, error.instance, error.validator
    shown = _show(value, path, written)
    if keyword == "additionalProperties" and isinstance(value, dict):
        known = schema.get("properties", {})
        allowed = ", ".join(sorted(known))
        hint = f" (allowed: {allowed})" if allowed else ""
        return [
            SchemaProblem(path, f"unknown key {key!r}{hint}", key=str(key))
            for key in value
            if key not in known
        ]
    if keyword == "required" and isinstance(value, dict):
        return [
            SchemaProblem(path, f"required key {key!r} is missing")
            for key in error.validator_value
            if key not in value
        ]
    if keyword in ("oneOf", "anyOf") and error.context:
        return _explain_alternatives(error, path, shown, written)
    if keyword == "enum":
        return [SchemaProblem(path, _is_not(value, shown, expected(schema)))]
    if keyword == "minLength":
        size = error.validator_value
        if size == 1:
            return [SchemaProblem(path, "must not be empty")]
        return [SchemaProblem(path, f"{shown} is shorter than {size} characters")]
    if keyword == "minItems":
        size = error.validator_value
        return [SchemaProblem(path, f"must hold at least {size} entr{'y' if size == 1 else 'ies'}")]
    if keyword == "uniqueItems" and isinstance(value, list):
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        return [SchemaProblem(path, f"lists {_show(twice, (), None)} more than once")]
    if keyword == "format":
        wanted = FORMAT_PHRASES.get(error.validator_value, f"valid {error.validator_value}")
        return [SchemaProblem(path, _is_not(value, shown, wanted))]
    if keyword == "const":
        return [SchemaProblem(path, _is_not(value, shown, _plain(error.validator_value)))]
    if keyword in _VALUE_KEYWORDS:
        return [SchemaProblem(path, _is_not(value, shown, expected(schema)))]
    return [SchemaProblem(path, error.message)]


# Keywords whose failure is said as "VALUE is not WHAT THE SCHEMA WANTS".
_VALUE_KEYWORDS = frozenset(
    {"type", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)


def _explain_alternatives(
    error: jsonschema.ValidationError, path: PathKey, shown: str, written: Written | None
) -> list[SchemaProblem]:
    """``oneOf``/``anyOf``: the alternatives a value could be, or why an object is not
    the one kind it is meant to be (the alternative its ``type`` and ``const`` keys fit)."""
    alternatives = error.schema[error.validator]
    by_alternative: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or ():
        by_alternative.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if isinstance(error.instance, dict):
        fitting = [
            errors
            for _, errors in sorted(by_alternative.items())
            if not any(_rules_out(sub) for sub in errors)
        ]
        if fitting:
            return [p for sub in min(fitting, key=len) for p in _explain(sub, written)]
    wanted = []
    for index, alternative in enumerate(alternatives):
        errors = by_alternative.get(index, [])
        if "$ref" in alternative and errors and not errors[0].relative_path:
            alternative = errors[0].schema  # the referenced schema, resolved
        wanted.append(expected(alternative, among=True))
    return [SchemaProblem(path, _is_not(error.instance, shown, " or ".join(wanted)))]


def _rules_out(error: jsonschema.ValidationError) -> bool:
    """Whether an alternative's error says the value is another kind altogether: not its
    type, or another value of a discriminating key (``action: create-invoice``)."""
    depth = len(error.relative_path)
    return (error.validator == "type" and depth == 0) or (error.validator == "const" and depth == 1)


def expected(schema: dict[str, Any], *, among: bool = False) -> str:
    """What a schema asks for, as a noun phrase ("a whole number from 1 to 28").

    ``among``: the schema is one of alternatives, and an object is told from
    the others by its constant keys ("a mapping with action: create-invoice").
    """
    if "enum" in schema:
        return "one of: " + ", ".join(_plain(v) for v in schema["enum"])
    if "const" in schema:
        return _plain(schema["const"])
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return " or ".join(expected(alternative, among=True) for alternative in schema[keyword])
    types = schema.get("type", "string" if "pattern" in schema else [])
    if isinstance(types, str):
        types = [types]
    if not types:
        return "a valid value"
    return " or ".join(_type_phrase(kind, schema, among) for kind in types)


def _type_phrase(kind: str, schema: dict[str, Any], among: bool) -> str:
    if kind == "string":
        pattern = schema.get("pattern")
        if pattern is not None:
            prefix = _PREFIX_PATTERN.fullmatch(pattern)
            return PATTERN_PHRASES.get(pattern) or (
                f"text starting with {prefix.group(1)}" if prefix else f"text matching {pattern}"
            )
        if "format" in schema:
            return FORMAT_PHRASES.get(schema["format"], f"valid {schema['format']}")
        return "text"
    if kind in ("integer", "number"):
        return ("a whole number" if kind == "integer" else "a number") + _bounds(schema)
    if kind == "object" and among:
        keys = [
            f"{k}: {_plain(v['const'])}"
            for k, v in schema.get("properties", {}).items()
            if "const" in v
        ]
        if keys:
            return f"a mapping with {', '.join(keys)}"
    return {
        "object": "a mapping (key: value)",
        "boolean": "true or false",
        "array": "a list",
        "null": "null",
    }.get(kind, kind)


def _bounds(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    parts = []
    if low is not None:
        parts.append(f"{low} or more")
    if "exclusiveMinimum" in schema:
        parts.append(f"greater than {schema['exclusiveMinimum']}")
    if high is not None:
        parts.append(f"at most {high}")
    if "exclusiveMaximum" in schema:
        parts.append(f"less than {schema['exclusiveMaximum']}")
    return f" ({' and '.join(parts)})" if parts else ""


def _is_not(value: Any, shown: str, wanted: str) -> str:
    if value is None:
        return f"is empty: expected {wanted}"
    if isinstance(value, dict | list):
        return f"expected {wanted}, found {shown}"
    return f"{shown} is not {wanted}"


def _plain(value: Any) -> str:
    """A schema's value as a person writes it in YAML (``last``, ``true``, ``3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _show(value: Any, path: PathKey, written: Written | None) -> str:
    """A document's value as the message shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    text = written(path) if written is not None else None
    if text is not None and text != str(value):
        # YAML 1.1 reads 6:30 as 390 (base 60) and 1_000 as 1000.
        return f"{text} (a number to YAML, {value})"
    return str(value)

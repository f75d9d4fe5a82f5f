"""Schema failures said for a person: every constraint of every shipped schema."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml
from support.paths import DATA, REPO

from reconciler.base.jsonschemas import (
    FORMAT_PHRASES,
    PATTERN_PHRASES,
    load_schema,
    schema_problems,
    validator,
)
from reconciler.base.resources import data_dir, schemas_dir
from reconciler.config.load import load_config
from reconciler.plan.build import build_plan
from reconciler.plan.requests import render_plan_document
from reconciler.qbstate.files import qbxml_files
from reconciler.sherweb.charges import load_charges

NORTHWIND_DECEMBER = DATA / "northwind-december.xml"

# jsonschema's own wording, and what a raw regex looks like: never shown to a person.
JSONSCHEMA_WORDING = (
    "is not of type",
    "does not match",
    "is a required property",
    "is not valid under any of the given schemas",
    "was expected",
    "Additional properties",
    "is too short",
    "is too long",
    "is less than",
    "is greater than",
    "non-unique",
    "is valid under each of",
    "is not one of [",
    "should be non-empty",
    "is not a '",
)
RAW_REGEX = re.compile(r"\^[\[(]|\]\$|\{\d+\}")


def problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [str(p) for p in schema_problems(jsonschema.Draft202012Validator(schema), instance)]


def _walk(schema: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


SHIPPED = sorted(path.name.removesuffix(".schema.json") for path in schemas_dir().glob("*.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_pattern_and_format_of_the_shipped_schemas_has_words(name: str) -> None:
    for keyword, value in _walk(load_schema(name)):
        if keyword == "pattern" and not re.fullmatch(r"\^[a-z-]+:", value):
            assert value in PATTERN_PHRASES, value
        if keyword == "format":
            assert value in FORMAT_PHRASES, value


@pytest.mark.parametrize(
    ("schema", "instance", "message"),
    [
        (
            {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 28}, {"const": "last"}]},
            31,
            "(top level): 31 is not a whole number from 1 to 28 or last",
        ),
        (
            {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
            "25:00",
            "(top level): '25:00' is not a time of day HH:MM from 00:00 to 23:59, in quotes "
            '("05:00")',
        ),
        (
            {"type": "object", "additionalProperties": False, "properties": {"a": {}, "b": {}}},
            {"a": 1, "x": 2, "y": 3},
            "(top level): unknown key 'x' (allowed: a, b)\n"
            "(top level): unknown key 'y' (allowed: a, b)",
        ),
        (
            {"type": "object", "required": ["a", "b"]},
            {},
            "(top level): required key 'a' is missing\n(top level): required key 'b' is missing",
        ),
        (
            {"enum": ["advance", "arrears"]},
            "monthly",
            "(top level): 'monthly' is not one of: advance, arrears",
        ),
        (
            {"enum": ["advance", "arrears"]},
            ["advance"],
            "(top level): expected one of: advance, arrears, found a list",
        ),
        ({"type": "string", "minLength": 1}, "", "(top level): must not be empty"),
        (
            {"type": "string", "minLength": 1},
            None,
            "(top level): is empty: expected text",
        ),
        ({"type": "boolean"}, "maybe", "(top level): 'maybe' is not true or false"),
        ({"type": "object"}, [], "(top level): expected a mapping (key: value), found a list"),
        ({"type": "array", "uniqueItems": True}, [1, 2, 1], "(top level): lists 1 more than once"),
        ({"type": "array", "minItems": 1}, [], "(top level): must hold at least 1 entry"),
        (
            {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            0,
            "(top level): 0 is not a number (greater than 0 and at most 1)",
        ),
        (
            {"type": "integer", "minimum": 0},
            -1,
            "(top level): -1 is not a whole number (0 or more)",
        ),
        ({"const": 3}, 2, "(top level): 2 is not 3"),
        (
            {"type": "string", "pattern": "^item:"},
            "x",
            "(top level): 'x' is not text starting with item:",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
            },
            {"a": [1, "two"]},
            "a[1]: 'two' is not a whole number",
        ),
    ],
)
def test_each_kind_of_constraint_is_said_in_words(
    schema: dict, instance: Any, message: str
) -> None:
    assert "\n".join(problems(schema, instance)) == message


CHANGE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["action", "cost"],
            "properties": {"action": {"const": "update-item-cost"}, "cost": {"type": "string"}},
        },
        {
            "type": "object",
            "required": ["action", "mark"],
            "properties": {
                "action": {"const": "create-invoice"},
                "mark": {"enum": ["email", "print", "none"]},
            },
        },
    ]
}


def test_an_object_of_one_kind_is_told_what_is_wrong_with_it_as_that_kind() -> None:
    assert problems(CHANGE, {"action": "create-invoice", "mark": "fax"}) == [
        "mark: 'fax' is not one of: email, print, none"
    ]
    assert problems(CHANGE, {"action": "delete"}) == [
        "(top level): expected a mapping with action: update-item-cost or a mapping with "
        "action: create-invoice, found a mapping"
    ]


# ----------------------------------------------- every leaf of every real document


def _trimmed(value: Any) -> Any:
    """The document with every list cut to its first entry: the same shapes, fewer leaves."""
    if isinstance(value, dict):
        return {key: _trimmed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trimmed(item) for item in value[:1]]
    return value


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _wrong_values(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return ["yes", None]
    if isinstance(value, int | float):
        return ["text", -(10**9), 10**9, 2.5]
    if isinstance(value, str):
        return [12345, "", "\x00 not it", None]
    if isinstance(value, dict):
        return [
            [],
            {**value, "zz_unknown": 1},
            *({k: v for k, v in value.items() if k != key} for key in value),
        ]
    if isinstance(value, list):
        return [{}, [], value + value[:1], [*value, "stray"]]
    return ["text"]


def _mutations(document: Any) -> Iterator[Any]:
    for path in _paths(document):
        parent, current = None, document
        for part in path:
            parent, current = current, current[part]
        for wrong in _wrong_values(current):
            if parent is None:
                yield wrong
                continue
            mutated = copy.deepcopy(document)
            target = mutated
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = wrong
            yield mutated


def _documents() -> Iterator[tuple[str, Any]]:
    example = REPO / "config"
    for name in ("billing", "offers", "organizations"):
        text = (example / f"{name}.yaml").read_text(encoding="utf-8")
        yield name, yaml.safe_load(text)
    charges_path = data_dir() / "charges-example.json"
    yield "charges", json.loads(charges_path.read_text(encoding="utf-8"))
    config = load_config(example)
    plan = build_plan(config, load_charges(charges_path), qbxml_files([NORTHWIND_DECEMBER]).state())
    yield "plan", json.loads(json.dumps(render_plan_document(plan)))


@pytest.mark.parametrize(
    ("name", "document"), list(_documents()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_no_broken_value_of_a_real_document_gets_jsonschemas_wording(
    name: str, document: Any
) -> None:
    check = validator(name)
    seen = 0
    for mutated in _mutations(_trimmed(document)):
        for problem in schema_problems(check, mutated):
            seen += 1
            text = str(problem)
            assert not any(words in text for words in JSONSCHEMA_WORDING), text
            assert not RAW_REGEX.search(text), text
    assert seen > 10  # the mutations broke the document in many ways

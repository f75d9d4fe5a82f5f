"""YAML loading that remembers positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.yamlsource import YamlSyntaxError, parse_yaml

FILE = Path("offers.yaml")


def test_positions_of_values_and_keys() -> None:
    document = parse_yaml("offers:\n  - sku: A\n    item: B\n", FILE)
    assert document.data == {"offers": [{"sku": "A", "item": "B"}]}
    assert (
        document.where(("offers", 0, "item")).line,
        document.where(("offers", 0, "item")).column,
    ) == (3, 11)
    assert document.where(("offers", 0, "item"), key=True).column == 5


def test_unknown_path_falls_back_to_the_nearest_parent() -> None:
    document = parse_yaml("offers:\n  - sku: A\n", FILE)
    assert document.where(("offers", 0, "missing")).line == 2


def test_empty_document() -> None:
    document = parse_yaml("# only a comment\n", FILE)
    assert document.data is None
    assert document.where(("anything",)).line == 1


def test_syntax_error_position() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml("a: [1, 2\nb: 3\n", FILE)
    location = caught.value.diagnostic.location
    assert location is not None and location.file == FILE and location.line == 2


def test_duplicate_keys_are_refused_even_when_nested() -> None:
    with pytest.raises(YamlSyntaxError, match="duplicate key 'x' \\(first defined at line 2\\)"):
        parse_yaml("a:\n  x: 1\n  x: 2\n", FILE)


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(YamlSyntaxError):
        parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n", FILE)

"""YAML loading that remembers positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.yamlsource import YamlSyntaxError, parse_yaml

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
    (diagnostic,) = caught.value.diagnostics
    location = diagnostic.location
    assert location is not None and location.file == FILE and location.line == 2


def test_duplicate_keys_are_refused_even_when_nested() -> None:
    with pytest.raises(YamlSyntaxError, match="duplicate key 'x' \\(first defined at line 2\\)"):
        parse_yaml("a:\n  x: 1\n  x: 2\n", FILE)


def test_every_duplicate_key_is_reported_with_the_document_as_pyyaml_reads_it() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml("a:\n  x: 1\n  x: 2\nb: 1\nb: 2\n", FILE)
    assert [str(d) for d in caught.value.diagnostics] == [
        "offers.yaml:3:3: duplicate key 'x' (first defined at line 2)",
        "offers.yaml:5:1: duplicate key 'b' (first defined at line 4)",
    ]
    document = caught.value.document
    assert document is not None and document.data == {"a": {"x": 2}, "b": 2}
    assert document.where(("b",)).line == 5  # where the value that counts is


def test_a_control_character_is_placed_by_line_and_column() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml("a: 1\nb: x\x00\n", FILE)
    assert str(caught.value) == (
        "offers.yaml:2:5: YAML syntax error: character U+0000 is not allowed (a control character)"
    )


def test_scalars_keep_the_text_they_were_written_as() -> None:
    document = parse_yaml("t: 6:30\nu: '05:00'\n", FILE)
    assert document.data == {"t": 390, "u": "05:00"}
    assert document.written[("t",)] == "6:30"


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(YamlSyntaxError):
        parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n", FILE)

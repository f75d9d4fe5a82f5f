"""YAML documents that remember where every value came from.

Validation reports ``FILE:LINE:COL``, so the loader keeps the position of each
node, addressed by its path from the root (``("offers", 2, "item")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Diagnostic, Location

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the position of every node in it."""

    file: Path
    data: Any
    positions: dict[PathKey, Location] = field(repr=False)
    key_positions: dict[PathKey, Location] = field(repr=False)

    def where(self, path: PathKey, *, key: bool = False) -> Location:
        """The closest known position for ``path`` (its key with ``key=True``)."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), Location(self.file, 1, 1))


class YamlSyntaxError(Exception):
    """The file is not valid YAML (or holds a duplicate key)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _location(file: Path, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(file)
    return Location(file, mark.line + 1, mark.column + 1)


def load_yaml(file: Path) -> YamlDocument:
    """Parse one YAML file (UTF-8) with safe loading and position tracking."""
    text = file.read_text(encoding="utf-8")
    return parse_yaml(text, file)


def parse_yaml(text: str, file: Path) -> YamlDocument:
    """Parse YAML text that came from ``file``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file, None, {(): Location(file, 1, 1)}, {})
        positions: dict[PathKey, Location] = {}
        key_positions: dict[PathKey, Location] = {}
        _index(file, node, (), positions, key_positions)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(
            Diagnostic(_location(file, mark), f"YAML syntax error: {problem}")
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Diagnostic(Location(file), f"YAML syntax error: {exc}")) from None
    finally:
        loader.dispose()
    return YamlDocument(file, data, positions, key_positions)


def _index(
    file: Path,
    node: yaml.Node,
    path: PathKey,
    positions: dict[PathKey, Location],
    key_positions: dict[PathKey, Location],
) -> None:
    positions[path] = _location(file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            here = _location(file, key_node.start_mark)
            if key in seen:
                # PyYAML keeps the last value silently; a reviewer would miss the first.
                raise YamlSyntaxError(
                    Diagnostic(
                        here, f"duplicate key {key!r} (first defined at line {seen[key].line})"
                    )
                )
            seen[key] = here
            key_positions[(*path, key)] = here
            _index(file, value_node, (*path, key), positions, key_positions)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(file, item, (*path, index), positions, key_positions)

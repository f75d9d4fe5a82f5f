"""YAML documents that remember where every value came from.

Validation reports ``FILE:LINE:COL``, so the loader keeps the position of each
node, addressed by its path from the root (``("offers", 2, "item")``), and
the text each scalar was written as (YAML reads ``6:30`` as the number 390).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.base.errors import Diagnostic, Location, read_utf8, text_location
from reconciler.base.jsonschemas import PathKey


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the position of every node in it."""

    file: Path
    data: Any
    positions: dict[PathKey, Location] = field(repr=False)
    key_positions: dict[PathKey, Location] = field(repr=False)
    # The text of each scalar as written in the file.
    written: dict[PathKey, str] = field(default_factory=dict, repr=False)

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
    """The text is not valid YAML, or holds duplicate keys.

    With duplicate keys only, ``document`` holds the file as PyYAML reads it
    (the last value of each key wins), for a caller that reports the
    duplicates and goes on checking the rest; every other caller refuses it.
    """

    def __init__(self, diagnostics: list[Diagnostic], document: YamlDocument | None = None) -> None:
        super().__init__("\n".join(map(str, diagnostics)))
        self.diagnostics = tuple(diagnostics)
        self.document = document


def _location(file: Path, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(file)
    return Location(file, mark.line + 1, mark.column + 1)


def load_yaml(file: Path) -> YamlDocument:
    """Parse one YAML file (UTF-8) with safe loading and position tracking.

    Raises :class:`YamlSyntaxError`, :class:`~reconciler.base.errors.NotUtf8Text` or ``OSError``.
    """
    return parse_yaml(read_utf8(file), file)


def parse_yaml(text: str, file: Path) -> YamlDocument:
    """Parse YAML text that came from ``file``."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise _control_character(file, text, exc) from None
    index = _Index(file)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file, None, {(): Location(file, 1, 1)}, {})
        index.add(node, ())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(
            [Diagnostic(_location(file, mark), f"YAML syntax error: {problem}")]
        ) from None
    except yaml.reader.ReaderError as exc:
        raise _control_character(file, text, exc) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError([Diagnostic(Location(file), f"YAML syntax error: {exc}")]) from None
    finally:
        loader.dispose()
    document = YamlDocument(file, data, index.positions, index.key_positions, index.written)
    if index.duplicates:
        raise YamlSyntaxError(index.duplicates, document)
    return document


def _control_character(file: Path, text: str, exc: yaml.reader.ReaderError) -> YamlSyntaxError:
    # PyYAML says where as an offset in the text: say it as a line and column.
    return YamlSyntaxError(
        [
            Diagnostic(
                text_location(file, text, exc.position),
                f"YAML syntax error: character U+{exc.character:04X} is not allowed "
                "(a control character)",
            )
        ]
    )


class _Index:
    """The positions and written text of every node, and the duplicate keys met."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.positions: dict[PathKey, Location] = {}
        self.key_positions: dict[PathKey, Location] = {}
        self.written: dict[PathKey, str] = {}
        self.duplicates: list[Diagnostic] = []

    def add(self, node: yaml.Node, path: PathKey) -> None:
        self.positions[path] = _location(self.file, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            self.written[path] = node.value
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, Location] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                here = _location(self.file, key_node.start_mark)
                if key in seen:
                    # PyYAML keeps the last value silently; a reviewer would miss the first.
                    self.duplicates.append(
                        Diagnostic(
                            here, f"duplicate key {key!r} (first defined at line {seen[key].line})"
                        )
                    )
                seen.setdefault(key, here)
                self.key_positions[(*path, key)] = here
                self.add(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                self.add(item, (*path, position))

"""Plan files: the plan document as UTF-8 JSON, keys sorted (stable diffs)."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.errors import Diagnostic, InvalidInput, Location, UserError
from reconciler.jsonschemas import error_path, validator
from reconciler.plan.document import Document
from reconciler.plan.model import FORMAT_VERSION
from reconciler.sherweb.files import write_text_atomically

# Past this many, more schema errors tell a person nothing new.
MAX_REPORTED = 10


def dumps_plan(document: Document) -> str:
    """The document as stable JSON text: sorted keys, two-space indent, UTF-8."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save_plan(path: Path, document: Document) -> None:
    """Write a plan file, the whole file or nothing."""
    try:
        write_text_atomically(path, dumps_plan(document))
    except OSError as exc:
        raise UserError(f"{path}: cannot write the plan: {exc.strerror or exc}") from None


def load_plan(path: Path) -> Document:
    """Read and check a plan file; a clear error names what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the plan: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [Diagnostic(Location(path, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}")],
            subject="plan file",
        ) from None
    version = newer_format(document)
    if version is not None:
        raise UserError(
            f"{path}: plan format {version} was written by a newer reconciler "
            f"(this one reads format {FORMAT_VERSION})",
            hint="Upgrade reconciler, or plan again with this version.",
        )
    problems = schema_problems(document)
    if problems:
        raise InvalidInput(
            [Diagnostic(Location(path), problem) for problem in problems],
            subject="plan file",
        )
    return document


def newer_format(document: object) -> int | None:
    """The plan's format version when a newer reconciler wrote it (this one cannot read it)."""
    version = document.get("format_version") if isinstance(document, dict) else None
    return version if isinstance(version, int) and version > FORMAT_VERSION else None


def schema_problems(document: object) -> list[str]:
    """Where a plan document breaks its JSON Schema (the first few), as ``path: message``."""
    errors = sorted(
        validator("plan").iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
    )
    return [f"{error_path(e)}: {e.message}" for e in errors[:MAX_REPORTED]]

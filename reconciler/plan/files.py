"""Plan files: the plan document as UTF-8 JSON, keys sorted (stable diffs).

Each written document carries a ``digest``: the sha256 of the canonical JSON
of everything else in it (keys sorted, no whitespace, UTF-8). A plan file
edited after ``reconcile plan`` wrote it, by hand or by a tool that rewrites
JSON differently, is refused on reading: what was reviewed is what is
applied. The digest tells an accident from the plan; it is not a signature
(``apply`` checks the requests themselves against QuickBooks and the
configuration, whoever wrote the file).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reconciler.errors import Diagnostic, InvalidInput, Location, UserError, read_utf8
from reconciler.jsonschemas import schema_problems as described_problems
from reconciler.jsonschemas import validator
from reconciler.plan.document import Document
from reconciler.plan.model import FORMAT_VERSION
from reconciler.sherweb.files import write_text_atomically

# Past this many, more schema errors tell a person nothing new.
MAX_REPORTED = 10

DIGEST_FIELD = "digest"


def plan_digest(document: Document) -> str:
    """The sha256 of the canonical JSON of the document without its digest."""
    body = {key: value for key, value in document.items() if key != DIGEST_FIELD}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_digest(document: Document) -> Document:
    """The document with its digest (what a plan file and a plan sent to a server hold)."""
    return {**document, DIGEST_FIELD: plan_digest(document)}


def dumps_plan(document: Document) -> str:
    """The document and its digest as stable JSON text: sorted keys, two-space indent, UTF-8."""
    return json.dumps(with_digest(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save_plan(path: Path, document: Document) -> None:
    """Write a plan file, the whole file or nothing."""
    try:
        write_text_atomically(path, dumps_plan(document))
    except OSError as exc:
        raise UserError(f"{path}: cannot write the plan: {exc.strerror or exc}") from None


def load_plan(path: Path) -> Document:
    """Read and check a plan file; a clear error names what is wrong with it."""
    try:
        text = read_utf8(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [Diagnostic(Location(path, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}")],
            subject="plan file",
        ) from None
    return check_plan_document(document, path)


def check_plan_document(document: Any, source: Path | str) -> Document:
    """A plan document read from ``source`` (a file, or a name for what a client sent), checked.

    Refuses another format version, a document whose digest does not match
    (modified after ``reconcile plan`` wrote it) and one that breaks the plan
    schema; each with a clear error naming ``source``.
    """
    name = str(source)
    version = newer_format(document)
    if version is not None:
        raise UserError(
            f"{name}: plan format {version} was written by a newer reconciler "
            f"(this one reads format {FORMAT_VERSION})",
            hint="Upgrade reconciler, or plan again with this version.",
        )
    version = older_format(document)
    if version is not None:
        raise UserError(
            f"{name}: plan format {version} was written by an older reconciler "
            f"(this one reads format {FORMAT_VERSION})",
            hint="Run `reconcile plan` again with this version.",
        )
    if modified(document):
        raise UserError(
            f"{name} was modified after `reconcile plan` wrote it: plan again",
            hint="A plan is applied exactly as it was reviewed; run `reconcile plan --out "
            "FILE` again rather than editing the file.",
        )
    problems = schema_problems(document)
    if problems:
        raise InvalidInput(
            [Diagnostic(Location(Path(source)), problem) for problem in problems],
            subject="plan file",
        )
    return document


def newer_format(document: object) -> int | None:
    """The plan's format version when a newer reconciler wrote it (this one cannot read it)."""
    version = document.get("format_version") if isinstance(document, dict) else None
    return version if isinstance(version, int) and version > FORMAT_VERSION else None


def schema_problems(document: object) -> list[str]:
    """Where a plan document breaks its JSON Schema (the first few), as ``path: message``."""
    return [str(problem) for problem in described_problems(validator("plan"), document)][
        :MAX_REPORTED
    ]


def older_format(document: object) -> int | None:
    """The plan's format version when an older reconciler wrote it (plan again)."""
    version = document.get("format_version") if isinstance(document, dict) else None
    return version if isinstance(version, int) and version < FORMAT_VERSION else None


def modified(document: object) -> bool:
    """Whether the document's digest says it changed after it was written."""
    digest = document.get(DIGEST_FIELD) if isinstance(document, dict) else None
    return isinstance(digest, str) and digest != plan_digest(document)  # type: ignore[arg-type]

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
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from reconciler.base.errors import Diagnostic, InvalidInput, Location, UserError, read_utf8
from reconciler.base.files import write_text_atomically
from reconciler.base.jsonschemas import schema_problems as described_problems
from reconciler.base.jsonschemas import validator
from reconciler.plan.document import Document
from reconciler.plan.model import FORMAT_VERSION
from reconciler.plan.render.markdown import COMMENT_MARKER
from reconciler.plan.render.view import NO_CHANGES

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


class FileKind(StrEnum):
    """Files people give where a plan is expected, and recognisably are not plans."""

    CHARGES = "a charges file"
    CONFIGURATION = "a configuration file"
    QBXML = "qbXML (QuickBooks state or requests)"
    QWC = "a QWC file (for the Web Connector)"
    PRINTED_PLAN = "a plan as printed (text or markdown), not a saved one"


# What to do instead, by the command that expected a plan ({path}: the file given).
_INSTEAD: dict[FileKind, str] = {
    FileKind.CHARGES: "Run `reconcile plan --charges {path} --out plan.json` first, then "
    "`reconcile {command} plan.json`",
    FileKind.CONFIGURATION: "Plans are made from the configuration directory: `reconcile plan "
    "--config {parent} --charges FILE --out plan.json`, then `reconcile {command} plan.json`",
    FileKind.QBXML: "Plan against it: `reconcile plan --qb-state {path} --charges FILE "
    "--out plan.json`, then `reconcile {command} plan.json`",
    FileKind.QWC: "Open it in the QuickBooks Web Connector (Add an application)",
    FileKind.PRINTED_PLAN: "Save the plan with `reconcile plan ... --out plan.json` and give "
    "`reconcile {command}` that file",
}


class NotAPlan(UserError):
    """A file given where a plan is expected that is something else (a charges file...)."""

    def __init__(self, path: Path, kind: FileKind, command: str) -> None:
        instead = _INSTEAD[kind].format(path=path, parent=path.parent, command=command)
        if kind is FileKind.CHARGES and command == "apply":
            instead += f"; or `reconcile apply --charges {path}` to plan and apply at once"
        super().__init__(f"{path} is {kind.value}, not a plan", hint=f"{instead}.")
        self.kind = kind


def file_kind(path: Path, text: str, document: Any) -> FileKind | None:
    """What a file given as a plan is, when it is recognisably something else.

    ``document``: the file's JSON, or None when it is not JSON.
    """
    if isinstance(document, dict):
        if "format_version" not in document and {"date", "customers"} <= document.keys():
            return FileKind.CHARGES
        return None
    start = text.lstrip("\ufeff \t\r\n")
    if start.startswith(("Reconciler will perform", NO_CHANGES, COMMENT_MARKER)):
        return FileKind.PRINTED_PLAN
    if start.startswith("<"):
        if "<QBWCXML" in start:
            return FileKind.QWC
        if "<QBXML" in start:
            return FileKind.QBXML
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        if isinstance(data, dict) and data.keys() & {"offers", "organizations", "invoice_day"}:
            return FileKind.CONFIGURATION
    return None


def load_plan(path: Path, *, command: str = "apply") -> Document:
    """Read and check a plan file; a clear error names what is wrong with it.

    ``command`` (apply, show) is what the user ran: a file that is not a plan
    (a charges file...) is named as what it is, with what to run instead.
    """
    try:
        text = read_utf8(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        kind = file_kind(path, text, None)
        if kind is not None:
            raise NotAPlan(path, kind, command) from None
        raise InvalidInput(
            [Diagnostic(Location(path, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}")],
            subject="plan file",
        ) from None
    kind = file_kind(path, text, document)
    if kind is not None:
        raise NotAPlan(path, kind, command)
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

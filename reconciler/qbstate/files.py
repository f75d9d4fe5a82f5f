"""Where the QuickBooks state of a plan comes from.

Either qbXML query responses on disk (``--qb-state PATH``, repeatable; a
response file or a directory of ``*.xml``), here, or the server's latest
snapshot (``reconciler.qbstate.snapshot.StoredSnapshot``), through the same small
interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.base.errors import UserError
from reconciler.model.quickbooks import QBState


class StateSource(Protocol):
    """Something that yields the QuickBooks state to plan against."""

    def load(self) -> QBState:
        """The state; raises :class:`UserError` when it cannot be had."""
        ...


@dataclass(frozen=True)
class QbxmlResponseFiles:
    """qbXML response documents: files, or directories of ``*.xml`` files."""

    paths: tuple[Path, ...]

    def files(self) -> list[Path]:
        """Every response file, directories expanded in name order."""
        found: list[Path] = []
        for path in self.paths:
            if path.is_dir():
                inside = sorted(p for p in path.glob("*.xml") if p.is_file())
                if not inside:
                    raise UserError(f"{path}: no qbXML response files (*.xml) in this directory")
                found.extend(inside)
            elif path.is_file():
                found.append(path)
            else:
                raise UserError(f"{path}: no such qbXML response file or directory")
        return found

    def load(self) -> QBState:
        """The state the response files hold; raises :class:`UserError` naming a missing or
        unreadable file."""
        from reconciler.qbxml.parse import QbxmlParseError, parse_state

        try:
            return parse_state(self.files())
        except QbxmlParseError as exc:
            raise UserError(f"cannot read the QuickBooks state: {exc}") from None


def state_source(paths: Sequence[Path]) -> StateSource:
    """The state source the command line asks for."""
    if not paths:
        raise UserError(
            "no QuickBooks state given",
            hint="Pass --qb-state PATH: a qbXML response file or a directory of them "
            "(the responses to CustomerQuery, ItemQuery and InvoiceQuery).",
        )
    return QbxmlResponseFiles(tuple(paths))

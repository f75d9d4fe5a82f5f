"""qbXML query responses on disk as the QuickBooks state (``--qb-state PATH``, repeatable):
response files, or directories of ``*.xml``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from reconciler.base.errors import UserError
from reconciler.engine.coverage import Coverage
from reconciler.model.quickbooks import QBState
from reconciler.qbstate.source import LockedMode


@dataclass(frozen=True)
class QbxmlResponseFiles:
    """qbXML response documents: files, or directories of ``*.xml`` files.

    A :class:`~reconciler.qbstate.source.StateSource` that knows nothing but the
    state: no coverage (the user vouches for what the files hold), no lock.
    """

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

    @cached_property
    def _state(self) -> QBState:
        from reconciler.qbxml.parse import QbxmlParseError, parse_state

        try:
            return parse_state(self.files())
        except QbxmlParseError as exc:
            raise UserError(f"cannot read the QuickBooks state: {exc}") from None

    def state(self) -> QBState:
        """The state the response files hold (read once); raises :class:`UserError` naming a
        missing or unreadable file."""
        return self._state

    def coverage(self) -> Coverage | None:
        """Unknown: files say what they hold, not what was looked for."""
        return None

    def lock(self) -> LockedMode | None:
        """None: the lock is the server's, and files know no server."""
        return None

    def outdated(self) -> bool:
        """Never: nothing tells what went out after the files were written."""
        return False

    def describe(self) -> str:
        """The files named, as they were given."""
        return "QuickBooks state: qbXML responses in " + ", ".join(map(str, self.paths))


def qbxml_files(paths: Sequence[Path]) -> QbxmlResponseFiles:
    """The qbXML response files the command line names (``--qb-state``, at least one)."""
    if not paths:
        raise UserError(
            "no QuickBooks state given",
            hint="Pass --qb-state PATH: a qbXML response file or a directory of them "
            "(the responses to CustomerQuery, ItemQuery and InvoiceQuery).",
        )
    return QbxmlResponseFiles(tuple(paths))

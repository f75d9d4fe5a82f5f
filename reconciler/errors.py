"""User-facing errors: what went wrong and where.

A user error (bad YAML, an unknown item, a stale plan, a wrong password) is
reported as one clear message and a non-zero exit, never as a traceback. Code
raises :class:`UserError` (or a subclass); the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A position in a file, 1-based as editors show it."""

    file: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input, with where it is."""

    location: Location | None
    message: str

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  {self.hint}"
        return self.message


class InvalidInput(UserError):
    """One or more problems in an input file, each with its location."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        *,
        subject: str = "input",
        hint: str | None = None,
    ) -> None:
        self.diagnostics = tuple(diagnostics)
        count = len(self.diagnostics)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun} in the {subject}", hint=hint)

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)

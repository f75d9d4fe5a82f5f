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


class NotUtf8Text(UserError):
    """A text file whose bytes are not UTF-8, with where the first bad byte is."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def text_location(file: Path, text: str, index: int) -> Location:
    """The line and column of character ``index`` of ``text`` (read from ``file``)."""
    before = text[:index]
    line_start = before.rfind("\n") + 1
    return Location(file, before.count("\n") + 1, index - line_start + 1)


def read_utf8(path: Path) -> str:
    """The text of a UTF-8 file (``OSError`` when it cannot be read).

    Raises :class:`NotUtf8Text` naming the line and column of the first byte
    that is not UTF-8, where Python's codec names a byte offset.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            where, why = Location(path, 1, 1), "the file is UTF-16"
        else:
            # Everything before the first bad byte decodes: count lines and columns in it.
            before = data[: exc.start].decode("utf-8")
            where, why = (
                text_location(path, before, len(before)),
                f"byte 0x{data[exc.start]:02x} here",
            )
        raise NotUtf8Text(
            Diagnostic(where, f"not UTF-8 text ({why}): save the file as UTF-8")
        ) from None

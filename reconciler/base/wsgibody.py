"""Reading a WSGI request body within a bound, piece by piece, for the SOAP endpoint and the API.

A body is never read whole before its reader knows it wants it: the SOAP
endpoint reads a call a piece at a time and stops as soon as the call shows it
is not worth reading (see :mod:`reconciler.qbwc.soap`); what a handler leaves
unread is dropped a piece at a time (:func:`drain`), never in one allocation.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol

# One read: large enough to keep reads few, small enough that a caller who sends
# garbage costs the server next to nothing before the garbage is seen.
PIECE = 8 * 1024
# What is left unread is only dropped: larger pieces, fewer reads.
DRAIN_PIECE = 64 * 1024


class BodyTooLarge(Exception):
    """The body is larger than the bound (declared so, or found so while reading)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"{declared} bytes" if declared is not None else "more"
        super().__init__(f"request too large ({size}, at most {limit} bytes)")
        self.limit = limit
        self.declared = declared


class BadBody(Exception):
    """The body cannot be read: an invalid Content-Length or chunked encoding."""


class _Readable(Protocol):
    def read(self, size: int) -> bytes: ...


class Body:
    """A request body, read in pieces and never past its bound.

    The bound can be lowered while reading (:meth:`limit_to`), once the first
    pieces say what the request is; a Content-Length over the bound is refused
    before anything is read.
    """

    def __init__(self, stream: _Readable | BinaryIO, declared: int | None, limit: int) -> None:
        if declared is not None and declared > limit:
            raise BodyTooLarge(limit, declared)
        self._stream = stream
        self.declared = declared
        self.limit = limit
        self.consumed = 0
        self._ended = False

    @classmethod
    def of(cls, environ: dict[str, Any], limit: int) -> Body:
        """The body of a WSGI request, refused at once when its Content-Length passes ``limit``."""
        text = str(environ.get("CONTENT_LENGTH") or "").strip()
        declared = None
        if text:
            try:
                declared = int(text)
            except ValueError:
                raise BadBody("invalid Content-Length") from None
            if declared < 0:
                raise BadBody("invalid Content-Length")
        return cls(environ["wsgi.input"], declared, limit)

    def limit_to(self, limit: int) -> None:
        """Lower the bound to ``limit``; :class:`BodyTooLarge` when the body is known to pass
        it already (by its Content-Length, or by what was read)."""
        self.limit = min(self.limit, limit)
        if self.declared is not None and self.declared > self.limit:
            raise BodyTooLarge(self.limit, self.declared)
        if self.consumed > self.limit:
            raise BodyTooLarge(self.limit)

    def read(self, size: int = PIECE) -> bytes:
        """The next piece of at most ``size`` bytes; b"" at the end.

        :class:`BodyTooLarge` as soon as more than the bound has come (one byte
        more is asked for, to tell a body of exactly the bound from a larger one);
        :class:`BadBody` when the stream cannot be read.
        """
        if self._ended:
            return b""
        wanted = min(size, self.limit + 1 - self.consumed)
        if self.declared is not None:
            wanted = min(wanted, self.declared - self.consumed)
        if wanted <= 0:
            self._ended = True
            return b""
        try:
            piece: bytes = self._stream.read(wanted)
        except Exception as exc:
            # The server's own bound on a chunked body (cheroot raises an OSError or
            # its MaxSizeExceeded, both saying "Request Entity Too Large"), or a
            # chunked encoding it cannot read: the client's doing either way.
            if "too large" in str(exc).lower():
                raise BodyTooLarge(self.limit) from None
            raise BadBody(f"the body cannot be read: {exc}") from None
        if not piece:
            self._ended = True
            return b""
        self.consumed += len(piece)
        if self.consumed > self.limit:
            raise BodyTooLarge(self.limit)
        return piece


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, refused above ``limit`` bytes: before reading when its
    Content-Length says so, while reading otherwise."""
    body = Body.of(environ, limit)
    return b"".join(iter(body.read, b""))


def drain(environ: dict[str, Any], limit: int) -> None:
    """Read and drop what a handler left of the request body, a piece at a time, at most
    ``limit`` bytes.

    Left to the HTTP server, the rest of a body is read in one piece as large as
    itself before the next request on the connection.
    """
    stream = environ.get("wsgi.input")
    left = limit
    try:
        while stream is not None and left > 0:
            piece = stream.read(min(DRAIN_PIECE, left))
            if not piece:
                return
            left -= len(piece)
    except Exception:
        # A broken or over-long chunked body: the server closes the connection.
        return

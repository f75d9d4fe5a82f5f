"""Reading a WSGI request body within a bound, for the SOAP endpoint and the API."""

from __future__ import annotations

from typing import Any


class BodyTooLarge(Exception):
    """The body is larger than the bound (declared so, or found so while reading)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"{declared} bytes" if declared is not None else "more"
        super().__init__(f"request too large ({size}, at most {limit} bytes)")
        self.limit = limit
        self.declared = declared


class BadBody(Exception):
    """The body cannot be read: an invalid Content-Length or chunked encoding."""


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, refused above ``limit`` bytes: before reading when its
    Content-Length says so, while reading when it comes in chunks."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise BadBody("invalid Content-Length") from None
        if length > limit:
            raise BodyTooLarge(limit, length)
    try:
        body: bytes = environ["wsgi.input"].read(limit + 1)
    except Exception as exc:
        # The server's own bound on a chunked body (cheroot raises an OSError or
        # its MaxSizeExceeded, both saying "Request Entity Too Large"), or a
        # chunked encoding it cannot read: the client's doing either way.
        if "too large" in str(exc).lower():
            raise BodyTooLarge(limit) from None
        raise BadBody(f"the body cannot be read: {exc}") from None
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body

"""Reading a request body within a bound, whatever the server's stream does."""

from __future__ import annotations

import io

import pytest

from reconciler.wsgibody import BadBody, BodyTooLarge, read_body


class _Stream:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self, size: int) -> bytes:
        raise self.error


def test_a_declared_length_over_the_bound_is_refused_before_reading():
    environ = {"CONTENT_LENGTH": "11", "wsgi.input": _Stream(AssertionError("read"))}
    with pytest.raises(BodyTooLarge, match="11 bytes, at most 10"):
        read_body(environ, 10)


def test_a_body_found_too_large_while_reading_is_refused():
    with pytest.raises(BodyTooLarge):
        read_body({"wsgi.input": io.BytesIO(b"x" * 11)}, 10)
    # cheroot's own bound on chunked bodies.
    with pytest.raises(BodyTooLarge):
        read_body({"wsgi.input": _Stream(OSError("Request Entity Too Large"))}, 10)


def test_an_unreadable_body_is_the_clients_error():
    with pytest.raises(BadBody, match="Content-Length"):
        read_body({"CONTENT_LENGTH": "ten", "wsgi.input": io.BytesIO()}, 10)
    with pytest.raises(BadBody, match="Bad chunked"):
        read_body({"wsgi.input": _Stream(ValueError("Bad chunked transfer size: 'zz'"))}, 10)


def test_a_body_within_the_bound_is_read_whole():
    assert read_body({"CONTENT_LENGTH": "3", "wsgi.input": io.BytesIO(b"abc")}, 3) == b"abc"

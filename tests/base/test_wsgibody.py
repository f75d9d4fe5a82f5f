"""Reading a request body within a bound, piece by piece, whatever the server's stream does;
and dropping what a handler left unread."""

from __future__ import annotations

import io

import pytest

from reconciler.base.wsgibody import (
    DRAIN_PIECE,
    PIECE,
    BadBody,
    Body,
    BodyTooLarge,
    drain,
    read_body,
)


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


class _Recording(io.BytesIO):
    """A body stream that remembers the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def test_a_body_is_read_in_pieces_and_its_bound_can_be_lowered_as_it_comes():
    stream = _Recording(b"x" * 100)
    body = Body(stream, None, 1000)
    assert body.read(30) == b"x" * 30
    body.limit_to(60)
    assert body.read(20) == b"x" * 20
    with pytest.raises(BodyTooLarge, match="at most 60"):
        body.read(30)
    assert max(stream.reads) <= 30 and body.consumed == 61
    # A declared length over the lowered bound is refused without another read.
    declared = Body(_Recording(b"x" * 100), 100, 1000)
    with pytest.raises(BodyTooLarge, match="100 bytes, at most 50"):
        declared.limit_to(50)


def test_a_body_is_never_read_past_its_declared_length():
    stream = _Recording(b"abcdef")
    body = Body(stream, 3, 10)
    assert b"".join(iter(body.read, b"")) == b"abc"
    assert stream.read() == b"def"


def test_what_a_handler_left_is_dropped_in_pieces_up_to_the_bound():
    stream = _Recording(b"x" * (10 * DRAIN_PIECE + 5))
    drain({"wsgi.input": stream}, 4 * DRAIN_PIECE)
    assert stream.tell() == 4 * DRAIN_PIECE and max(stream.reads) <= DRAIN_PIECE
    drain({"wsgi.input": stream}, 100 * DRAIN_PIECE)
    assert stream.tell() == 10 * DRAIN_PIECE + 5
    drain({"wsgi.input": _Stream(ValueError("Bad chunked transfer size"))}, 10)  # no raise


def _wsgi(app, method: str, path: str, stream: _Recording, **headers: str) -> str:
    statuses = []
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "CONTENT_LENGTH": str(len(stream.getvalue())),
        "REMOTE_ADDR": "127.0.0.1",
        **headers,
    }
    b"".join(app(environ, lambda status, headers, *rest: statuses.append(status)))
    return statuses[0]


def test_the_app_drops_unread_bodies_in_pieces_but_not_after_a_413(tmp_path):
    from support.qbwc import envelope, new_store

    from reconciler.base.clock import SystemClock
    from reconciler.qbwc.app import QBWCApp
    from reconciler.qbwc.service import QBWCService
    from reconciler.web.app import WebApp

    store, _ = new_store(tmp_path)
    app = WebApp(QBWCApp(QBWCService(store, None, SystemClock())))
    unread = _Recording(b"x" * (5 * DRAIN_PIECE))
    assert _wsgi(app, "POST", "/nonexist", unread).startswith("404")
    assert unread.tell() == 5 * DRAIN_PIECE and max(unread.reads) <= DRAIN_PIECE
    big = _Recording(envelope("serverVersion") + b" " * (5 * DRAIN_PIECE))
    assert _wsgi(app, "POST", "/qbwc", big).startswith("413")
    assert big.tell() <= PIECE  # the server closes the connection after a 413
    store.close()

"""Serving the WSGI application with cheroot, over HTTP or HTTPS.

cheroot is pure Python and runs the same on Windows and Linux; it serves TLS
itself when given a certificate and key (the Web Connector accepts plain HTTP
only on localhost).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from reconciler.base.errors import UserError
from reconciler.qbwc.qwc import SOAP_PATH
from reconciler.qbxml.render import compile_templates
from reconciler.web.app import WebApp

log = logging.getLogger("reconciler.qbwc")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Worker threads: every live Web Connector session holds at most one call at
# a time, so this bounds how many companies sync at once without queueing.
DEFAULT_THREADS = 64


@dataclass(frozen=True)
class Listen:
    """Where and how to serve."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    certfile: Path | None = None
    keyfile: Path | None = None
    threads: int = DEFAULT_THREADS

    @property
    def scheme(self) -> str:
        """``https`` when a certificate is given, else ``http``."""
        return "https" if self.certfile else "http"


def check_tls_files(listen: Listen) -> None:
    """Refuse a certificate without its key (or the other way round), or one that is not a file."""
    if (listen.certfile is None) != (listen.keyfile is None):
        raise UserError("HTTPS needs both --certfile and --keyfile")
    for path in (listen.certfile, listen.keyfile):
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such file")


def build_server(app: WebApp, listen: Listen) -> wsgi.Server:
    """A cheroot server for ``app`` (not yet listening)."""
    check_tls_files(listen)
    server = wsgi.Server(
        (listen.host, listen.port),
        app,
        numthreads=listen.threads,
        server_name="reconciler",
        # Longer than .NET keeps an idle connection (100 s), so that the Web
        # Connector, not the server, closes it: no request meets a reset.
        timeout=120,
    )
    # Every syncing Web Connector keeps a connection open while QuickBooks
    # works; cheroot's defaults (5 waiting to connect, 10 idle kept) would
    # reset some when many companies sync at once.
    server.request_queue_size = 256
    server.keep_alive_conn_limit = listen.threads
    # cheroot refuses larger bodies with 413 before the application sees them;
    # the application bounds each SOAP operation (before reading, when the
    # Content-Length or the SOAPAction header says enough) and the API its own
    # (plans submitted to it may be larger than a SOAP call).
    server.max_request_body_size = app.max_body + 1
    server.max_request_header_size = 64 * 1024
    # Its connection errors (a TLS handshake dropped, HTTP spoken to HTTPS) go to the
    # server's log, which a server started at boot keeps in a file, not to a console.
    server.error_log = _connection_error
    if listen.certfile is not None and listen.keyfile is not None:
        try:
            server.ssl_adapter = BuiltinSSLAdapter(str(listen.certfile), str(listen.keyfile))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot use the certificate or key: {exc}") from None
    return server


def _connection_error(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's ``error_log``, into the server's log."""
    log.log(level, "%s", msg, exc_info=traceback)


def _url(listen: Listen, server: wsgi.Server) -> str:
    host, port = server.bind_addr[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{listen.scheme}://{shown}:{port}{SOAP_PATH}"


def serve_forever(app: WebApp, listen: Listen) -> None:
    """Serve until interrupted (Ctrl+C)."""
    server = build_server(app, listen)
    try:
        server.prepare()
    except OSError as exc:
        raise UserError(f"cannot listen on {listen.host}:{listen.port}: {exc}") from None
    compile_templates()
    # What start-up made (modules, templates) lives as long as the process: kept out
    # of the collector's full passes, which otherwise walk it all (some 20 ms, during
    # whichever call triggers one; every call in the server waits behind it).
    gc.freeze()
    log.info("serving the Web Connector at %s", _url(listen, server))
    try:
        server.serve()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.stop()


@dataclass(frozen=True)
class Running:
    """A server running in a background thread."""

    url: str  # the SOAP endpoint (AppURL)
    port: int


@contextmanager
def running(app: WebApp, listen: Listen) -> Iterator[Running]:
    """Serve in a background thread for the duration of the block (tests, demo)."""
    server = build_server(app, listen)
    # Stopping waits for the connection loop's poll: keep it short here.
    server.expiration_interval = 0.05
    server.prepare()
    thread = threading.Thread(target=server.serve, name="reconciler-qbwc", daemon=True)
    thread.start()
    try:
        yield Running(url=_url(listen, server), port=int(server.bind_addr[1]))
    finally:
        server.stop()
        thread.join(timeout=10)

"""The Web Connector's WSGI application: SOAP over POST, the WSDL and the support page.

It answers the endpoint (``/qbwc``, its WSDL at ``/qbwc?wsdl``) and its support
page (``/qbwc/support``); :mod:`reconciler.web.app` routes those paths here.
Bodies are bounded before they are read, and read a piece at a time; anything
that goes wrong inside becomes a SOAP fault with a short message (the details
and the traceback go to the server log, never into the answer).
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.util import request_uri

from reconciler import __version__
from reconciler.base.wsgibody import BadBody, Body, BodyTooLarge
from reconciler.qbwc.qwc import SOAP_PATH
from reconciler.qbwc.service import QBWCService
from reconciler.qbwc.soap import (
    MAX_BODY,
    FaultCode,
    SoapFault,
    read_call,
    render_fault,
    render_result,
)
from reconciler.qbwc.wsdl import render_wsdl
from reconciler.store.records import RejectReason

log = logging.getLogger("reconciler.qbwc")

StartResponse = Callable[..., Any]
XML = "text/xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
SUPPORT_PATH = f"{SOAP_PATH}/support"

SUPPORT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reconciler: QuickBooks sync</title></head>
<body>
<h1>reconciler {version}</h1>
<p>This is the QuickBooks Web Connector service of <strong>reconciler</strong>,
billing configuration as code for QuickBooks Desktop.</p>
<ul>
<li>What the last sync did, what is queued and every error with what to do:
run <code>reconcile status</code> where the server runs.</li>
<li>A new password for the Web Connector: <code>reconcile qwc --url URL</code>
writes a new QWC file and prints the password once.</li>
<li>Errors marked as fixed are retried by the next run: click
<em>Update Selected</em> in the Web Connector.</li>
</ul>
</body></html>
"""

TEXT = "text/plain; charset=utf-8"

ENDPOINT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reconciler: QuickBooks sync</title></head>
<body><h1>reconciler {version}</h1>
<p>QuickBooks Web Connector endpoint (SOAP 1.1 over POST).
<a href="{wsdl}">WSDL</a> · <a href="{support}">support</a></p></body></html>
"""


class QBWCApp:
    """WSGI callable serving one :class:`QBWCService` on the endpoint and its support page."""

    def __init__(self, service: QBWCService) -> None:
        self.service = service
        self.max_body = MAX_BODY

    @staticmethod
    def handles(path: str) -> bool:
        """Whether a request for ``path`` is the Web Connector's: the endpoint or its
        support page."""
        return path.rstrip("/") in {SOAP_PATH, SUPPORT_PATH}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """On the endpoint a POST is a SOAP call, a GET the endpoint page or (``?wsdl``) the
        WSDL; the support page takes GET; any other method gets 405."""
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        allowed = ("GET", "HEAD", "POST") if path.rstrip("/") == SOAP_PATH else ("GET", "HEAD")
        if method == "POST" and "POST" in allowed:
            return self._soap(environ, start_response)
        if method not in {"GET", "HEAD"}:
            start_response(
                "405 Method Not Allowed",
                [("Allow", ", ".join(allowed)), ("Content-Type", TEXT), ("Content-Length", "0")],
            )
            return [b""]
        status, content_type, body = self._page(environ)
        payload = b"" if method == "HEAD" else body
        return self._answer(start_response, status, content_type, body, payload)

    @staticmethod
    def _answer(
        start_response: StartResponse,
        status: str,
        content_type: str,
        body: bytes,
        payload: bytes | None = None,
    ) -> Iterable[bytes]:
        start_response(
            status,
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body if payload is None else payload]

    def _page(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        """The support page, the WSDL or the endpoint page."""
        if environ.get("PATH_INFO", "").rstrip("/") == SUPPORT_PATH:
            return "200 OK", HTML, SUPPORT_PAGE.format(version=html.escape(__version__)).encode()
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        address = request_uri(environ, include_query=False).rstrip("/")
        if any(key.lower() == "wsdl" for key in query):
            return "200 OK", XML, render_wsdl(address)
        page = ENDPOINT_PAGE.format(
            version=html.escape(__version__),
            wsdl=html.escape(f"{address}?wsdl"),
            support=html.escape(f"{address}/support"),
        )
        return "200 OK", HTML, page.encode()

    def _soap(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started, cpu_started = time.perf_counter(), time.thread_time()
        name = "?"
        client = environ.get("REMOTE_ADDR", "unknown")
        try:
            call = read_call(
                _body(environ),
                soap_action=environ.get("HTTP_SOAPACTION"),
                admit=self.service.admits,
            )
            name = call.operation.name
            result = self.service.call(call, client)
            answer = render_result(call.operation, result)
            status = "200 OK"
        except SoapFault as fault:
            reason = RejectReason.TOO_LARGE if fault.http_status == 413 else RejectReason.MALFORMED
            self.service.reject(reason, client, f"SOAP fault: {fault.message}")
            answer, status = render_fault(fault), _status(fault.http_status)
        except Exception:
            log.exception("internal error while answering %s", name)
            fault = SoapFault(FaultCode.SERVER, "internal error in reconciler; see the server log")
            answer, status = render_fault(fault), _status(500)
        # Wall time, and this thread's CPU time: the difference is time spent
        # waiting (for the store's write lock, for the GIL, for the disk).
        log.debug(
            "%s answered in %.2f ms (%.2f ms CPU)",
            name,
            (time.perf_counter() - started) * 1000,
            (time.thread_time() - cpu_started) * 1000,
        )
        return self._answer(start_response, status, XML, answer)


def _status(code: int) -> str:
    return {413: "413 Payload Too Large", 500: "500 Internal Server Error"}.get(
        code, f"{code} Error"
    )


def _body(environ: dict[str, Any]) -> Body:
    """The request body, refused above :data:`MAX_BODY` before it is read when declared so."""
    try:
        return Body.of(environ, MAX_BODY)
    except BodyTooLarge as exc:
        raise SoapFault(FaultCode.CLIENT, str(exc), http_status=413) from None
    except BadBody as exc:
        raise SoapFault(FaultCode.CLIENT, str(exc)) from None

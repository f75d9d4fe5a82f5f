"""The one WSGI application: the Web Connector, the JSON API and the status page.

Only the documented paths answer: the Web Connector's endpoint and support page
(``/qbwc``, ``/qbwc?wsdl``, ``/qbwc/support``), the API (``/api/v1/...``) and
the status page (``/status``); any other is 404. Whatever an answer leaves
unread of a request body is dropped a piece at a time, never in one read as
large as the body (not after a 413, on which the server closes the connection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from reconciler.api.app import ApiApp
from reconciler.base.wsgibody import drain
from reconciler.qbwc.app import QBWCApp

StartResponse = Callable[..., Any]
NOT_FOUND = b"Not found. This server answers the QuickBooks Web Connector at /qbwc.\n"


class Part(Protocol):
    """An application that serves some of the paths, and reads bodies up to a bound."""

    max_body: int

    def handles(self, path: str) -> bool:
        """Whether a request for ``path`` is this part's."""
        ...

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request."""
        ...


class WebApp:
    """The server's WSGI callable: each request to the part whose paths it is."""

    def __init__(self, qbwc: QBWCApp, api: ApiApp | None = None) -> None:
        self.parts: tuple[Part, ...] = (qbwc,) if api is None else (qbwc, api)
        self.max_body = max(part.max_body for part in self.parts)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request, then drop what it left unread of the body."""
        statuses: list[str] = []

        def noting(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            statuses.append(status)
            return start_response(status, headers, *rest)

        answer = self._route(environ, noting)
        if not statuses or not statuses[-1].startswith("413"):
            drain(environ, self.max_body)
        return answer

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        for part in self.parts:
            if part.handles(path):
                return part(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        start_response(
            "404 Not Found",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(NOT_FOUND))),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [b"" if method == "HEAD" else NOT_FOUND]

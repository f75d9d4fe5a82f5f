"""The JSON API (``/api/v1/...``) and the status page (``/status``) as a WSGI application.

:class:`~reconciler.qbwc.app.QBWCApp` hands it every request whose path it
:meth:`ApiApp.handles`; the SOAP endpoint keeps the rest. Every API call but
the OpenAPI document's needs a bearer token; the status page needs none from
the machine itself (loopback, not through a proxy), a token otherwise.
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from reconciler.api.openapi import openapi_json
from reconciler.api.problems import PROBLEM_JSON, Problem
from reconciler.api.submit import submit_plan
from reconciler.api.tokens import key_id_of, token_matches
from reconciler.api.views import Json, latest_snapshot_document, plan_view, status_document
from reconciler.base.clock import Clock
from reconciler.base.wsgibody import BadBody, BodyTooLarge, read_body
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.status.page import company_page, render_status_page, sign_in_page
from reconciler.status.view import PlanView, read_status
from reconciler.store import Store
from reconciler.store.records import ApiToken, CompanyRecord, TokenScope

log = logging.getLogger("reconciler.api")

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]

JSON = "application/json"
HTML = "text/html; charset=utf-8"
API_PREFIX = "/api/"
STATUS_PATH = "/status"
# The status page's cookie, set from ?token= so that the token leaves the URL.
COOKIE = "reconcile_status"
COOKIE_MAX_AGE = 7 * 24 * 3600
# Plans of many invoices are large; the SOAP endpoint keeps its own bound.
MAX_API_BODY = 32 * 1024 * 1024
# Answers larger than this are compressed for clients that accept gzip.
GZIP_FROM = 4096
# A token's last use is written at most this often (reads stay reads).
TOUCH_EVERY = dt.timedelta(minutes=1)
HISTORY_DEFAULT, HISTORY_MAX = 20, 100
# Behind a proxy every request comes from loopback: these say it was forwarded.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")

SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
]
# The status page loads nothing: no scripts, no external styles, no frames.
PAGE_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    ("X-Frame-Options", "DENY"),
]


@dataclass(frozen=True)
class Request:
    """What a handler needs of a WSGI request."""

    environ: dict[str, Any]

    @property
    def method(self) -> str:
        """The HTTP method, upper case (GET when the environ has none)."""
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def path(self) -> str:
        """The request path (``/`` when empty)."""
        return str(self.environ.get("PATH_INFO", "") or "/")

    def query(self) -> dict[str, list[str]]:
        """The query string's parameters, each with every value given (blank ones kept)."""
        return parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)

    def header(self, name: str) -> str:
        """The value of the request header ``name`` (any case, e.g. ``Accept-Encoding``), or "".

        WSGI keeps ``Content-Type`` and ``Content-Length`` outside the ``HTTP_`` keys, so
        this never finds those two.
        """
        return str(self.environ.get("HTTP_" + name.upper().replace("-", "_"), ""))

    def is_local(self) -> bool:
        """Sent from this machine, and not forwarded by a proxy on it."""
        try:
            address = ipaddress.ip_address(str(self.environ.get("REMOTE_ADDR", "")))
        except ValueError:
            return False
        return address.is_loopback and not any(self.environ.get(h) for h in PROXY_HEADERS)

    def is_https(self) -> bool:
        """Whether the browser used HTTPS: to this server, or to a proxy in front of it
        that says so (``X-Forwarded-Proto``, ``Forwarded: proto=``).

        Only the cookie's ``Secure`` attribute depends on it, which a forged header
        can make stricter and never looser: no proxy needs to be trusted.
        """
        if self.environ.get("wsgi.url_scheme") == "https":
            return True
        forwarded = str(self.environ.get("HTTP_X_FORWARDED_PROTO", "")).split(",")[0]
        if forwarded.strip().lower() == "https":
            return True
        # Forwarded: for=...;proto=https, ... (RFC 7239): the first hop is the browser's.
        first_hop = str(self.environ.get("HTTP_FORWARDED", "")).split(",")[0]
        return any(
            part.strip().lower().replace('"', "") == "proto=https" for part in first_hop.split(";")
        )


@dataclass(frozen=True)
class Answer:
    """What to send back."""

    status: HTTPStatus
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _json(document: Json, status: HTTPStatus = HTTPStatus.OK) -> Answer:
    return Answer(status, JSON, json.dumps(document, ensure_ascii=False).encode("utf-8"))


Handler = Callable[[Request, ApiToken, CompanyRecord], Answer]


class ApiApp:
    """The API and the status page of one store."""

    def __init__(self, store: Store, clock: Clock, *, max_body: int = MAX_API_BODY) -> None:
        self.store = store
        self.clock = clock
        self.max_body = max_body
        # (method, path) -> (the scope it needs, the handler)
        self._routes: dict[tuple[str, str], tuple[TokenScope, Handler]] = {
            ("GET", "/api/v1/snapshot"): (TokenScope.PLAN, self._snapshot),
            ("GET", "/api/v1/status"): (TokenScope.PLAN, self._status),
            ("GET", "/api/v1/plans"): (TokenScope.PLAN, self._history),
            ("POST", "/api/v1/plans"): (TokenScope.APPLY, self._submit),
        }

    @staticmethod
    def handles(path: str) -> bool:
        """Whether a request for ``path`` is this application's."""
        return path.startswith(API_PREFIX) or path.rstrip("/") == STATUS_PATH

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request: the status page or an API call.

        A :class:`Problem` becomes its problem+json answer; any other exception is logged
        and answered 500 without its details.
        """
        request = Request(environ)
        try:
            if request.path.rstrip("/") == STATUS_PATH:
                answer = self._status_page(request)
            else:
                answer = self._api(request)
        except Problem as problem:
            answer = Answer(problem.status, PROBLEM_JSON, problem.body(), problem.headers)
        except Exception:
            log.exception("internal error answering %s %s", request.method, request.path)
            problem = Problem(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "internal error in reconciler; see the server log",
                code="internal-error",
            )
            answer = Answer(problem.status, PROBLEM_JSON, problem.body())
        return self._send(request, answer, start_response)

    def _send(
        self, request: Request, answer: Answer, start_response: StartResponse
    ) -> Iterable[bytes]:
        body = answer.body
        headers: Headers = [("Content-Type", answer.content_type), *SECURITY_HEADERS]
        if answer.content_type == HTML:
            headers.extend(PAGE_HEADERS)
        headers.extend(answer.headers)
        if len(body) >= GZIP_FROM and _accepts_gzip(request.header("Accept-Encoding")):
            body = gzip.compress(body, compresslevel=6)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{answer.status.value} {answer.status.phrase}", headers)
        return [b"" if request.method == "HEAD" else body]

    # --------------------------------------------------------------------- API

    def _api(self, request: Request) -> Answer:
        path = request.path.rstrip("/")
        method = "GET" if request.method == "HEAD" else request.method
        if path == "/api/v1/openapi.json":
            if method != "GET":
                raise _not_allowed(["GET", "HEAD"])
            return Answer(HTTPStatus.OK, JSON, openapi_json())
        route = self._routes.get((method, path))
        if route is None:
            allowed = [m for (m, p) in self._routes if p == path]
            if allowed:
                raise _not_allowed(allowed + (["HEAD"] if "GET" in allowed else []))
            raise Problem(
                HTTPStatus.NOT_FOUND,
                f"no such API call: {path} (see /api/v1/openapi.json)",
                code="not-found",
            )
        scope, handler = route
        token = self._authenticate(request, scope)
        return handler(request, token, self.store.companies.get(token.company_id))

    def _token(self, text: str) -> ApiToken | None:
        """The live token ``text`` is, if any (and remember that it was used)."""
        key_id = key_id_of(text)
        token = self.store.tokens.by_key_id(key_id) if key_id else None
        if token is None or token.revoked_at is not None:
            return None
        if not token_matches(text, token.token_hash):
            return None
        now = self.clock.now()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            self.store.tokens.touch(token.id, now)
        return token

    def _authenticate(self, request: Request, needed: TokenScope) -> ApiToken:
        scheme, _, credentials = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Problem(
                HTTPStatus.UNAUTHORIZED,
                "this call needs a bearer token (Authorization: Bearer rct_...)",
                code="unauthorized",
                hint="Create one on the server with `reconcile token create NAME`.",
                headers=[("WWW-Authenticate", 'Bearer realm="reconciler"')],
            )
        token = self._token(credentials.strip())
        if token is None:
            raise Problem(
                HTTPStatus.UNAUTHORIZED,
                "the token is not valid (unknown, mistyped or revoked)",
                code="invalid-token",
                hint="`reconcile token list` on the server shows the live tokens.",
                headers=[("WWW-Authenticate", 'Bearer realm="reconciler", error="invalid_token"')],
            )
        if needed is TokenScope.APPLY and token.scope is not TokenScope.APPLY:
            raise Problem(
                HTTPStatus.FORBIDDEN,
                f"the token {token.name!r} may only read (scope {token.scope.value}); "
                "submitting a plan needs a token of scope apply",
                code="insufficient-scope",
                hint="Create one with `reconcile token create NAME --scope apply`.",
                headers=[
                    (
                        "WWW-Authenticate",
                        'Bearer realm="reconciler", error="insufficient_scope", scope="apply"',
                    )
                ],
            )
        return token

    def _snapshot(self, request: Request, token: ApiToken, company: CompanyRecord) -> Answer:
        snapshot = self.store.snapshots.latest(company.id)
        if snapshot is None:
            raise Problem(
                HTTPStatus.NOT_FOUND,
                f"the server has not read QuickBooks for {company.name} yet",
                code="no-snapshot",
                hint="Let the Web Connector sync once (Update Selected).",
            )
        source = StoredSnapshot(self.store, company, snapshot, self.clock)
        return _json(latest_snapshot_document(source, self.clock.now()))

    def _status(self, request: Request, token: ApiToken, company: CompanyRecord) -> Answer:
        view = read_status(self.store, company, self.clock.now(), plans=HISTORY_DEFAULT)
        return _json(status_document(view))

    def _history(self, request: Request, token: ApiToken, company: CompanyRecord) -> Answer:
        limit = _limit(request.query().get("limit"))
        history = self.store.plans.history(company.id, limit)
        return _json({"plans": [plan_view(PlanView.of(entry)) for entry in history]})

    def _submit(self, request: Request, token: ApiToken, company: CompanyRecord) -> Answer:
        body = self._json_body(request)
        status, document = submit_plan(self.store, company, token, body, self.clock.now())
        return _json(document, status)

    def _json_body(self, request: Request) -> Any:
        media = request.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        encoding = request.header("Content-Encoding").strip().lower()
        if media != JSON or encoding not in {"", "identity"}:
            raise Problem(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"the body must be {JSON} (not compressed), not {media or 'untyped'}",
                code="unsupported-media-type",
            )
        raw = _read_body(request.environ, self.max_body)
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Problem(
                HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}", code="invalid-json"
            ) from None

    # ------------------------------------------------------------- status page

    def _status_page(self, request: Request) -> Answer:
        if request.method not in {"GET", "HEAD"}:
            raise _not_allowed(["GET", "HEAD"])
        given = request.query().get("token")
        if given:
            token = self._token(given[0])
            if token is None:
                return _page(HTTPStatus.UNAUTHORIZED, sign_in_page(invalid=True))
            # The token moves from the URL (history, logs) into an HttpOnly cookie.
            cookie = (
                f"{COOKIE}={given[0]}; Path={STATUS_PATH}; Max-Age={COOKIE_MAX_AGE}; "
                "HttpOnly; SameSite=Strict" + ("; Secure" if request.is_https() else "")
            )
            return Answer(
                HTTPStatus.SEE_OTHER,
                HTML,
                b"",
                (("Location", STATUS_PATH), ("Set-Cookie", cookie)),
            )
        token = self._page_token(request)
        if token is not None:
            companies = [self.store.companies.get(token.company_id)]
        elif request.is_local():
            companies = self.store.companies.all()
        else:
            return _page(HTTPStatus.UNAUTHORIZED, sign_in_page(invalid=False))
        now = self.clock.now()
        pages = [company_page(self.store, company, now) for company in companies]
        return _page(HTTPStatus.OK, render_status_page(pages, now))

    def _page_token(self, request: Request) -> ApiToken | None:
        scheme, _, credentials = request.header("Authorization").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return self._token(credentials.strip())
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(request.header("Cookie"))
        except CookieError:
            return None
        morsel = cookies.get(COOKIE)
        return self._token(morsel.value) if morsel is not None else None


def _page(status: HTTPStatus, html: str) -> Answer:
    return Answer(status, HTML, html.encode("utf-8"))


def _not_allowed(methods: list[str]) -> Problem:
    return Problem(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"this resource answers {', '.join(methods)} only",
        code="method-not-allowed",
        headers=[("Allow", ", ".join(methods))],
    )


def _limit(values: list[str] | None) -> int:
    if not values:
        return HISTORY_DEFAULT
    try:
        limit = int(values[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= HISTORY_MAX:
        raise Problem(
            HTTPStatus.BAD_REQUEST,
            f"limit must be a whole number from 1 to {HISTORY_MAX}, not {values[0]!r}",
            code="invalid-parameter",
        )
    return limit


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            quality = params.strip().lower()
            return quality.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, refused above ``limit`` bytes (before it is read when declared)."""
    try:
        return read_body(environ, limit)
    except BodyTooLarge:
        raise Problem(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is larger than the server takes ({limit} bytes)",
            code="too-large",
        ) from None
    except BadBody as exc:
        raise Problem(HTTPStatus.BAD_REQUEST, str(exc), code="invalid-request") from None

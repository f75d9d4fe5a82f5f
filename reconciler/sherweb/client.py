"""An HTTP client for Sherweb's Service Provider API, fit to run unattended.

OAuth2 client credentials (scope ``service-provider``) give a bearer token,
kept until shortly before it expires; every call, the token request included,
carries the ``Ocp-Apim-Subscription-Key`` header of Azure API Management.
Throttling (429) and server errors (5xx) are retried with backoff within a
bounded time, and so is a request that went out but got no answer (a read
time-out, a connection dropped mid-answer): each is over in seconds on
Sherweb's side. Each wait is said on standard error, terminal or not. What
waiting cannot mend is reported at once, naming the host: a name that does not
resolve, a refused connection, no connection within the time-out, a failed TLS
handshake (an address, network or proxy to fix), and the other client errors. Every answer is decoded with exact
decimals and checked against the JSON Schema derived from Sherweb's OpenAPI
spec before anyone uses it. Fields the spec does not name are dropped first:
an API adds fields without notice, and a field reconciler does not know can
change nothing it does, whereas a known field of the wrong type or a missing
one stops the command.

The clock, the sleep, the wall-clock time and the random draw are injectable
so that tests never really wait.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
import jsonschema

from reconciler import __version__
from reconciler.base.errors import UserError
from reconciler.base.jsonschemas import error_path, schema_problems, validator
from reconciler.model.config import SherwebSettings
from reconciler.sherweb.retry import RetryPolicy, is_retryable, server_delay

log = logging.getLogger(__name__)

SCOPE = "service-provider"
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_TIMEOUT = 30.0
# A token is renewed this long before it expires (at most a tenth of its life).
TOKEN_MARGIN = 60.0
# Assumed lifetime of a token whose answer gives none.
DEFAULT_TOKEN_LIFETIME = 300
# Far more pages than any partner has customers: a guard against a loop.
MAX_CUSTOMER_PAGES = 1000
# The documented limitation of GetReceivableCharges: no rebilling data while a
# PSA (professional services automation) integration is enabled.
_PSA = re.compile(r"\bPSA\b|professional services automation", re.IGNORECASE)
_EXCERPT = 300

# The token endpoint's answer ("Token" in Authorization.OpenAPI.yaml), with
# the one field this client cannot do without made required.
_TOKEN_VALIDATOR = jsonschema.Draft202012Validator(
    {
        "type": "object",
        "required": ["access_token"],
        "properties": {
            "access_token": {"type": "string", "minLength": 1},
            "expires_in": {"type": "number", "exclusiveMinimum": 0},
            "token_type": {"type": "string"},
        },
    }
)


class SherwebError(UserError):
    """Sherweb's API could not give what was asked; the message says why."""


class SherwebAuthError(SherwebError):
    """The credentials or the subscription key were refused."""


class PsaIntegrationError(SherwebError):
    """Receivable charges are unavailable while a PSA integration is enabled."""


class SherwebUnreachable(SherwebError):
    """No connection to Sherweb's host at all: waiting would not change that."""


@dataclass(frozen=True)
class Credentials:
    """The API client's secrets, read from the environment variables the
    configuration names. ``repr`` never shows them."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)

    @classmethod
    def from_environment(
        cls, settings: SherwebSettings, environ: Mapping[str, str] | None = None
    ) -> Credentials:
        """Read the three secrets; a :class:`UserError` names every variable unset."""
        env = os.environ if environ is None else environ
        names = (settings.client_id_env, settings.client_secret_env, settings.subscription_key_env)
        missing = [name for name in names if not env.get(name)]
        if missing:
            raise UserError(
                f"Sherweb credentials missing: set the environment variable(s) {', '.join(missing)}",
                hint="billing.yaml (sherweb:) names the variables; the values come from "
                "Sherweb's partner portal (API client id and secret, subscription key).",
            )
        return cls(*(env[name] for name in names))


@dataclass
class _Token:
    value: str
    renew_at: float  # on the client's clock


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _say_on_stderr(message: str) -> None:
    # sys.stderr looked up now: under a progress bar it is rich's, which prints above it.
    # One write a line, so that parallel workers' lines do not interleave.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class SherwebClient:
    """The Service Provider API: customers, receivable charges, subscriptions.

    Safe to share between threads: the token is fetched by one thread at a
    time and the HTTP connection pool is thread-safe.
    """

    def __init__(
        self,
        settings: SherwebSettings,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
        draw: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        notify: Callable[[str], object] = _say_on_stderr,
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._now = now
        self._draw = draw
        self._notify = notify
        self._cancelled = threading.Event()
        # Waiting on the cancel event lets cancel() cut a backoff short.
        self._sleep = sleep or self._cancelled.wait
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": f"reconciler/{__version__}"},
        )

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> SherwebClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Make every request under way give up at its next wait or attempt."""
        self._cancelled.set()

    # -- endpoints ---------------------------------------------------------

    def customers(self) -> list[dict[str, Any]]:
        """``GET /customers``: every customer (``Customer`` objects), all pages."""
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        params: dict[str, str] = {}
        for _ in range(MAX_CUSTOMER_PAGES):
            page = self._get("/customers", params, what="GET /customers", definition=None)
            # The spec returns everything in "items"; should Sherweb ever page
            # the list, follow its continuation token.
            token = page.pop("continuationToken", None) if isinstance(page, dict) else None
            self._check(page, "Customers", "GET /customers")
            items.extend(page.get("items") or [])
            if not token:
                return items
            if token in seen:
                raise SherwebError("GET /customers: the API sent the same continuation token twice")
            seen.add(token)
            params = {"continuationToken": token}
        raise SherwebError(f"GET /customers: more than {MAX_CUSTOMER_PAGES} pages; giving up")

    def receivable_charges(self, customer_id: str, date: dt.date) -> dict[str, Any]:
        """``GET /billing/receivable-charges``: a customer's charges for the
        billing period that holds ``date`` (a ``ReceivableCharges`` object)."""
        return self._get(
            "/billing/receivable-charges",
            {"customerId": customer_id, "date": date.isoformat()},
            what=f"GET /billing/receivable-charges (customer {customer_id}, date {date})",
            definition="ReceivableCharges",
        )

    def subscriptions(self, customer_id: str) -> dict[str, Any]:
        """``GET /billing/subscriptions``: a customer's subscriptions (a
        ``Subscriptions`` object; commitment terms tell annual from monthly)."""
        return self._get(
            "/billing/subscriptions",
            {"customerId": customer_id},
            what=f"GET /billing/subscriptions (customer {customer_id})",
            definition="Subscriptions",
        )

    # -- token -------------------------------------------------------------

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token.renew_at:
                self._token = self._fetch_token()
            return self._token.value

    def _forget_token(self, value: str) -> None:
        with self._token_lock:
            # Another thread may already have replaced it: keep the new one.
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch_token(self) -> _Token:
        what = f"POST {self.settings.token_url}"
        response = self._send(
            "POST",
            self.settings.token_url,
            what=what,
            headers={SUBSCRIPTION_KEY_HEADER: self._credentials.subscription_key},
            data={
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
                "scope": SCOPE,
            },
        )
        if response.status_code in (400, 401, 403):
            # OAuth answers 400 invalid_client for bad credentials; APIM 401 for a bad key.
            raise self._auth_error(response, what)
        answer = self._decode(response, what)
        errors = schema_problems(_TOKEN_VALIDATOR, answer)
        if errors:
            raise SherwebError(f"{what}: unexpected token answer ({errors[0]})")
        lifetime = float(answer.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        margin = min(TOKEN_MARGIN, lifetime / 10)
        return _Token(answer["access_token"], self._clock() + lifetime - margin)

    # -- requests ----------------------------------------------------------

    def _get(
        self, path: str, params: Mapping[str, str], *, what: str, definition: str | None
    ) -> Any:
        url = self.settings.api_url.rstrip("/") + path
        refreshed = False
        while True:
            token = self._access_token()
            response = self._send(
                "GET",
                url,
                what=what,
                params=dict(params),
                headers={
                    "Authorization": f"Bearer {token}",
                    SUBSCRIPTION_KEY_HEADER: self._credentials.subscription_key,
                },
            )
            if response.status_code == 401 and not refreshed:
                # The token may have been revoked or expired early: one new try.
                self._forget_token(token)
                refreshed = True
                continue
            break
        if response.status_code == 401:
            raise self._auth_error(response, what)
        data = self._decode(response, what)
        if definition is not None:
            self._check(data, definition, what)
        return data

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One request, sent again on throttling, server errors and unanswered requests;
        each wait said through ``notify``. No connection at all is reported at once."""
        started = self._clock()
        attempt = 0
        while True:
            if self._cancelled.is_set():
                raise SherwebError(f"{what}: cancelled")
            attempt += 1
            asked: float | None = None
            status: int | None = None
            try:
                response = self._http.request(method, url, **kwargs)
            except _UNANSWERED as exc:
                if isinstance(exc, httpx.TimeoutException):
                    problem = f"no answer within {self._timeout:g} s"
                else:
                    problem = f"the connection dropped ({type(exc).__name__}: {self._detail(exc)})"
                said = f"Sherweb gave no answer ({problem})"
            except httpx.TransportError as exc:
                raise self._unreachable(exc, url, what) from None
            else:
                status = response.status_code
                if not is_retryable(status):
                    return response
                problem = f"HTTP {status} {response.reason_phrase}"
                said = f"Sherweb answered {status} {response.reason_phrase}"
                asked = server_delay(response.headers, response.text, self._now())
            wait = self._retry.delay(attempt, asked, self._draw())
            spent = self._clock() - started
            if attempt >= self._retry.max_attempts or spent + wait > self._retry.max_total:
                raise SherwebError(
                    f"{what}: gave up after {attempt} attempt(s) in {spent:.0f} s ({problem})",
                    hint=_give_up_hint(status, asked, wait, self._retry),
                )
            self._notify(
                f"{what}: {said}; waiting {wait:.1f} s "
                f"(attempt {attempt + 1} of {self._retry.max_attempts})"
            )
            self._sleep(wait)

    def _unreachable(self, exc: httpx.TransportError, url: str, what: str) -> SherwebUnreachable:
        """Why no connection to ``url``'s host was made, naming the host."""
        target = httpx.URL(url)
        host = target.host
        where = f"{host}:{target.port}" if target.port else host
        causes = list(_causes(exc))
        settings = "billing.yaml (sherweb: api_url, token_url)"
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return SherwebUnreachable(
                f"{what}: cannot reach Sherweb: the host name {host} cannot be resolved "
                f"({self._detail(exc)})",
                hint=f"Check the host in {settings} and this machine's DNS and network "
                "(not retried: a name that does not resolve stays so for a while).",
            )
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return SherwebUnreachable(
                f"{what}: cannot reach Sherweb: {where} refused the connection",
                hint=f"Nothing listens at that address and port: check {settings}, and any "
                "proxy (HTTPS_PROXY) or firewall on the way.",
            )
        if any(isinstance(cause, ssl.SSLError) for cause in causes):
            return SherwebUnreachable(
                f"{what}: cannot reach Sherweb: the TLS handshake with {host} failed "
                f"({self._detail(exc)})",
                hint="A proxy that inspects TLS needs its certificate authority trusted "
                f"(SSL_CERT_FILE); otherwise check {settings}.",
            )
        if isinstance(exc, httpx.ConnectTimeout):
            problem = f"accepted no connection within {self._timeout:g} s"
        else:
            problem = f"could not be connected to ({type(exc).__name__}: {self._detail(exc)})"
        return SherwebUnreachable(
            f"{what}: cannot reach Sherweb: {where} {problem}",
            hint=f"Check {settings}, this machine's network, and any proxy (HTTPS_PROXY) "
            "or firewall on the way.",
        )

    def _detail(self, exc: BaseException) -> str:
        return self._redact(str(exc)) or type(exc).__name__

    # -- answers -----------------------------------------------------------

    def _decode(self, response: httpx.Response, what: str) -> Any:
        if not response.is_success:
            raise self._status_error(response, what)
        try:
            # Decimal, not float: amounts must stay exactly what Sherweb sent.
            return json.loads(response.text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise SherwebError(
                f"{what}: the answer is not valid JSON ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}); it starts: {self._excerpt(response.text)!r}"
            ) from None

    def _check(self, data: Any, definition: str, what: str) -> None:
        dropped = _drop_unknown_fields(_api_validator(definition), data)
        if dropped:
            log.info("%s: ignored fields the API contract does not name: %s", what, dropped)
        errors = schema_problems(_api_validator(definition), data)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SherwebError(
                f"{what}: the answer does not match Sherweb's API contract ({definition}): "
                f"{errors[0]}{more}"
            )

    def _status_error(self, response: httpx.Response, what: str) -> SherwebError:
        message = self._message(response)
        status = response.status_code
        if 400 <= status < 500 and _PSA.search(message):
            return PsaIntegrationError(
                f"{what}: Sherweb refuses receivable charges while a PSA integration is "
                f"enabled on the account (HTTP {status}: {message})",
                hint="This is a documented limitation of Sherweb's GetReceivableCharges. "
                "Disable the PSA integration in Sherweb's partner portal, or plan from a "
                "charges file (reconcile plan --charges FILE).",
            )
        if status == 401:
            return self._auth_error(response, what)
        if status == 403:
            return SherwebError(
                f"{what}: forbidden (HTTP 403: {message})",
                hint=f"The API client needs the '{SCOPE}' scope and a subscription to the "
                "Service Provider API in Sherweb's partner portal.",
            )
        if status == 404:
            return SherwebError(f"{what}: not found (HTTP 404: {message})")
        return SherwebError(f"{what}: HTTP {status} {response.reason_phrase}: {message}")

    def _auth_error(self, response: httpx.Response, what: str) -> SherwebAuthError:
        message = self._message(response)
        s = self.settings
        if "subscription key" in message.lower():
            check = f"check the environment variable {s.subscription_key_env} (API Management subscription key)"
        else:
            check = (
                f"check the environment variables {s.client_id_env} and {s.client_secret_env} "
                f"(API client) and {s.subscription_key_env} (subscription key)"
            )
        return SherwebAuthError(
            f"{what}: Sherweb refused the credentials (HTTP {response.status_code}: {message})",
            hint=f"Unauthorized: {check}; billing.yaml (sherweb:) names the variables.",
        )

    def _message(self, response: httpx.Response) -> str:
        """The human part of an error answer (ProblemDetails, APIM or OAuth)."""
        text = response.text
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict):
            parts = [
                str(body[key])
                for key in ("title", "detail", "message", "error", "error_description")
                if body.get(key)
            ]
            if parts:
                return self._redact(" - ".join(parts))
        return self._excerpt(text) or response.reason_phrase

    def _excerpt(self, text: str) -> str:
        text = " ".join(text.split())
        if len(text) > _EXCERPT:
            text = text[:_EXCERPT] + "..."
        return self._redact(text)

    def _redact(self, text: str) -> str:
        # A server that echoes the request must not put a secret on screen.
        for secret in (self._credentials.client_secret, self._credentials.subscription_key):
            if secret:
                text = text.replace(secret, "***")
        return text


@cache
def _api_validator(definition: str) -> jsonschema.Draft202012Validator:
    return validator("sherweb-api", definition=definition)


def _drop_unknown_fields(check: jsonschema.Draft202012Validator, data: Any) -> str:
    """Remove, in place, the fields of ``data`` that the contract does not name.

    Answers keep the shape the charges file is checked against. Returns the
    dropped fields' paths ("" when none).
    """
    dropped: list[str] = []
    while True:
        removed = False
        for error in _every_error(check.iter_errors(data)):
            if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
                continue
            known = error.schema.get("properties", {})
            where = f"{error_path(error)}." if error.absolute_path else ""
            for name in [name for name in error.instance if name not in known]:
                del error.instance[name]
                dropped.append(where + name)
                removed = True
        # Objects under an anyOf (the nullable ones) are checked again once
        # their siblings are clean; a round that drops nothing ends it.
        if not removed:
            return ", ".join(sorted(set(dropped)))


def _every_error(
    errors: Iterator[jsonschema.ValidationError],
) -> Iterator[jsonschema.ValidationError]:
    for error in errors:
        yield error
        yield from _every_error(iter(error.context or ()))


# A request that went out and got no answer: sent again, as a 5xx would be. Any other
# transport error means no connection was made at all (see SherwebClient._unreachable).
_UNANSWERED = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from (httpx wraps httpcore, which wraps the socket's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _give_up_hint(
    status: int | None, asked: float | None, wait: float, retry: RetryPolicy
) -> str | None:
    if asked is not None and wait > retry.max_total:
        return (
            f"Sherweb asked to wait {asked:.0f} s, longer than the {retry.max_total:.0f} s "
            "this command waits in all; try again later."
        )
    if status == 429:
        return "Sherweb is throttling this account; try again later."
    if status is not None:
        return "Sherweb's API is failing on its side; try again later."
    return "Sherweb is not answering in time; try again later, or give fetch-charges --timeout more seconds."

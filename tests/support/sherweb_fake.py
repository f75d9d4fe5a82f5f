"""A fake Sherweb (token endpoint and Service Provider API) on 127.0.0.1.

It serves payloads shaped by the OpenAPI spec (and checks each against the
derived JSON Schema before sending it), enforces the subscription key and the
bearer token as Azure API Management and the API would, and can be scripted
to answer a path with errors, time-outs or garbage first. Nothing in it
waits on a timer: a time-out is the client's transport (:class:`TimingOut`)
raising at once, and concurrency is shown by answers held at a barrier.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import simplejson
import yaml

from reconciler.base.jsonschemas import validator
from reconciler.model.config import SherwebSettings
from reconciler.sherweb.client import Credentials

CLIENT_ID = "reconciler-tests"
CLIENT_SECRET = "s3cret-value"
SUBSCRIPTION_KEY = "key-0123456789"
CREDENTIALS = Credentials(CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION_KEY)
# The environment the CLI reads them from, under the default variable names.
ENV = {
    "SHERWEB_CLIENT_ID": CLIENT_ID,
    "SHERWEB_CLIENT_SECRET": CLIENT_SECRET,
    "SHERWEB_SUBSCRIPTION_KEY": SUBSCRIPTION_KEY,
}
TOKEN_PATH = "/auth/oidc/connect/token"
API_PREFIX = "/service-provider/v1"
# Marks an answer scripted with ``time_out``: :class:`TimingOut` turns it into a time-out.
TIME_OUT_HEADER = "X-Fake-Time-Out"
# A safety net against a test that never gathers its held requests; not a measure.
HOLD_LIMIT = 30.0


# --------------------------------------------------------------------------
# Payloads, shaped as the OpenAPI spec says
# --------------------------------------------------------------------------


def customer(customer_id: str, name: str, suspended: str | None = None) -> dict[str, Any]:
    """A ``Customer``."""
    return {"id": customer_id, "displayName": name, "path": [name], "suspendedOn": suspended}


def charge(
    sku: str,
    product: str,
    *,
    quantity: int | Decimal = 1,
    cost: str = "10.00",
    prorated: str | None = None,
    start: str = "2026-11-01",
    end: str = "2026-11-30",
    cycle: str = "Monthly",
    kind: str = "Recurring",
) -> dict[str, Any]:
    """A ``Charge``; amounts are Decimals as the client decodes them."""
    return {
        "productName": product,
        "sku": sku,
        "chargeId": None,
        "chargeName": f"{product} - {kind.lower()}",
        "chargeType": kind,
        "billingCycleType": cycle,
        "periodFrom": start,
        "periodTo": end,
        "quantity": quantity,
        "costPrice": Decimal(cost),
        "costPriceProrated": Decimal(prorated or cost),
        "currency": "USD",
        "isProratable": True,
    }


def receivable(
    charges: list[dict[str, Any]], start: str = "2026-11-01", end: str = "2026-11-30"
) -> dict[str, Any]:
    """A ``ReceivableCharges``."""
    return {"periodFrom": start, "periodTo": end, "charges": charges}


def subscription(
    subscription_id: str, sku: str, product: str, *, quantity: int = 1, term: str | None = "Monthly"
) -> dict[str, Any]:
    """A ``Subscription``; ``term`` is the commitment term type (None: no commitment)."""
    return {
        "id": subscription_id,
        "productName": product,
        "description": product,
        "sku": sku,
        "quantity": quantity,
        "billingCycle": "monthly",
        "purchaseDate": "2025-03-14T15:09:26.5358979Z",
        "fees": {"recurringFee": Decimal("12.50"), "setupFee": 0, "currency": "Usd"},
        "commitmentTerm": None
        if term is None
        else {
            "type": term,
            "termEndDate": "2027-03-13",
            "renewalConfiguration": {"renewalDate": "2027-03-14", "scheduledQuantity": None},
            "committedMinimalQuantities": [],
        },
    }


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@dataclass
class Answer:
    """A scripted answer: status, body (text or JSON-able), headers.

    ``time_out``: the request is received, but its answer does not come within the
    client's time-out (a client on :class:`TimingOut` gets ``httpx.ReadTimeout`` at
    once). ``hold``: the answer waits until as many requests as the barrier has
    parties are held at once.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    time_out: bool = False
    hold: threading.Barrier | None = None


@dataclass(frozen=True)
class Seen:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


class FakeSherweb:
    """The fake's data and behaviour; :meth:`start` serves it."""

    def __init__(self) -> None:
        self.customers: list[dict[str, Any]] = []
        self.charges: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.token_lifetime = 3600
        self.page_size: int | None = None  # None: every customer in one "items"
        self.tokens_issued = 0
        self.requests: list[Seen] = []
        self._valid_tokens: set[str] = set()
        self._scripts: dict[str, deque[Answer]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.in_flight = 0
        self.max_in_flight = 0

    # -- set-up --------------------------------------------------------------

    def add_customer(
        self,
        customer_id: str,
        name: str,
        charges: list[dict[str, Any]] | None = None,
        subscriptions: list[dict[str, Any]] | None = None,
    ) -> None:
        """A customer with its receivable charges and subscriptions."""
        self.customers.append(customer(customer_id, name))
        self.charges[customer_id] = receivable(charges or [])
        self.subscriptions[customer_id] = {"items": subscriptions or []}

    def script(self, path: str, *answers: Answer) -> None:
        """Answer the next requests to ``path`` (e.g. "/customers") with ``answers`` first."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(answers)

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid (the API answers 401)."""
        with self._lock:
            self._valid_tokens.clear()

    def settings(self) -> SherwebSettings:
        """Settings pointing at this fake."""
        return SherwebSettings(api_url=self.url + API_PREFIX, token_url=self.url + TOKEN_PATH)

    def point_billing_at(self, source: Path, target: Path) -> None:
        """Write ``source`` (a billing.yaml) to ``target`` with the URLs of this fake."""
        billing = yaml.safe_load(source.read_text(encoding="utf-8"))
        settings = self.settings()
        billing["sherweb"].update(api_url=settings.api_url, token_url=settings.token_url)
        target.write_text(yaml.safe_dump(billing), encoding="utf-8")

    def api_requests(self, path: str) -> list[Seen]:
        """The requests received for an API path (without the prefix)."""
        return [r for r in self.requests if r.path == API_PREFIX + path]

    # -- serving -------------------------------------------------------------

    def start(self) -> FakeSherweb:
        """Serve on 127.0.0.1, on a free port."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        # A short poll interval: stop() waits for it.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- behaviour -----------------------------------------------------------

    def answer(self, seen: Seen) -> Answer:
        with self._lock:
            self.requests.append(seen)
            scripted = self._scripts.get(seen.path.removeprefix(API_PREFIX))
            if scripted:
                return scripted.popleft()
        if seen.path == TOKEN_PATH:
            return self._token(seen)
        if seen.headers.get("ocp-apim-subscription-key") != SUBSCRIPTION_KEY:
            return Answer(
                401,
                {
                    "statusCode": 401,
                    "message": "Access denied due to invalid subscription key. Make sure to "
                    "provide a valid key for an active subscription.",
                },
            )
        token = seen.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            valid = token in self._valid_tokens
        if not valid:
            return Answer(401, {"title": "Unauthorized", "status": 401})
        path = seen.path.removeprefix(API_PREFIX)
        if path == "/customers":
            return Answer(200, self._customers_page(seen.query.get("continuationToken")))
        customer_id = seen.query.get("customerId", "")
        if path == "/billing/receivable-charges" and customer_id in self.charges:
            return Answer(200, _checked(self.charges[customer_id], "ReceivableCharges"))
        if path == "/billing/subscriptions" and customer_id in self.subscriptions:
            return Answer(200, _checked(self.subscriptions[customer_id], "Subscriptions"))
        return Answer(404, {"title": "Not Found", "status": 404, "detail": f"no {path}"})

    def _token(self, seen: Seen) -> Answer:
        if seen.headers.get("ocp-apim-subscription-key") != SUBSCRIPTION_KEY:
            return Answer(
                401,
                {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
            )
        form = seen.form
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scope") != "service-provider"
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
        ):
            return Answer(400, {"error": "invalid_client"})
        with self._lock:
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self._valid_tokens.add(token)
        return Answer(
            200,
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"},
        )

    def _customers_page(self, continuation: str | None) -> dict[str, Any]:
        if self.page_size is None:
            return _checked({"items": self.customers}, "Customers")
        start = int(continuation or 0)
        end = start + self.page_size
        page: dict[str, Any] = _checked({"items": self.customers[start:end]}, "Customers")
        if end < len(self.customers):
            page["continuationToken"] = str(end)
        return page


def _checked(payload: dict[str, Any], definition: str) -> dict[str, Any]:
    errors = list(validator("sherweb-api", definition=definition).iter_errors(payload))
    assert not errors, f"the fake would serve an invalid {definition}: {errors[0].message}"
    return payload


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in these tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSherweb
    protocol_version = "HTTP/1.1"
    # Headers and body in one packet: no Nagle / delayed-ACK stall per request.
    disable_nagle_algorithm = True
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        self._serve({k: v[0] for k, v in parse_qs(body).items()})

    def _serve(self, form: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            form=form,
        )
        owner = self.owner
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            answer = owner.answer(seen)
            if answer.hold is not None:
                answer.hold.wait(HOLD_LIMIT)
        finally:
            with owner._lock:
                owner.in_flight -= 1
        if isinstance(answer.body, str | bytes):
            data = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
            content_type = "text/plain; charset=utf-8"
        else:
            # Decimals go out digit for digit, as Sherweb writes its amounts.
            data = simplejson.dumps(answer.body, use_decimal=True).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.time_out:
            self.send_header(TIME_OUT_HEADER, "1")
        self.end_headers()
        self.wfile.write(data)


class TimingOut(httpx.HTTPTransport):
    """A client's transport to the fake on which an answer scripted with ``time_out``
    never comes in time: the fake has the request, the client gets ``httpx.ReadTimeout``
    without waiting for any timer."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if TIME_OUT_HEADER in response.headers:
            response.close()
            raise httpx.ReadTimeout("the fake's answer did not come in time", request=request)
        return response


class FakeTime:
    """A clock and a sleep that advance together, instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


WALL_CLOCK = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


# A host name that never resolves (RFC 6761), and the API's URLs on it.
UNRESOLVABLE = "sherweb.invalid"
UNRESOLVABLE_URLS = {
    "api_url": f"https://{UNRESOLVABLE}{API_PREFIX}",
    "token_url": f"https://{UNRESOLVABLE}{TOKEN_PATH}",
}


def make_unresolvable(monkeypatch: Any) -> None:
    """Make :data:`UNRESOLVABLE` fail to resolve as a missing DNS name does, without
    asking any DNS server (the real httpx stack, down to ``socket.getaddrinfo``)."""
    resolve = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNRESOLVABLE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)

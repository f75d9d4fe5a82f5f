"""The Sherweb API client against a fake Sherweb on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.sherweb_fake import (
    CLIENT_SECRET,
    CREDENTIALS,
    SUBSCRIPTION_KEY,
    UNRESOLVABLE_URLS,
    WALL_CLOCK,
    Answer,
    FakeSherweb,
    FakeTime,
    TimingOut,
    charge,
    make_unresolvable,
    subscription,
)

from reconciler.base.errors import UserError
from reconciler.model.config import SherwebSettings
from reconciler.sherweb.client import (
    Credentials,
    PsaIntegrationError,
    SherwebAuthError,
    SherwebClient,
    SherwebError,
    SherwebUnreachable,
)
from reconciler.sherweb.retry import RetryPolicy, is_retryable, server_delay

CONTOSO = "3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11"
FABRIKAM = "7d9e4a20-1b3c-4f5d-8e6a-9b0c1d2e3f40"
DATE = dt.date(2026, 11, 15)


@pytest.fixture
def fake() -> Iterator[FakeSherweb]:
    server = FakeSherweb()
    server.add_customer(
        CONTOSO,
        "Contoso Dental Group",
        charges=[charge("MS-365-BP-M", "Microsoft 365 Business Premium", quantity=12, cost="18.70")],
        subscriptions=[subscription("a0000000-0000-4000-8000-000000000001", "MS-365-BP-M", "Microsoft 365 Business Premium")],
    )  # fmt: skip
    server.add_customer(FABRIKAM, "Fabrikam Manufacturing")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def make_client(
    fake: FakeSherweb, time_: FakeTime, *, timeout: float = 30.0, retry: RetryPolicy | None = None
) -> SherwebClient:
    return SherwebClient(
        fake.settings(),
        CREDENTIALS,
        timeout=timeout,
        retry=retry,
        clock=time_.clock,
        sleep=time_.sleep,
        now=lambda: WALL_CLOCK,
        draw=lambda: 0.5,
        transport=TimingOut(),
    )


# --------------------------------------------------------------------------
# Token
# --------------------------------------------------------------------------


def test_token_is_fetched_once_and_every_call_carries_the_subscription_key(fake, time_):
    with make_client(fake, time_) as client:
        assert [c["displayName"] for c in client.customers()] == [
            "Contoso Dental Group",
            "Fabrikam Manufacturing",
        ]
        client.receivable_charges(CONTOSO, DATE)
        client.subscriptions(CONTOSO)
    assert fake.tokens_issued == 1
    token_requests = [r for r in fake.requests if r.method == "POST"]
    assert len(token_requests) == 1
    assert token_requests[0].form == {
        "grant_type": "client_credentials",
        "client_id": "reconciler-tests",
        "client_secret": CLIENT_SECRET,
        "scope": "service-provider",
    }
    assert all(r.headers["ocp-apim-subscription-key"] == SUBSCRIPTION_KEY for r in fake.requests)
    api = [r for r in fake.requests if r.method == "GET"]
    assert {r.headers["authorization"] for r in api} == {"Bearer token-1"}


def test_token_is_renewed_shortly_before_it_expires(fake, time_):
    fake.token_lifetime = 3600
    with make_client(fake, time_) as client:
        client.customers()
        time_.now += 3600 - 61  # still more than the 60 s margin left
        client.customers()
        assert fake.tokens_issued == 1
        time_.now += 2  # now inside the margin
        client.customers()
    assert fake.tokens_issued == 2
    last = fake.api_requests("/customers")[-1]
    assert last.headers["authorization"] == "Bearer token-2"


def test_a_short_lived_token_is_renewed_a_tenth_of_its_life_early(fake, time_):
    fake.token_lifetime = 100
    with make_client(fake, time_) as client:
        client.customers()
        time_.now += 89
        client.customers()
        assert fake.tokens_issued == 1
        time_.now += 2
        client.customers()
    assert fake.tokens_issued == 2


def test_a_revoked_token_is_replaced_once_on_401(fake, time_):
    with make_client(fake, time_) as client:
        client.customers()
        fake.revoke_tokens()
        assert len(client.customers()) == 2
    assert fake.tokens_issued == 2
    assert [r.headers["authorization"] for r in fake.api_requests("/customers")] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_401_twice_names_the_variables_to_check(fake, time_):
    unauthorized = Answer(401, {"title": "Unauthorized", "status": 401})
    fake.script("/customers", unauthorized, unauthorized)
    with make_client(fake, time_) as client, pytest.raises(SherwebAuthError) as caught:
        client.customers()
    text = str(caught.value)
    assert "GET /customers" in text
    for variable in ("SHERWEB_CLIENT_ID", "SHERWEB_CLIENT_SECRET", "SHERWEB_SUBSCRIPTION_KEY"):
        assert variable in text
    assert fake.tokens_issued == 2  # refreshed once, not in a loop


def test_a_wrong_subscription_key_points_at_its_variable(fake, time_):
    wrong = Credentials("reconciler-tests", CLIENT_SECRET, "not-the-key")
    client = SherwebClient(fake.settings(), wrong, clock=time_.clock, sleep=time_.sleep)
    with client, pytest.raises(SherwebAuthError) as caught:
        client.customers()
    assert "SHERWEB_SUBSCRIPTION_KEY" in str(caught.value)
    assert "SHERWEB_CLIENT_SECRET" not in str(caught.value)
    assert "not-the-key" not in str(caught.value)


def test_refused_client_credentials_name_the_client_variables(fake, time_):
    wrong = Credentials("reconciler-tests", "wrong-secret", SUBSCRIPTION_KEY)
    client = SherwebClient(fake.settings(), wrong, clock=time_.clock, sleep=time_.sleep)
    with client, pytest.raises(SherwebAuthError) as caught:
        client.customers()
    text = str(caught.value)
    assert "invalid_client" in text
    assert "SHERWEB_CLIENT_ID" in text and "SHERWEB_CLIENT_SECRET" in text
    assert "wrong-secret" not in text
    assert fake.api_requests("/customers") == []


def test_credentials_come_from_the_named_variables_and_never_show(fake):
    settings = fake.settings()
    environ = {
        "SHERWEB_CLIENT_ID": "id",
        "SHERWEB_CLIENT_SECRET": "very-secret",
        "SHERWEB_SUBSCRIPTION_KEY": "key",
    }
    credentials = Credentials.from_environment(settings, environ)
    assert (credentials.client_id, credentials.client_secret) == ("id", "very-secret")
    assert "very-secret" not in repr(credentials)
    with pytest.raises(UserError) as caught:
        Credentials.from_environment(settings, {"SHERWEB_CLIENT_ID": "id"})
    assert "SHERWEB_CLIENT_SECRET, SHERWEB_SUBSCRIPTION_KEY" in str(caught.value)


# --------------------------------------------------------------------------
# Endpoints and paging
# --------------------------------------------------------------------------


def test_charges_and_subscriptions_are_decoded_exactly(fake, time_):
    with make_client(fake, time_) as client:
        charges = client.receivable_charges(CONTOSO, DATE)
        subscriptions = client.subscriptions(CONTOSO)
    [request] = fake.api_requests("/billing/receivable-charges")
    assert request.query == {"customerId": CONTOSO, "date": "2026-11-15"}
    assert charges["charges"][0]["costPrice"] == Decimal("18.70")
    assert isinstance(charges["charges"][0]["costPrice"], Decimal)
    assert subscriptions["items"][0]["commitmentTerm"]["type"] == "Monthly"


def test_many_customers_in_one_answer(fake, time_):
    for n in range(1000):
        fake.add_customer(f"00000000-0000-4000-8000-{n:012d}", f"Customer {n}")
    with make_client(fake, time_) as client:
        assert len(client.customers()) == 1002
    assert len(fake.api_requests("/customers")) == 1


def test_paging_through_many_customers(fake, time_):
    for n in range(248):
        fake.add_customer(f"00000000-0000-4000-8000-{n:012d}", f"Customer {n}")
    fake.page_size = 100
    with make_client(fake, time_) as client:
        customers = client.customers()
    assert len(customers) == 250
    assert len({c["id"] for c in customers}) == 250
    pages = fake.api_requests("/customers")
    assert [r.query.get("continuationToken") for r in pages] == [None, "100", "200"]


def test_a_repeated_continuation_token_stops_the_loop(fake, time_):
    page = {"items": [], "continuationToken": "same"}
    fake.script("/customers", Answer(200, page), Answer(200, page))
    with make_client(fake, time_) as client, pytest.raises(SherwebError, match="same continuation"):
        client.customers()


# --------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------


def test_429_honours_retry_after_seconds(fake, time_):
    fake.script("/customers", Answer(429, {"statusCode": 429}, {"Retry-After": "7"}))
    with make_client(fake, time_) as client:
        assert len(client.customers()) == 2
    assert time_.sleeps == [7.5]  # 7 s asked + jitter (draw 0.5 of at most 1 s)


def test_429_honours_retry_after_as_an_http_date(fake, time_):
    later = "Sun, 29 Nov 2026 12:00:20 GMT"  # WALL_CLOCK + 20 s
    fake.script("/customers", Answer(429, "", {"Retry-After": later}))
    with make_client(fake, time_) as client:
        client.customers()
    assert time_.sleeps == [20.5]


def test_429_reads_try_again_in_the_body_without_retry_after(fake, time_):
    body = {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 12 seconds."}
    fake.script("/billing/receivable-charges", Answer(429, body))
    with make_client(fake, time_) as client:
        client.receivable_charges(CONTOSO, DATE)
    assert time_.sleeps == [12.5]


def test_429_without_any_hint_backs_off_exponentially(fake, time_):
    fake.script("/customers", *[Answer(429, {"statusCode": 429})] * 3)
    with make_client(fake, time_) as client:
        client.customers()
    # Equal jitter with draw 0.5: three quarters of 1, 2, 4 seconds.
    assert time_.sleeps == [0.75, 1.5, 3.0]


def test_500_then_success(fake, time_):
    fake.script("/billing/subscriptions", Answer(500, "Internal Server Error"))
    with make_client(fake, time_) as client:
        assert client.subscriptions(CONTOSO)["items"][0]["sku"] == "MS-365-BP-M"
    assert len(fake.api_requests("/billing/subscriptions")) == 2


def test_server_errors_give_up_after_the_attempts_allowed(fake, time_):
    fake.script("/customers", *[Answer(503, "Service Unavailable")] * 10)
    retry = RetryPolicy(max_attempts=4)
    with make_client(fake, time_, retry=retry) as client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert len(fake.api_requests("/customers")) == 4
    assert "gave up after 4 attempt(s)" in str(caught.value)
    assert "HTTP 503" in str(caught.value)


def test_retrying_stops_within_the_total_time_allowed(fake, time_):
    fake.script("/customers", *[Answer(429, "", {"Retry-After": "40"})] * 10)
    retry = RetryPolicy(max_attempts=100, max_total=100)
    with make_client(fake, time_, retry=retry) as client, pytest.raises(SherwebError):
        client.customers()
    assert sum(time_.sleeps) <= 100
    assert (
        len(fake.api_requests("/customers")) == 3
    )  # waits of 40.5 and 40.5; a third would pass 100


def test_a_wait_longer_than_the_budget_gives_up_at_once_and_says_so(fake, time_):
    fake.script("/customers", Answer(429, "", {"Retry-After": "3600"}))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert time_.sleeps == []
    assert "asked to wait 3600 s" in str(caught.value)


def test_other_client_errors_are_not_retried(fake, time_):
    problem = {"title": "Bad Request", "status": 400, "detail": "date is not valid"}
    fake.script("/billing/receivable-charges", Answer(400, problem))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.receivable_charges(CONTOSO, DATE)
    assert len(fake.api_requests("/billing/receivable-charges")) == 1
    assert time_.sleeps == []
    assert "date is not valid" in str(caught.value)
    assert f"customer {CONTOSO}" in str(caught.value)


def test_an_unknown_customer_is_a_clear_404(fake, time_):
    with make_client(fake, time_) as client, pytest.raises(SherwebError, match="not found"):
        client.subscriptions("00000000-0000-4000-8000-00000000dead")


def test_a_time_out_is_retried(fake, time_):
    fake.script("/customers", Answer(200, {"items": []}, time_out=True))
    with make_client(fake, time_) as client:
        assert len(client.customers()) == 2
    assert len(fake.api_requests("/customers")) == 2
    assert len(time_.sleeps) == 1


def test_time_outs_every_time_end_in_a_clear_error(fake, time_):
    fake.script("/customers", *[Answer(200, {"items": []}, time_out=True)] * 2)
    retry = RetryPolicy(max_attempts=2)
    client = make_client(fake, time_, timeout=7.5, retry=retry)
    with client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert "no answer within 7.5 s" in str(caught.value)
    assert len(fake.api_requests("/customers")) == 2


def test_a_refused_connection_is_reported_at_once_naming_the_address(time_):
    fake = FakeSherweb().start()
    settings = fake.settings()
    fake.stop()  # nothing listens on that port any more
    client = SherwebClient(settings, CREDENTIALS, clock=time_.clock, sleep=time_.sleep)
    with client, pytest.raises(SherwebUnreachable) as caught:
        client.customers()
    address = fake.url.removeprefix("http://")
    assert f"{address} refused the connection" in str(caught.value)
    assert "throttl" not in str(caught.value)
    assert time_.sleeps == []


def test_an_unresolvable_host_is_reported_at_once_naming_it(fake, time_, monkeypatch):
    make_unresolvable(monkeypatch)
    settings = dataclasses.replace(fake.settings(), **UNRESOLVABLE_URLS)
    said: list[str] = []
    client = SherwebClient(
        settings, CREDENTIALS, clock=time_.clock, sleep=time_.sleep, notify=said.append
    )
    with client, pytest.raises(SherwebUnreachable) as caught:
        client.customers()
    message = str(caught.value)
    assert "the host name sherweb.invalid cannot be resolved" in message
    assert "billing.yaml" in message and "throttl" not in message
    assert time_.sleeps == [] and said == []


def answering(*first: Exception) -> httpx.MockTransport:
    """A transport that raises ``first`` in turn, then answers as Sherweb does."""
    pending = list(first)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            raise pending.pop(0)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"items": []})

    return httpx.MockTransport(handle)


def mocked_client(time_: FakeTime, transport: httpx.BaseTransport, said: list[str]):
    settings = SherwebSettings(
        api_url="https://api.example/v1", token_url="https://api.example/token"
    )
    return SherwebClient(
        settings, CREDENTIALS, clock=time_.clock, sleep=time_.sleep, draw=lambda: 0.5,
        transport=transport, notify=said.append,
    )  # fmt: skip


def test_no_connection_within_the_time_out_is_reported_at_once(time_):
    said: list[str] = []
    transport = answering(httpx.ConnectTimeout("timed out"))
    with (
        mocked_client(time_, transport, said) as client,
        pytest.raises(SherwebUnreachable) as caught,
    ):
        client.customers()
    assert "api.example accepted no connection within 30 s" in str(caught.value)
    assert time_.sleeps == [] and said == []


def test_a_connection_dropped_mid_answer_is_sent_again(time_):
    said: list[str] = []
    transport = answering(
        httpx.RemoteProtocolError("Server disconnected without sending a response.")
    )
    with mocked_client(time_, transport, said) as client:
        assert client.customers() == []
    assert said == [
        "POST https://api.example/token: Sherweb gave no answer (the connection dropped "
        "(RemoteProtocolError: Server disconnected without sending a response.)); "
        "waiting 0.8 s (attempt 2 of 6)"
    ]


def test_each_wait_is_said_with_the_attempt_to_come(fake, time_):
    fake.script(
        "/customers",
        Answer(429, {"statusCode": 429}, {"Retry-After": "7"}),
        Answer(503, "Service Unavailable"),
        Answer(200, {"items": []}, time_out=True),
    )
    said: list[str] = []
    client = SherwebClient(
        fake.settings(), CREDENTIALS, timeout=0.1, clock=time_.clock, sleep=time_.sleep,
        now=lambda: WALL_CLOCK, draw=lambda: 0.5, notify=said.append, transport=TimingOut(),
    )  # fmt: skip
    with client:
        client.customers()
    assert said == [
        "GET /customers: Sherweb answered 429 Too Many Requests; waiting 7.5 s (attempt 2 of 6)",
        "GET /customers: Sherweb answered 503 Service Unavailable; waiting 1.5 s (attempt 3 of 6)",
        "GET /customers: Sherweb gave no answer (no answer within 0.1 s); waiting 3.0 s "
        "(attempt 4 of 6)",
    ]
    assert time_.sleeps == [7.5, 1.5, 3.0]


def test_giving_up_on_throttling_says_throttling_and_on_errors_says_errors(fake, time_):
    retry = RetryPolicy(max_attempts=2)
    fake.script("/customers", *[Answer(429, {"statusCode": 429})] * 2)
    with make_client(fake, time_, retry=retry) as client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert "throttling" in str(caught.value)
    fake.script("/customers", *[Answer(502, "Bad Gateway")] * 2)
    with make_client(fake, time_, retry=retry) as client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert "HTTP 502" in str(caught.value) and "throttling" not in str(caught.value)


def test_cancel_stops_a_request_between_attempts(fake, time_):
    fake.script("/customers", *[Answer(503, "")] * 5)
    client = make_client(fake, time_)

    def sleep_then_cancel(seconds: float) -> None:
        time_.sleep(seconds)
        client.cancel()

    client._sleep = sleep_then_cancel
    with client, pytest.raises(SherwebError, match="cancelled"):
        client.customers()
    assert len(fake.api_requests("/customers")) == 1


# --------------------------------------------------------------------------
# Bad answers
# --------------------------------------------------------------------------


def test_malformed_json_names_the_endpoint(fake, time_):
    fake.script("/billing/receivable-charges", Answer(200, '{"periodFrom": "2026-11-01", '))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.receivable_charges(CONTOSO, DATE)
    text = str(caught.value)
    assert "GET /billing/receivable-charges" in text
    assert "not valid JSON" in text
    assert len(fake.api_requests("/billing/receivable-charges")) == 1


def test_an_answer_outside_the_contract_names_the_field(fake, time_):
    broken = {"periodFrom": "2026-11-01", "periodTo": "2026-11-30", "charges": [{"sku": "X"}]}
    fake.script("/billing/receivable-charges", Answer(200, broken))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.receivable_charges(CONTOSO, DATE)
    assert "ReceivableCharges" in str(caught.value)
    assert "charges[0]" in str(caught.value)


def test_fields_the_contract_does_not_name_are_dropped_not_refused(fake, time_, caplog):
    answer = {
        "periodFrom": "2026-11-01",
        "periodTo": "2026-11-30",
        "region": "CA",
        "charges": [
            {
                **charge("MS-365-BP-M", "Microsoft 365 Business Premium", quantity=12),
                "carbonFootprint": 1,
            }
        ],
    }
    fake.script("/billing/receivable-charges", Answer(200, answer))
    with caplog.at_level("INFO"), make_client(fake, time_) as client:
        charges = client.receivable_charges(CONTOSO, DATE)
    assert "region" not in charges and "carbonFootprint" not in charges["charges"][0]
    assert charges["charges"][0]["quantity"] == 12
    assert "ignored fields the API contract does not name: charges[0].carbonFootprint, region" in (
        caplog.text
    )


def test_a_known_field_of_the_wrong_type_is_refused_all_the_same(fake, time_):
    wrong = {
        **charge("MS-365-BP-M", "Microsoft 365 Business Premium", quantity=12),
        "extra": True,
        "quantity": "twelve",
    }
    answer = {"periodFrom": "2026-11-01", "periodTo": "2026-11-30", "charges": [wrong]}
    fake.script("/billing/receivable-charges", Answer(200, answer))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.receivable_charges(CONTOSO, DATE)
    assert "charges[0].quantity: 'twelve' is not a number" in str(caught.value)


def test_the_psa_integration_limitation_is_recognised(fake, time_):
    problem = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "Bad Request",
        "status": 400,
        "detail": "Receivable charges are not available while a PSA integration is enabled.",
    }
    fake.script("/billing/receivable-charges", Answer(400, problem))
    with make_client(fake, time_) as client, pytest.raises(PsaIntegrationError) as caught:
        client.receivable_charges(CONTOSO, DATE)
    text = str(caught.value)
    assert "PSA integration" in text
    assert "--charges FILE" in text


def test_a_server_that_echoes_secrets_does_not_put_them_on_screen(fake, time_):
    echo = {
        "title": "Bad Request",
        "detail": f"client_secret={CLIENT_SECRET} key={SUBSCRIPTION_KEY}",
    }
    fake.script("/customers", Answer(400, echo))
    with make_client(fake, time_) as client, pytest.raises(SherwebError) as caught:
        client.customers()
    assert CLIENT_SECRET not in str(caught.value)
    assert SUBSCRIPTION_KEY not in str(caught.value)


# --------------------------------------------------------------------------
# Retry rules (pure)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(429, True), (500, True), (502, True), (503, True), (504, True), (501, False), (400, False),
     (401, False), (403, False), (404, False), (409, False), (200, False)],
)  # fmt: skip
def test_which_statuses_are_retried(status, retryable):
    assert is_retryable(status) is retryable


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "5"}, "", 5.0),
        ({"Retry-After": " 2.5 "}, "", 2.5),
        ({"Retry-After": "Sun, 29 Nov 2026 12:01:00 GMT"}, "", 60.0),
        ({"Retry-After": "Sun, 29 Nov 2026 11:00:00 GMT"}, "", 0.0),  # in the past
        ({}, "Rate limit is exceeded. Try again in 30 seconds.", 30.0),
        ({}, '{"message": "try again in 1 second"}', 1.0),
        ({"Retry-After": "soon"}, "Try again in 9 seconds", 9.0),
        ({}, "Service Unavailable", None),
    ],
)
def test_server_delay(headers, body, expected):
    assert server_delay(headers, body, WALL_CLOCK) == expected


@given(
    attempt=st.integers(1, 30),
    draw=st.floats(0, 1, exclude_max=True),
    server=st.none() | st.floats(0, 10_000),
)
def test_backoff_stays_within_its_bounds(attempt, draw, server):
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0)
    wait = policy.delay(attempt, server, draw)
    if server is None:
        step = min(60.0, 2.0 ** (attempt - 1))
        assert step / 2 <= wait <= step
    else:
        assert server <= wait <= server + 1.0


def test_the_fake_serves_what_the_openapi_spec_describes(fake, reference):
    """The fake's payloads check out against definitions derived afresh from Sherweb's spec."""
    from jsonschema import Draft202012Validator
    from support.openapi_schemas import derive

    definitions = derive(reference / "sherweb" / "ServiceProvider.OpenAPI.beta08.json")
    payloads = [
        ("Customers", {"items": fake.customers}),
        *(("ReceivableCharges", c) for c in fake.charges.values()),
        *(("Subscriptions", s) for s in fake.subscriptions.values()),
    ]
    for definition, payload in payloads:
        schema = {"$defs": definitions, "$ref": f"#/$defs/{definition}"}
        errors = list(Draft202012Validator(schema).iter_errors(payload))
        assert not errors, f"{definition}: {errors[0].message}"

"""GET /status: who may see it, what it shows, and how it looks in a real browser."""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.api_world import HTTP, api_world

from reconciler.store.records import NewStatusError, RequestState

PROXIED = {"X-Forwarded-For": "203.0.113.7"}


def _trouble(w) -> None:
    """A sync, a plan applied, a record that stays locked: an error, a failed request."""
    world = w.world
    assert world.sync().ok
    world.apply(world.plan())
    locked = []

    def lock_first_modification(request: str) -> None:
        if "<InvoiceModRq" in request and not locked:
            locked.append(request)
            world.simulator.faults.lock_next(3, code=3175)

    world.on_request(lock_first_modification)
    assert "1 error" in world.sync().status


def test_the_page_is_open_on_loopback_and_needs_a_token_from_elsewhere(tmp_path):
    with api_world(tmp_path) as w:
        page = HTTP.get(w.base + "/status")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Northwind IT Services LLC" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]

        proxied = HTTP.get(w.base + "/status", headers=PROXIED)
        assert proxied.status_code == 401 and "needs a token" in proxied.text
        assert "Northwind" not in proxied.text
        bearer = HTTP.get(
            w.base + "/status", headers={**PROXIED, "Authorization": f"Bearer {w.plan_token}"}
        )
        assert bearer.status_code == 200 and "Northwind IT Services LLC" in bearer.text

        wrong = HTTP.get(w.base + "/status", params={"token": "rct_nope"}, headers=PROXIED)
        assert wrong.status_code == 401 and "not valid" in wrong.text
        signed_in = HTTP.get(w.base + "/status", params={"token": w.plan_token}, headers=PROXIED)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/status"
        cookie = signed_in.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/status"):
            assert attribute in cookie
        with_cookie = HTTP.get(
            w.base + "/status",
            headers={**PROXIED, "Cookie": cookie.split(";")[0]},
        )
        assert with_cookie.status_code == 200 and "Northwind IT Services LLC" in with_cookie.text
        # The API takes bearer tokens only: a cookie never authorises a call.
        assert (
            HTTP.get(w.base + "/api/v1/status", headers={"Cookie": cookie.split(";")[0]})
        ).status_code == 401

        w.world.store.tokens.revoke("ci-plan", w.world.clock.now())
        revoked = HTTP.get(w.base + "/status", headers={**PROXIED, "Cookie": cookie.split(";")[0]})
        assert revoked.status_code == 401


@pytest.mark.parametrize(
    ("headers", "secure"),
    [
        (PROXIED, False),
        ({**PROXIED, "X-Forwarded-Proto": "https"}, True),
        ({**PROXIED, "X-Forwarded-Proto": "https, http"}, True),
        ({"Forwarded": 'for=203.0.113.7;proto="https";host=qb.example.com'}, True),
        ({"Forwarded": "for=203.0.113.7;proto=http, for=10.0.0.2;proto=https"}, False),
    ],
)
def test_the_cookie_is_secure_when_a_proxy_says_the_browser_used_https(tmp_path, headers, secure):
    # The browser must never send the token over plain HTTP once it reached the
    # page over HTTPS, whichever proxy ended TLS.
    with api_world(tmp_path) as w:
        signed_in = HTTP.get(w.base + "/status", params={"token": w.plan_token}, headers=headers)
        assert signed_in.status_code == 303
        assert ("; Secure" in signed_in.headers["set-cookie"]) is secure


def test_the_page_shows_the_sync_the_queue_the_errors_and_the_plans(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    with api_world(tmp_path) as w:
        _trouble(w)
        store, company = w.world.store, w.world.company
        [error] = store.errors.unresolved(company.id)
        [failed] = store.queue.requests(company.id, [RequestState.FAILED])
        [plan] = store.plans.for_company(company.id)
        page = HTTP.get(w.base + "/status").text
        for text in (
            "Last sync",
            "error",
            "Snapshot",
            "Version 3",
            "Billing mode",
            "advance",
            f"Plan <code>{plan.key[:12]}</code>",
            "1 failed",
            html.escape(failed.label),
            error.code,
            "What to do:",
            "Still locked after 3 tries",
            "Recent plans",
            "by test",
        ):
            assert text in page, text
        for secret in (w.plan_token, w.apply_token, company.password_hash):
            assert secret not in page
        assert "Rejected calls" not in page


def test_the_page_shows_rejected_calls_apart_from_the_sync_errors(tmp_path):
    with api_world(tmp_path) as w:
        assert w.world.sync().ok
        HTTP.post(w.world.url, content=b"<not soap")
        page = HTTP.get(w.base + "/status").text
        assert "No errors" in page
        rejected = page[page.index("<h3>Rejected calls</h3>") :]
        assert "1 (1 malformed) at " in rejected and "none is a sync error" in rejected


def test_what_the_page_shows_is_escaped(tmp_path):
    with api_world(tmp_path) as w:
        store, company = w.world.store, w.world.company
        store.errors.record(
            company.id,
            NewStatusError(
                "<script>alert('object')</script>",
                "3140",
                "<img src=x onerror=alert(1)>",
                "Fix <b>this</b> & that",
            ),
            dt.datetime.now(dt.UTC),
        )
        page = HTTP.get(w.base + "/status").text
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>this" not in page
        assert "&lt;script&gt;" in page and "Fix &lt;b&gt;this&lt;/b&gt; &amp; that" in page


# ---------------------------------------------------------------- a real browser

PHONE = (390, 844)


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def _browse(browser: str, profile: Path, url: str, *action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={PHONE[0]},{PHONE[1]}",
            *action,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _pixels(path: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and the RGB pixels of a PNG."""
    import png

    width, height, rows, _ = png.Reader(filename=str(path)).asRGBA8()
    pixels = []
    for row in rows:
        pixels.extend(zip(row[0::4], row[1::4], row[2::4], strict=True))
    return width, height, pixels


@pytest.mark.slow
def test_the_page_on_a_phone_in_headless_chromium(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium (Debian: apt-get install chromium)")
    with api_world(tmp_path / "state") as w:
        _trouble(w)
        url = w.base + "/status"
        shot = tmp_path / "status.png"
        taken = _browse(browser, tmp_path / "profile", url, f"--screenshot={shot}")
        assert shot.is_file(), taken.stderr[-2000:]
        dom = _browse(browser, tmp_path / "profile", url, "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]

    for text in (
        "Northwind IT Services LLC",
        "Last sync",
        "Applied",
        "1 error",
        "Snapshot",
        "Queue",
        "1 failed",
        "What to do:",
        "Still locked after 3 tries",
        "Recent plans",
    ):
        assert text in dom.stdout, text

    width, height, pixels = _pixels(shot)
    assert (width, height) == PHONE
    colours = set(pixels)
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    # The red of the error badge shows on the first screen: the failing sync is
    # visible at a glance, without scrolling.
    error_red = (0xA3, 0x26, 0x1C)
    assert any(
        sum(abs(a - b) for a, b in zip(pixel, error_red, strict=True)) < 30 for pixel in pixels
    )


def test_the_page_of_a_demo_state_says_its_times_are_the_demo_clock(tmp_path):
    from click.testing import CliRunner

    from reconciler.cli import cli
    from reconciler.commands.state import state_clock
    from reconciler.status.page import company_page, render_status_page
    from reconciler.store import open_store

    state = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["demo", "--state-dir", str(state)]).exit_code == 0
    store = open_store(state, read_only=True)
    try:
        [company] = store.companies.all()
        now = state_clock(store).now()
        page = render_status_page([company_page(store, company, now)], now)
    finally:
        store.close()
    assert "2026-12-15 12:" in page and "(demo clock, " in page
    assert "(in " not in page

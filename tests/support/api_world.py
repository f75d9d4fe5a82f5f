"""The example world with the JSON API served next to the SOAP endpoint, and tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.api.app import MAX_API_BODY, ApiApp
from reconciler.api.tokens import hash_token, new_token
from reconciler.config.load import load_config
from reconciler.qbwc.app import QBWCApp
from reconciler.qbwc.run import SyncRun
from reconciler.qbwc.service import QBWCService
from reconciler.store import Store, open_store
from reconciler.store.records import CompanyRecord, TokenScope
from reconciler.web.app import WebApp
from reconciler.web.server import Listen, running
from support.paths import DATA
from support.qbwc import FakeClock
from support.sync_world import CHARGES_DATE, REPO, World, assemble, sample_simulator

TLS = DATA / "tls"
# One client for the whole run (building one loads a TLS context: slow).
HTTP = httpx.Client(timeout=30)


def add_token(store: Store, company: CompanyRecord, name: str, scope: TokenScope) -> str:
    """What `reconcile token create` records; the token itself."""
    token, key_id = new_token()
    store.tokens.add(
        company.id,
        name=name,
        scope=scope,
        key_id=key_id,
        token_hash=hash_token(token),
        at=dt.datetime.now(dt.UTC),
    )
    return token


@dataclass
class ApiWorld:
    world: World
    base: str  # the server's base URL (the API is under /api/v1)
    plan_token: str
    apply_token: str

    def get(self, path: str, token: str | None = None, **options) -> httpx.Response:
        return HTTP.get(self.base + path, headers=_auth(token), **options)

    def post(self, path: str, token: str | None = None, **options) -> httpx.Response:
        headers = {**_auth(token), **options.pop("headers", {})}
        return HTTP.post(self.base + path, headers=headers, **options)


def _auth(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@contextmanager
def api_world(
    state_dir: Path,
    *,
    start: dt.datetime = CHARGES_DATE,
    max_body: int = MAX_API_BODY,
    tls: bool = False,
) -> Iterator[ApiWorld]:
    """The example world (sample company, emulator) with the API, on 127.0.0.1
    (over HTTPS with the test certificate when ``tls``)."""
    clock = FakeClock(start)
    store = open_store(state_dir)
    service = QBWCService(store, SyncRun(store, clock), clock)
    app = WebApp(QBWCApp(service), ApiApp(store, clock, max_body=max_body))
    certificate = {"certfile": TLS / "localhost.pem", "keyfile": TLS / "localhost.key"}
    listen = Listen(host="127.0.0.1", port=0, threads=8, **(certificate if tls else {}))
    with running(app, listen) as server:
        world = assemble(
            store, load_config(REPO / "config"), clock, sample_simulator(clock), server.url
        )
        yield ApiWorld(
            world,
            server.url.removesuffix("/qbwc"),
            add_token(store, world.company, "ci-plan", TokenScope.PLAN),
            add_token(store, world.company, "ci-apply", TokenScope.APPLY),
        )
    store.close()

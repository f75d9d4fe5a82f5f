"""A whole world for end-to-end tests: the example configuration and charges,
the sample company in the QuickBooks simulator, the server on 127.0.0.1 and
the Web Connector emulator talking to it over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from reconciler.base.resources import data_dir
from reconciler.commands.plan import plan_against
from reconciler.config.load import load_config
from reconciler.model.config import Config
from reconciler.plan.document import Document
from reconciler.plan.profile import profile_from_config
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.qbwc.app import QBWCApp
from reconciler.qbwc.credentials import hash_password
from reconciler.qbwc.run import RunLimits, SyncRun
from reconciler.qbwc.service import QBWCService
from reconciler.queue.apply import Applied, queue_plan
from reconciler.sandbox.books import Books
from reconciler.sandbox.elements import text_of
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.simulator import QuickBooksSimulator
from reconciler.sandbox.webconnector import RunResult, WebConnector
from reconciler.sherweb.charges import load_charges
from reconciler.store import Store, open_store
from reconciler.store.records import CompanyRecord
from reconciler.web.app import WebApp
from reconciler.web.server import Listen, running
from support.paths import REPO
from support.qbwc import HTTP, PASSWORD, FakeClock

REPO = REPO
USERNAME = "northwind"
# The example charges bill December 2026; invoices are due 2026-12-01 05:00 EST.
CHARGES_DATE = dt.datetime(2026, 12, 15, 17, 0, tzinfo=dt.UTC)


@dataclass
class World:
    store: Store
    company: CompanyRecord
    clock: FakeClock
    simulator: QuickBooksSimulator
    config: Config
    charges_path: Path
    url: str
    web_connector: WebConnector
    sleeps: list[float] = field(default_factory=list)

    @property
    def qb(self) -> Books:
        return self.simulator.books

    def sync(self) -> RunResult:
        """One Update Selected."""
        return self.web_connector.run()

    def plan(self) -> Document:
        """`reconcile plan` against the latest snapshot."""
        source = StoredSnapshot.latest(self.store, self.company, self.clock)
        return plan_against(source, self.config, load_charges(self.charges_path))

    def apply(self, document: Document, *, force: bool = False) -> Applied:
        """`reconcile apply PLAN`."""
        return queue_plan(
            self.store,
            self.store.companies.get(self.company.id),
            document,
            profile=profile_from_config(self.config),
            now=self.clock.now(),
            actor="test",
            commit=None,
            source="test plan",
            force=force,
        )

    def invoices(self) -> dict[str, dict[str, object]]:
        """Every invoice in QuickBooks by TxnID: its EditSequence, GUID and lines."""
        found = {}
        for txn_id, ret in self.qb.invoices.items():
            lines = [
                (
                    text_of(line, "TxnLineID"),
                    text_of(line, "ItemRef/FullName"),
                    text_of(line, "Desc"),
                    text_of(line, "Quantity"),
                    text_of(line, "Rate"),
                )
                for line in ret.iter("InvoiceLineRet")
            ]
            found[txn_id] = {
                "edit_sequence": text_of(ret, "EditSequence"),
                "external_guid": (text_of(ret, "ExternalGUID") or "").strip("{}").lower() or None,
                "customer": text_of(ret, "CustomerRef/FullName"),
                "lines": lines,
                "is_paid": text_of(ret, "IsPaid") == "true",
                "applied": text_of(ret, "AppliedAmount"),
            }
        return found

    def on_request(self, hook: Callable[[str], None]) -> None:
        """Run ``hook(request)`` before QuickBooks processes each request."""
        original = self.simulator.process

        def process(request: str) -> str:
            hook(request)
            return original(request)

        self.simulator.process = process  # type: ignore[method-assign]


def register(store: Store, config: Config) -> CompanyRecord:
    """What `reconcile qwc` records."""
    company = store.companies.register(
        config.billing.company.name, username=USERNAME, company_file=config.billing.company.file
    )
    store.companies.set_profile(company.id, profile_from_config(config).to_dict())
    store.companies.set_password_hash(company.id, hash_password(PASSWORD))
    return store.companies.get(company.id)


def assemble(
    store: Store,
    config: Config,
    clock: FakeClock,
    simulator: QuickBooksSimulator,
    url: str,
    *,
    client: httpx.Client = HTTP,
) -> World:
    """A world around a server at ``url`` and a registered company; the Web Connector
    talks to it through ``client``."""
    company = register(store, config)
    sleeps: list[float] = []
    web_connector = WebConnector(
        url,
        USERNAME,
        PASSWORD,
        simulator,
        client=client,
        owner_id=store.installation.app_identity().owner_id,
        file_id=company.file_id,
        sleep=sleeps.append,
    )
    charges = data_dir() / "charges-example.json"
    return World(store, company, clock, simulator, config, charges, url, web_connector, sleeps)


def sample_simulator(clock: FakeClock, **options: object) -> QuickBooksSimulator:
    """The sample company in the QuickBooks simulator, at the clock's time."""
    books = load_fixture(data_dir() / "sample-company.yaml")
    return QuickBooksSimulator(books, clock=clock.now, **options)  # type: ignore[arg-type]


@contextmanager
def world(
    state_dir: Path,
    *,
    start: dt.datetime = CHARGES_DATE,
    limits: RunLimits | None = None,
    **simulator_options: object,
) -> Iterator[World]:
    """The example world with the server in this process (on 127.0.0.1)."""
    clock = FakeClock(start)
    store = open_store(state_dir)
    service = QBWCService(store, SyncRun(store, clock, limits=limits), clock)
    with running(WebApp(QBWCApp(service)), Listen(host="127.0.0.1", port=0, threads=8)) as server:
        yield assemble(
            store,
            load_config(REPO / "config"),
            clock,
            sample_simulator(clock, **simulator_options),
            server.url,
        )
    store.close()


def progress_answers(result: RunResult) -> list[int]:
    """What the server answered to each receiveResponseXML, in order."""
    return [answer for op, _, answer in result.calls if op == "receiveResponseXML"]

"""``reconcile demo``: the whole loop in seconds, without Windows or QuickBooks.

The example configuration and charges, the sample company in the QuickBooks
simulator, the real server on a free loopback port, and the Web Connector
emulator talking SOAP to it: sync, plan, apply, sync, and a plan that is
empty; then Sherweb corrects a charge, and the invoice reconciler created
(marked Email later, so not sent yet) is updated. It runs at the charges'
date (mid-December 2026), when the invoices it bills are due.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.base import color
from reconciler.base.clock import ShiftedClock
from reconciler.base.errors import UserError
from reconciler.base.resources import data_dir, example_config_dir
from reconciler.base.times import stamp
from reconciler.commands.plan import plan_against
from reconciler.config.load import load_config
from reconciler.model.charges import ChargesBundle
from reconciler.plan.document import CREATE_INVOICE, Document
from reconciler.plan.profile import profile_from_config
from reconciler.plan.render.text import render_text
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.qbwc.app import QBWCApp
from reconciler.qbwc.credentials import hash_password, new_password
from reconciler.qbwc.qwc import QwcFile, render_qwc
from reconciler.qbwc.run import SyncRun
from reconciler.qbwc.service import QBWCService
from reconciler.queue.apply import queue_plan
from reconciler.sherweb.charges import load_charges
from reconciler.store import open_store
from reconciler.web.app import WebApp
from reconciler.web.server import Listen, running


def _step(text: str) -> None:
    color.secho(f"\n==> {text}", bold=True)


@contextmanager
def _state_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        try:
            given.mkdir(parents=True, exist_ok=True)
            empty = not any(given.iterdir())
        except OSError as exc:
            raise UserError(
                f"{given}: cannot use this state directory: {exc.strerror or exc}"
            ) from None
        if not empty:
            raise UserError(f"{given} is not empty; the demo starts from an empty state directory")
        yield given
        click.echo(
            f"\nKept the state in {given}: `reconcile status --state-dir {given}` shows it "
            "(on the demo's simulated clock)."
        )
        return
    temporary = Path(tempfile.mkdtemp(prefix="reconcile-demo-"))
    try:
        yield temporary
    finally:
        # The store is closed by now: nothing holds a file open, even on Windows.
        shutil.rmtree(temporary, ignore_errors=True)
        click.echo(
            f"\nRemoved the temporary state directory {temporary} "
            "(`reconcile demo --state-dir DIR` keeps it)."
        )


def _corrected(charges: ChargesBundle, created: Document) -> tuple[ChargesBundle, str]:
    """The charges with two more licences on the first line of an invoice the plan created,
    as when Sherweb corrects a charge after the invoice went to QuickBooks; and what changed."""
    organization = created["organizations"][0]
    sku = created["lines"][0]["after"]["sku"]
    customers = []
    for customer in charges.customers:
        if customer.customer_id == organization["id"]:
            index = next(n for n, c in enumerate(customer.charges) if c.sku == sku)
            charge = customer.charges[index]
            more = dataclasses.replace(charge, quantity=charge.quantity + 2)
            lines = (*customer.charges[:index], more, *customer.charges[index + 1 :])
            customer = dataclasses.replace(customer, charges=lines)
        customers.append(customer)
    what = f"{organization['name']} has 2 more {sku} licences"
    return dataclasses.replace(charges, customers=tuple(customers)), what


@click.command("demo")
@click.option(
    "--state-dir",
    "keep",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the demo's state here (an empty directory) to look at it afterwards "
    "with `reconcile status --state-dir DIR`.",
)
def demo_command(keep: Path | None) -> None:
    """Run the whole loop on the example: sync, plan, apply, sync, plan again (empty).

    Then Sherweb corrects a charge, and the invoice reconciler created (marked
    Email later, not sent yet) is updated.
    """
    from reconciler.sandbox.fixture import load_fixture
    from reconciler.sandbox.simulator import QuickBooksSimulator
    from reconciler.sandbox.webconnector import WebConnector

    started = time.perf_counter()
    colored = color.color_enabled()
    config_dir = example_config_dir()
    config = load_config(config_dir)
    charges = load_charges(data_dir() / "charges-example.json")
    # The day the charges were fetched, at noon in New York.
    clock = ShiftedClock(dt.datetime.combine(charges.date, dt.time(17, 0), tzinfo=dt.UTC))
    simulator = QuickBooksSimulator(
        load_fixture(data_dir() / "sample-company.yaml"), clock=clock.now
    )
    with _state_dir(keep) as state_dir:
        store = open_store(state_dir)
        try:
            # Every command reading this state goes on on the demo's clock, and says so.
            store.installation.set_clock_shift(clock.shift)
            password = new_password()
            company = store.companies.register(
                config.billing.company.name,
                username="northwind",
                company_file=config.billing.company.file,
            )
            store.companies.set_profile(company.id, profile_from_config(config).to_dict())
            store.companies.set_password_hash(company.id, hash_password(password))
            company = store.companies.get(company.id)
            identity = store.installation.app_identity()
            service = QBWCService(store, SyncRun(store, clock), clock)
            with running(
                WebApp(QBWCApp(service)), Listen(host="127.0.0.1", port=0, threads=4)
            ) as server:
                qwc_path = state_dir / "northwind.qwc"
                qwc_path.write_text(
                    render_qwc(
                        QwcFile(
                            app_url=server.url,
                            username=company.username,
                            owner_id=identity.owner_id,
                            file_id=company.file_id,
                            app_id=identity.app_id,
                            company=company.name,
                        )
                    ),
                    encoding="utf-8",
                )
                connector = WebConnector.from_qwc(qwc_path, password, simulator)
                temporary = "" if keep else " (temporary)"
                click.echo(f"State directory: {state_dir}{temporary}")
                click.echo(
                    f"Clock (simulated): {stamp(clock.now(), config.billing.timezone)}, "
                    "the charges' date"
                )
                click.echo(f"Server: {server.url} (SOAP; WSDL at {server.url}?wsdl)")
                click.echo(f"QuickBooks (simulated): {company.name}, {simulator.product_name}")

                _step("1. The Web Connector syncs: the server reads QuickBooks")
                click.echo(f"Web Connector: {connector.run().status}")

                _step("2. reconcile plan: the example charges against that snapshot")
                source = StoredSnapshot.latest(store, company, clock)
                document = plan_against(source, config, charges)
                color.echo(render_text(document, color=colored), nl=False)

                _step("3. reconcile apply: the plan is queued")
                applied = queue_plan(
                    store,
                    company,
                    document,
                    profile=profile_from_config(config),
                    now=clock.now(),
                    actor="demo",
                    commit=None,
                    source="the demo plan",
                )
                click.echo(f"Queued {applied.requests} requests.")

                _step("4. The Web Connector syncs: the server sends them to QuickBooks")
                result = connector.run()
                click.echo(f"Web Connector: {result.status}")
                if not result.ok or store.errors.unresolved(company.id):
                    raise UserError(f"the demo sync failed: {result.status}")

                _step("5. reconcile plan again: nothing left to change")
                again = plan_against(
                    StoredSnapshot.latest(store, store.companies.get(company.id), clock),
                    config,
                    charges,
                )
                color.echo(render_text(again, color=colored), nl=False)
                if again["changes"]:
                    raise UserError("the demo's second plan is not empty")

                created = next(c for c in document["changes"] if c["action"] == CREATE_INVOICE)
                corrected, what = _corrected(charges, created)
                _step(f"6. Sherweb corrects a charge: {what}")
                click.echo(
                    "The invoice reconciler created in step 4 is marked Email later (not sent "
                    "yet), so reconcile plan updates it:"
                )
                source = StoredSnapshot.latest(store, store.companies.get(company.id), clock)
                correction = plan_against(source, config, corrected)
                color.echo(render_text(correction, color=colored), nl=False)

                _step("7. reconcile apply, and the Web Connector syncs")
                applied = queue_plan(
                    store,
                    store.companies.get(company.id),
                    correction,
                    profile=profile_from_config(config),
                    now=clock.now(),
                    actor="demo",
                    commit=None,
                    source="the demo's correction",
                )
                click.echo(f"Queued {applied.requests} request{'s' * (applied.requests != 1)}.")
                result = connector.run()
                click.echo(f"Web Connector: {result.status}")
                if not result.ok or store.errors.unresolved(company.id):
                    raise UserError(f"the demo sync failed: {result.status}")
                last = plan_against(
                    StoredSnapshot.latest(store, store.companies.get(company.id), clock),
                    config,
                    corrected,
                )
                if last["changes"]:
                    raise UserError("the demo's plan after the correction is not empty")
        finally:
            store.close()
    click.echo(f"\nDone in {time.perf_counter() - started:.1f} s.")

"""The server's state as the commands see it: open the store, find the company,
read the latest snapshot for a plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.base import color
from reconciler.base.clock import Clock, clock_moved_by
from reconciler.base.errors import UserError
from reconciler.config.load import load_config
from reconciler.engine.coverage import Coverage
from reconciler.model.config import BillingMode
from reconciler.model.quickbooks import QBState
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.store import Store, StoreError, open_store, store_exists
from reconciler.store.records import CompanyRecord


def open_state(state_dir: Path, *, create: bool = False, read_only: bool = False) -> Store:
    """The store of ``state_dir``, or a clear error.

    Only ``create`` (``reconcile qwc``, which sets a company up) makes a new
    store: every other command needs the one `qwc` made, and must not leave an
    empty database behind in a mistyped directory. ``read_only`` (status,
    plan) writes nothing.
    """
    if not create and not store_exists(state_dir):
        raise UserError(
            f"no reconciler state in {state_dir}",
            hint="Check --state-dir (or RECONCILE_STATE_DIR): it is where `reconcile qwc` "
            "set the Web Connector up. Run `reconcile qwc --url URL` first if it never ran.",
        )
    try:
        return open_store(state_dir, read_only=read_only)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(
            f"{state_dir}: cannot use this state directory: {exc.strerror or exc}",
            hint="Give --state-dir a directory this user can create and write.",
        ) from None


def state_clock(store: Store) -> Clock:
    """The clock the state is written on: the wall clock, or the simulated clock of
    `reconcile demo` continued, so that every command shows its times alike."""
    return clock_moved_by(store.installation.clock_shift())


def configured_company(store: Store, config_dir: Path) -> CompanyRecord:
    """The company of the configuration in ``config_dir`` (or the only one in the store)."""
    if (config_dir / "billing.yaml").is_file():
        name = load_config(config_dir).billing.company.name
        company = store.companies.by_name(name)
        if company is None:
            raise UserError(
                f"no Web Connector is set up for {name!r} in {store.location}",
                hint="Run `reconcile qwc --url URL` first.",
            )
        return company
    companies = store.companies.all()
    if len(companies) == 1:
        return companies[0]
    if not companies:
        raise UserError(
            f"no Web Connector is set up in {store.location}",
            hint="Run `reconcile qwc --url URL` first.",
        )
    raise UserError(
        f"{store.location} serves {len(companies)} companies; say which with --config DIR"
    )


@dataclass(frozen=True)
class SnapshotForPlan:
    """The latest snapshot's state, and the billing-mode lock, for `plan` and `apply`."""

    state: QBState
    locked_mode: BillingMode | None
    locked_since: dt.datetime | None
    coverage: Coverage | None = None  # what the snapshot read of the invoices


def latest_snapshot_for_plan(config_dir: Path, state_dir: Path) -> SnapshotForPlan:
    """Read the company's latest snapshot; say (on stderr) which one and how old it is."""
    if not store_exists(state_dir):
        raise UserError(
            "no QuickBooks state given",
            hint=f"The server has no snapshot in {state_dir} (see --state-dir). Pass "
            "--qb-state PATH (qbXML responses to CustomerQuery, ItemQuery and InvoiceQuery), "
            "or let the Web Connector sync once: `reconcile qwc`, `reconcile serve`, "
            "Update Selected.",
        )
    store = open_state(state_dir, read_only=True)
    try:
        return snapshot_for_plan(store, configured_company(store, config_dir))
    finally:
        store.close()


def snapshot_for_plan(store: Store, company: CompanyRecord) -> SnapshotForPlan:
    """The company's latest snapshot and lock; say (on stderr) which snapshot and how old."""
    source = StoredSnapshot(store, company)
    click.echo(source.describe(state_clock(store).now()), err=True)
    if company.snapshot_outdated:
        warn_outdated()
    lock = store.billing_locks.get(company.id)
    return SnapshotForPlan(
        source.load(),
        BillingMode(lock.mode) if lock else None,
        lock.locked_at if lock else None,
        source.coverage(),
    )


def warn_outdated() -> None:
    """Say that `apply` will refuse a plan made from this snapshot."""
    color.secho(
        "Warning: requests went out after this snapshot; `apply` refuses a plan "
        "made from it until the Web Connector has read QuickBooks again.",
        fg="yellow",
        err=True,
    )

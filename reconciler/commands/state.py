"""The server's state as the commands see it: open the store, find the company,
take its latest snapshot, say which QuickBooks state a plan is made from."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.base import color
from reconciler.base.clock import Clock, clock_moved_by
from reconciler.base.errors import UserError
from reconciler.config.load import load_config
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.qbstate.source import StateSource
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


def stored_snapshot(store: Store, company: CompanyRecord) -> StoredSnapshot:
    """The company's latest snapshot in ``store``, on the state's clock."""
    return StoredSnapshot.latest(store, company, state_clock(store))


def announce(source: StateSource) -> None:
    """Say (on stderr) which QuickBooks state a plan is made from, and whether `apply`
    will refuse it."""
    click.echo(source.describe(), err=True)
    if source.outdated():
        color.secho(
            "Warning: requests went out after this snapshot; `apply` refuses a plan "
            "made from it until the Web Connector has read QuickBooks again.",
            fg="yellow",
            err=True,
        )

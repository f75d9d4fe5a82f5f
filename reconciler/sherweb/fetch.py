"""The charges file, fetched live from Sherweb's API.

For each organization of the configuration that Sherweb knows (or every
customer, on request), ``GET /billing/receivable-charges`` for the billing
period holding the date and ``GET /billing/subscriptions``, a few customers
at a time. The payloads are kept verbatim, numbers exact, in the format that
:mod:`reconciler.sherweb.charges` reads.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler.base import color
from reconciler.base.files import write_text_atomically
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Config, Organization, SherwebSettings
from reconciler.sherweb.charges import parse_charges
from reconciler.sherweb.client import Credentials, SherwebClient

DEFAULT_WORKERS = 4
# Where diagnostics say fetched charges came from.
API_SOURCE = Path("<Sherweb API>")

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    """Which Sherweb customers to fetch, and what the configuration and the API disagree on."""

    customers: tuple[dict[str, Any], ...]  # API Customer objects, in a stable order
    unknown: tuple[Organization, ...]  # configured organizations the API does not list
    unmapped: int  # API customers left out because no organization maps them


def select_customers(
    organizations: Sequence[Organization],
    api_customers: Sequence[dict[str, Any]],
    *,
    all_customers: bool = False,
) -> Selection:
    """The customers to fetch: those the configuration maps (or all of them)."""
    by_id = {c["id"].lower(): c for c in api_customers}
    wanted = {o.id.lower() for o in organizations}
    unknown = tuple(o for o in organizations if o.id.lower() not in by_id)
    chosen = [c for c in api_customers if all_customers or c["id"].lower() in wanted]
    chosen.sort(key=lambda c: (c["displayName"].casefold(), c["id"].lower()))
    return Selection(
        customers=tuple(chosen),
        unknown=unknown,
        unmapped=sum(1 for c in api_customers if c["id"].lower() not in wanted),
    )


def open_client(settings: SherwebSettings, **options: Any) -> SherwebClient:
    """A client with the credentials from the environment variables ``settings`` names."""
    return SherwebClient(settings, Credentials.from_environment(settings), **options)


def fetch_customer_payloads(
    client: SherwebClient,
    customers: Sequence[dict[str, Any]],
    *,
    date: dt.date,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Each customer's entry of the charges file, in the order of ``customers``.

    At most ``workers`` customers are fetched at once. The first failure
    cancels the rest (and ``client``: it serves no further request) and is
    raised.
    """

    failed = threading.Event()
    first_failure: list[BaseException] = []
    lock = threading.Lock()

    def fetch_one(customer: dict[str, Any]) -> dict[str, Any] | None:
        if failed.is_set():
            return None  # another customer failed: the whole fetch has
        try:
            return {
                "id": customer["id"],
                "displayName": customer["displayName"],
                "receivableCharges": client.receivable_charges(customer["id"], date),
                "subscriptions": client.subscriptions(customer["id"]),
            }
        except BaseException as exc:
            with lock:
                # Keep the cause, not the "cancelled" of the requests it stops.
                if not failed.is_set():
                    first_failure.append(exc)
                    failed.set()
            # Requests under way stop at their next wait instead of retrying on.
            client.cancel()
            raise

    entries: list[dict[str, Any] | None] = [None] * len(customers)
    with (
        _progress_bar(len(customers), enabled=progress) as advance,
        ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sherweb") as pool,
    ):
        futures = {pool.submit(fetch_one, c): index for index, c in enumerate(customers)}
        try:
            for future in as_completed(futures):
                entries[futures[future]] = future.result()
                advance()
        except BaseException as exc:
            failed.set()
            client.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise (first_failure[0] if first_failure else exc) from None
    return [entry for entry in entries if entry is not None]


def fetch_charges_data(
    config: Config,
    *,
    date: dt.date,
    progress: bool = False,
    all_customers: bool = False,
    workers: int = DEFAULT_WORKERS,
    client: SherwebClient | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """The charges file's content (numbers as Decimal), fetched live.

    Organizations of the configuration that the API does not list are
    reported through ``warn`` (standard error by default) and skipped.
    """
    warn = warn or _warn_on_stderr
    owned = client is None
    api = client or open_client(config.billing.sherweb)
    try:
        selection = select_customers(
            config.organizations, api.customers(), all_customers=all_customers
        )
        if selection.unknown:
            listed = "; ".join(
                f"{o.name} ({o.id}{', ' + str(o.where) if o.where else ''})"
                for o in selection.unknown
            )
            warn(
                f"{len(selection.unknown)} organization(s) of the configuration are not "
                f"customers of this Sherweb account, skipped: {listed}"
            )
        entries = fetch_customer_payloads(
            api, selection.customers, date=date, workers=workers, progress=progress
        )
    finally:
        if owned:
            api.close()
    return {"date": date.isoformat(), "customers": entries}


def fetch_charges_bundle(
    config: Config,
    *,
    date: dt.date,
    progress: bool = False,
    all_customers: bool = False,
    workers: int = DEFAULT_WORKERS,
    client: SherwebClient | None = None,
    warn: Warn | None = None,
) -> ChargesBundle:
    """Every mapped organization's charges on ``date``, fetched live (``plan --charges sherweb``)."""
    data = fetch_charges_data(
        config,
        date=date,
        progress=progress,
        all_customers=all_customers,
        workers=workers,
        client=client,
        warn=warn,
    )
    return parse_charges(data, API_SOURCE)


def charges_json(data: dict[str, Any]) -> str:
    """The charges file's text: indented JSON, Decimals written exactly as received."""
    # The standard json module cannot write a Decimal as a number; simplejson can.
    return simplejson.dumps(data, use_decimal=True, indent=2, ensure_ascii=False) + "\n"


def write_charges_file(data: dict[str, Any], path: Path) -> None:
    """Write the charges file whole or not at all (a failed write leaves the old one)."""
    write_text_atomically(path, charges_json(data))


def _warn_on_stderr(message: str) -> None:
    color.console(stderr=True).print(
        f"Warning: {message}", style="yellow", markup=False, highlight=False
    )


@contextmanager
def _progress_bar(total: int, *, enabled: bool) -> Iterator[Callable[[], None]]:
    console = color.console(stderr=True)
    # A live bar on a terminal only: FORCE_COLOR colours a log, it does not animate it.
    if not enabled or not sys.stderr.isatty():
        yield lambda: None
        return
    columns = (
        TextColumn("Fetching Sherweb charges"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("customers", total=total)
        yield lambda: bar.advance(task)

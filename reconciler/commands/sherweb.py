"""``reconcile fetch-charges`` and ``reconcile import``: the Sherweb side.

These are the edges where the clock, the network and the terminal are
allowed: the default date is today in the configured time zone, and the
progress bar shows only on a terminal.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from reconciler.base.errors import InvalidInput, UserError
from reconciler.base.names import DEFAULT_THRESHOLD
from reconciler.commands.options import config_option
from reconciler.config.load import (
    BILLING_FILE,
    OFFERS_FILE,
    ORGANIZATIONS_FILE,
    ConfigSummary,
    load_billing,
    load_config,
)
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Config
from reconciler.model.quickbooks import QBState
from reconciler.qbstate.files import qbxml_files
from reconciler.sherweb.charges import load_charges, parse_charges
from reconciler.sherweb.client import DEFAULT_TIMEOUT
from reconciler.sherweb.fetch import (
    API_SOURCE,
    DEFAULT_WORKERS,
    charges_json,
    fetch_charges_data,
    open_client,
    write_charges_file,
)
from reconciler.sherweb.importer import (
    check_overwrite,
    customers_from_bundle,
    products_from_bundle,
    propose_import,
    write_import,
)

date_option = click.option(
    "--date",
    "on_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="A day in the billing period wanted (YYYY-MM-DD). Default: today in the configured time zone.",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="How many customers to fetch at once.",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for each answer from Sherweb.",
)


def today_in(timezone: str) -> dt.date:
    """Today's date in ``timezone`` (the CLI's only use of the clock)."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


@click.command("fetch-charges")
@config_option
@date_option
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Where to write the charges file ('-': standard output). Default: charges-DATE.json.",
)
@click.option(
    "--all-customers",
    is_flag=True,
    help="Fetch every Sherweb customer, not only the organizations of the configuration.",
)
@workers_option
@timeout_option
def fetch_charges(
    config_dir: Path,
    on_date: dt.datetime | None,
    out: Path | None,
    all_customers: bool,
    workers: int,
    timeout: float,
) -> None:
    """Fetch the receivable charges from Sherweb's API into a charges file.

    For each organization of the configuration: its charges for the billing
    period holding --date, and its subscriptions (their commitment terms tell
    annual from monthly). The file is what `reconcile plan --charges FILE`
    reads. Credentials come from the environment variables billing.yaml names.
    """
    config = load_config(config_dir)
    date = on_date.date() if on_date else today_in(config.billing.timezone)
    with open_client(config.billing.sherweb, timeout=timeout) as client:
        data = fetch_charges_data(
            config, date=date, progress=True, all_customers=all_customers, workers=workers,
            client=client,
        )  # fmt: skip
    bundle = parse_charges(data, API_SOURCE)
    if out is not None and str(out) == "-":
        click.echo(charges_json(data), nl=False)
    else:
        target = out or Path(f"charges-{date.isoformat()}.json")
        write_charges_file(data, target)
        click.echo(f"wrote {target}: {_describe(bundle)}", err=True)


def _describe(bundle: ChargesBundle) -> str:
    charges = sum(len(c.charges) for c in bundle.customers)
    periods = sorted({(c.period_from, c.period_to) for c in bundle.customers})
    period = (
        f", billing period {periods[0][0]} to {periods[0][1]}"
        if len(periods) == 1
        else (f", {len(periods)} billing periods" if periods else "")
    )
    return f"{len(bundle.customers)} customers, {charges} charges{period}"


@click.command("import")
@config_option
@click.option(
    "--qb-state",
    "qb_state",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="qbXML query responses (a file or a directory of them; repeatable): the QuickBooks customers and items.",
)
@click.option(
    "--charges",
    "charges_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Take the Sherweb customers, subscriptions and charges from this charges file "
    "(fetch-charges --all-customers) instead of the API.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write organizations.yaml and offers.yaml. Default: the --config directory.",
)
@click.option("--force", is_flag=True, help="Overwrite organizations.yaml and offers.yaml.")
@click.option(
    "--threshold",
    type=click.FloatRange(0.5, 1.0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="How alike two names must be (0.5 to 1) to be matched automatically.",
)
@date_option
@workers_option
@timeout_option
def import_mappings(
    config_dir: Path,
    qb_state: Sequence[Path],
    charges_file: Path | None,
    out_dir: Path | None,
    force: bool,
    threshold: float,
    on_date: dt.datetime | None,
    workers: int,
    timeout: float,
) -> None:
    """Write a first organizations.yaml and offers.yaml from what exists.

    Sherweb customers are matched to QuickBooks customers, and the offers of
    their subscriptions and charges to QuickBooks items, by name. What matched
    nothing closely enough is left commented out with a TODO. Review the files
    before the first plan. billing.yaml must exist in the --config directory.
    """
    billing = load_billing(config_dir)
    if not qb_state:
        raise UserError(
            "reconcile import needs the QuickBooks customers and items: give --qb-state PATH",
            hint="PATH: qbXML CustomerQuery and ItemQuery responses (files or a directory).",
        )
    target = out_dir or config_dir
    check_overwrite([target / ORGANIZATIONS_FILE, target / OFFERS_FILE], force=force)
    state = load_qb_state(qb_state)
    if charges_file is not None:
        bundle = load_charges(charges_file)
    else:
        date = on_date.date() if on_date else today_in(billing.timezone)
        everyone = Config(billing=billing, offers=(), organizations=())
        with open_client(billing.sherweb, timeout=timeout) as client:
            data = fetch_charges_data(
                everyone, date=date, progress=True, all_customers=True, workers=workers,
                client=client,
            )  # fmt: skip
        bundle = parse_charges(data, API_SOURCE)
    proposal = propose_import(
        customers_from_bundle(bundle), products_from_bundle(bundle), state, threshold=threshold
    )
    for path in write_import(proposal, target, force=force):
        click.echo(f"wrote {path}")
    matched = len(proposal.organizations) - proposal.organizations_todo
    click.echo(
        f"organizations: {matched} of {len(proposal.organizations)} matched to a QuickBooks customer"
        + (f", {proposal.organizations_todo} TODO" if proposal.organizations_todo else "")
    )
    matched = len(proposal.offers) - proposal.offers_todo
    click.echo(
        f"offers: {matched} of {len(proposal.offers)} matched to a QuickBooks item"
        + (f", {proposal.offers_todo} TODO" if proposal.offers_todo else "")
    )
    click.echo(_check_written(config_dir, target))
    if proposal.organizations_todo or proposal.offers_todo:
        click.echo(
            "Fill in the TODO entries (commented out at the end of each file) and uncomment "
            "them; until then nothing is billed for them."
        )
    click.echo("Review every mapping (comments mark the inexact matches) before the first plan.")


def load_qb_state(paths: Sequence[Path]) -> QBState:
    """The QuickBooks state from qbXML response files or directories of them."""
    return qbxml_files(paths).state()


def _check_written(config_dir: Path, target: Path) -> str:
    """Validate the written files together with the configuration's billing.yaml."""
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch)
        shutil.copyfile(config_dir / BILLING_FILE, staged / BILLING_FILE)
        for name in (ORGANIZATIONS_FILE, OFFERS_FILE):
            shutil.copyfile(target / name, staged / name)
        try:
            config = load_config(staged)
        except InvalidInput as exc:
            # Our own output failing validation is a defect, but the user's
            # files are written: say exactly what to fix rather than hide it.
            problems = "\n".join(str(d).replace(str(staged), str(target)) for d in exc.diagnostics)
            raise UserError(f"the written configuration does not validate:\n{problems}") from None
    return str(ConfigSummary(config, target))

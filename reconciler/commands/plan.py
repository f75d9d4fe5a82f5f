"""``reconcile plan`` and ``reconcile show``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.api.client import ApiClient
from reconciler.api.server_snapshot import ServerSnapshot
from reconciler.base import color
from reconciler.base.errors import UserError
from reconciler.base.resources import data_dir
from reconciler.commands.options import config_option, server_option
from reconciler.commands.sherweb import today_in
from reconciler.commands.state import announce, configured_company, open_state, stored_snapshot
from reconciler.config.load import load_config
from reconciler.engine.coverage import Coverage
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Config
from reconciler.model.quickbooks import QBState
from reconciler.plan.build import build_plan
from reconciler.plan.document import Document
from reconciler.plan.files import dumps_plan, load_plan, save_plan
from reconciler.plan.model import Plan
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.text import render_text
from reconciler.plan.requests import render_plan_document
from reconciler.plan.safety import check_safety
from reconciler.qbstate.files import qbxml_files
from reconciler.qbstate.source import StateSource
from reconciler.sherweb.charges import load_charges
from reconciler.sherweb.fetch import fetch_charges_bundle
from reconciler.store import store_exists
from reconciler.store.location import state_dir_option

# --detailed-exitcode, as Terraform's (errors exit 1, as every UserError does).
EXIT_NO_CHANGES = 0
EXIT_CHANGES = 2

PLAN_FORMATS = ("text", "markdown", "json")


def _render(document: Document, fmt: str) -> str:
    if fmt == "markdown":
        return render_markdown(document)
    if fmt == "json":
        return dumps_plan(document)
    return render_text(document, color=color.color_enabled())


# --charges sherweb: fetch the charges live instead of reading a file.
LIVE_CHARGES = "sherweb"


def charges_from(source: str | None, config: Config) -> ChargesBundle:
    """The charges ``--charges`` names: a file, or ``sherweb`` to fetch today's."""
    if source is None:
        raise UserError(
            "no charges given",
            hint="Pass --charges FILE, a charges file from `reconcile fetch-charges` (example: "
            f"{data_dir() / 'charges-example.json'}), or --charges sherweb to fetch them now.",
        )
    if source == LIVE_CHARGES:
        # The edge of the program: the clock says which billing period is due.
        return fetch_charges_bundle(config, date=today_in(config.billing.timezone), progress=True)
    return load_charges(Path(source))


def mapped_since(config: Config, coverage: Coverage | None, state: QBState) -> list[str]:
    """The configuration's customers whose invoices the server's snapshot did not look for.

    A customer QuickBooks does not have is not among them: the snapshot read
    every customer, so that mapping is an error of the plan (a typo), not
    something the next sync would read.
    """
    if coverage is None:
        return []
    known = {customer.full_name.casefold() for customer in state.customers}
    return sorted(
        {
            org.customer
            for org in config.organizations
            if org.customer.casefold() not in coverage.mapped_customers
            and org.customer.casefold() in known
        }
    )


def build_plan_against(source: StateSource, config: Config, charges: ChargesBundle) -> Plan:
    """The plan for ``charges`` against the source's state, in its locked billing mode,
    within what it read."""
    lock = source.lock()
    return build_plan(
        config,
        charges,
        source.state(),
        locked_mode=lock.mode if lock else None,
        locked_since=lock.since if lock else None,
        coverage=source.coverage(),
    )


def plan_against(
    source: StateSource, config: Config, charges: ChargesBundle, *, force: bool = False
) -> Document:
    """The plan document for ``charges`` against the source; refused
    (:class:`~reconciler.plan.safety.UnsafePlan`) over the safety threshold without
    ``force``."""
    plan = build_plan_against(source, config, charges)
    document = render_plan_document(plan, force=force)
    check_safety(plan, force=force)
    return document


@contextmanager
def open_state_source(
    state_paths: tuple[Path, ...],
    server: str | None,
    config: Config,
    config_dir: Path,
    state_dir: Path,
) -> Iterator[StateSource]:
    """The QuickBooks state `plan` is made from: the files of --qb-state, else the latest
    snapshot of the server at ``server``, else the state directory's latest snapshot.

    A snapshot is said (on stderr) as it is chosen; files the user named are not.
    """
    if state_paths:
        yield qbxml_files(state_paths)
        return
    if server is not None:
        with ApiClient.from_environment(server) as client:
            source: StateSource = ServerSnapshot.fetch(client, config.billing.company.name)
            announce(source)
            yield source
        return
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
        source = stored_snapshot(store, configured_company(store, config_dir))
        announce(source)
        yield source
    finally:
        store.close()


class PlanErrors(UserError):
    """The plan was computed (and saved) but lists errors."""


@click.command("plan")
@config_option
@click.option(
    "--charges",
    "charges_source",
    metavar="FILE|sherweb",
    help="The charges file (from `reconcile fetch-charges`), or `sherweb` to fetch "
    "today's charges from Sherweb's API.",
)
@click.option(
    "--qb-state",
    "state_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A qbXML response file or a directory of them (repeatable). "
    "Default: the latest snapshot the server took.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Save the plan, with its qbXML requests, for `reconcile apply`.",
)
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.",
)
@click.option("--force", is_flag=True, help="Accept a plan that is over the safety threshold.")
@server_option
@state_dir_option
def plan_command(
    config_dir: Path,
    charges_source: str | None,
    state_paths: tuple[Path, ...],
    out_path: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    force: bool,
    server: str | None,
    state_dir: Path,
) -> None:
    """Show what would change in QuickBooks to bill the charges.

    The QuickBooks state is --qb-state, else the latest snapshot of the server
    at --server URL (through its API, token in RECONCILE_TOKEN), else the
    latest snapshot in the local state directory.
    """
    if state_paths and server:
        raise UserError("give --qb-state or --server, not both")
    config = load_config(config_dir)
    charges = charges_from(charges_source, config)
    with open_state_source(state_paths, server, config, config_dir, state_dir) as source:
        plan = build_plan_against(source, config, charges)
        # Customers mapped since the server's last sync (none for files: no coverage).
        unread = mapped_since(config, source.coverage(), source.state())
    document = render_plan_document(plan, force=force)
    color.echo(_render(document, fmt), nl=False)
    check_safety(plan, force=force)
    # Messages about the run go to stderr when stdout is a document.
    info_to_stderr = fmt != "text"
    if out_path is not None:
        save_plan(out_path, document)
        click.echo(f"\nSaved the plan to: {out_path}", err=info_to_stderr)
        if plan.has_changes:
            click.echo(
                f"To perform exactly these actions, run: reconcile apply {out_path}",
                err=info_to_stderr,
            )
    if unread:
        click.echo(
            f"\nThe server has not read the invoices of {', '.join(unread)} yet (mapped since "
            "its last sync): apply this configuration, even without changes, so that its next "
            "sync reads them.",
            err=info_to_stderr,
        )
    if plan.errors:
        count = len(plan.errors)
        raise PlanErrors(
            f"the plan lists {count} error{'s' if count > 1 else ''} (above): "
            "what they name cannot be billed",
            hint="The other changes are in the plan; fix what the errors say and plan again.",
        )
    if detailed_exitcode:
        # A mapping the server does not know yet is something to apply too.
        changes = plan.has_changes or bool(unread)
        click.get_current_context().exit(EXIT_CHANGES if changes else EXIT_NO_CHANGES)


@click.command("show")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice((*PLAN_FORMATS, "qbxml")),
    default="text",
    show_default=True,
    help="qbxml prints the request documents the plan would queue, one per change.",
)
def show_command(plan_path: Path, fmt: str) -> None:
    """Show a saved plan."""
    document = load_plan(plan_path, command="show")
    if fmt == "qbxml":
        click.echo(
            "\n".join(change["qbxml"].rstrip("\n") + "\n" for change in document["changes"]),
            nl=False,
        )
        return
    color.echo(_render(document, fmt), nl=False)

"""``reconcile qwc``, ``reconcile serve`` and ``reconcile status``."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from pathlib import Path

import click

from reconciler.base import color
from reconciler.base.clock import Clock, ShiftedClock, SystemClock
from reconciler.base.errors import UserError
from reconciler.base.files import write_text_atomically
from reconciler.commands.options import config_option, server_option
from reconciler.commands.state import configured_company, open_state, state_clock
from reconciler.config.load import load_config
from reconciler.plan.profile import profile_from_config
from reconciler.qbwc.credentials import hash_password, new_password
from reconciler.qbwc.qwc import DEFAULT_EVERY_MINUTES, QwcFile, check_app_url, render_qwc
from reconciler.status.report import StatusReport
from reconciler.store.location import state_dir_option
from reconciler.web.server import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_THREADS, Listen


def _username(company: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")
    return slug[:40] or "reconciler"


@click.command("qwc")
@click.option(
    "--url",
    required=True,
    help="The server's SOAP endpoint as the Web Connector reaches it (the AppURL), "
    "e.g. https://qb.example.com:8443/qbwc.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("reconciler.qwc"),
    show_default=True,
    help="Where to write the QWC file.",
)
@click.option("--username", help="The Web Connector user name (default: from the company name).")
@click.option(
    "--every",
    "every_minutes",
    type=click.IntRange(1, 1440),
    default=DEFAULT_EVERY_MINUTES,
    show_default=True,
    help="Minutes between scheduled runs (the Web Connector's Auto-Run).",
)
@config_option
@state_dir_option
def qwc_command(
    url: str,
    out_path: Path,
    username: str | None,
    every_minutes: int,
    config_dir: Path,
    state_dir: Path,
) -> None:
    """Write the QWC file for the Web Connector and print a new password once.

    Only the password's hash is kept: running this again makes a new password
    (the old one stops working) and keeps the company's FileID.
    """
    config = load_config(config_dir)
    for problem in check_app_url(url):
        color.secho(f"Warning: {problem}", fg="yellow", err=True)
    profile = profile_from_config(config)
    store = open_state(state_dir, create=True)
    try:
        existing = store.companies.by_name(profile.company)
        name = username or (existing.username if existing else _username(profile.company))
        other = store.companies.by_username(name)
        if other is not None and other.name != profile.company:
            raise UserError(f"the Web Connector user {name!r} already belongs to {other.name!r}")
        password = new_password()
        # The QWC file is written (whole or not at all) before the new password's
        # hash is committed: a file that cannot be written changes nothing, and
        # the Web Connector keeps working with the old password.
        with store.atomic():
            company = store.companies.register(
                profile.company, username=name, company_file=profile.company_file
            )
            store.companies.set_profile(company.id, profile.to_dict())
            identity = store.installation.app_identity()
            text = render_qwc(
                QwcFile(
                    app_url=url,
                    username=company.username,
                    owner_id=identity.owner_id,
                    file_id=company.file_id,
                    app_id=identity.app_id,
                    company=company.name,
                    every_minutes=every_minutes,
                )
            )
            try:
                write_text_atomically(out_path, text)
            except OSError as exc:
                raise UserError(
                    f"{out_path}: cannot write the QWC file: {exc.strerror or exc}",
                    hint="Nothing changed: the Web Connector's password is still the old one.",
                ) from None
            store.companies.set_password_hash(company.id, hash_password(password))
    finally:
        store.close()
    click.echo(f"Wrote {out_path} for {company.name} (user {company.username}, AppURL {url}).")
    if existing is not None and existing.password_hash:
        click.echo("The previous Web Connector password no longer works.")
    click.echo("Web Connector password (shown once; only its hash is kept):")
    click.echo(f"    {password}")
    click.echo("Open the QWC file in the QuickBooks Web Connector and paste the password.")


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--certfile",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM certificate (chain) for HTTPS.",
)
@click.option("--keyfile", type=click.Path(path_type=Path, dir_okay=False), help="PEM private key.")
@click.option(
    "--threads",
    type=click.IntRange(1, 1000),
    default=DEFAULT_THREADS,
    show_default=True,
    help="Calls answered at once (one per syncing company is enough).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every call.")
@click.option(
    "--clock-start",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    hidden=True,
    help="Run as if it were this moment (rehearsals and tests).",
)
@state_dir_option
def serve_command(
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    threads: int,
    verbose: bool,
    clock_start: dt.datetime | None,
    state_dir: Path,
) -> None:
    """Serve the QuickBooks Web Connector (SOAP) until interrupted.

    The same port serves the JSON API for CI (/api/v1/, bearer tokens from
    `reconcile token create`) and the status page (/status).
    """
    from reconciler.api.app import ApiApp
    from reconciler.qbwc.app import QBWCApp
    from reconciler.qbwc.service import QBWCService
    from reconciler.qbwc.sync import SyncRun
    from reconciler.web.app import WebApp
    from reconciler.web.server import serve_forever

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if certfile is None and host not in {"127.0.0.1", "localhost", "::1"}:
        color.secho(
            "Warning: serving plain HTTP beyond this machine; the Web Connector only "
            "accepts http://localhost. Use --certfile and --keyfile.",
            fg="yellow",
            err=True,
        )
    store = open_state(state_dir)
    clock: Clock = state_clock(store) if clock_start is None else ShiftedClock(clock_start)
    service = QBWCService(store, SyncRun(store, clock), clock)
    try:
        serve_forever(
            WebApp(QBWCApp(service), ApiApp(store, clock)),
            Listen(host=host, port=port, certfile=certfile, keyfile=keyfile, threads=threads),
        )
    finally:
        store.close()


@click.command("status")
@config_option
@server_option
@state_dir_option
def status_command(config_dir: Path, server: str | None, state_dir: Path) -> None:
    """Show the last run, the snapshot, the queue and every unresolved error.

    Exits 1 while errors are unresolved. With --server URL, of that server
    (through its API, token in RECONCILE_TOKEN).
    """
    if server is not None:
        from reconciler.api.client import ApiClient
        from reconciler.api.views import report_from_status

        with ApiClient.from_environment(server) as client:
            report = report_from_status(client.status())
        now = SystemClock().now()
    else:
        store = open_state(state_dir, read_only=True)
        try:
            report = StatusReport.read(store, configured_company(store, config_dir))
            now = state_clock(store).now()
        finally:
            store.close()
    click.echo("\n".join(report.lines(now)))
    if report.errors:
        click.get_current_context().exit(1)

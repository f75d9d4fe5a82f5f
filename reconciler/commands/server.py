"""``reconcile qwc``, ``reconcile serve`` and ``reconcile status``."""

from __future__ import annotations

import datetime as dt
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
from reconciler.deploy.windows_task import (
    RESTART_MINUTES,
    ServeTask,
    schtasks_command,
    serve_arguments,
    task_xml,
)
from reconciler.plan.profile import profile_from_config
from reconciler.qbwc.credentials import hash_password, new_password
from reconciler.qbwc.qwc import DEFAULT_EVERY_MINUTES, QwcFile, check_app_url, render_qwc
from reconciler.status.report import STATUS_PLANS, status_lines
from reconciler.status.view import read_status
from reconciler.store.location import state_dir_option
from reconciler.web.logfile import log_to_state_dir
from reconciler.web.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_THREADS,
    Listen,
    check_tls_files,
)

# Where `serve --install-task` writes the Windows task, in the state directory.
TASK_FILE = "reconciler-task.xml"


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
    "--install-task",
    is_flag=True,
    help="Do not serve: write a Windows Task Scheduler definition that runs this command "
    "from boot (as LOCAL SERVICE, started again when it stops), and print the schtasks "
    "command that registers it.",
)
@click.option(
    "--task-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Where --install-task writes the task (default: {TASK_FILE} in the state directory).",
)
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
    install_task: bool,
    task_file: Path | None,
    clock_start: dt.datetime | None,
    state_dir: Path,
) -> None:
    """Serve the QuickBooks Web Connector (SOAP) until interrupted.

    The same port serves the JSON API for CI (/api/v1/, bearer tokens from
    `reconcile token create`) and the status page (/status). The log goes to
    standard error and to reconciler.log in the state directory (rotated).
    """
    from reconciler.api.app import ApiApp
    from reconciler.qbwc.app import QBWCApp
    from reconciler.qbwc.run import SyncRun
    from reconciler.qbwc.service import QBWCService
    from reconciler.web.app import WebApp
    from reconciler.web.server import serve_forever

    if certfile is None and host not in {"127.0.0.1", "localhost", "::1"}:
        color.secho(
            "Warning: serving plain HTTP beyond this machine; the Web Connector only "
            "accepts http://localhost. Use --certfile and --keyfile.",
            fg="yellow",
            err=True,
        )
    if install_task:
        if clock_start is not None:
            raise UserError(
                "--clock-start is for rehearsals, not for a server that starts with Windows"
            )
        listen = Listen(host=host, port=port, certfile=certfile, keyfile=keyfile, threads=threads)
        _install_task(listen, verbose, state_dir, task_file or state_dir / TASK_FILE)
        return
    store = open_state(state_dir)
    log_to_state_dir(state_dir, verbose=verbose)
    clock: Clock = state_clock(store) if clock_start is None else ShiftedClock(clock_start)
    service = QBWCService(store, SyncRun(store, clock), clock)
    try:
        serve_forever(
            WebApp(QBWCApp(service), ApiApp(store, clock)),
            Listen(host=host, port=port, certfile=certfile, keyfile=keyfile, threads=threads),
        )
    finally:
        store.close()


def _install_task(listen: Listen, verbose: bool, state_dir: Path, task_file: Path) -> None:
    """Write the Windows task that serves as ``listen`` says, and say how to register it."""
    check_tls_files(listen)
    # The task serves an existing state (`reconcile qwc` makes it), never a new empty one.
    open_state(state_dir, read_only=True).close()
    task = ServeTask(
        # Not resolved: a virtual environment's python is a link that must stay one.
        program=Path(sys.executable).absolute(),
        arguments=serve_arguments(listen, verbose=verbose, state_dir=state_dir),
        working_directory=state_dir.resolve(),
    )
    home = Path.home().resolve()
    warned = set()
    for what, path in (
        ("state directory", task.working_directory),
        ("Python", task.program),
        # The installation a virtual environment's python runs.
        ("Python", Path(sys.base_prefix).resolve()),
    ):
        if path.is_relative_to(home) and what not in warned:
            warned.add(what)
            color.secho(
                f"Warning: the {what} {path} is in your user profile, which LOCAL SERVICE "
                "cannot read: the task would fail at every boot. Use --state-dir "
                "C:\\ProgramData\\reconciler and a Python installed for all users (README: the "
                "server on Windows).",
                fg="yellow",
                err=True,
            )
    try:
        task_file.parent.mkdir(parents=True, exist_ok=True)
        task_file.write_bytes(task_xml(task))
    except OSError as exc:
        raise UserError(f"{task_file}: cannot write the task: {exc.strerror or exc}") from None
    click.echo(
        f"Wrote {task_file}: from boot, whether or not anyone signs in, as LOCAL SERVICE, it runs"
    )
    click.echo(f"    {task.command_line}")
    click.echo(
        f"and starts it again within {RESTART_MINUTES} minutes whenever it stops. LOCAL SERVICE needs to change "
        f"{task.working_directory} and read the certificate and key (README: the server on "
        "Windows). Register the task from an administrator's command prompt:"
    )
    click.echo(f"    {schtasks_command(task_file.resolve())}")


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
        from reconciler.api.views import status_from_document

        with ApiClient.from_environment(server) as client:
            view = status_from_document(client.status(), SystemClock().now())
    else:
        store = open_state(state_dir, read_only=True)
        try:
            company = configured_company(store, config_dir)
            view = read_status(store, company, state_clock(store).now(), plans=STATUS_PLANS)
        finally:
            store.close()
    click.echo("\n".join(status_lines(view)))
    if view.errors:
        click.get_current_context().exit(1)

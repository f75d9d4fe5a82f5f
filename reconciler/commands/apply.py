"""``reconcile apply``: queue a plan for the Web Connector."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from pathlib import Path

import click

from reconciler.apply import Applied, queue_plan
from reconciler.clock import SystemClock
from reconciler.commands.options import config_option
from reconciler.commands.plan import charges_from
from reconciler.commands.state import configured_company, open_state
from reconciler.config import load_config
from reconciler.errors import UserError
from reconciler.model import Config
from reconciler.plan.document import Document
from reconciler.plan.files import load_plan
from reconciler.plan.text import render_text
from reconciler.qbwc.profile import Profile
from reconciler.qbwc.report import when
from reconciler.snapshots import StoredSnapshot, plan_against
from reconciler.statedir import state_dir_option
from reconciler.store import Store
from reconciler.store.records import CompanyRecord


def current_actor() -> str:
    """Who applies: the CI user when in CI, else user@host."""
    for variable, system in (
        ("GITHUB_ACTOR", "github"),
        ("GITLAB_USER_LOGIN", "gitlab"),
        ("BUILD_REQUESTEDFOR", "azure"),
    ):
        if os.environ.get(variable):
            return f"{system}:{os.environ[variable]}"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def current_commit(directory: Path) -> str | None:
    """The commit of the configuration, when known (CI variables, else git)."""
    for variable in ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 (git from PATH, as a user runs it)
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = found.stdout.strip()
    return commit if found.returncode == 0 and commit else None


def plan_from_snapshot(
    store: Store, company: CompanyRecord, config: Config, charges_source: str, force: bool
) -> Document:
    """Plan against the latest snapshot (what `apply` without a plan file applies)."""
    source = StoredSnapshot(store, company)
    click.echo(source.describe(SystemClock().now()), err=True)
    document = plan_against(source, config, charges_from(charges_source, config), force=force)
    click.echo(render_text(document, color=sys.stdout.isatty()), nl=False)
    return document


def report(applied: Applied, company: CompanyRecord, source: str) -> None:
    """Say what was queued and when it goes out."""
    if applied.already_queued:
        click.echo(f"{source} is already queued for {company.name}; nothing to do.")
        return
    if applied.plan is None:
        click.echo(f"{source} has no changes; nothing queued.")
        return
    profile = Profile.from_dict(company.profile)
    timezone = profile.timezone if profile else "UTC"
    now = SystemClock().now()
    text = f"Queued {source} ({applied.plan.key[:12]}) for {company.name}: {applied.requests} "
    text += "request" if applied.requests == 1 else "requests"
    if applied.held and applied.next_due is not None:
        text += f", {applied.held} held until {when(applied.next_due, now, timezone)}"
    click.echo(text + ".")
    click.echo("The Web Connector sends them at its next run (or click Update Selected).")


@click.command("apply")
@click.argument(
    "plan_path", metavar="[PLAN]", required=False, type=click.Path(path_type=Path, dir_okay=False)
)
@config_option
@click.option(
    "--charges",
    "charges_source",
    metavar="FILE|sherweb",
    help="Without PLAN: the charges to plan for (a file, or `sherweb` to fetch them); "
    "the plan is shown and applied after a yes.",
)
@click.option("--yes", is_flag=True, help="Without PLAN: apply without asking (for CI).")
@click.option(
    "--force",
    is_flag=True,
    help="Accept a plan over the safety threshold (a saved PLAN must have been made with "
    "`reconcile plan --force` too).",
)
@state_dir_option
def apply_command(
    plan_path: Path | None,
    config_dir: Path,
    charges_source: str | None,
    yes: bool,
    force: bool,
    state_dir: Path,
) -> None:
    """Queue a saved plan (PLAN), or plan against the latest snapshot and queue after a yes.

    A plan is refused when QuickBooks changed since it was computed (its state
    fingerprint is not the latest snapshot's), when it was made from another
    configuration than --config, when a request is not what `reconcile plan`
    renders for that snapshot, or when it bills in another billing mode than
    the one locked by the first apply.
    """
    config = load_config(config_dir)
    store = open_state(state_dir, create=False)
    try:
        company = configured_company(store, config_dir)
        if plan_path is not None:
            document = load_plan(plan_path)
            source = f"plan {plan_path}"
        else:
            if charges_source is None:
                raise UserError("give a plan file, or --charges FILE|sherweb to plan now")
            document = plan_from_snapshot(store, company, config, charges_source, force)
            source = "the plan above"
            if document["changes"] and not yes:
                if not sys.stdin.isatty():
                    raise UserError("not applied: confirm with --yes when not on a terminal")
                click.confirm("Apply these changes to QuickBooks?", abort=True)
        applied = queue_plan(
            store,
            company,
            document,
            config=config,
            now=SystemClock().now(),
            actor=current_actor(),
            commit=current_commit(config_dir),
            source=source,
            force=force,
        )
        report(applied, store.company(company.id), source)
    finally:
        store.close()

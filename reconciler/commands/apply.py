"""``reconcile apply``: queue a plan for the Web Connector."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import click

from reconciler.api.client import ApiClient
from reconciler.api.server_snapshot import ServerSnapshot
from reconciler.api.submit import submitted_document
from reconciler.base import color
from reconciler.base.clock import clock_moved_by
from reconciler.base.errors import UserError
from reconciler.base.times import when
from reconciler.commands.options import config_option, server_option
from reconciler.commands.plan import charges_from, plan_against
from reconciler.commands.state import (
    announce,
    configured_company,
    open_state,
    state_clock,
    stored_snapshot,
)
from reconciler.config.load import load_config
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Config
from reconciler.plan.document import Document
from reconciler.plan.files import load_plan, with_digest
from reconciler.plan.profile import profile_from_config
from reconciler.plan.render.text import render_text
from reconciler.qbstate.source import StateSource
from reconciler.queue.apply import NoFreshSnapshot, StalePlan, queue_plan
from reconciler.status.view import company_timezone
from reconciler.store import Store
from reconciler.store.location import state_dir_option
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


@dataclass(frozen=True)
class Queued:
    """What a plan submitted to the local store or to a server came to."""

    company: str
    timezone: str
    outcome: str  # queued, already-queued or no-changes
    key: str | None
    requests: int
    held: int
    next_due: dt.datetime | None
    clock_shift: dt.timedelta | None = None  # the local state's, when on the demo's clock

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Queued:
        """Read the API's answer to a submitted plan (local applies answer the same)."""
        plan = document["plan"]
        due = document["next_due"]
        return cls(
            company=document["company"],
            timezone=document["timezone"],
            outcome=document["outcome"],
            key=plan["key"] if plan else None,
            requests=document["requests"],
            held=document["held"],
            next_due=dt.datetime.fromisoformat(due) if due else None,
        )


class QueueTarget(Protocol):
    """Where plans are made from and queued: the local state directory or a server."""

    def latest(self) -> StateSource:
        """The latest snapshot to plan against."""
        ...

    def submit(self, document: Document, source: str, *, force: bool) -> Queued:
        """Queue the plan; raises :class:`StalePlan` when QuickBooks changed since.

        ``force`` accepts a plan over the safety threshold made with --force.
        """
        ...


@dataclass(frozen=True)
class LocalTarget:
    """The store in the state directory (``apply`` on the server's machine)."""

    store: Store
    company: CompanyRecord
    config: Config
    config_dir: Path

    def latest(self) -> StateSource:
        """The store's latest snapshot of the company."""
        return stored_snapshot(self.store, self.store.companies.get(self.company.id))

    def submit(self, document: Document, source: str, *, force: bool) -> Queued:
        """Queue the plan in the local store as the current user and commit; what was queued."""
        applied = queue_plan(
            self.store,
            self.company,
            document,
            profile=profile_from_config(self.config),
            now=state_clock(self.store).now(),
            actor=current_actor(),
            commit=current_commit(self.config_dir),
            source=source,
            force=force,
        )
        timezone = company_timezone(self.store.companies.get(self.company.id))
        queued = Queued.from_document(submitted_document(applied, self.company, timezone))
        return dataclasses.replace(queued, clock_shift=self.store.installation.clock_shift())


@dataclass(frozen=True)
class RemoteTarget:
    """A server's API (``apply --server URL``, from CI)."""

    client: ApiClient
    config: Config
    config_dir: Path

    def latest(self) -> StateSource:
        """The server's latest snapshot; refused for another company."""
        return ServerSnapshot.fetch(self.client, self.config.billing.company.name)

    def submit(self, document: Document, source: str, *, force: bool) -> Queued:
        """Send the plan to the server's API with the configuration's profile; what it queued."""
        answer = self.client.submit(
            with_digest(document),
            force=force,
            profile=profile_from_config(self.config).to_dict(),
            commit=current_commit(self.config_dir),
            requested_by=current_actor(),
        )
        return Queued.from_document(answer)


@contextmanager
def open_target(
    server: str | None, state_dir: Path, config_dir: Path, config: Config
) -> Iterator[QueueTarget]:
    """The server's API when ``server`` is given, else the local state directory."""
    if server is not None:
        with ApiClient.from_environment(server) as client:
            yield RemoteTarget(client, config, config_dir)
        return
    store = open_state(state_dir)
    try:
        yield LocalTarget(store, configured_company(store, config_dir), config, config_dir)
    finally:
        store.close()


def report(queued: Queued, source: str) -> None:
    """Say what was queued and when it goes out."""
    if queued.outcome == "already-queued":
        click.echo(f"{source} is already queued for {queued.company}; nothing to do.")
        return
    if queued.outcome == "no-changes":
        click.echo(f"{source} has no changes; nothing queued.")
        return
    now = clock_moved_by(queued.clock_shift).now()
    simulated = queued.clock_shift is not None
    text = f"Queued {source} ({(queued.key or '')[:12]}) for {queued.company}: {queued.requests} "
    text += "request" if queued.requests == 1 else "requests"
    if queued.held and queued.next_due is not None:
        due = when(queued.next_due, now, queued.timezone, simulated=simulated)
        text += f", {queued.held} held until {due}"
    click.echo(text + ".")
    click.echo("The Web Connector sends them at its next run (or click Update Selected).")


# Plans made again when QuickBooks changes between planning and queueing, at most.
MAX_REPLANS = 3


@dataclass
class Planner:
    """Plans against the target's latest snapshot, shows the plan and asks (or --yes)."""

    target: QueueTarget
    config: Config
    charges_source: str
    force: bool
    yes: bool
    _charges: ChargesBundle | None = None

    def plan(self) -> Document:
        """Plan against the target's latest snapshot, print the plan, and return it once confirmed.

        The charges are fetched once, however often this is called. A plan with changes
        needs a yes at the terminal (or ``--yes``); without a terminal it raises
        :class:`UserError`, and a no aborts the command.
        """
        if self._charges is None:  # fetched once, however often QuickBooks changes
            self._charges = charges_from(self.charges_source, self.config)
        source = self.target.latest()
        announce(source)
        document = plan_against(source, self.config, self._charges, force=self.force)
        color.echo(render_text(document, color=color.color_enabled()), nl=False)
        if document["changes"] and not self.yes:
            if not sys.stdin.isatty():
                raise UserError("not applied: confirm with --yes when not on a terminal")
            click.confirm("Apply these changes to QuickBooks?", abort=True)
        return document


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
    "the plan is shown and applied after a yes. With --replan-if-stale: the charges to "
    "plan again for.",
)
@click.option("--yes", is_flag=True, help="Apply a plan made here without asking (for CI).")
@click.option(
    "--force",
    is_flag=True,
    help="Accept a plan over the safety threshold: one made here, or a saved PLAN made with "
    "`reconcile plan --force` too.",
)
@click.option(
    "--replan-if-stale",
    is_flag=True,
    help="With PLAN: when QuickBooks changed since PLAN was made, plan again against the "
    "latest snapshot (with --charges), show that plan and apply it instead.",
)
@server_option
@state_dir_option
def apply_command(
    plan_path: Path | None,
    config_dir: Path,
    charges_source: str | None,
    yes: bool,
    force: bool,
    replan_if_stale: bool,
    server: str | None,
    state_dir: Path,
) -> None:
    """Queue a saved plan (PLAN), or plan against the latest snapshot and queue after a yes.

    A plan is refused when QuickBooks changed since it was computed (its state
    fingerprint is not the latest snapshot's), when it was made from another
    configuration than --config, when a request is not what `reconcile plan`
    renders for that snapshot, or when it bills in another billing mode than
    the one locked by the first apply. A plan made here
    (without PLAN, or again with --replan-if-stale) is made again, up to three
    times, when QuickBooks changes before it is queued. With --server URL the
    plan goes to that server's API (token in RECONCILE_TOKEN).
    """
    if plan_path is None and charges_source is None:
        raise UserError("give a plan file, or --charges FILE|sherweb to plan now")
    if replan_if_stale and charges_source is None:
        raise UserError("--replan-if-stale needs --charges FILE|sherweb to plan again")
    # The plan file first: one that is not a plan (a charges file) is said to be so at once.
    saved = load_plan(plan_path, command="apply") if plan_path is not None else None
    config = load_config(config_dir)
    with open_target(server, state_dir, config_dir, config) as target:
        planner = Planner(target, config, charges_source or "", force, yes)
        if saved is not None:
            document, source = saved, f"plan {plan_path}"
        else:
            document, source = planner.plan(), "the plan above"
        replans = 0
        while True:
            try:
                queued = target.submit(document, source, force=force)
                break
            except StalePlan as stale:
                replannable = plan_path is None or replan_if_stale
                if not replannable or isinstance(stale, NoFreshSnapshot) or replans == MAX_REPLANS:
                    raise
                replans += 1
                color.secho(f"{stale.message}; planning again.", fg="yellow", err=True)
                document, source = planner.plan(), "the plan above"
    report(queued, source)

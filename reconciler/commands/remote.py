"""Planning against a remote server's snapshot (``plan --server URL``, ``apply --server URL``)."""

from __future__ import annotations

import datetime as dt

import click

from reconciler import __version__
from reconciler.api.client import ApiClient
from reconciler.base.errors import UserError
from reconciler.base.releases import install_hint
from reconciler.base.times import when
from reconciler.commands.state import SnapshotForPlan, warn_outdated
from reconciler.engine.coverage import Coverage
from reconciler.engine.fingerprint import fingerprint_state
from reconciler.model.config import BillingMode, Config


def remote_snapshot_for_plan(client: ApiClient, config: Config) -> SnapshotForPlan:
    """The server's latest snapshot and lock; say (on stderr) which snapshot and how old.

    Refused when the token's company is not the configuration's, or when this
    reconciler reads the snapshot differently from the server (another
    version): the server would refuse the plan as stale.
    """
    from reconciler.qbxml.parse import QbxmlParseError, parse_state

    answer = client.snapshot()
    company = answer["company"]["name"]
    if company != config.billing.company.name:
        raise UserError(
            f"the token is for {company!r}, but the configuration is for "
            f"{config.billing.company.name!r}",
            hint="Use a token created on the server with --config pointing at this configuration.",
        )
    snapshot = answer["snapshot"]
    taken = dt.datetime.fromisoformat(snapshot["taken_at"])
    # Its age on the server's clock, as the server's `status` tells it.
    server_now = taken + dt.timedelta(seconds=snapshot["age_seconds"])
    click.echo(
        f"QuickBooks state: snapshot {snapshot['version']} taken "
        f"{when(taken, server_now, answer['company']['timezone'])}, from {client.server}",
        err=True,
    )
    if snapshot["outdated"]:
        warn_outdated()
    try:
        state = parse_state(document.encode("utf-8") for document in answer["documents"])
    except QbxmlParseError as exc:
        raise UserError(f"snapshot {snapshot['version']} cannot be read: {exc}") from None
    if fingerprint_state(state) != snapshot["fingerprint"]:
        raise UserError(
            f"this reconciler ({__version__}) reads snapshot {snapshot['version']} differently "
            f"from the server ({answer['server_version']}): the server would refuse its plan "
            "as stale",
            hint=f"Plan with the server's version: {install_hint(answer['server_version'])}.",
        )
    lock = answer["billing_lock"]
    return SnapshotForPlan(
        state,
        BillingMode(lock["mode"]) if lock else None,
        dt.datetime.fromisoformat(lock["locked_at"]) if lock else None,
        Coverage.from_dict(answer.get("coverage")),
    )

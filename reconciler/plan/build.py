"""Building a plan: desired state, diff, safety, fingerprints (pure)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.base.errors import UserError
from reconciler.engine.changes import InvoiceUpdate
from reconciler.engine.coverage import Coverage
from reconciler.engine.desired import build_desired
from reconciler.engine.diff import diff
from reconciler.engine.fingerprint import fingerprint_charges, fingerprint_config, fingerprint_state
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import BillingMode, Config
from reconciler.model.quickbooks import QBState
from reconciler.plan.model import (
    Fingerprints,
    Plan,
    PlannedChange,
    SafetyCheck,
    plan_id,
    request_id,
)


class BillingModeLocked(UserError):
    """The configuration changes a billing mode that has already been applied."""


def check_mode_lock(
    config: Config, locked_mode: BillingMode | None, locked_since: dt.datetime | None = None
) -> None:
    """Refuse a configuration whose billing mode differs from the locked one."""
    if locked_mode is None or config.billing.mode is locked_mode:
        return
    since = f" since it was first applied on {locked_since:%Y-%m-%d}" if locked_since else ""
    where = f"{config.billing.where}: " if config.billing.where else ""
    raise BillingModeLocked(
        f"{where}billing mode is locked to {locked_mode.value}{since}; it cannot be changed "
        f"(the configuration says {config.billing.mode.value})",
        hint=f"QuickBooks already holds invoices billed in {locked_mode.value}: "
        f"set `mode: {locked_mode.value}` in billing.yaml again.",
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan is built or rendered.

    A large plan allocates hundreds of thousands of objects that live until
    it is done; each automatic collection walks all of them, which makes the
    time grow faster than the input. None of them forms a cycle (frozen
    dataclasses, tuples, plain JSON data), so reference counting frees them
    all the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_plan(
    config: Config,
    charges: ChargesBundle,
    state: QBState,
    *,
    locked_mode: BillingMode | None = None,
    locked_since: dt.datetime | None = None,
    coverage: Coverage | None = None,
) -> Plan:
    """The plan that brings ``state`` to what ``config`` and ``charges`` call for.

    ``locked_mode`` is the billing mode recorded at the first apply (by the
    server's store); a configuration that differs is refused. ``coverage`` is
    what the server's snapshot read of the invoices (None for qbXML files).
    """
    check_mode_lock(config, locked_mode, locked_since)
    with collector_paused():
        desired = build_desired(config, charges)
        found = diff(config, desired, state, coverage)
        fingerprints = Fingerprints(
            config=fingerprint_config(config),
            charges=fingerprint_charges(charges),
            state=fingerprint_state(state),
        )
    identity = plan_id(fingerprints)
    changes: list[PlannedChange] = []
    for update in found.item_updates:
        changes.append(
            PlannedChange(
                key=f"item:{update.item.list_id}",
                change=update,
                request_id=request_id(identity, len(changes) + 1),
            )
        )
    for invoice in found.invoice_changes:
        change = invoice.change
        key = (
            f"invoice-mod:{change.invoice.txn_id}"
            if isinstance(change, InvoiceUpdate)
            else f"invoice-add:{change.external_guid}"
        )
        changes.append(
            PlannedChange(
                key=key,
                change=change,
                request_id=request_id(identity, len(changes) + 1),
                organizations=invoice.organizations,
                schedule=invoice.schedule,
            )
        )
    notices = sorted((*desired.notices, *found.notices), key=lambda n: n.sort_key())
    safety = config.billing.safety
    return Plan(
        fingerprints=fingerprints,
        billing=config.billing,
        changes=tuple(changes),
        notices=tuple(notices),
        safety=SafetyCheck(
            existing_invoices=found.existing_invoices,
            changed_invoices=found.changed_invoices,
            max_change_ratio=safety.max_change_ratio,
            min_existing=safety.min_existing,
        ),
        host=state.host,
    )

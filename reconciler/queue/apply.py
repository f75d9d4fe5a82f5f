"""Queueing a plan: the checks ``apply`` makes, then one transaction.

A plan is queued only if it was computed from the latest snapshot (design
invariant 7) and from the configuration it is applied with, and bills in the
locked billing mode. Nothing in the plan is taken on trust: every request is
checked against the snapshot and the configuration (``plan.guard``), the
moment each invoice request may go out is computed again from billing.yaml,
and the safety threshold is checked again from the requests themselves. A
plan over the threshold needs --force twice: when it is made (so that the
reviewed plan says so) and when it is applied. Its requests are queued
exactly as the plan holds them (what was reviewed is what is sent); invoice
requests are held until 05:00 New York time on the invoice day. The
billing-mode lock, the queue and the audit entry are written together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reconciler.base.errors import UserError
from reconciler.base.times import age
from reconciler.plan.document import CREATE_INVOICE, UPDATE_INVOICE, UPDATE_ITEM_COST, Document
from reconciler.plan.guard import CheckedChange, UnsafePlanRequest, check_plan_requests
from reconciler.plan.model import SafetyCheck
from reconciler.plan.profile import Profile
from reconciler.qbstate.snapshot import snapshot_fingerprint, snapshot_state
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, NewRequest, PlanRecord, PlanStatus


class StalePlan(UserError):
    """The plan was computed from a QuickBooks state that is no longer the latest."""


class NoFreshSnapshot(StalePlan):
    """No snapshot says what QuickBooks holds now (none yet, or requests went out since):
    planning again cannot help until the Web Connector has read QuickBooks."""


class BillingModeLocked(UserError):
    """The plan bills in another mode than the one locked by the first apply."""


class PlanRefused(UserError):
    """The plan cannot be queued as it is (over the safety threshold, requests that do
    not match their changes)."""


@dataclass(frozen=True)
class Applied:
    """What ``apply`` queued."""

    plan: PlanRecord | None  # None: nothing to queue
    requests: int
    held: int
    next_due: dt.datetime | None
    already_queued: bool = False


def check_fresh(store: Store, company: CompanyRecord, document: Document, now: dt.datetime) -> None:
    """Refuse a plan whose QuickBooks fingerprint is not the latest snapshot's."""
    snapshot = store.snapshots.latest(company.id)
    planned = document["fingerprints"]["state"]
    if snapshot is None:
        raise NoFreshSnapshot(
            "there is no QuickBooks snapshot to check the plan against",
            hint="Let the Web Connector sync once, then plan again from its snapshot.",
        )
    if store.companies.get(company.id).snapshot_outdated:
        raise NoFreshSnapshot(
            f"QuickBooks may have changed after the latest snapshot ({snapshot.version}): "
            "requests went out, and no run has read QuickBooks since",
            hint="Let the Web Connector run once (Update Selected), then plan again.",
        )
    latest = snapshot_fingerprint(store, snapshot)
    if latest != planned:
        raise StalePlan(
            f"the plan is stale: it was computed from QuickBooks state {planned[:12]}, but "
            f"the latest snapshot reads as {latest[:12]} (snapshot {snapshot.version}, "
            f"taken {age(now - snapshot.taken_at)} ago)",
            hint="QuickBooks changed since the plan was made, or the plan was made from other "
            "qbXML responses (--qb-state): run `reconcile plan` again without --qb-state, "
            "from the server's latest snapshot.",
        )


def check_config(
    document: Document, profile: Profile | None, company: CompanyRecord, source: str
) -> Profile:
    """Refuse a plan made from another configuration than the one it is applied with.

    ``profile`` is that configuration's (sent with the plan, or the one the
    server keeps); the plan's configuration fingerprint must be its.
    """
    planned = document["fingerprints"]["config"]
    if profile is None or profile.config_fingerprint is None:
        raise PlanRefused(
            f"{source} cannot be checked against the configuration of {company.name}: "
            "none is known here yet",
            hint="Apply it with `reconcile apply --config DIR`, which sends the configuration's "
            "profile with the plan.",
        )
    if profile.config_fingerprint != planned:
        raise PlanRefused(
            f"{source} was made from another configuration (fingerprint {planned[:12]}); "
            "plan again with this configuration",
            hint="The configuration it is applied with (--config) says something else than "
            "the one the plan was computed from: review the plan it gives.",
        )
    return profile


def check_safety_again(
    document: Document, checked: tuple[CheckedChange, ...], profile: Profile, *, force: bool
) -> None:
    """The safety threshold, from the checked requests and billing.yaml, not the file's verdict.

    The plan's own count of the existing invoices it looked at is kept (only
    the diff knows it), never below the invoices it updates; the invoices it
    changes lines on are counted from the requests.
    """
    safety = profile.safety
    updates = sum(change["action"] == UPDATE_INVOICE for change in document["changes"])
    again = SafetyCheck(
        existing_invoices=max(document["safety"]["existing_invoices"], updates),
        changed_invoices=max(
            document["safety"]["changed_invoices"], sum(c.changes_existing for c in checked)
        ),
        max_change_ratio=safety.max_change_ratio,
        min_existing=safety.min_existing,
    )
    if not again.exceeded:
        return
    over = (
        f"the plan changes lines on {again.changed_invoices} of the {again.existing_invoices} "
        f"existing invoices it looks at ({again.ratio * 100:.0f}%), more than the safety "
        f"threshold of {again.max_change_ratio * 100:.0f}% (billing.safety.max_change_ratio)"
    )
    if not document["safety"]["forced"]:
        raise PlanRefused(
            f"{over}, and it was not accepted with `reconcile plan --force`",
            hint="Review it, run `reconcile plan --force --out FILE`, then apply that file "
            "with --force.",
        )
    if not force:
        raise PlanRefused(
            f"{over}; it was made with --force: apply it with --force too",
            hint="A plan over the threshold is applied only when both its author and whoever "
            "applies it say so.",
        )


def check_mode(store: Store, company: CompanyRecord, document: Document) -> None:
    """Refuse a plan that bills in another mode than the one locked by the first apply."""
    lock = store.billing_locks.get(company.id)
    mode = document["billing"]["mode"]
    if lock is not None and lock.mode != mode:
        raise BillingModeLocked(
            f"the plan bills in {mode}, but the billing mode of {company.name} is locked to "
            f"{lock.mode} since {lock.locked_at:%Y-%m-%d}",
            hint=f"QuickBooks already holds invoices billed in {lock.mode}: set "
            f"`mode: {lock.mode}` in billing.yaml and plan again.",
        )


def _label(change: dict[str, Any]) -> str:
    """The object a request writes, as people read it (the status list's "object")."""
    if change["action"] == UPDATE_ITEM_COST:
        item = change["item"]
        before = change["before"]["purchase_cost"]
        return (
            f"item {item['full_name']}: cost {before if before is not None else 'none'}"
            f" -> {change['after']['purchase_cost']}"
        )
    customer = (change.get("customer") or {}).get("full_name") or "?"
    if change["action"] == CREATE_INVOICE:
        return f"new invoice for {customer} dated {change['txn_date']}"
    invoice = change["invoice"]
    number = invoice.get("ref_number") or invoice["txn_id"]
    return f"invoice {number} of {customer} dated {invoice['txn_date']}"


def plan_requests(document: Document, checked: tuple[CheckedChange, ...]) -> list[NewRequest]:
    """The plan's changes as requests to queue, in the plan's order.

    ``checked`` is what the guard found of each change: its request kind and
    when it may be sent (from billing.yaml, not from the plan file).
    """
    requests = []
    for change, verified in zip(document["changes"], checked, strict=True):
        create = change["action"] == CREATE_INVOICE
        customer = change.get("customer") or {}
        requests.append(
            NewRequest(
                kind=verified.kind,
                label=_label(change),
                qbxml=change["qbxml"],
                not_before=verified.not_before,
                external_guid=change.get("external_guid") if create else None,
                lookup=(
                    {
                        "customer_list_id": customer.get("list_id"),
                        "customer": customer.get("full_name"),
                        "txn_date": change["txn_date"],
                    }
                    if create
                    else {}
                ),
                request_id=change["request_id"],
            )
        )
    return requests


def queue_plan(
    store: Store,
    company: CompanyRecord,
    document: Document,
    *,
    profile: Profile | None,
    now: dt.datetime,
    actor: str,
    commit: str | None,
    source: str,
    detail: dict[str, Any] | None = None,
    force: bool = False,
) -> Applied:
    """Check and queue ``document`` for ``company`` (one transaction).

    ``profile`` (from the configuration the plan is applied with: what the Web
    Connector's runs refresh, and what the plan is checked against) replaces
    the stored one; None checks against, and keeps, the stored one. ``detail``
    goes into the audit entry. ``force`` accepts a plan over the safety
    threshold that was made with --force too.
    """
    from reconciler.plan.files import dumps_plan

    checking = check_config(
        document,
        profile or Profile.from_dict(store.companies.get(company.id).profile),
        company,
        source,
    )
    checked: tuple[CheckedChange, ...] = ()
    if document["changes"]:
        # The requests are checked against the snapshot the plan was computed
        # from, read outside the transaction (parsing a large state must not
        # hold the writers' lock); inside it, the plan is checked to be fresh
        # again, so the snapshot read is the latest one's state.
        check_fresh(store, company, document, now)
        snapshot = store.snapshots.latest(company.id)
        assert snapshot is not None  # check_fresh refuses a company without one
        try:
            checked = check_plan_requests(
                document, snapshot_state(store, snapshot), checking.guard_rules()
            )
        except UnsafePlanRequest as exc:
            raise PlanRefused(exc.message, hint=exc.hint) from None
        check_safety_again(document, checked, checking, force=force)
    requests = plan_requests(document, checked)
    with store.atomic():
        check_fresh(store, company, document, now)
        check_mode(store, company, document)
        key = document["plan_id"]
        if any(
            p.key == key and p.status is PlanStatus.QUEUED
            for p in store.plans.for_company(company.id)
        ):
            return Applied(plan=None, requests=0, held=0, next_due=None, already_queued=True)
        if profile is not None:
            store.companies.set_profile(company.id, profile.to_dict())
        if not requests:
            return Applied(plan=None, requests=0, held=0, next_due=None)
        plan = store.plans.queue(
            company.id,
            key=key,
            qb_fingerprint=document["fingerprints"]["state"],
            billing_mode=document["billing"]["mode"],
            document=dumps_plan(document),
            requests=requests,
            applied_at=now,
        )
        store.billing_locks.lock(company.id, document["billing"]["mode"], now, plan.id)
        store.errors.resolve_other_plans(company.id, now, keep_plan_id=plan.id)
        store.audit.add(
            company.id,
            actor=actor,
            action="apply",
            at=now,
            plan_id=plan.id,
            commit=commit,
            detail={
                "plan_id": key,
                "source": source,
                "changes": len(requests),
                "fingerprints": document["fingerprints"],
                **(detail or {}),
            },
        )
        counts = store.queue.counts(company.id)
    held = sum(1 for r in requests if r.not_before is not None and r.not_before > now)
    return Applied(plan=plan, requests=len(requests), held=held, next_due=counts.next_due)

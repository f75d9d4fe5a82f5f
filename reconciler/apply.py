"""Queueing a plan: the checks ``apply`` makes, then one transaction.

A plan is queued only if it was computed from the latest snapshot (design
invariant 7) and bills in the locked billing mode. Its requests are queued
exactly as the plan file holds them (what was reviewed is what is sent);
invoice requests are held until 05:00 New York time on the invoice day. The
billing-mode lock, the queue and the audit entry are written together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UserError
from reconciler.model import COSTED_ITEM_KINDS
from reconciler.plan.document import CREATE_INVOICE, UPDATE_ITEM_COST, Document
from reconciler.qbwc.profile import Profile
from reconciler.qbwc.report import age
from reconciler.snapshots import snapshot_fingerprint
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, NewRequest, PlanRecord, PlanStatus
from reconciler.xmlsafe import XMLInputError, parse_xml


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
    snapshot = store.latest_snapshot(company.id)
    planned = document["fingerprints"]["state"]
    if snapshot is None:
        raise NoFreshSnapshot(
            "there is no QuickBooks snapshot to check the plan against",
            hint="Let the Web Connector sync once, then plan again from its snapshot.",
        )
    if store.company(company.id).snapshot_outdated:
        raise NoFreshSnapshot(
            f"QuickBooks may have changed after the latest snapshot ({snapshot.version}): "
            "requests went out, and no run has read QuickBooks since",
            hint="Let the Web Connector run once (Update Selected), then plan again.",
        )
    latest = snapshot_fingerprint(store, snapshot)
    if latest != planned:
        raise StalePlan(
            f"the plan is stale: it was computed from QuickBooks state {planned[:12]}, but "
            f"QuickBooks now reads as {latest[:12]} (snapshot {snapshot.version}, "
            f"taken {age(now - snapshot.taken_at)} ago)",
            hint="QuickBooks changed since the plan was made: run `reconcile plan` again.",
        )


def check_mode(store: Store, company: CompanyRecord, document: Document) -> None:
    """Refuse a plan that bills in another mode than the one locked by the first apply."""
    lock = store.billing_lock(company.id)
    mode = document["billing"]["mode"]
    if lock is not None and lock.mode != mode:
        raise BillingModeLocked(
            f"the plan bills in {mode}, but the billing mode of {company.name} is locked to "
            f"{lock.mode} since {lock.locked_at:%Y-%m-%d}",
            hint=f"QuickBooks already holds invoices billed in {lock.mode}: set "
            f"`mode: {lock.mode}` in billing.yaml and plan again.",
        )


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise UserError(f"the plan's not_before {text!r} has no time zone")
    return moment.astimezone(dt.UTC)


def _expected_kind(change: dict[str, Any]) -> str:
    """The one qbXML request a change of this action may send."""
    if change["action"] == UPDATE_ITEM_COST:
        kind = change["item"]["kind"]
        if kind not in COSTED_ITEM_KINDS:
            raise PlanRefused(f"change {change['id']}: a {kind} has no purchase cost to update")
        return f"{kind}ModRq"
    return "InvoiceAddRq" if change["action"] == CREATE_INVOICE else "InvoiceModRq"


def _kind(change: dict[str, Any]) -> str:
    """The request the change's qbXML holds, which must be the one its action sends:
    a plan file, or a plan submitted to the API, queues nothing else."""
    change_id = change["id"]
    try:
        root = parse_xml(change["qbxml"], source=f"the qbXML of change {change_id}")
    except XMLInputError as exc:
        raise PlanRefused(str(exc)) from None
    messages = root.find("QBXMLMsgsRq")
    requests = [] if messages is None else [c for c in messages if isinstance(c.tag, str)]
    if len(requests) != 1:
        raise PlanRefused(f"change {change_id}: its qbXML must hold exactly one request")
    kind = str(requests[0].tag)
    expected = _expected_kind(change)
    if kind != expected:
        raise PlanRefused(
            f"change {change_id} ({change['action']}) holds {kind}, not the {expected} "
            "its action sends"
        )
    return kind


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


def plan_requests(document: Document) -> list[NewRequest]:
    """The plan's changes as requests to queue, in the plan's order."""
    requests = []
    for change in document["changes"]:
        create = change["action"] == CREATE_INVOICE
        customer = change.get("customer") or {}
        requests.append(
            NewRequest(
                kind=_kind(change),
                label=_label(change),
                qbxml=change["qbxml"],
                not_before=_moment(change.get("not_before")),
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
) -> Applied:
    """Check and queue ``document`` for ``company`` (one transaction).

    ``profile`` (what the Web Connector's runs refresh, from the configuration
    the plan was made with) replaces the stored one; None keeps it. ``detail``
    goes into the audit entry.
    """
    from reconciler.plan.files import dumps_plan

    safety = document["safety"]
    if safety["exceeded"] and not safety["forced"]:
        raise PlanRefused(
            "the plan is over the safety threshold and was not accepted with --force",
            hint="Review it, then run `reconcile plan --force --out FILE` and apply that file.",
        )
    requests = plan_requests(document)
    with store.atomic():
        check_fresh(store, company, document, now)
        check_mode(store, company, document)
        key = document["plan_id"]
        if any(p.key == key and p.status is PlanStatus.QUEUED for p in store.plans(company.id)):
            return Applied(plan=None, requests=0, held=0, next_due=None, already_queued=True)
        if profile is not None:
            store.set_profile(company.id, profile.to_dict())
        if not requests:
            return Applied(plan=None, requests=0, held=0, next_due=None)
        plan = store.queue_plan(
            company.id,
            key=key,
            qb_fingerprint=document["fingerprints"]["state"],
            billing_mode=document["billing"]["mode"],
            document=dumps_plan(document),
            requests=requests,
            applied_at=now,
        )
        store.lock_billing_mode(company.id, document["billing"]["mode"], now, plan.id)
        store.resolve_plan_errors(company.id, now, keep_plan_id=plan.id)
        store.add_audit(
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
        counts = store.queue_counts(company.id)
    held = sum(1 for r in requests if r.not_before is not None and r.not_before > now)
    return Applied(plan=plan, requests=len(requests), held=held, next_due=counts.next_due)

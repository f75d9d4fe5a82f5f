"""``POST /api/v1/plans``: the checks ``reconcile apply`` makes, answered in HTTP.

A stale plan or one in another billing mode is a conflict with the server's
state (409); a body that is not a plan this server can queue is 422. Either
way nothing changes.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciler.api.openapi import body_validator
from reconciler.api.problems import Problem
from reconciler.api.views import Json, iso
from reconciler.base.errors import UserError
from reconciler.plan.files import modified, newer_format, older_format, schema_problems
from reconciler.plan.model import FORMAT_VERSION
from reconciler.plan.profile import Profile
from reconciler.queue.apply import (
    Applied,
    BillingModeLocked,
    NoFreshSnapshot,
    PlanRefused,
    StalePlan,
    queue_plan,
)
from reconciler.store import Store
from reconciler.store.records import ApiToken, CompanyRecord

# Past this many, more problems tell a person nothing new.
MAX_REPORTED = 10


def _unprocessable(detail: str, code: str, **extra: Any) -> Problem:
    return Problem(HTTPStatus.UNPROCESSABLE_ENTITY, detail, code=code, **extra)


def _refusal(exc: UserError, status: HTTPStatus, code: str) -> Problem:
    extra = {"hint": exc.hint} if exc.hint else {}
    return Problem(status, exc.message, code=code, **extra)


def _profile(data: Json | None, company: CompanyRecord, billing: Json) -> Profile | None:
    """The submitted profile, checked against the token's company and the plan's billing."""
    if data is None:
        return None
    if data["company"] != company.name:
        raise _unprocessable(
            f"the configuration is for {data['company']!r}, but this token belongs to "
            f"{company.name!r}",
            "wrong-company",
            hint="Use a token created with --config pointing at this configuration.",
        )
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise _unprocessable(
            f"profile.timezone: unknown time zone {data['timezone']!r}", "invalid-request"
        ) from None
    profile = Profile.from_dict(data)
    assert profile is not None
    ours = {
        "mode": profile.mode.value,
        "invoice_day": profile.invoice_day,
        "invoice_time": profile.invoice_time.strftime("%H:%M"),
        "timezone": profile.timezone,
        "unsent_invoices": profile.unsent_invoices.value,
        "mark_created": profile.mark_created.value,
    }
    differ = [
        f"{key}: {ours[key]!r} != {billing[key]!r}" for key in ours if ours[key] != billing[key]
    ]
    if differ:
        raise _unprocessable(
            "the profile's billing options are not the plan's (profile != plan): "
            + "; ".join(differ),
            "profile-mismatch",
        )
    return profile


def check_submission(body: Any) -> Json:
    """The body as a plan submission, or a 422 naming what is wrong with it."""
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in body_validator("PlanSubmission").iter_errors(body)
    ]
    if problems:
        raise _unprocessable(
            "the body is not a plan submission", "invalid-request", errors=problems[:MAX_REPORTED]
        )
    plan = body["plan"]
    version = newer_format(plan)
    if version is not None:
        raise _unprocessable(
            f"plan format {version} was written by a newer reconciler "
            f"(this server reads format {FORMAT_VERSION})",
            "plan-format",
            hint="Plan with the server's reconciler version (see GET /api/v1/snapshot).",
        )
    version = older_format(plan)
    if version is not None:
        raise _unprocessable(
            f"plan format {version} was written by an older reconciler "
            f"(this server reads format {FORMAT_VERSION})",
            "plan-format",
            hint="Run `reconcile plan` again with the server's reconciler version.",
        )
    if modified(plan):
        raise _unprocessable(
            "the plan was modified after `reconcile plan` wrote it: plan again",
            "plan-modified",
            hint="A plan is applied exactly as it was reviewed.",
        )
    problems = schema_problems(plan)
    if problems:
        raise _unprocessable("the plan is not a valid plan file", "invalid-plan", errors=problems)
    submission: Json = body
    return submission


def submit_plan(
    store: Store, company: CompanyRecord, token: ApiToken, body: Any, now: dt.datetime
) -> tuple[HTTPStatus, Json]:
    """Queue the submitted plan for the token's company; the answer's status and document."""
    submission = check_submission(body)
    plan = submission["plan"]
    profile = _profile(submission.get("profile"), company, plan["billing"])
    requested_by = submission.get("requested_by")
    try:
        applied = queue_plan(
            store,
            company,
            plan,
            profile=profile,
            now=now,
            actor=f"token:{token.name}",
            commit=submission.get("commit"),
            source="api",
            detail={"requested_by": requested_by} if requested_by else None,
            force=bool(submission.get("force", False)),
        )
    except NoFreshSnapshot as exc:
        raise _refusal(exc, HTTPStatus.CONFLICT, "snapshot-outdated") from None
    except StalePlan as exc:
        raise _refusal(exc, HTTPStatus.CONFLICT, "stale-plan") from None
    except BillingModeLocked as exc:
        raise _refusal(exc, HTTPStatus.CONFLICT, "billing-mode-locked") from None
    except PlanRefused as exc:
        raise _refusal(exc, HTTPStatus.UNPROCESSABLE_ENTITY, "plan-refused") from None
    except UserError as exc:
        raise _refusal(exc, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid-plan") from None
    stored = Profile.from_dict(store.companies.get(company.id).profile)
    document = submitted_document(applied, company, stored.timezone if stored else "UTC")
    status = HTTPStatus.ACCEPTED if applied.plan is not None else HTTPStatus.OK
    return status, document


def submitted_document(applied: Applied, company: CompanyRecord, timezone: str) -> Json:
    """What the API answers to a submitted plan."""
    if applied.plan is not None:
        outcome = "queued"
    else:
        outcome = "already-queued" if applied.already_queued else "no-changes"
    plan = applied.plan
    return {
        "outcome": outcome,
        "company": company.name,
        "timezone": timezone,
        "plan": (
            None
            if plan is None
            else {
                "id": plan.id,
                "key": plan.key,
                "status": plan.status.value,
                "applied_at": iso(plan.applied_at),
            }
        ),
        "requests": applied.requests,
        "held": applied.held,
        "next_due": iso(applied.next_due),
    }

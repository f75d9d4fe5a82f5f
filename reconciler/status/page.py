"""The status page: what ``reconcile status`` says, as HTML readable on a phone.

Server-rendered with Jinja (autoescaped: every text from QuickBooks or the
configuration is escaped), one page per request, no script, no external
asset. It shows no secret: no password or token, no ticket, no qbXML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from reconciler import __version__
from reconciler.base.times import age, when
from reconciler.status.report import rejected_text, resolved_note
from reconciler.status.view import PlanView, StatusView, read_status
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, PlanStatus, RequestState

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Pending requests listed on the page (the rest are counted).
PENDING_SHOWN = 50
RECENT_PLANS = 10
_PENDING = (RequestState.SENT, RequestState.FAILED, RequestState.QUEUED, RequestState.HELD)


@dataclass(frozen=True)
class PendingRequest:
    """A request still to go out (or to go again), as the page lists it."""

    label: str
    state: RequestState
    not_before: dt.datetime | None  # when a held one is due
    attempts: int


@dataclass(frozen=True)
class CompanyPage:
    """What the page shows of one company: its status (with its RECENT_PLANS newest
    plans), and the requests still to go out, which the page alone lists."""

    status: StatusView
    pending: list[PendingRequest]  # the first PENDING_SHOWN, in the order they go out
    pending_total: int

    @property
    def live_plans(self) -> list[PlanView]:
        """The plans whose requests are still going out."""
        return [plan for plan in self.status.plans if plan.status is PlanStatus.QUEUED]


def company_page(store: Store, company: CompanyRecord, now: dt.datetime) -> CompanyPage:
    """Read what the page shows of ``company`` at ``now``."""
    pending = store.queue.requests(company.id, _PENDING)
    return CompanyPage(
        status=read_status(store, company, now, plans=RECENT_PLANS),
        pending=[
            PendingRequest(r.label, r.state, r.not_before, r.attempts)
            for r in pending[:PENDING_SHOWN]
        ],
        pending_total=len(pending),
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _last_run(page: CompanyPage) -> tuple[str, str]:
    """The last run's outcome as (tone, text): tone is ok, error, running or never."""
    run = page.status.last_run
    if run is None:
        return "never", "The Web Connector has not run yet"
    changes = f"{run.applied} change{'s' if run.applied != 1 else ''}"
    if run.closed_at is None:
        return "running", f"Running: {changes} applied so far"
    if run.errors:
        errors = f"{run.errors} error{'s' if run.errors != 1 else ''}"
        resolved = page.status.resolved_since()
        tone = "ok" if resolved >= run.errors else "error"
        return tone, f"Applied {changes}, {errors}{resolved_note(run.errors, resolved)}"
    if run.applied:
        return "ok", f"Applied {changes}"
    return "ok", "Read QuickBooks; nothing to apply"


def render_status_page(pages: list[CompanyPage], now: dt.datetime) -> str:
    """The whole page for these companies at ``now``."""

    # One store, one clock: the demo's simulated one marks every time it shows.
    simulated = any(page.status.clock.simulated for page in pages)

    def at(moment: dt.datetime | None, timezone: str) -> str:
        return "never" if moment is None else when(moment, now, timezone, simulated=simulated)

    def since(moment: dt.datetime) -> str:
        return age(now - moment)

    return (
        _environment()
        .get_template("status.html.j2")
        .render(
            pages=pages,
            now=now,
            version=__version__,
            at=at,
            since=since,
            last_run=_last_run,
            rejected_text=rejected_text,
            states=list(RequestState),
            held=RequestState.HELD,
            shown=PENDING_SHOWN,
        )
    )


def sign_in_page(*, invalid: bool) -> str:
    """The page that asks for a token (the page is open without one on loopback only)."""
    return (
        _environment().get_template("sign-in.html.j2").render(invalid=invalid, version=__version__)
    )

"""The status view travels through the API's status document unchanged: `status --server`
reads back the view the server rendered, with nothing made up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

from support.sync_world import world

from reconciler.api.views import status_document, status_from_document
from reconciler.status import view as status_view
from reconciler.status.report import STATUS_PLANS, status_lines
from reconciler.status.view import StatusView, read_status
from reconciler.store.records import (
    NewRequest,
    NewStatusError,
    PlanRecord,
    RejectReason,
    RequestState,
)


def _view(w, plans: int = 20) -> StatusView:
    return read_status(w.store, w.store.companies.get(w.company.id), w.clock.now(), plans=plans)


def _queue_plan(w, key: str, *, held_for: dt.timedelta | None = None) -> PlanRecord:
    """A plan of one request queued in the store (held for ``held_for`` when given)."""
    now = w.clock.now()
    due = None if held_for is None else now + held_for
    return w.store.plans.queue(
        w.company.id,
        key=key,
        qb_fingerprint="f",
        billing_mode="advance",
        document="{}",
        requests=[NewRequest("InvoiceAddRq", f"Invoice {key[:4]}", "<x/>", due, key[:8])],
        applied_at=now,
    )


def test_a_status_with_everything_reads_back_as_it_was_rendered(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        w.apply(w.plan())
        assert w.sync().ok  # the plan is done
        w.clock.advance(hours=3)
        stale = _queue_plan(w, "a" * 64)
        w.store.plans.mark_stale(stale.id, "3200: edited in QuickBooks since", w.clock.now())
        _queue_plan(w, "b" * 64, held_for=dt.timedelta(days=2))
        error = NewStatusError("Invoice for Contoso", "3140", "Invalid reference", "Fix it")
        w.store.errors.record(w.company.id, error, w.clock.now())
        w.store.rejected_calls.record(RejectReason.SIGN_IN, w.clock.now())
        w.clock.advance(minutes=7)

        view = _view(w)
        assert view.last_run and view.snapshot and view.lock and view.errors and view.rejected
        assert [plan.status.value for plan in view.plans] == ["queued", "stale", "done"]
        assert view.plans[1].status_reason == "3200: edited in QuickBooks since"
        assert view.queue.count(RequestState.STALE) and view.queue.count(RequestState.HELD)
        assert view.queue.next_due is not None
        again = status_from_document(status_document(view), w.clock.now())
        assert again == view
        assert status_lines(again) == status_lines(view)
        assert status_document(again) == status_document(view)


def test_the_text_lists_the_newest_plans_whichever_way_the_view_was_built(tmp_path):
    with world(tmp_path) as w:
        for number in range(STATUS_PLANS + 1):
            _queue_plan(w, str(number) * 64)
            w.clock.advance(days=1)
        local = _view(w, plans=STATUS_PLANS)
        remote = status_from_document(status_document(_view(w)), w.clock.now())
        assert len(remote.plans) == STATUS_PLANS + 1
        listed = [line for line in status_lines(remote) if line.startswith("Plan ")]
        assert [line.split()[1] for line in listed] == ["3" * 12, "2" * 12, "1" * 12]
        assert status_lines(remote) == status_lines(local)


def test_the_view_holds_no_store_ids():
    hints_of = {cls: typing.get_type_hints(cls, vars(status_view)) for cls in _view_classes()}
    for cls, hints in hints_of.items():
        names = set(hints)
        assert not names & {"company_id", "boot_id", "ticket_prefix", "plan_id", "state"}, cls


def _view_classes() -> list[type]:
    return [
        cls
        for cls in vars(status_view).values()
        if isinstance(cls, type)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == status_view.__name__
    ]

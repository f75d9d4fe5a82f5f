"""Report: what the Web Connector shows of a run (its progress, its summary, why it
stopped), and the status errors of a run that failed."""

from __future__ import annotations

import logging

from reconciler.qbwc.run.call import RunCall
from reconciler.qbwc.run.failure import RunFailed, run_error
from reconciler.qbwc.run.state import REFRESH_STEPS, Phase, RunState
from reconciler.store.records import RequestState

log = logging.getLogger("reconciler.qbwc")

STATUS_HINT = "run `reconcile status`"


def progress(run: RunCall) -> int:
    """Percent done: 100 only when nothing remains, never 100 before."""
    state = run.state
    if state.phase == Phase.DONE:
        return 100
    remaining = 0
    if state.phase in {Phase.HOST, Phase.REFRESH}:
        remaining += len(REFRESH_STEPS) - state.step
        if state.iterator_remaining:
            remaining += -(-state.iterator_remaining // run.limits.invoice_page)
    writes = run.store.queue.count(run.company_id, [RequestState.QUEUED, RequestState.SENT])
    remaining += writes
    if writes or (state.changed and not state.after_changes):
        remaining += len(REFRESH_STEPS)  # the refresh after the changes
    done = state.done_steps
    return max(1, min(99, done * 100 // max(1, done + remaining)))


def summary(state: RunState) -> str:
    """The short text the Web Connector shows at the end of the run."""
    if state.phase == Phase.FAILED and state.error:
        return state.error
    applied = f"Applied {state.applied} change{'s' if state.applied != 1 else ''}"
    if state.errors:
        return f"{applied}, {state.errors} error{'s' if state.errors != 1 else ''}: {STATUS_HINT}"
    if state.applied:
        return f"{applied}; QuickBooks read again (snapshot {state.snapshot_version})."
    if state.snapshot_version is not None:
        return f"QuickBooks read (snapshot {state.snapshot_version}); nothing to apply."
    return "OK"


def last_error(state: RunState) -> str:
    """What the run last said for getLastError (its failure, its summary, or NoOp); a
    pointer to ``reconcile status`` when it said nothing."""
    return state.error or f"No error recorded; {STATUS_HINT}."


def fail(run: RunCall, failure: RunFailed) -> None:
    """End the run: its errors listed (one saying the failure when it names none), what
    getLastError says set, the state saved."""
    state = run.state
    log.warning("company %d: run stopped: %s", run.company_id, failure.message)
    for error in failure.errors or (run_error(failure.message),):
        run.record_error(error)
    state.phase = Phase.FAILED
    state.pending = None
    state.error = f"{failure.message} Details: {STATUS_HINT}."
    run.save()

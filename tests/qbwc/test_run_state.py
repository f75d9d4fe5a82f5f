"""The run's state as session rows hold it: its keys and phase names are a stored format."""

from __future__ import annotations

import json

from reconciler.qbwc.run.state import Phase, RunState

# What session rows written by every earlier server hold.
STORED_KEYS = {
    "phase",
    "version",
    "after_changes",
    "step",
    "iterator_id",
    "iterator_remaining",
    "customer_ids",
    "invoice_dates",
    "created_pending",
    "created_single",
    "lookup_from",
    "pending",
    "pause",
    "saves",
    "query_seq",
    "done_steps",
    "applied",
    "errors",
    "changed",
    "items_changed",
    "snapshot_version",
    "error",
}


def test_the_state_keeps_the_keys_session_rows_hold():
    assert set(RunState().dump()) == STORED_KEYS


def test_the_phases_keep_the_names_session_rows_hold():
    names = {v for k, v in vars(Phase).items() if not k.startswith("_")}
    assert names == {"start", "host", "refresh", "verify", "apply", "done", "failed"}


def test_a_state_read_back_from_json_is_the_state_saved():
    state = RunState(
        phase=Phase.SETTLE,
        version="16.0",
        customer_ids=["80000001-1", "80000002-1"],
        pending={"kind": "write", "request_ids": ["r1"], "queue_ids": [7]},
        lookup_from="2026-12-14",
        applied=3,
    )
    assert RunState.load(json.loads(json.dumps(state.dump()))) == state
    assert RunState.load({}) == RunState()

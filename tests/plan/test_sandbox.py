"""Plans applied by the QuickBooks simulator: the invariants with real qbXML semantics.

The sample company (reconciler/data/sample-company.yaml) is read as qbXML,
planned with the example configuration and charges, and every request of the
plan is sent to the simulator, which answers as QuickBooks does (InvoiceMod
deletes the lines it is not given, EditSequence is checked, ...). Then the
state is read again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.qbxml_check import XSD_DIR_OR_NONE
from support.simulated_quickbooks import apply_plan, read_state

from reconciler.base.resources import data_dir
from reconciler.config.load import load_config
from reconciler.model.quickbooks import InvoiceLine, QBState
from reconciler.plan import build_plan
from reconciler.plan.requests import render_plan_requests
from reconciler.qbxml.parse import parse_response
from reconciler.sandbox.by_hand import human_edit
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.simulator import QuickBooksSimulator
from reconciler.sandbox.status import ResponseLost
from reconciler.sherweb.charges import load_charges


@pytest.fixture
def world(example_config_dir: Path):
    books = load_fixture(data_dir() / "sample-company.yaml")
    simulator = QuickBooksSimulator(books, xsd_dir=XSD_DIR_OR_NONE)
    config = load_config(example_config_dir)
    charges = load_charges(data_dir() / "charges-example.json")
    return simulator, config, charges


def read(simulator: QuickBooksSimulator) -> QBState:
    return read_state(simulator.books)


def test_apply_then_plan_again_gives_an_empty_plan(world):
    simulator, config, charges = world
    before = read(simulator)
    plan = build_plan(config, charges, before)
    # 2 item costs (Business Premium, Defender), 3 invoices to create, 3 to update.
    assert plan.summary.changes == 8 and not plan.errors
    apply_plan(simulator, plan)
    after = read(simulator)
    again = build_plan(config, charges, after)
    assert again.changes == ()
    assert again.fingerprints.state != plan.fingerprints.state
    assert [n.code for n in again.notices] == [n.code for n in plan.notices]


def test_lines_of_other_items_survive_and_settled_invoices_stay_as_they_were(world):
    simulator, config, charges = world
    before = read(simulator)
    apply_plan(simulator, build_plan(config, charges, before))
    after = {invoice.txn_id: invoice for invoice in read(simulator).invoices}
    mapped = {offer.item.casefold() for offer in config.offers}
    for invoice in before.invoices:
        kept = [
            line
            for line in invoice.lines
            if not isinstance(line, InvoiceLine)
            or line.item is None
            or (line.item.full_name or "").casefold() not in mapped
        ]
        now = after[invoice.txn_id]
        assert [line for line in now.lines if line in kept] == kept
        if invoice.is_settled:
            assert now == invoice


def test_a_response_lost_after_an_invoice_add_never_leads_to_a_second_invoice(world):
    simulator, config, charges = world
    plan = build_plan(config, charges, read(simulator))
    first_add = next(c for c in plan.changes if c.key.startswith("invoice-add:"))
    simulator.faults.lose_next_response()
    with pytest.raises(ResponseLost):
        apply_plan(simulator, plan, only={first_add.key})
    # QuickBooks committed it: the next plan, from a fresh read, finds it.
    again = build_plan(config, charges, read(simulator))
    assert first_add.key not in {c.key for c in again.changes}
    guid = first_add.change.external_guid.upper()
    holding = [i for i in read(simulator).invoices if guid in (i.external_guid or "").upper()]
    assert len(holding) == 1


def test_a_human_edit_makes_the_saved_plan_stale_and_the_new_plan_keeps_it(world):
    simulator, config, charges = world
    plan = build_plan(config, charges, read(simulator))
    update = next(c for c in plan.changes if c.key.startswith("invoice-mod:"))
    txn_id = update.change.invoice.txn_id
    human_edit(simulator.books, txn_id)
    edited = read(simulator)
    assert plan.fingerprints.state != build_plan(config, charges, edited).fingerprints.state
    (response,) = parse_response(
        simulator.process(render_plan_requests(plan).documents[update.key])
    )
    assert response.status.code == 3200  # the old plan is refused: re-read, re-plan
    replanned = build_plan(config, charges, edited)
    apply_plan(simulator, replanned)
    assert build_plan(config, charges, read(simulator)).changes == ()

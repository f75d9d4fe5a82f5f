"""Line matching: which existing synced line becomes which desired line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from support.builders import DEC_1, line, qb_item

from reconciler.engine.changes import AddLine, KeepLine, ModifyLine, SyncedLine
from reconciler.engine.lines import FieldChange, field_changes, plan_lines
from reconciler.model.quickbooks import Ref

D = dt.date
BP = qb_item("Cloud:BP")
BS = qb_item("Cloud:BS")
LABOUR = qb_item("Services:Labour")
MANAGED = {BP.list_id, BS.list_id}


def synced_key(ref):
    return ref.list_id if ref is not None and ref.list_id in MANAGED else None


def want(item, quantity, desc, service_date=DEC_1):
    return SyncedLine(
        item=Ref(item.list_id, item.full_name),
        desc=desc,
        quantity=Decimal(quantity),
        service_date=service_date,
    )


def test_identical_lines_are_kept():
    existing = [line(BP, 12, "BP Dec", service_date=DEC_1)]
    plan = plan_lines(existing, [want(BP, 12, "BP Dec")], synced_key)
    assert plan.ops == (KeepLine(existing[0].txn_line_id),)
    assert plan.is_noop and not plan.changes_existing


def test_quantity_written_differently_is_the_same_quantity():
    existing = [line(BP, "12.00000", "BP Dec", service_date=DEC_1)]
    assert plan_lines(existing, [want(BP, 12, "BP Dec")], synced_key).is_noop


def test_pairs_by_service_date_and_description_before_order():
    monthly = line(BP, 12, "BP Dec", service_date=DEC_1)
    prorated = line(BP, 1, "BP from Dec 10", service_date=D(2026, 12, 10))
    # Desired in the other order, the prorated quantity changed.
    desired = [want(BP, 2, "BP from Dec 10", D(2026, 12, 10)), want(BP, 12, "BP Dec")]
    plan = plan_lines([monthly, prorated], desired, synced_key)
    assert plan.ops[0] == KeepLine(monthly.txn_line_id)
    assert isinstance(plan.ops[1], ModifyLine)
    assert plan.ops[1].txn_line_id == prorated.txn_line_id
    assert plan.ops[1].line.quantity == Decimal(2)


def test_pairs_by_service_date_when_the_description_changed():
    old = line(BP, 12, "old text", service_date=DEC_1)
    other = line(BP, 1, "BP from Dec 10", service_date=D(2026, 12, 10))
    plan = plan_lines(
        [other, old],
        [want(BP, 12, "new text"), want(BP, 1, "BP from Dec 10", D(2026, 12, 10))],
        synced_key,
    )
    assert plan.ops[0] == KeepLine(other.txn_line_id)
    assert plan.ops[1].txn_line_id == old.txn_line_id
    assert plan.ops[1].line.desc == "new text"


def test_pairs_by_description_when_the_service_date_changed():
    old = line(BP, 12, "BP monthly", service_date=D(2026, 11, 1))
    plan = plan_lines([old], [want(BP, 12, "BP monthly")], synced_key)
    (op,) = plan.ops
    assert isinstance(op, ModifyLine) and op.txn_line_id == old.txn_line_id


def test_pairs_only_lines_of_the_same_item():
    bs = line(BS, 3, "BS Dec", service_date=DEC_1)
    plan = plan_lines([bs], [want(BP, 3, "BS Dec")], synced_key)
    assert plan.removed == (bs,)
    assert plan.ops == (AddLine(want(BP, 3, "BS Dec")),)


def test_lines_of_other_items_and_without_item_are_never_touched():
    labour = line(LABOUR, 2, "Onsite")
    text = line(None, None, "Note")
    plan = plan_lines([labour, text], [], synced_key)
    assert plan.ops == (KeepLine(labour.txn_line_id), KeepLine(text.txn_line_id))
    assert plan.removed == ()


def test_duplicates_are_paired_in_order_and_the_surplus_removed():
    a = line(BP, 1, "BP Dec", service_date=DEC_1)
    b = line(BP, 1, "BP Dec", service_date=DEC_1)
    plan = plan_lines([a, b], [want(BP, 1, "BP Dec")], synced_key)
    assert plan.ops == (KeepLine(a.txn_line_id),)
    assert plan.removed == (b,)
    assert plan.changes_existing


def test_field_changes_name_each_field_from_old_to_new():
    before = line(BP, 12, "old", service_date=None)
    after = want(BP, 15, "new", DEC_1)
    assert field_changes(before, after) == (
        FieldChange("description", "old", "new"),
        FieldChange("quantity", Decimal(12), Decimal(15)),
        FieldChange("service_date", None, DEC_1),
    )
    same_but_quantity = want(BP, 15, "old", None)
    assert field_changes(before, same_but_quantity) == (
        FieldChange("quantity", Decimal(12), Decimal(15)),
    )

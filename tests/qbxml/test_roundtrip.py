"""Property tests: render a change, let a simulated QuickBooks answer, parse the answer.

Whatever text, quantities and references a plan holds, what QuickBooks stores
(as the parser reads it back) is what the plan asked for: text unchanged,
quantities rounded to QuickBooks' 5 decimals, lines in order, kept lines intact.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.qbxml_factories import existing_invoice
from support.qbxml_simulator import answer_invoice_add, answer_invoice_mod

from reconciler.engine.changes import (
    AddLine,
    InvoiceCreate,
    InvoiceUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model.quickbooks import Invoice, InvoiceLine, InvoiceLineGroup, Ref, canonical_guid
from reconciler.qbxml.parse import parse_response
from reconciler.qbxml.render import render_document, render_request
from reconciler.qbxml.values import quantize
from reconciler.qbxml.xsd import xsd_errors

PRICES = {"80000021-1700000000": Decimal("22.00")}
SETTINGS = settings(
    max_examples=60,
    suppress_health_check=[
        *settings.default.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ],
)

# Everything QuickBooks (Windows-1252) can store, tab and newline included.
storable = st.characters(codec="cp1252", exclude_categories=("Cc",)) | st.sampled_from("\t\n")
texts = st.text(storable, max_size=80)
names = st.text(storable, min_size=1, max_size=40).filter(str.strip)
list_ids = st.from_regex(r"[0-9A-F]{1,8}-[0-9]{10}", fullmatch=True)
refs = st.one_of(
    st.builds(Ref, list_ids, names),
    st.builds(Ref, st.none(), names),
)
quantities = st.decimals(
    min_value=Decimal("-99999"), max_value=Decimal("99999"), places=7, allow_nan=False
)
dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31))
synced_lines = st.builds(
    SyncedLine,
    item=refs,
    desc=texts,
    quantity=quantities,
    service_date=st.none() | dates,
    sku=st.sampled_from(["MS-365-BP-M", "AZ-PLAN", ""]),
)
creates = st.builds(
    InvoiceCreate,
    organization_id=st.uuids().map(str),
    organization_name=names,
    customer=refs,
    txn_date=dates,
    external_guid=st.uuids().map(str),
    lines=st.lists(synced_lines, min_size=1, max_size=6).map(tuple),
    memo=st.none() | texts,
)


def assert_stored(parsed: InvoiceLine, wanted: SyncedLine) -> None:
    assert parsed.item is not None
    if wanted.item.list_id:
        assert parsed.item.list_id == wanted.item.list_id
    else:
        assert parsed.item.full_name == wanted.item.full_name
    assert (parsed.desc or "") == wanted.desc
    assert parsed.quantity == quantize(wanted.quantity)
    assert parsed.service_date == wanted.service_date


def valid(schema, document: bytes | str) -> None:
    errors = xsd_errors(schema, document)
    assert not errors, errors


@SETTINGS
@given(change=creates)
def test_invoice_add_round_trips(change, qbxml_schema):
    request = render_request(change, version="13.0", request_id="7")
    valid(qbxml_schema, render_document([request], version="13.0"))
    answer = answer_invoice_add(request, PRICES)
    valid(qbxml_schema, answer)
    (response,) = parse_response(answer)
    assert (response.request_type, response.request_id, response.status.ok) == (
        "InvoiceAdd",
        "7",
        True,
    )
    (invoice,) = response.objects
    if change.customer.list_id:
        assert invoice.customer.list_id == change.customer.list_id
    else:
        assert invoice.customer.full_name == change.customer.full_name
    assert invoice.txn_date == change.txn_date
    assert (invoice.memo or "") == (change.memo or "")
    assert invoice.external_guid == canonical_guid(change.external_guid)
    assert len(invoice.lines) == len(change.lines)
    for parsed, wanted in zip(invoice.lines, change.lines, strict=True):
        assert isinstance(parsed, InvoiceLine)
        assert_stored(parsed, wanted)


@st.composite
def updates(draw) -> InvoiceUpdate:
    """An update of the factory invoice: each line kept, modified or removed, plus new lines."""
    invoice: Invoice = existing_invoice()
    ops: list = []
    removed = []
    for line in invoice.lines:
        if isinstance(line, InvoiceLineGroup):
            ops.append(KeepLine(line.txn_line_id, is_group=True))
            continue
        fate = draw(st.sampled_from(["keep", "modify", "remove"]))
        if fate == "keep":
            ops.append(KeepLine(line.txn_line_id))
        elif fate == "modify":
            ops.append(ModifyLine(line.txn_line_id, draw(synced_lines), line))
        else:
            removed.append(line)
    for new in draw(st.lists(synced_lines, max_size=3)):
        ops.insert(draw(st.integers(0, len(ops))), AddLine(new))
    if not ops:
        ops.append(AddLine(draw(synced_lines)))
    return InvoiceUpdate(
        organization_ids=("org",),
        organization_names=(draw(names),),
        invoice=invoice,
        lines=tuple(ops),
        removed=tuple(removed),
    )


@SETTINGS
@given(change=updates())
def test_invoice_mod_round_trips(change, qbxml_schema):
    request = render_request(change, version="13.0", request_id="8")
    valid(qbxml_schema, render_document([request], version="13.0"))
    answer = answer_invoice_mod(request, change.invoice, PRICES)
    valid(qbxml_schema, answer)
    (response,) = parse_response(answer)
    (invoice,) = response.objects
    assert invoice.txn_id == change.invoice.txn_id
    assert invoice.edit_sequence != change.invoice.edit_sequence
    assert len(invoice.lines) == len(change.lines)
    before = {line.txn_line_id: line for line in change.invoice.lines}
    removed = {line.txn_line_id for line in change.removed}
    for parsed, op in zip(invoice.lines, change.lines, strict=True):
        match op:
            case KeepLine(txn_line_id=line_id):
                # Untouched, field for field (invariant 3).
                assert parsed == before[line_id]
            case ModifyLine(txn_line_id=line_id, line=wanted):
                assert parsed.txn_line_id == line_id
                assert_stored(parsed, wanted)
            case AddLine(line=wanted):
                assert parsed.txn_line_id not in before
                assert_stored(parsed, wanted)
    assert not removed & {line.txn_line_id for line in invoice.lines}

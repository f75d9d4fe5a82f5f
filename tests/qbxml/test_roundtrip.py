"""Property tests: render a change, let the QuickBooks simulator answer, parse the answer.

Whatever text, quantities and references a plan holds, what QuickBooks stores
(as the parser reads it back) is what the plan asked for: text unchanged,
quantities rounded to QuickBooks' 5 decimals, lines in order, kept lines intact.
Each example runs against books that hold the customer and items the change
names (a reference QuickBooks could not resolve is refused, not stored).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.simulated_quickbooks import read_state

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
from reconciler.sandbox.books import Books
from reconciler.sandbox.fixture import build_books
from reconciler.sandbox.simulator import QuickBooksSimulator

SETTINGS = settings(
    max_examples=60,
    suppress_health_check=[
        *settings.default.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ],
)
NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)

# Everything QuickBooks (Windows-1252) can store, tab and newline included.
storable = st.characters(codec="cp1252", exclude_categories=("Cc",)) | st.sampled_from("\t\n")
texts = st.text(storable, max_size=80)
names = st.text(storable, min_size=1, max_size=40).filter(str.strip)
# A list object's FullName: its parents' names and its own, none of them blank.
full_names = names.filter(lambda name: all(part.strip() for part in name.split(":")))
list_ids = st.from_regex(r"[0-9A-F]{1,8}-[0-9]{10}", fullmatch=True)
refs = st.one_of(
    st.builds(Ref, list_ids, names),
    st.builds(Ref, st.none(), full_names),
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

# The company file an InvoiceMod works on: one unsent invoice with a line of
# another item, a synced line, a group and a text line.
CONTOSO = {"name": "Contoso Dental", "list_id": "80000013-1416570432"}
ITEMS = [
    {"name": "Consulting", "type": "service", "price": "95.00", "list_id": "80000005-1"},
    {"name": "Cloud", "type": "service", "list_id": "80000020-1"},
    {
        "name": "Cloud:Microsoft 365 Business Premium",
        "type": "service",
        "description": "Microsoft 365 Business Premium",
        "price": "22.00",
        "cost": "17.60",
        "list_id": "80000021-1700000000",
    },
    {"name": "Backup", "type": "service", "price": "30.00", "list_id": "80000031-1"},
    {
        "name": "Backup bundle",
        "type": "group",
        "lines": [{"item": "Backup", "quantity": 1}],
        "list_id": "80000030-1",
    },
]
INVOICE = {
    "customer": "Contoso Dental",
    "date": "2024-06-01",
    "to_be_emailed": True,
    "lines": [
        {"item": "Consulting", "description": "Monthly support"},
        {"item": "Cloud:Microsoft 365 Business Premium", "quantity": 10},
        {"group": "Backup bundle"},
        {"description": "Thank you for your business."},
    ],
}


def fixture(refs: dict[str, list[Ref]], invoices: list[dict[str, Any]]) -> dict[str, Any]:
    """Contoso Dental, the items above, ``invoices``, and every customer and item
    ``refs`` name (by kind), so that QuickBooks can resolve each reference."""
    data: dict[str, Any] = {
        "company": {"name": "Contoso IT", "file": r"C:\Company Files\Contoso IT.qbw"},
        "customers": [CONTOSO],
        "items": list(ITEMS),
        "invoices": list(invoices),
    }
    for kind, kind_refs in refs.items():
        entries = data[kind]
        taken = {entry["name"].strip().casefold() for entry in entries}
        taken_ids = {entry.get("list_id") for entry in entries}
        extra = {"type": "service", "price": "10.00"} if kind == "items" else {}
        for ref in kind_refs:
            if ref.list_id:
                if ref.list_id in taken_ids:
                    continue
                taken_ids.add(ref.list_id)
                entries.append({"name": f"Object {ref.list_id}", "list_id": ref.list_id, **extra})
                continue
            # A job or sub-item comes after its parents.
            parts = ref.full_name.split(":")
            for depth in range(1, len(parts) + 1):
                name = ":".join(parts[:depth])
                if name.strip().casefold() not in taken:
                    taken.add(name.strip().casefold())
                    entries.append({"name": name, **extra})
    return data


def books_holding(refs: dict[str, list[Ref]], *, invoices: list[dict[str, Any]] = ()) -> Books:
    """The books of :func:`fixture`, where each reference names an object of its own."""
    data = fixture(refs, list(invoices))
    books = build_books(data)
    # Two references QuickBooks would take for one object (names differing only in
    # case, a ListID given twice) make no example: each must name an object of its own.
    assume(len(books.customers) + len(books.items) == len(data["customers"]) + len(data["items"]))
    for kind, kind_refs in refs.items():
        find = books.customer if kind == "customers" else books.item
        for ref in kind_refs:
            found = find(ref.list_id or ref.full_name)
            assume(
                found is not None and (ref.list_id or found.findtext("FullName") == ref.full_name)
            )
    return books


TEMPLATE = read_state(build_books(fixture({}, [INVOICE]))).invoices[0]


def answer(books: Books, request: str) -> str:
    """What QuickBooks answers to one request (a document of its own)."""
    simulator = QuickBooksSimulator(books, clock=lambda: NOW)
    return simulator.process(render_document([request], version="13.0"))


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
    books = books_holding(
        {"customers": [change.customer], "items": [line.item for line in change.lines]}
    )
    answered = answer(books, request)
    valid(qbxml_schema, answered)
    (response,) = parse_response(answered)
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
    """An update of the template invoice: each line kept, modified or removed, plus new lines."""
    invoice: Invoice = TEMPLATE
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
    new_items = [op.line.item for op in change.lines if isinstance(op, AddLine | ModifyLine)]
    books = books_holding({"items": new_items}, invoices=[INVOICE])
    answered = answer(books, request)
    valid(qbxml_schema, answered)
    (response,) = parse_response(answered)
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

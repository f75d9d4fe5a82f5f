"""Rendering plan changes and queries to qbXML."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from support.qbxml_factories import (
    EDGE,
    LATIN,
    NASTY,
    REALISTIC,
    cost_update,
    existing_invoice,
    invoice_create,
    invoice_update,
    synced,
)

from reconciler.engine.changes import KeepLine
from reconciler.model.quickbooks import InvoiceLine, ItemKind, LinkedTxn, Ref
from reconciler.qbxml.queries import CustomerQuery, HostQuery, InvoiceQuery, ItemQuery
from reconciler.qbxml.render import (
    QbxmlRenderError,
    _environment,
    compile_templates,
    render_document,
    render_request,
)
from reconciler.qbxml.values import check_text, format_quantity
from reconciler.qbxml.version import UnsupportedQuickBooks


def _render(request, version="13.0", request_id="req-1"):
    return render_request(request, version=version, request_id=request_id)


@pytest.mark.parametrize("name", [*REALISTIC, *EDGE])
def test_every_request_validates_against_the_13_0_schema(name, assert_valid_qbxml):
    request = {**REALISTIC, **EDGE}[name]
    xml = _render(request)
    assert_valid_qbxml(render_document([xml], version="13.0"))


def test_a_document_of_every_request_validates(assert_valid_qbxml):
    requests = [_render(r, request_id=str(n)) for n, r in enumerate(REALISTIC.values())]
    document = render_document(requests, version="13.0", on_error="continueOnError")
    assert_valid_qbxml(document)
    root = etree.fromstring(re.sub(rb"<\?qbxml[^>]*\?>", b"", document.encode()))
    ids = [rq.get("requestID") for rq in root.find("QBXMLMsgsRq")]
    assert ids == [str(n) for n in range(len(REALISTIC))]


def test_a_document_of_checked_requests_is_the_same_document():
    requests = [_render(r, request_id=str(n)) for n, r in enumerate(REALISTIC.values())]
    checked = render_document(requests, version="13.0", checked=True)
    assert checked == render_document(requests, version="13.0")
    # Not parsed again: the caller vouches for the elements.
    assert "<InvoiceRet/>" in render_document(["<InvoiceRet/>"], version="13.0", checked=True)


def test_compiled_templates_are_never_loaded_again(monkeypatch):
    _environment().cache.clear()  # as in a server that has rendered nothing yet
    compile_templates()

    def gone(*args):
        raise AssertionError("a template was loaded after compile_templates")

    monkeypatch.setattr(_environment().loader, "get_source", gone)
    for request in REALISTIC.values():
        render_document([_render(request)], version="13.0", checked=True)


def test_envelope_declares_version_and_on_error():
    document = render_document([_render(HostQuery())], version="16.0")
    assert document.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="16.0"?>\n')
    assert '<QBXMLMsgsRq onError="stopOnError">' in document
    assert '<HostQueryRq requestID="req-1"/>' in document


def test_envelope_refuses_what_is_not_a_request():
    with pytest.raises(ValueError, match="not a qbXML request"):
        render_document(["<InvoiceRet/>"], version="13.0")
    with pytest.raises(ValueError, match="on_error"):
        render_document([], version="13.0", on_error="rollbackOnError")  # type: ignore[arg-type]


def test_request_id_is_escaped_and_bounded():
    xml = _render(HostQuery(), request_id='a"b&c')
    assert etree.fromstring(xml).get("requestID") == 'a"b&c'
    with pytest.raises(ValueError, match="requestID"):
        _render(HostQuery(), request_id="x" * 51)


def _tree(request):
    return etree.fromstring(_render(request))


def test_invoice_add_fields_in_schema_order_and_never_a_rate():
    add = _tree(invoice_create()).find("InvoiceAdd")
    assert [c.tag for c in add] == [
        "CustomerRef",
        "TxnDate",
        "Memo",
        "IsToBePrinted",
        "IsToBeEmailed",
        "ExternalGUID",
        "InvoiceLineAdd",
        "InvoiceLineAdd",
    ]
    assert (add.findtext("IsToBePrinted"), add.findtext("IsToBeEmailed")) == ("false", "true")
    assert add.findtext("ExternalGUID") == "{3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b}"
    assert add.findtext("CustomerRef/ListID") == "80000013-1416570432"
    assert add.find("CustomerRef/FullName") is None
    line = add.find("InvoiceLineAdd")
    assert [c.tag for c in line] == ["ItemRef", "Desc", "Quantity", "ServiceDate"]
    assert [c.findtext("Quantity") for c in add.iter("InvoiceLineAdd")] == ["12", "3.25"]


@pytest.mark.parametrize("name", [*EDGE, "invoice-add", "invoice-mod"])
def test_no_rate_or_amount_is_ever_written(name):
    xml = _render({**REALISTIC, **EDGE}[name])
    assert "<Rate>" not in xml
    assert "<Amount>" not in xml
    assert "<RatePercent>" not in xml


def test_reference_by_full_name_when_list_id_unknown():
    add = _tree(invoice_create(customer=Ref(None, "Contoso:Head office"))).find("InvoiceAdd")
    assert add.findtext("CustomerRef/FullName") == "Contoso:Head office"
    assert add.find("CustomerRef/ListID") is None


def test_text_round_trips_through_escaping():
    add = _tree(EDGE["escaping"]).find("InvoiceAdd")
    assert add.findtext("Memo") == NASTY
    assert add.findtext("CustomerRef/FullName") == NASTY
    assert add.findtext("InvoiceLineAdd/Desc") == NASTY + "\n\tsecond line"
    latin = _tree(EDGE["latin"]).find("InvoiceAdd")
    assert latin.findtext("InvoiceLineAdd/Desc") == LATIN


def test_a_created_invoice_carries_exactly_one_mark_or_none():
    printed = _tree(EDGE["print-later-no-memo"]).find("InvoiceAdd")
    assert [c.tag for c in printed][1:4] == ["TxnDate", "IsToBePrinted", "IsToBeEmailed"]
    assert (printed.findtext("IsToBePrinted"), printed.findtext("IsToBeEmailed")) == (
        "true",
        "false",
    )
    unmarked = _tree(EDGE["unmarked"]).find("InvoiceAdd")
    assert unmarked.find("IsToBePrinted") is None and unmarked.find("IsToBeEmailed") is None


def test_empty_memo_is_left_out():
    for name in ("empty-memo", "no-memo"):
        assert _tree(EDGE[name]).find("InvoiceAdd/Memo") is None


def test_invoice_mod_lists_every_kept_line_in_order():
    mod = _tree(invoice_update()).find("InvoiceMod")
    assert [c.tag for c in mod][:2] == ["TxnID", "EditSequence"]
    lines = [(c.tag, c.findtext("TxnLineID"), len(c)) for c in mod][2:]
    assert lines == [
        ("InvoiceLineMod", "C7-1417118624", 1),
        ("InvoiceLineMod", "C8-1417118624", 5),
        ("InvoiceLineGroupMod", "C9-1417118624", 1),
        ("InvoiceLineMod", "CB-1417118624", 1),
        ("InvoiceLineMod", "-1", 5),
    ]
    added = mod[-1]
    assert added.findtext("Quantity") == "-1.5"
    assert added.findtext("Desc") == "Azure plan"


def test_a_group_line_is_kept_as_a_group_even_if_the_plan_forgot_to_say_so():
    update = invoice_update(
        lines=(
            KeepLine("C7-1417118624"),
            KeepLine("C8-1417118624"),
            KeepLine("C9-1417118624"),
            KeepLine("CB-1417118624"),
        )
    )
    tags = [c.tag for c in _tree(update).find("InvoiceMod")][2:]
    assert tags == ["InvoiceLineMod", "InvoiceLineMod", "InvoiceLineGroupMod", "InvoiceLineMod"]


def test_invoice_mod_refuses_to_drop_a_line_it_does_not_own():
    update = invoice_update(lines=(KeepLine("C7-1417118624"), KeepLine("C9-1417118624", True)))
    with pytest.raises(QbxmlRenderError, match=r"C8-1417118624, CB-1417118624.*would delete"):
        _render(update)


def test_invoice_mod_may_drop_lines_the_plan_removes():
    invoice = existing_invoice()
    update = invoice_update(
        lines=(
            KeepLine("C7-1417118624"),
            KeepLine("C9-1417118624", True),
            KeepLine("CB-1417118624"),
        ),
        removed=(invoice.lines[1],),
    )
    assert "C8-1417118624" not in _render(update)


def test_invoice_mod_refuses_unknown_lines_and_empty_updates():
    with pytest.raises(QbxmlRenderError, match="does not hold"):
        _render(invoice_update(lines=(KeepLine("nope"),)))
    with pytest.raises(QbxmlRenderError, match="must list"):
        _render(invoice_update(lines=()))


def test_invoice_mod_refuses_a_settled_invoice():
    paid = existing_invoice(is_paid=True)
    with pytest.raises(QbxmlRenderError, match="paid"):
        _render(invoice_update(invoice=paid))
    credited = existing_invoice(linked_txns=(LinkedTxn("X-1", "ReceivePayment"),))
    with pytest.raises(QbxmlRenderError, match="never modifies"):
        _render(invoice_update(invoice=credited))


@pytest.mark.parametrize(
    ("kind", "request_tag"),
    [
        (ItemKind.SERVICE, "ItemServiceModRq"),
        (ItemKind.NON_INVENTORY, "ItemNonInventoryModRq"),
        (ItemKind.OTHER_CHARGE, "ItemOtherChargeModRq"),
    ],
)
def test_item_cost_update_for_each_kind(kind, request_tag):
    tree = _tree(cost_update(kind, "12.345678"))
    assert tree.tag == request_tag
    mod = tree[0]
    assert [c.tag for c in mod] == ["ListID", "EditSequence", "SalesAndPurchaseMod"]
    assert mod.findtext("SalesAndPurchaseMod/PurchaseCost") == "12.34568"
    assert mod.find("SalesAndPurchaseMod/SalesPrice") is None


def test_item_cost_update_refuses_an_item_without_purchase_information():
    with pytest.raises(QbxmlRenderError) as caught:
        _render(cost_update(ItemKind.SERVICE, sales_and_purchase=False))
    assert "item Cloud:Microsoft 365 Business Premium" in str(caught.value)
    assert "performed by a subcontractor or partner" in str(caught.value)


def test_item_cost_update_refuses_other_item_kinds():
    with pytest.raises(QbxmlRenderError, match="ItemInventory item"):
        _render(cost_update(ItemKind.INVENTORY))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Smile \U0001f600", "U+1F600 (GRINNING FACE)"),
        ("Ελληνικά", "U+0395 (GREEK CAPITAL LETTER EPSILON)"),
        ("bell\x07", "U+0007"),
        ("carriage\rreturn", "U+000D"),
    ],
)
def test_characters_quickbooks_cannot_store_are_refused_naming_the_field(text, shown):
    change = invoice_create(lines=(synced(), synced(), synced(desc=text)))
    with pytest.raises(QbxmlRenderError) as caught:
        _render(change)
    assert str(caught.value).startswith(
        f"invoice for Contoso Dental, line 3 (MS-365-BP-M): Desc contains {shown}, "
        "which QuickBooks cannot store"
    )
    assert "Windows-1252" in str(caught.value)


def _storable(char: str) -> bool:
    if char in "\t\n":
        return True
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return unicodedata.category(char) != "Cc"


# Around the edges: C0 and C1 controls, DEL, the code points cp1252 leaves
# undefined, and what it maps 0x80-0x9f to.
_EDGES = "\x00\x08\t\n\x0b\r\x1f\x7f\x80\x81\x8d\x9f\xa0\xff\u20ac\u2122\u0100\ufffd"


@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(_EDGES)), max_size=12))
def test_text_is_refused_exactly_when_a_character_cannot_be_stored(text):
    try:
        check_text(text, subject="item", field="Desc")
    except QbxmlRenderError as refused:
        culprit = next(char for char in text if not _storable(char))
        assert f"Desc contains U+{ord(culprit):04X}" in str(refused)
    else:
        assert all(_storable(char) for char in text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            invoice_create(memo="M" * 4096),
            "Memo is 4096 characters long; QuickBooks allows at most 4095",
        ),
        (invoice_create(lines=(synced(desc="D" * 4096),)), "Desc is 4096 characters long"),
        (invoice_create(customer=Ref(None, "C" * 210)), "CustomerRef/FullName is 210 characters"),
        (invoice_create(lines=(synced(item=Ref(None, "I" * 160)),)), "ItemRef/FullName is 160"),
        (invoice_create(external_guid="not-a-guid"), "ExternalGUID 'not-a-guid' is not a GUID"),
        (invoice_create(lines=()), "at least one line"),
        (invoice_create(customer=Ref()), "CustomerRef names no ListID and no FullName"),
        (invoice_create(lines=(synced(quantity=Decimal("12345678901")),)), "too large"),
        (invoice_create(lines=(synced(quantity=Decimal("NaN")),)), "not a number"),
    ],
)
def test_values_quickbooks_refuses_are_caught_before_sending(change, message):
    with pytest.raises(QbxmlRenderError, match=re.escape(message)):
        _render(change)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1", "1"),
        ("1.50000", "1.5"),
        ("0.000005", "0.00001"),  # half away from zero, as QuickBooks rounds
        ("-0.000005", "-0.00001"),
        ("2.000004", "2"),
        ("1E+3", "1000"),
        ("-0", "0"),
        ("0.000001", "0"),
        ("9999999999.99999", "9999999999.99999"),
    ],
)
def test_quantity_format(value, text):
    assert format_quantity(Decimal(value), subject="s", field="Quantity") == text


def test_guid_is_braced_and_canonical():
    add = _tree(invoice_create(external_guid="{3F2B8A4E-5C1D-4E7F-9A0B-1C2D3E4F5A6B}"))
    assert add.findtext("InvoiceAdd/ExternalGUID") == "{3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b}"


def test_invoice_query_layout():
    tree = _tree(REALISTIC["invoices-by-customer"])
    assert tree.get("iterator") == "Start"
    assert tree.get("iteratorID") is None
    assert [c.tag for c in tree] == [
        "MaxReturned",
        "TxnDateRangeFilter",
        "EntityFilter",
        "IncludeLineItems",
        "IncludeLinkedTxns",
        "OwnerID",
        "OwnerID",
    ]
    assert tree.findtext("OwnerID") == "0"
    assert tree.findall("OwnerID")[1].text == "{512349b1-1111-2222-3333-000de1813d20}"
    by_txn = _tree(REALISTIC["invoices-by-txn"])
    assert [c.tag for c in by_txn] == ["TxnID", "IncludeLineItems", "IncludeLinkedTxns"]
    assert by_txn.findtext("IncludeLineItems") == "false"
    modified = _tree(REALISTIC["invoices-modified-since"])
    assert [c.tag for c in modified][:2] == ["MaxReturned", "ModifiedDateRangeFilter"]
    assert modified.findtext("ModifiedDateRangeFilter/FromModifiedDate") == "2024-05-30"


def test_list_query_layout():
    assert [c.tag for c in _tree(CustomerQuery())] == ["ActiveStatus"]
    assert _tree(CustomerQuery()).findtext("ActiveStatus") == "All"
    by_id = _tree(REALISTIC["customers-by-id"])
    assert [c.tag for c in by_id] == ["ListID", "ListID"]
    paged = _tree(REALISTIC["items-continue"])
    assert paged.get("iterator") == "Continue"
    assert paged.get("iteratorID") == "{eb05f701-e727-472f-8ade-6753c4f67a46}"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CustomerQuery(list_ids=("1",), full_names=("a",)), "not both"),
        (lambda: ItemQuery(iterator="Continue"), "needs the iterator_id"),
        (lambda: ItemQuery(iterator_id="{x}"), "goes with iterator"),
        (lambda: ItemQuery(iterator="Again"), "iterator must be"),  # type: ignore[arg-type]
        (lambda: ItemQuery(max_returned=0), "at least 1"),
        (lambda: ItemQuery(active_status="Some"), "active_status"),  # type: ignore[arg-type]
        (lambda: CustomerQuery(list_ids=("1",), max_returned=5), "cannot be combined"),
        (lambda: InvoiceQuery(txn_ids=("1",), customer_list_ids=("2",)), "cannot be combined"),
        (lambda: InvoiceQuery(customer_list_ids=("1",), customer_full_names=("a",)), "not both"),
        (
            lambda: InvoiceQuery(
                txn_date_from=dt.date(2024, 6, 1), txn_date_to=dt.date(2024, 5, 1)
            ),
            "is after",
        ),
        (lambda: InvoiceQuery(txn_ids=("1",), modified_from=dt.date(2024, 5, 1)), "combined"),
        (
            lambda: InvoiceQuery(
                modified_from=dt.date(2024, 5, 1), txn_date_from=dt.date(2024, 5, 1)
            ),
            "not both",
        ),
    ],
)
def test_queries_quickbooks_would_refuse_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_version_below_13_is_refused():
    with pytest.raises(UnsupportedQuickBooks, match="QuickBooks 2015 or newer is required"):
        _render(HostQuery(), version="12.0")


def test_render_is_pure():
    change = invoice_update()
    assert _render(change) == _render(change)
    assert change.invoice.lines[1] == InvoiceLine(
        "C8-1417118624",
        Ref("80000021-1700000000", "Cloud:Microsoft 365 Business Premium"),
        "Microsoft 365 Business Premium",
        Decimal("10"),
    )

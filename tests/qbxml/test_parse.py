"""Parsing qbXML responses: every captured sample, SOAP wrapping, hardening, state merging."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from reconciler.model.quickbooks import (
    CompanyInfo,
    Customer,
    DataExt,
    HostInfo,
    Invoice,
    InvoiceLine,
    InvoiceLineGroup,
    Item,
    ItemKind,
    ListHeader,
    Ref,
    TxnHeader,
)
from reconciler.qbxml.parse import (
    QbxmlParseError,
    parse_response,
    parse_ret,
    parse_state,
    read_fields,
)
from reconciler.qbxml.status import Action, Severity

MINUS_5 = dt.timezone(dt.timedelta(hours=-5))
MINUS_8 = dt.timezone(dt.timedelta(hours=-8))


@pytest.fixture(scope="module")
def samples(reference: Path) -> Path:
    return reference / "qbxml" / "samples"


def parse(samples: Path, name: str):
    return parse_response(samples / name)


def test_every_sample_is_covered_below(samples):
    covered = {
        *SUCCESSFUL_SAMPLES,
        FRAGMENT_SAMPLE,
        *REQUEST_SAMPLES,
        *REFUSED_SAMPLES,
    }
    assert {p.name for p in samples.glob("*.xml")} == covered


SUCCESSFUL_SAMPLES = {
    "CustomerAddRs_error_3180__Callbacks_SQL_L11680.xml",
    "CustomerAddRs_ok.xml",
    "CustomerQueryRs_3120_Error.xml",
    "CustomerQueryRs_500_Warn.xml",
    "CustomerQueryRs__qbxmlgem.xml",
    "CustomerQueryRs_iterator__qbxmlgem.xml",
    "InvoiceAddRs_in_soap_envelope__flowlink.xml",
    "InvoiceQueryRs_with_lines__Callbacks_SQL_L11506.xml",
    "ItemInventoryQueryRs_status1_empty__flowlink.xml",
    "ItemQueryRs_ItemInventoryAssemblyRet__Callbacks_API_L1444.xml",
    "ItemQueryRs__flowlink.xml",
    "ItemServiceAddRs_3100_name_in_use__hist_QuickBooks_dev_soap_xml_test.xml",
    "ReceivePaymentAddRs_3210_Info__Callbacks_SQL_Errors_L270.xml",
    "SalesOrderAddRs_3140_invalid_ref__flowlink.xml",
    "batch_customer_add_error_response__jwachira.xml",
    "customer_add_error_response__jwachira.xml",
    "error_response__CustomerModRs_3200_with_Ret__jwachira.xml",
    "valid_double_invoice_add_response__jwachira.xml",
    "valid_empty_customer_query_response__jwachira.xml",
    "valid_first_page_response__jwachira.xml",
    "valid_invoice_query_response__jwachira.xml",
    "valid_item_query_response__jwachira.xml",
    "valid_last_page_response__jwachira.xml",
    "warning_response__jwachira.xml",
}

# A lone ItemServiceRet: read with parse_ret (below).
FRAGMENT_SAMPLE = "ItemServiceRet_SalesOrPurchase__docs_qbxml_example_qbxml_to_object_L278.xml"
# Requests: the simulator answers them (test_qbxml_request_samples.py).
REQUEST_SAMPLES = {
    "DataExtAddRq__intuit_sdk_sample.xml",
    "InvoiceQueryRq__intuit_sdk_sample.xml",
}
# The malformed sample, and the clear error it gets.
REFUSED_SAMPLES = {
    "HostQuery_CompanyQuery_PreferencesQuery_Rs_QBPro2014.xml": ":1: malformed XML: error parsing attribute name",
}


@pytest.mark.parametrize("name", sorted(REFUSED_SAMPLES))
def test_the_malformed_sample_fails_clearly(samples, name):
    with pytest.raises(QbxmlParseError) as caught:
        parse(samples, name)
    assert str(caught.value).startswith(str(samples / name) + REFUSED_SAMPLES[name])


@pytest.mark.parametrize("name", sorted(SUCCESSFUL_SAMPLES))
def test_every_response_sample_parses(samples, name):
    responses = parse(samples, name)
    assert responses
    for response in responses:
        assert response.request_type
        assert response.status.severity in Severity


def test_customer_add_ok(samples):
    (response,) = parse(samples, "CustomerAddRs_ok.xml")
    assert (response.request_type, response.request_id, response.status.code) == (
        "CustomerAdd",
        None,
        0,
    )
    (customer,) = response.objects
    assert customer == Customer(
        list_id="8000001B-1405768916",
        full_name="Joseph Customer",
        name="mrjoecustomer",
        edit_sequence="1405768916",
        is_active=True,
        sublevel=0,
        time_created=dt.datetime(2014, 7, 19, 7, 21, 56, tzinfo=MINUS_5),
        time_modified=dt.datetime(2014, 7, 19, 7, 21, 56, tzinfo=MINUS_5),
    )


@pytest.mark.parametrize(
    ("name", "request_type", "code", "severity", "action", "message_part"),
    [
        ("CustomerAddRs_error_3180__Callbacks_SQL_L11680.xml", "CustomerAdd", 3180, Severity.ERROR, Action.RETRY, 'element "Newcastle Tenants Federation"'),
        ("CustomerQueryRs_3120_Error.xml", "CustomerQuery", 3120, Severity.ERROR, Action.FIX, 'Object "8000001B-1405768916"'),
        ("CustomerQueryRs_500_Warn.xml", "CustomerQuery", 500, Severity.WARNING, Action.NONE, '("bleech")'),
        ("ItemServiceAddRs_3100_name_in_use__hist_QuickBooks_dev_soap_xml_test.xml", "ItemServiceAdd", 3100, Severity.ERROR, Action.FIX, "already in use"),
        # QuickBooks said "Info" here; the code says the payment was refused.
        ("ReceivePaymentAddRs_3210_Info__Callbacks_SQL_Errors_L270.xml", "ReceivePaymentAdd", 3210, Severity.ERROR, Action.FIX, "more than the amount due"),
        ("SalesOrderAddRs_3140_invalid_ref__flowlink.xml", "SalesOrderAdd", 3140, Severity.ERROR, Action.FIX, 'Customer "Joe Smith"'),
        ("ItemInventoryQueryRs_status1_empty__flowlink.xml", "ItemInventoryQuery", 1, Severity.INFO, Action.NONE, "did not find"),
        ("customer_add_error_response__jwachira.xml", "CustomerAdd", 3100, Severity.ERROR, Action.FIX, '"abc"'),
    ],
)  # fmt: skip
def test_status_only_responses(samples, name, request_type, code, severity, action, message_part):
    (response,) = parse(samples, name)
    assert response.request_type == request_type
    assert response.status.code == code
    assert response.status.severity is severity
    assert response.status.action is action
    assert message_part in response.status.message
    assert response.objects == ()


def test_status_3200_carries_the_current_object(samples):
    (response,) = parse(samples, "error_response__CustomerModRs_3200_with_Ret__jwachira.xml")
    assert response.status.action is Action.REPLAN
    assert response.status.message == 'The provided edit sequence "1272664823" is out-of-date. '
    (customer,) = response.objects
    assert (customer.list_id, customer.edit_sequence) == ("80000003-1271969969", "1272665327")


def test_warning_530_keeps_the_saved_object(samples):
    (response,) = parse(samples, "warning_response__jwachira.xml")
    assert (response.status.code, response.status.ok) == (530, True)
    assert response.objects[0].full_name == "John Hancock"


def test_batch_of_errors_in_order(samples):
    responses = parse(samples, "batch_customer_add_error_response__jwachira.xml")
    assert [r.request_id for r in responses] == [str(n) for n in range(16)]
    assert {r.status.code for r in responses} == {3100}
    assert '"11161026 - bhavani kurapati"' in responses[-1].status.message


def test_customer_query_with_iterator(samples):
    (response,) = parse(samples, "CustomerQueryRs_iterator__qbxmlgem.xml")
    assert response.iterator_id == "{eb05f701-e727-472f-8ade-6753c4f67a46}"
    assert response.iterator_remaining_count == 18
    assert response.objects[0].full_name == "10th Customer"
    (qbxmlgem,) = parse(samples, "CustomerQueryRs__qbxmlgem.xml")
    assert qbxmlgem.request_id == "Q3VzdG9tZXJRdWVyeXwyODk2"
    assert qbxmlgem.objects[0].list_id == "10006-1211236622"


def test_empty_query(samples):
    (response,) = parse(samples, "valid_empty_customer_query_response__jwachira.xml")
    assert (response.status.code, response.objects) == (0, ())


def test_invoice_query_with_lines_and_linked_payment(samples):
    (response,) = parse(samples, "InvoiceQueryRs_with_lines__Callbacks_SQL_L11506.xml")
    assert response.iterator_remaining_count == 0
    first, second = response.objects
    assert first.txn_id == "4-1232328070"
    assert first.customer == Ref("40000-1232328070", "Keith Palmer:QuickBooks Integration")
    assert first.applied_amount == Decimal("-55.00")
    assert first.memo == "Opening balance"
    assert first.linked_txns[0].txn_type == "ReceivePayment"
    assert first.linked_txns[0].amount == Decimal("-55.00")
    assert first.is_settled
    # A line without ItemRef (a description line).
    assert first.lines == (
        InvoiceLine(
            "6-1232328070", None, "Opening balance", rate=Decimal("100"), amount=Decimal("100.00")
        ),
    )
    assert second.ref_number == "1"
    assert [line.txn_line_id for line in second.lines] == ["9-1232328243", "A-1232328243"]
    assert second.lines[1].quantity == Decimal("2")
    assert second.lines[1].sales_tax_code == Ref("10000-1232327562", "Tax")
    assert not second.is_settled


def test_invoice_add_in_soap_envelope(samples):
    (response,) = parse(samples, "InvoiceAddRs_in_soap_envelope__flowlink.xml")
    assert response.request_type == "InvoiceAdd"
    (invoice,) = response.objects
    assert (invoice.txn_id, invoice.edit_sequence, invoice.txn_number) == (
        "C5-1417118624",
        "1417118624",
        64,
    )
    assert invoice.customer == Ref("80000013-1416570432", "spree@example.com")
    assert invoice.txn_date == dt.date(2014, 2, 3)
    assert invoice.ref_number == "R1TT46883"
    assert invoice.lines[0].item == Ref("80000034-1415899267", "SPREE-T-SHIRT")
    assert invoice.lines[0].amount == Decimal("206.00")


def test_unescaped_qbxml_inside_soap(samples):
    (items,) = parse(samples, "ItemQueryRs__flowlink.xml")
    assert [i.full_name for i in items.objects] == [
        "Haskell T-Shirt",
        "Ruby T-Shirt",
        "Sinatra T-Shirt",
        "SPREE-T-SHIRT-1",
    ]
    assert items.objects[1].kind is ItemKind.INVENTORY
    assert items.objects[1].purchase_cost == Decimal("10.00")


def test_items_of_each_layout(samples):
    (assembly,) = parse(samples, "ItemQueryRs_ItemInventoryAssemblyRet__Callbacks_API_L1444.xml")
    (item,) = assembly.objects
    assert item.kind is ItemKind.INVENTORY_ASSEMBLY
    assert (item.sales_price, item.purchase_cost) == (Decimal("13.00"), Decimal("2.69"))
    assert not item.sales_and_purchase
    assert item.account == Ref("800000B9-1174689297", "Sales Wholesale:Coffee")
    (service,) = parse(samples, "valid_item_query_response__jwachira.xml")
    assert service.objects[0] == Item(
        list_id="80000002-1273542783",
        full_name="Awesome",
        name="Awesome",
        kind=ItemKind.SERVICE,
        edit_sequence="1273542783",
        sales_price=Decimal("0.00"),
        # A sales-or-purchase item has one account, here an expense account.
        account=Ref("80000006-1271891701", "Payroll Expenses"),
        time_created=dt.datetime(2010, 5, 10, 18, 53, 3, tzinfo=MINUS_8),
        time_modified=dt.datetime(2010, 5, 10, 18, 53, 3, tzinfo=MINUS_8),
    )


def test_invoices_added_with_only_their_ids_returned_are_headers(samples):
    # InvoiceRets holding only TxnID, times and EditSequence: what QuickBooks
    # answers a request that names those fields (IncludeRetElement).
    first, second = parse(samples, "valid_double_invoice_add_response__jwachira.xml")
    added = dt.datetime(2010, 4, 19, 10, 46, 46, tzinfo=MINUS_8)
    assert (first.request_type, first.request_id, first.status.code) == ("InvoiceAdd", "0", 0)
    assert first.objects == (TxnHeader("Invoice", "xyz987", "1271699206", added, added),)
    assert (second.request_id, second.status.ok) == ("1", True)
    assert second.objects == (
        TxnHeader("Invoice", "600000D9-5374119874", "1271699206", added, added),
    )


def test_a_state_is_never_built_from_partial_objects(samples):
    path = samples / "valid_double_invoice_add_response__jwachira.xml"
    with pytest.raises(QbxmlParseError) as caught:
        parse_state([path])
    assert str(caught.value).startswith(
        f"{path}: the InvoiceAdd response holds only part of Invoice xyz987: "
        "a plan needs whole objects\n  QuickBooks returns part of an object when the request "
        "names the fields it wants (IncludeRetElement)"
    )


def test_a_lone_item_is_read_by_parse_ret_and_refused_as_a_response(samples):
    path = samples / FRAGMENT_SAMPLE
    created = dt.datetime(2010, 2, 1, 22, 4, 43, tzinfo=MINUS_5)
    assert parse_ret(path) == Item(
        list_id="280001-1265079883",
        full_name="Crazy Horse",
        name="Crazy Horse",
        kind=ItemKind.SERVICE,
        edit_sequence="1265079883",
        sales_price=Decimal("0.00"),
        account=Ref("440000-1265079854", "Consulting Income"),
        time_created=created,
        time_modified=created,
    )
    with pytest.raises(QbxmlParseError) as caught:
        parse_response(path)
    assert str(caught.value) == (
        f"{path}:1: not a qbXML response document: its root element is <ItemServiceRet>, "
        "not <QBXML> (a single object, not a response)"
    )


def test_pages_of_an_iterator_merge_into_a_complete_state(samples):
    state = parse_state(
        [
            samples / "valid_first_page_response__jwachira.xml",
            samples / "valid_last_page_response__jwachira.xml",
        ]
    )
    assert [c.list_id for c in state.customers] == ["40000-1236889264", "xyz987"]
    assert [i.txn_id for i in state.invoices] == ["7-1274221220"]


def test_pages_may_come_in_any_order(samples):
    state = parse_state(
        [
            samples / "valid_last_page_response__jwachira.xml",
            samples / "valid_first_page_response__jwachira.xml",
        ]
    )
    assert [c.list_id for c in state.customers] == ["xyz987", "40000-1236889264"]


def test_a_first_page_alone_is_an_incomplete_state(samples):
    with pytest.raises(QbxmlParseError) as caught:
        parse_state([samples / "valid_first_page_response__jwachira.xml"])
    assert "CustomerQuery iterator {6b474085-9943-46e2-ad71-d0a5aba9e948} still had 1" in str(
        caught.value
    )


def test_a_failed_query_makes_the_state_unusable(samples):
    with pytest.raises(QbxmlParseError) as caught:
        parse_state([samples / "CustomerQueryRs_3120_Error.xml"])
    assert "CustomerQuery request failed with status 3120" in str(caught.value)
    assert "does not exist in QuickBooks" in str(caught.value)


# --------------------------------------------------------------------------
# Documents written for the cases the samples lack
# --------------------------------------------------------------------------


def qbxml(*responses: str) -> bytes:
    body = "".join(responses)
    return (
        f'<?xml version="1.0" ?>\n<QBXML>\n<QBXMLMsgsRs>\n{body}</QBXMLMsgsRs>\n</QBXML>\n'.encode()
    )


def rs(tag: str, body: str = "", **attributes: str) -> str:
    attrs = {
        "requestID": "1",
        "statusCode": "0",
        "statusSeverity": "Info",
        "statusMessage": "Status OK",
    }
    attrs.update(attributes)
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<{tag} {text}>{body}</{tag}>\n"


HOST = """<HostRet><ProductName>QuickBooks Enterprise Solutions: Accountant 24.0</ProductName>
<MajorVersion>34</MajorVersion><MinorVersion>0</MinorVersion><Country>US</Country>
<SupportedQBXMLVersion>13.0</SupportedQBXMLVersion><SupportedQBXMLVersion>14.0</SupportedQBXMLVersion>
<SupportedQBXMLVersion>16.0</SupportedQBXMLVersion>
<IsAutomaticLogin>true</IsAutomaticLogin><QBFileMode>MultiUser</QBFileMode></HostRet>"""
COMPANY = """<CompanyRet><IsSampleCompany>false</IsSampleCompany><CompanyName>Northwind IT Services</CompanyName>
<LegalCompanyName>Northwind IT Services LLC</LegalCompanyName><Address><City>Springfield</City></Address>
<DataExtRet><OwnerID>{512349B1-1111-2222-3333-000DE1813D20}</OwnerID><DataExtName>FileID</DataExtName>
<DataExtType>STR255TYPE</DataExtType><DataExtValue>abc</DataExtValue></DataExtRet></CompanyRet>"""

GROUP_INVOICE = """<InvoiceRet><TxnID>1A-1700000000</TxnID>
<TimeCreated>2024-06-01T05:00:00-05:00</TimeCreated><TimeModified>2024-06-02T10:00:00-05:00</TimeModified>
<EditSequence>1717340400</EditSequence><TxnNumber>77</TxnNumber>
<CustomerRef><ListID>80000013-1416570432</ListID><FullName>Contoso Dental</FullName></CustomerRef>
<TxnDate>2024-06-01</TxnDate><RefNumber>1042</RefNumber>
<BillAddress><Addr1>Contoso Dental</Addr1></BillAddress>
<IsPending>false</IsPending><Memo>Caf\u00e9 &amp; \u2122</Memo><IsPaid>false</IsPaid>
<IsToBePrinted>false</IsToBePrinted><IsToBeEmailed>true</IsToBeEmailed>
<ExternalGUID>{3F2B8A4E-5C1D-4E7F-9A0B-1C2D3E4F5A6B}</ExternalGUID>
<InvoiceLineRet><TxnLineID>1C-1</TxnLineID>
<ItemRef><ListID>80000021-1700000000</ListID><FullName>Cloud:Microsoft 365 E3</FullName></ItemRef>
<Desc>Line one
line two</Desc><Quantity>12.5</Quantity><Rate>36.00</Rate><ClassRef><FullName>MSP</FullName></ClassRef>
<Amount>450.00</Amount><ServiceDate>2024-05-01</ServiceDate><Other1>o1</Other1><Other2>o2</Other2>
<DataExtRet><OwnerID>0</OwnerID><DataExtName>Sherweb SKU</DataExtName><DataExtType>STR255TYPE</DataExtType>
<DataExtValue>MS-365-E3</DataExtValue></DataExtRet></InvoiceLineRet>
<InvoiceLineGroupRet><TxnLineID>1D-1</TxnLineID>
<ItemGroupRef><ListID>80000030-1</ListID><FullName>Backup bundle</FullName></ItemGroupRef>
<Desc>Backup bundle</Desc><Quantity>2</Quantity><IsPrintItemsInGroup>true</IsPrintItemsInGroup>
<TotalAmount>30.00</TotalAmount>
<InvoiceLineRet><TxnLineID>1E-1</TxnLineID><ItemRef><FullName>Backup</FullName></ItemRef>
<RatePercent>-10.5</RatePercent><Amount>30.00</Amount></InvoiceLineRet>
<DataExtRet><DataExtName>Note</DataExtName><DataExtType>STR255TYPE</DataExtType><DataExtValue>g</DataExtValue></DataExtRet>
</InvoiceLineGroupRet>
<InvoiceLineRet><TxnLineID>1F-1</TxnLineID><Desc/></InvoiceLineRet>
<DataExtRet><OwnerID>0</OwnerID><DataExtName>Contract</DataExtName><DataExtType>STR255TYPE</DataExtType>
<DataExtValue>C-1</DataExtValue></DataExtRet>
</InvoiceRet>"""


def test_host_and_company():
    host_rs, company_rs = parse_response(
        qbxml(rs("HostQueryRs", HOST), rs("CompanyQueryRs", COMPANY))
    )
    assert host_rs.objects == (
        HostInfo(
            product_name="QuickBooks Enterprise Solutions: Accountant 24.0",
            major_version=34,
            minor_version=0,
            country="US",
            supported_versions=("13.0", "14.0", "16.0"),
            is_automatic_login=True,
            qb_file_mode="MultiUser",
        ),
    )
    assert company_rs.objects == (
        CompanyInfo(
            company_name="Northwind IT Services",
            legal_company_name="Northwind IT Services LLC",
            is_sample_company=False,
            data_ext=(
                DataExt("{512349B1-1111-2222-3333-000DE1813D20}", "FileID", "abc", "STR255TYPE"),
            ),
        ),
    )
    state = parse_state([qbxml(rs("HostQueryRs", HOST), rs("CompanyQueryRs", COMPANY))])
    assert state.host is not None
    assert (state.host.company_name, state.host.supported_versions[-1]) == (
        "Northwind IT Services",
        "16.0",
    )


def test_invoice_with_group_lines_data_ext_and_description_lines():
    (response,) = parse_response(qbxml(rs("InvoiceQueryRs", GROUP_INVOICE)))
    (invoice,) = response.objects
    assert invoice.memo == "Café & ™"
    assert invoice.external_guid == "3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"
    assert invoice.time_modified == dt.datetime(2024, 6, 2, 10, tzinfo=MINUS_5)
    assert invoice.data_ext == (DataExt("0", "Contract", "C-1", "STR255TYPE"),)
    line, group, empty = invoice.lines
    assert line == InvoiceLine(
        txn_line_id="1C-1",
        item=Ref("80000021-1700000000", "Cloud:Microsoft 365 E3"),
        desc="Line one\nline two",
        quantity=Decimal("12.5"),
        rate=Decimal("36.00"),
        amount=Decimal("450.00"),
        service_date=dt.date(2024, 5, 1),
        class_ref=Ref(None, "MSP"),
        other1="o1",
        other2="o2",
        data_ext=(DataExt("0", "Sherweb SKU", "MS-365-E3", "STR255TYPE"),),
    )
    assert group == InvoiceLineGroup(
        txn_line_id="1D-1",
        item_group=Ref("80000030-1", "Backup bundle"),
        desc="Backup bundle",
        quantity=Decimal("2"),
        is_print_items_in_group=True,
        total_amount=Decimal("30.00"),
        lines=(
            InvoiceLine(
                "1E-1", Ref(None, "Backup"), rate_percent=Decimal("-10.5"), amount=Decimal("30.00")
            ),
        ),
        data_ext=(DataExt("0", "Note", "g", "STR255TYPE"),),
    )
    assert empty == InvoiceLine("1F-1", desc="")


ITEMS = """<ItemServiceRet><ListID>1</ListID><TimeCreated>2024-01-01T00:00:00</TimeCreated>
<TimeModified>2024-01-01T00:00:00</TimeModified><EditSequence>11</EditSequence><Name>E3</Name>
<FullName>Cloud:E3</FullName><IsActive>false</IsActive><ParentRef><FullName>Cloud</FullName></ParentRef>
<Sublevel>1</Sublevel><SalesAndPurchase><SalesDesc>Microsoft 365 E3</SalesDesc><SalesPrice>36.00</SalesPrice>
<IncomeAccountRef><FullName>Sales</FullName></IncomeAccountRef><PurchaseCost>28.80</PurchaseCost>
</SalesAndPurchase></ItemServiceRet>
<ItemNonInventoryRet><ListID>2</ListID><EditSequence>12</EditSequence><Name>Dock</Name><FullName>Dock</FullName>
<SalesOrPurchase><Desc>USB-C dock</Desc><Price>199.99</Price></SalesOrPurchase></ItemNonInventoryRet>
<ItemOtherChargeRet><ListID>3</ListID><EditSequence>13</EditSequence><Name>Fee</Name><FullName>Fee</FullName>
<SalesOrPurchase><PricePercent>3.5</PricePercent></SalesOrPurchase></ItemOtherChargeRet>
<ItemSubtotalRet><ListID>4</ListID><EditSequence>14</EditSequence><Name>Sub</Name>
<ItemDesc>Subtotal</ItemDesc></ItemSubtotalRet>
<ItemGroupRet><ListID>5</ListID><EditSequence>15</EditSequence><Name>Bundle</Name>
<ItemDesc>Backup bundle</ItemDesc><IsPrintItemsInGroup>true</IsPrintItemsInGroup>
<ItemGroupLine><ItemRef><FullName>Backup</FullName></ItemRef><Quantity>1</Quantity></ItemGroupLine></ItemGroupRet>"""


def test_every_item_kind_from_the_generic_item_query():
    (response,) = parse_response(qbxml(rs("ItemQueryRs", ITEMS)))
    service, non_inventory, other, subtotal, group = response.objects
    assert (service.kind, service.sales_and_purchase, service.is_active) == (
        ItemKind.SERVICE,
        True,
        False,
    )
    assert (service.sales_price, service.purchase_cost, service.sales_desc) == (
        Decimal("36.00"),
        Decimal("28.80"),
        "Microsoft 365 E3",
    )
    assert service.time_created == dt.datetime(2024, 1, 1)
    assert service.account == Ref(None, "Sales")
    assert (non_inventory.kind, non_inventory.sales_price, non_inventory.purchase_cost) == (
        ItemKind.NON_INVENTORY,
        Decimal("199.99"),
        None,
    )
    assert (other.kind, other.sales_price_percent) == (ItemKind.OTHER_CHARGE, Decimal("3.5"))
    # Kinds that cannot have a parent carry no FullName in qbXML.
    assert (subtotal.kind, subtotal.full_name, subtotal.sales_desc) == (
        ItemKind.SUBTOTAL,
        "Sub",
        "Subtotal",
    )
    assert (group.kind, group.full_name, group.sales_desc) == (
        ItemKind.GROUP,
        "Bundle",
        "Backup bundle",
    )


def customer_ret(list_id: str, modified: str, name: str = "Contoso") -> str:
    return (
        f"<CustomerRet><ListID>{list_id}</ListID><TimeModified>{modified}</TimeModified>"
        f"<EditSequence>{modified[-2:]}</EditSequence><Name>{name}</Name><FullName>{name}</FullName>"
        "<Sublevel>0</Sublevel></CustomerRet>"
    )


def test_state_keeps_quickbooks_order_and_the_latest_copy():
    older = qbxml(
        rs(
            "CustomerQueryRs",
            customer_ret("A", "2024-01-01T00:00:01", "Alpha")
            + customer_ret("B", "2024-01-01T00:00:02", "Beta")
            + customer_ret("C", "2024-01-01T00:00:03", "Gamma"),
        )
    )
    newer = qbxml(rs("CustomerModRs", customer_ret("B", "2024-02-01T00:00:09", "Beta renamed")))
    stale = qbxml(rs("CustomerQueryRs", customer_ret("C", "2023-12-31T00:00:00", "Gamma old")))
    state = parse_state([older, newer, stale])
    assert [(c.list_id, c.name) for c in state.customers] == [
        ("A", "Alpha"),
        ("B", "Beta renamed"),
        ("C", "Gamma"),
    ]
    assert parse_state([newer, older]).customers[0].name == "Beta renamed"


def test_state_from_files_and_items(tmp_path):
    path = tmp_path / "items.xml"
    path.write_bytes(qbxml(rs("ItemQueryRs", ITEMS)))
    state = parse_state([path])
    assert [i.list_id for i in state.items] == ["1", "2", "3", "4", "5"]
    assert state.host is None and state.customers == () and state.invoices == ()


# --------------------------------------------------------------------------
# Hardening and errors
# --------------------------------------------------------------------------


def soap(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
        'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>t</ticket>'
        f"<response>{inner}</response><hresult>0x80040400</hresult>"
        "<message>QuickBooks found an error when parsing the provided XML text stream.</message>"
        "</receiveResponseXML></soap:Body></soap:Envelope>"
    ).encode()


def test_escaped_qbxml_in_soap_from_text():
    inner = escape(qbxml(rs("InvoiceQueryRs", GROUP_INVOICE)).decode())
    (response,) = parse_response(soap(inner).decode())
    assert response.objects[0].txn_id == "1A-1700000000"


def test_soap_without_a_response_says_what_the_web_connector_reported():
    with pytest.raises(
        QbxmlParseError,
        match=r"sent no qbXML response \(hresult 0x80040400; message QuickBooks found",
    ):
        parse_response(soap(""))


def test_errors_inside_soap_name_the_inner_document():
    with pytest.raises(
        QbxmlParseError, match=r"^response \(qbXML inside the SOAP envelope\):1: malformed XML"
    ):
        parse_response(soap(escape("<QBXML><QBXMLMsgsRs></QBXML>")))


def test_doctype_and_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<QBXML><QBXMLMsgsRs>"
        + rs("CustomerQueryRs", customer_ret("A", "2024-01-01T00:00:01", "&x;"))
        + "</QBXMLMsgsRs></QBXML>"
    )
    with pytest.raises(QbxmlParseError, match="a DOCTYPE is not allowed"):
        parse_response(xxe.encode())
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><QBXML><QBXMLMsgsRs/></QBXML>'
    )
    with pytest.raises(QbxmlParseError, match="DOCTYPE"):
        parse_response(laughs.encode())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "response: malformed XML: no element found"),
        (b"<QBXML><QBXMLMsgsRs>", "response:1: malformed XML"),
        (b"<QBXML/>", "response: the qbXML document holds no QBXMLMsgsRs"),
        (b"<Other/>", "response:1: not a qbXML response document: its root element is <Other>"),
        (qbxml("<Junk/>"), "response:4: unexpected <Junk> in QBXMLMsgsRs"),
        (qbxml('<CustomerQueryRs statusCode="x"/>'), "response:4: CustomerQueryRs has no valid statusCode ('x')"),
        (qbxml(rs("CustomerQueryRs", iteratorRemainingCount="many")), "iteratorRemainingCount 'many' is not a number"),
        (
            qbxml(rs("InvoiceQueryRs", GROUP_INVOICE.replace("<Quantity>12.5</Quantity>", "<Quantity>lots</Quantity>"))),
            "response:16: Quantity 'lots' is not a number",
        ),
        (qbxml(rs("InvoiceQueryRs", GROUP_INVOICE.replace("2024-05-01", "May 1st"))), "ServiceDate 'May 1st' is not a date"),
        (qbxml(rs("CustomerQueryRs", customer_ret("A", "yesterday"))), "TimeModified 'yesterday' is not a date and time"),
        (qbxml(rs("InvoiceQueryRs", GROUP_INVOICE.replace("<IsPaid>false", "<IsPaid>maybe"))), "IsPaid 'maybe' is not true or false"),
        (qbxml(rs("InvoiceQueryRs", "<InvoiceRet><InvoiceLineRet/></InvoiceRet>")), "InvoiceLineRet lacks TxnLineID"),
        (qbxml(rs("CustomerQueryRs", "<CustomerRet><Name>A</Name></CustomerRet>")), "response:4: CustomerRet lacks ListID, EditSequence, FullName"),
        (qbxml(rs("InvoiceQueryRs", "<InvoiceRet><RefNumber>1</RefNumber></InvoiceRet>")), "InvoiceRet lacks TxnID, EditSequence, CustomerRef, TxnDate"),
        # What a partial object holds is checked all the same.
        (qbxml(rs("InvoiceQueryRs", "<InvoiceRet><TxnID>T</TxnID><TxnDate>May</TxnDate></InvoiceRet>")), "TxnDate 'May' is not a date"),
    ],
)  # fmt: skip
def test_bad_documents_fail_with_file_and_line(document, message):
    with pytest.raises(QbxmlParseError) as caught:
        parse_response(document)
    assert message in str(caught.value)


def test_list_objects_returned_in_part_are_headers_and_no_state():
    document = qbxml(
        rs(
            "CustomerQueryRs",
            "<CustomerRet><ListID>A</ListID><TimeModified>2024-01-01T00:00:01</TimeModified>"
            "<EditSequence>7</EditSequence><Sublevel>0</Sublevel></CustomerRet>",
        ),
        rs("ItemQueryRs", "<ItemServiceRet><ListID>B</ListID><Name>E3</Name></ItemServiceRet>"),
    )
    customers, items = parse_response(document)
    assert customers.objects == (
        ListHeader("Customer", "A", "7", time_modified=dt.datetime(2024, 1, 1, 0, 0, 1)),
    )
    assert items.objects == (ListHeader("ItemService", "B"),)
    with pytest.raises(
        QbxmlParseError,
        match=r"^response: the CustomerQuery response holds only part of Customer A",
    ):
        parse_state([document])


def test_parse_ret_reads_one_object_from_text_or_bytes():
    text = '<?xml version="1.0" encoding="windows-1252"?>\n<!-- from a log -->\n' + customer_ret(
        "A", "2024-01-01T00:00:01", "Zürich"
    ).replace("<Sublevel>", "<ParentRef><!-- x --><FullName>Top</FullName></ParentRef><Sublevel>")
    customer = parse_ret(text)
    assert (customer.list_id, customer.name, customer.parent) == ("A", "Zürich", Ref(None, "Top"))
    partial = b"<InvoiceRet><TxnID>T</TxnID><EditSequence>9</EditSequence></InvoiceRet>"
    assert parse_ret(partial) == TxnHeader("Invoice", "T", "9")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<ItemServiceRet><ListID>", "object:1: malformed XML"),
        (b"", "object:1: malformed XML: Document is empty"),
        (qbxml(rs("InvoiceQueryRs", GROUP_INVOICE)), "object:2: a whole qbXML document, not a single object"),
        (b"<PreferencesRet/>", "object:1: <PreferencesRet> is not an object reconciler reads"),
        (b"<CustomerRet>\n<Name>A</Name></CustomerRet>", "object:1: CustomerRet lacks ListID, EditSequence, FullName"),
        (b'<!DOCTYPE CustomerRet [<!ENTITY a "x">]><CustomerRet/>', "object: a DOCTYPE is not allowed"),
    ],
)  # fmt: skip
def test_parse_ret_refuses_what_is_not_one_object(document, message):
    with pytest.raises(QbxmlParseError) as caught:
        parse_ret(document)
    assert str(caught.value).startswith(message)


def test_read_fields_reads_what_parse_response_reads():
    document = qbxml(
        rs("CustomerQueryRs", customer_ret("A", "2024-01-01T00:00:01") + customer_ret("B", "x")),
        rs("InvoiceQueryRs", GROUP_INVOICE),
    )
    ((invoice,),) = [r.objects for r in parse_response(qbxml(rs("InvoiceQueryRs", GROUP_INVOICE)))]
    assert read_fields(document, "InvoiceRet", ("TxnID", "ExternalGUID", "Nope")) == [
        (invoice.txn_id, "{3F2B8A4E-5C1D-4E7F-9A0B-1C2D3E4F5A6B}", None)
    ]
    assert invoice.external_guid == "3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"
    # Values are not checked (customer B's TimeModified), nor nested Rets read.
    assert read_fields(document.decode(), "CustomerRet", ("ListID",)) == [("A",), ("B",)]
    assert read_fields(document, "InvoiceLineRet", ("TxnLineID",)) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<QBXML><QBXMLMsgsRs>", "malformed XML"),
        (b"<Other/>", "not a qbXML response document"),
        (b'<!DOCTYPE QBXML [<!ENTITY a "x">]><QBXML><QBXMLMsgsRs/></QBXML>', "DOCTYPE"),
    ],
)
def test_read_fields_refuses_what_parse_response_refuses(document, message):
    with pytest.raises(QbxmlParseError, match=message):
        read_fields(document, "InvoiceRet", ("TxnID",))


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "responses" / "invoices.xml"
    path.parent.mkdir()
    path.write_bytes(b"<QBXML><QBXMLMsgsRs>\n<broken")
    with pytest.raises(QbxmlParseError, match="^" + re.escape(f"{path}:2: malformed XML")):
        parse_response(path)
    with pytest.raises(QbxmlParseError, match="cannot read the file"):
        parse_response(tmp_path / "missing.xml")


def test_text_with_an_encoding_declaration():
    text = qbxml(rs("CustomerQueryRs", customer_ret("A", "2024-01-01T00:00:01", "Zürich"))).decode()
    text = text.replace('<?xml version="1.0" ?>', '<?xml version="1.0" encoding="windows-1252"?>')
    (response,) = parse_response(text)
    assert response.objects[0].name == "Zürich"


def test_objects_of_unknown_kinds_are_skipped_but_their_status_kept():
    document = qbxml(
        rs("PreferencesQueryRs", "<PreferencesRet><AccountingPreferences/></PreferencesRet>"),
        rs("CustomerQueryRs", customer_ret("A", "2024-01-01T00:00:01")),
    )
    prefs, customers = parse_response(document)
    assert (prefs.request_type, prefs.objects) == ("PreferencesQuery", ())
    assert isinstance(customers.objects[0], Customer)


def test_large_responses_do_not_keep_their_tree():
    many = "".join(customer_ret(f"L{n}", "2024-01-01T00:00:01", f"C{n}") for n in range(2000))
    (response,) = parse_response(qbxml(rs("CustomerQueryRs", many)))
    assert len(response.objects) == 2000
    assert response.objects[-1].list_id == "L1999"
    assert isinstance(response.objects[0], Customer) and not isinstance(
        response.objects[0], Invoice
    )

"""The QuickBooks simulator answers with QuickBooks' semantics: one test per rule.

Every response is validated against the qbXML 13.0 XSD when the reference
material is present; messages are compared with real captured responses.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from support.paths import REFERENCE

from reconciler.qbxml.xsd import load_xsd, xsd_errors
from reconciler.sandbox.books import Books
from reconciler.sandbox.by_hand import human_edit, receive_payment, send_forms
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.responses import books_to_qbxml
from reconciler.sandbox.simulator import QuickBooksSimulator, request_document
from reconciler.sandbox.status import RequestProcessorError, ResponseLost

REFERENCE = REFERENCE / "qbxml"
XSD_DIR = REFERENCE / "xsd-13.0"
SAMPLES = REFERENCE / "samples"
EASTERN = ZoneInfo("America/New_York")
OWNER = "{6B1F0A52-3C1E-4E59-9D0B-6D6A4B0E1C11}"

DATA = {
    "company": {"name": "Test Company", "file": r"C:\Company Files\Test Company.qbw"},
    "customers": [
        {"name": "Alpha"},
        {"name": "Beta"},
        {"name": "Beta:Site 1"},
        {"name": "Gone", "active": False},
    ],
    "items": [
        {"name": "Cloud", "type": "service"},
        {"name": "Cloud:Seat", "type": "service", "description": "Seat", "price": 10, "cost": 7},
        {"name": "Support", "type": "service", "description": "Support hour", "price": 100},
        {"name": "Box", "type": "non-inventory", "description": "Box", "price": 50, "cost": 30},
        {"name": "Fee", "type": "other-charge", "price": 5, "cost": 4},
        {"name": "Retired", "type": "service", "price": 1, "active": False},
        {"name": "Laptop", "type": "inventory", "price": 900, "cost": 700, "on_hand": 3},
        {"name": "Promo", "type": "discount", "rate_percent": 10},
        {"name": "Subtotal", "type": "subtotal"},
        {"name": "Kit", "type": "group", "lines": [{"item": "Box", "quantity": 2}]},
    ],
    "invoices": [
        {
            "customer": "Alpha",
            "date": "2026-11-01",
            "lines": [{"item": "Support", "quantity": 2}],
            "payment": {"amount": "full", "date": "2026-11-10", "ref_number": "CHK-1"},
        },
        {
            "customer": "Alpha",
            "date": "2026-12-01",
            "to_be_emailed": True,
            "lines": [
                {"item": "Support", "quantity": 1, "rate": 90},
                {"item": "Cloud:Seat", "quantity": 3},
                {"description": "Thank you"},
            ],
        },
        {
            "customer": "Beta:Site 1",
            "date": "2026-12-01",
            "lines": [
                {
                    "item": "Box",
                    "quantity": 1,
                    "data_ext": [{"owner_id": OWNER, "name": "Marker", "value": "x"}],
                },
                {"group": "Kit"},
            ],
        },
    ],
}


class Clock:
    """A clock the tests move forward."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=EASTERN)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def schema():
    return load_xsd(XSD_DIR) if XSD_DIR.is_dir() else None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> QuickBooksSimulator:
    return QuickBooksSimulator(
        load_fixture(DATA), xsd_dir=XSD_DIR if XSD_DIR.is_dir() else None, clock=clock
    )


@pytest.fixture
def ask(sim: QuickBooksSimulator, schema):
    """Send request elements; get the validated response elements."""

    def send(*requests: str, on_error: str = "stopOnError", version: str = "13.0") -> list:
        text = sim.process(request_document(*requests, version=version, on_error=on_error))
        if schema is not None:
            assert xsd_errors(schema, text) == []
        return list(etree.fromstring(text.encode()).find("QBXMLMsgsRs"))

    return send


def status(response) -> tuple[int, str]:
    return int(response.get("statusCode")), response.get("statusSeverity")


def invoice_of(sim: QuickBooksSimulator, customer: str, date: str):
    return next(ret for ret in sim.books.invoices_of(customer) if ret.findtext("TxnDate") == date)


def open_invoice(sim: QuickBooksSimulator):
    return invoice_of(sim, "Alpha", "2026-12-01")


def line_ids(ret) -> list[str]:
    return [line.findtext("TxnLineID") for line in ret.iterfind("InvoiceLineRet")]


def sample(name: str) -> str:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip("../shared/reference is absent")
    return path.read_text(encoding="utf-8")


def sample_message(name: str) -> str:
    return re.search(r'statusMessage="([^"]*)"', sample(name)).group(1).replace("&quot;", '"')


# --------------------------------------------------------------------------
# HostQuery, CompanyQuery, PreferencesQuery
# --------------------------------------------------------------------------


def test_host_query_reports_the_configured_product_and_versions(clock: Clock) -> None:
    sim = QuickBooksSimulator(
        Books("X"), product_name="QuickBooks Premier 2015", supported_versions=("12.0", "13.0")
    )
    text = sim.process(request_document('<HostQueryRq requestID="7"/>'))
    host = etree.fromstring(text.encode()).find("QBXMLMsgsRs/HostQueryRs")
    assert host.get("requestID") == "7"
    assert host.findtext("HostRet/ProductName") == "QuickBooks Premier 2015"
    assert host.findtext("HostRet/MajorVersion") == "25"
    assert [v.text for v in host.iterfind("HostRet/SupportedQBXMLVersion")] == ["12.0", "13.0"]
    assert sim.qbxml_version == "13.0"


def test_host_company_preferences_answer_has_the_shape_of_a_real_one(ask) -> None:
    real = etree.fromstring(
        sample("HostQuery_CompanyQuery_PreferencesQuery_Rs_QBPro2014.xml")
        # The capture carries a hand-edit typo; the rest is QuickBooks' own.
        .replace("<yzer/DataExtType>", "</DataExtType>")
        .encode()
    )
    host, company, preferences = ask(
        '<HostQueryRq requestID="0"/>',
        f'<CompanyQueryRq requestID="1"><OwnerID>{OWNER}</OwnerID></CompanyQueryRq>',
        '<PreferencesQueryRq requestID="2"/>',
    )
    real_host = real.find("QBXMLMsgsRs/HostQueryRs/HostRet")
    assert [c.tag for c in host.find("HostRet")] == [c.tag for c in real_host][:4] + [
        "SupportedQBXMLVersion"
    ] * 19 + ["IsAutomaticLogin", "QBFileMode"]
    assert company.findtext("CompanyRet/CompanyName") == "Test Company"
    real_groups = [c.tag for c in real.find("QBXMLMsgsRs/PreferencesQueryRs/PreferencesRet")]
    ours = [c.tag for c in preferences.find("PreferencesRet")]
    assert ours == [tag for tag in real_groups if tag in ours]
    assert len(ours) >= 10


def test_company_query_returns_private_data_only_for_its_owner(
    sim: QuickBooksSimulator, ask
) -> None:
    data_ext = etree.fromstring(
        f"<DataExtRet><OwnerID>{OWNER}</OwnerID><DataExtName>FileID</DataExtName>"
        "<DataExtType>STR255TYPE</DataExtType><DataExtValue>{AAAAAAAA-0000-0000-0000-000000000001}"
        "</DataExtValue></DataExtRet>"
    )
    sim.books.data_ext.append(data_ext)
    (without,) = ask("<CompanyQueryRq/>")
    (with_owner,) = ask(f"<CompanyQueryRq><OwnerID>{OWNER.lower()}</OwnerID></CompanyQueryRq>")
    assert without.find("CompanyRet/DataExtRet") is None
    assert with_owner.findtext("CompanyRet/DataExtRet/DataExtName") == "FileID"


# --------------------------------------------------------------------------
# CustomerQuery and ItemQuery
# --------------------------------------------------------------------------


def test_customer_query_returns_active_customers_sorted_by_full_name(ask) -> None:
    (active,) = ask("<CustomerQueryRq/>")
    (everyone,) = ask("<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq>")
    assert [c.findtext("FullName") for c in active] == ["Alpha", "Beta", "Beta:Site 1"]
    assert "Gone" in [c.findtext("FullName") for c in everyone]


def test_customer_of_a_job_has_parent_sublevel_and_balances(ask) -> None:
    (response,) = ask(
        "<CustomerQueryRq><FullName>Beta</FullName><FullName>Beta:Site 1</FullName></CustomerQueryRq>"
    )
    beta, site = response
    assert site.findtext("ParentRef/FullName") == "Beta"
    assert site.findtext("Sublevel") == "1"
    assert site.findtext("Balance") == "150.00"  # Box 50 + Kit (2 boxes) 100
    assert beta.findtext("Balance") == "0.00"
    assert beta.findtext("TotalBalance") == "150.00"


def test_query_by_unknown_list_id_is_3120_as_quickbooks_words_it(ask) -> None:
    (response,) = ask("<CustomerQueryRq><ListID>8000001B-1405768916</ListID></CustomerQueryRq>")
    assert status(response) == (3120, "Error")
    assert response.get("statusMessage") == sample_message("CustomerQueryRs_3120_Error.xml")


def test_query_by_unknown_full_name_warns_500_and_returns_the_others(ask) -> None:
    (response,) = ask(
        "<CustomerQueryRq><FullName>Alpha</FullName><FullName>bleech</FullName></CustomerQueryRq>"
    )
    assert status(response) == (500, "Warn")
    assert response.get("statusMessage") == sample_message("CustomerQueryRs_500_Warn.xml")
    assert [c.findtext("FullName") for c in response] == ["Alpha"]


def test_query_that_matches_nothing_is_status_1(ask) -> None:
    (response,) = ask(
        "<CustomerQueryRq><NameFilter><MatchCriterion>StartsWith</MatchCriterion>"
        "<Name>zzz</Name></NameFilter></CustomerQueryRq>"
    )
    assert status(response) == (1, "Info")
    assert len(response) == 0
    real = sample("ItemInventoryQueryRs_status1_empty__flowlink.xml")
    assert f'statusMessage="{response.get("statusMessage")}"' in real


def test_item_query_returns_every_item_kind(ask) -> None:
    (response,) = ask("<ItemQueryRq/>")
    assert {item.tag for item in response} == {
        "ItemServiceRet",
        "ItemNonInventoryRet",
        "ItemOtherChargeRet",
        "ItemInventoryRet",
        "ItemDiscountRet",
        "ItemSubtotalRet",
        "ItemGroupRet",
    }
    seat = next(item for item in response if item.findtext("FullName") == "Cloud:Seat")
    assert seat.findtext("SalesAndPurchase/SalesPrice") == "10.00"
    assert seat.findtext("SalesAndPurchase/PurchaseCost") == "7.00"
    support = next(item for item in response if item.findtext("FullName") == "Support")
    assert support.findtext("SalesOrPurchase/Price") == "100.00"


def test_item_query_filters_by_list_id_full_name_and_active_status(
    sim: QuickBooksSimulator, ask
) -> None:
    box_id = sim.books.item("Box").findtext("ListID")
    by_id, by_name, inactive = ask(
        f"<ItemQueryRq><ListID>{box_id}</ListID></ItemQueryRq>",
        "<ItemQueryRq><FullName>cloud:seat</FullName></ItemQueryRq>",
        "<ItemQueryRq><ActiveStatus>InactiveOnly</ActiveStatus></ItemQueryRq>",
    )
    assert [item.findtext("Name") for item in by_id] == ["Box"]
    assert [item.findtext("FullName") for item in by_name] == ["Cloud:Seat"]
    assert [item.findtext("Name") for item in inactive] == ["Retired"]


def test_item_service_query_returns_only_service_items(ask) -> None:
    (response,) = ask("<ItemServiceQueryRq/>")
    assert {item.tag for item in response} == {"ItemServiceRet"}
    assert len(response) == 3


# --------------------------------------------------------------------------
# InvoiceQuery
# --------------------------------------------------------------------------


def test_invoice_query_by_txn_id_and_unknown_txn_id(sim: QuickBooksSimulator, ask) -> None:
    txn_id = open_invoice(sim).findtext("TxnID")
    found, missing = ask(
        f"<InvoiceQueryRq><TxnID>{txn_id}</TxnID></InvoiceQueryRq>",
        "<InvoiceQueryRq><TxnID>99-1</TxnID></InvoiceQueryRq>",
        on_error="continueOnError",
    )
    assert [ret.findtext("TxnID") for ret in found] == [txn_id]
    assert status(missing) == (3120, "Error")


def test_invoice_query_entity_filter_by_list_id_full_name_and_with_children(
    sim: QuickBooksSimulator, ask
) -> None:
    alpha = sim.books.customer("Alpha").findtext("ListID")
    by_id, by_name, family = ask(
        f"<InvoiceQueryRq><EntityFilter><ListID>{alpha}</ListID></EntityFilter></InvoiceQueryRq>",
        "<InvoiceQueryRq><EntityFilter><FullName>Beta</FullName></EntityFilter></InvoiceQueryRq>",
        "<InvoiceQueryRq><EntityFilter><FullNameWithChildren>Beta</FullNameWithChildren>"
        "</EntityFilter></InvoiceQueryRq>",
    )
    assert len(by_id) == 2
    assert status(by_name) == (1, "Info")
    assert [ret.findtext("CustomerRef/FullName") for ret in family] == ["Beta:Site 1"]


def test_invoice_query_txn_date_range(ask) -> None:
    (response,) = ask(
        "<InvoiceQueryRq><TxnDateRangeFilter><FromTxnDate>2026-12-01</FromTxnDate>"
        "<ToTxnDate>2026-12-31</ToTxnDate></TxnDateRangeFilter></InvoiceQueryRq>"
    )
    assert {ret.findtext("TxnDate") for ret in response} == {"2026-12-01"}
    assert len(response) == 2


def test_invoice_query_modified_date_range(sim: QuickBooksSimulator, ask, clock: Clock) -> None:
    target = open_invoice(sim)
    clock.tick(days=30)
    human_edit(sim.books, target.findtext("TxnID"), moment=clock.now)
    (response,) = ask(
        "<InvoiceQueryRq><ModifiedDateRangeFilter><FromModifiedDate>2026-12-20T00:00:00-05:00"
        "</FromModifiedDate></ModifiedDateRangeFilter></InvoiceQueryRq>"
    )
    assert [ret.findtext("TxnID") for ret in response] == [target.findtext("TxnID")]


def test_invoice_lines_only_with_include_line_items(ask) -> None:
    without, with_lines = ask(
        "<InvoiceQueryRq><MaxReturned>1</MaxReturned></InvoiceQueryRq>",
        "<InvoiceQueryRq><MaxReturned>1</MaxReturned><IncludeLineItems>true</IncludeLineItems>"
        "</InvoiceQueryRq>",
    )
    assert without[0].find("InvoiceLineRet") is None
    assert with_lines[0].findtext("InvoiceLineRet/Amount") == "200.00"


def test_linked_transactions_only_with_include_linked_txns(ask) -> None:
    without, with_links = ask(
        "<InvoiceQueryRq><PaidStatus>PaidOnly</PaidStatus></InvoiceQueryRq>",
        "<InvoiceQueryRq><PaidStatus>PaidOnly</PaidStatus>"
        "<IncludeLinkedTxns>true</IncludeLinkedTxns></InvoiceQueryRq>",
    )
    assert without[0].find("LinkedTxn") is None
    link = with_links[0].find("LinkedTxn")
    assert link.findtext("TxnType") == "ReceivePayment"
    assert link.findtext("Amount") == "-200.00"


def test_private_data_only_for_the_owner_id_asked(ask) -> None:
    without, with_owner = ask(
        "<InvoiceQueryRq><EntityFilter><FullName>Beta:Site 1</FullName></EntityFilter>"
        "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>",
        "<InvoiceQueryRq><EntityFilter><FullName>Beta:Site 1</FullName></EntityFilter>"
        f"<IncludeLineItems>true</IncludeLineItems><OwnerID>{OWNER}</OwnerID></InvoiceQueryRq>",
    )
    assert without.find(".//DataExtRet") is None
    marker = with_owner.find("InvoiceRet/InvoiceLineRet/DataExtRet")
    assert marker.findtext("DataExtName") == "Marker"
    assert marker.findtext("DataExtValue") == "x"


def data_ext_add(target: str, value: str = "Robin", *, owner: str = "0") -> str:
    return (
        f'<DataExtAddRq requestID="7"><DataExtAdd><OwnerID>{owner}</OwnerID>'
        f"<DataExtName>Contract</DataExtName>{target}<DataExtValue>{value}</DataExtValue>"
        "</DataExtAdd></DataExtAddRq>"
    )


def test_data_ext_add_writes_a_custom_field_on_a_customer(
    sim: QuickBooksSimulator, ask, clock: Clock
) -> None:
    before = sim.books.customer("Alpha").findtext("EditSequence")
    clock.tick(minutes=1)
    (added,) = ask(
        data_ext_add(
            "<ListDataExtType>Customer</ListDataExtType>"
            "<ListObjRef><FullName>Alpha</FullName></ListObjRef>",
            "C-17",
        )
    )
    assert status(added) == (0, "Info")
    assert [child.text for child in added.find("DataExtRet")] == [
        "0",
        "Contract",
        "STR255TYPE",
        "C-17",
    ]
    (found,) = ask(
        "<CustomerQueryRq><FullName>Alpha</FullName><OwnerID>0</OwnerID></CustomerQueryRq>"
    )
    customer = found.find("CustomerRet")
    assert customer.findtext("DataExtRet/DataExtValue") == "C-17"
    # Writing a custom field is a change to the customer.
    assert customer.findtext("EditSequence") != before
    assert customer.findtext("TimeModified") == "2026-12-02T09:01:00-05:00"


def test_data_ext_add_on_an_item_an_invoice_and_an_invoice_line(
    sim: QuickBooksSimulator, ask
) -> None:
    invoice = open_invoice(sim)
    txn_id, before = invoice.findtext("TxnID"), invoice.findtext("EditSequence")
    line_id = line_ids(invoice)[1]
    item, on_invoice, on_line = ask(
        data_ext_add(
            "<ListDataExtType>Item</ListDataExtType>"
            "<ListObjRef><FullName>Cloud:Seat</FullName></ListObjRef>",
            "SKU-1",
        ),
        data_ext_add(
            f"<TxnDataExtType>Invoice</TxnDataExtType><TxnID>{txn_id}</TxnID>",
            "whole",
            owner=OWNER,
        ),
        data_ext_add(
            f"<TxnDataExtType>Invoice</TxnDataExtType><TxnID>{txn_id}</TxnID>"
            f"<TxnLineID>{line_id}</TxnLineID>",
            "line",
            owner=OWNER,
        ),
    )
    assert [status(r) for r in (item, on_invoice, on_line)] == [(0, "Info")] * 3
    assert sim.books.item("Cloud:Seat").findtext("DataExtRet/DataExtValue") == "SKU-1"
    stored = open_invoice(sim)
    assert stored.findtext("DataExtRet/DataExtValue") == "whole"
    assert stored.findall("InvoiceLineRet")[1].findtext("DataExtRet/DataExtValue") == "line"
    assert int(stored.findtext("EditSequence")) > int(before)


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("<ListDataExtType>Customer</ListDataExtType><ListObjRef><FullName>Nobody</FullName></ListObjRef>", 3140),
        ("<ListDataExtType>Item</ListDataExtType><ListObjRef><FullName>Alpha</FullName></ListObjRef>", 3140),
        ("<ListDataExtType>Vendor</ListDataExtType><ListObjRef><FullName>Alpha</FullName></ListObjRef>", 3140),
        ("<TxnDataExtType>Invoice</TxnDataExtType><TxnID>0-0</TxnID>", 3120),
        ("<TxnDataExtType>Bill</TxnDataExtType><TxnID>{txn_id}</TxnID>", 3120),
        ("<TxnDataExtType>Invoice</TxnDataExtType><TxnID>{txn_id}</TxnID><TxnLineID>0-0</TxnLineID>", 3120),
    ],
)  # fmt: skip
def test_data_ext_add_on_what_does_not_exist_is_refused_and_changes_nothing(
    sim: QuickBooksSimulator, ask, target: str, code: int
) -> None:
    before = books_to_qbxml(sim.books)
    (refused,) = ask(data_ext_add(target.format(txn_id=open_invoice(sim).findtext("TxnID"))))
    assert status(refused) == (code, "Error")
    assert refused.find("DataExtRet") is None
    assert books_to_qbxml(sim.books) == before


def test_data_ext_add_of_a_value_already_set_is_3180(sim: QuickBooksSimulator, ask) -> None:
    target = "<ListDataExtType>Customer</ListDataExtType><ListObjRef><FullName>Beta</FullName></ListObjRef>"
    first, second, other_owner = ask(
        data_ext_add(target, "1"),
        data_ext_add(target, "2"),
        data_ext_add(target, "3", owner=OWNER),
        on_error="continueOnError",
    )
    assert (status(first), status(second), status(other_owner)) == (
        (0, "Info"),
        (3180, "Error"),
        (0, "Info"),
    )
    values = [ret.findtext("DataExtValue") for ret in sim.books.customer("Beta").iter("DataExtRet")]
    assert values == ["1", "3"]


def test_max_returned_caps_the_answer(ask) -> None:
    (response,) = ask("<InvoiceQueryRq><MaxReturned>2</MaxReturned></InvoiceQueryRq>")
    assert len(response) == 2
    assert response.get("iteratorID") is None


def test_iterator_pages_through_with_remaining_counts(ask) -> None:
    (first,) = ask('<InvoiceQueryRq iterator="Start"><MaxReturned>2</MaxReturned></InvoiceQueryRq>')
    iterator_id = first.get("iteratorID")
    assert re.fullmatch(r"\{[0-9a-f-]{36}\}", iterator_id)
    assert (len(first), first.get("iteratorRemainingCount")) == (2, "1")
    (second,) = ask(
        f'<InvoiceQueryRq iterator="Continue" iteratorID="{iterator_id}">'
        "<MaxReturned>2</MaxReturned></InvoiceQueryRq>"
    )
    assert (len(second), second.get("iteratorRemainingCount")) == (1, "0")
    assert second.get("iteratorID") == iterator_id
    (finished,) = ask(
        f'<InvoiceQueryRq iterator="Continue" iteratorID="{iterator_id}">'
        "<MaxReturned>2</MaxReturned></InvoiceQueryRq>"
    )
    assert status(finished) == (3391, "Error")


def test_unknown_or_expired_iterator_is_3391(sim: QuickBooksSimulator, ask) -> None:
    (unknown,) = ask(
        '<CustomerQueryRq iterator="Continue" iteratorID="{00000000-0000-0000-0000-0000000000ff}">'
        "<MaxReturned>1</MaxReturned></CustomerQueryRq>"
    )
    assert status(unknown) == (3391, "Error")
    (started,) = ask('<ItemQueryRq iterator="Start"><MaxReturned>1</MaxReturned></ItemQueryRq>')
    sim.end_session()
    (expired,) = ask(
        f'<ItemQueryRq iterator="Continue" iteratorID="{started.get("iteratorID")}">'
        "<MaxReturned>1</MaxReturned></ItemQueryRq>"
    )
    assert status(expired) == (3391, "Error")


# --------------------------------------------------------------------------
# InvoiceAdd
# --------------------------------------------------------------------------

GUID = "{3F2B6C1E-8A4D-4E0B-9C61-2D7A5B9E0F11}"


def test_invoice_add_computes_what_quickbooks_computes(
    sim: QuickBooksSimulator, ask, clock: Clock
) -> None:
    (response,) = ask(
        '<InvoiceAddRq requestID="q-1"><InvoiceAdd><CustomerRef><FullName>Beta</FullName></CustomerRef>'
        f"<TxnDate>2026-12-01</TxnDate><ExternalGUID>{GUID}</ExternalGUID>"
        "<InvoiceLineAdd><ItemRef><FullName>Cloud:Seat</FullName></ItemRef><Quantity>12</Quantity>"
        "<ServiceDate>2026-12-01</ServiceDate></InvoiceLineAdd>"
        "<InvoiceLineAdd><ItemRef><FullName>Support</FullName></ItemRef><Quantity>0.5</Quantity>"
        "<Rate>80</Rate></InvoiceLineAdd>"
        "</InvoiceAdd></InvoiceAddRq>"
    )
    assert response.get("requestID") == "q-1"
    assert status(response) == (0, "Info")
    ret = response.find("InvoiceRet")
    assert re.fullmatch(r"[0-9A-F]+-\d+", ret.findtext("TxnID"))
    assert ret.findtext("TimeCreated") == "2026-12-02T09:00:00-05:00"
    assert ret.findtext("TimeModified") == ret.findtext("TimeCreated")
    assert ret.findtext("EditSequence") == str(int(clock.now.timestamp()))
    assert ret.findtext("ExternalGUID") == GUID
    seat, support = ret.iterfind("InvoiceLineRet")
    assert seat.findtext("Desc") == "Seat"
    assert (seat.findtext("Rate"), seat.findtext("Amount")) == ("10.00", "120.00")
    assert (support.findtext("Rate"), support.findtext("Amount")) == ("80.00", "40.00")
    assert len(set(line_ids(ret))) == 2
    assert (ret.findtext("Subtotal"), ret.findtext("BalanceRemaining")) == ("160.00", "160.00")
    assert ret.findtext("IsPaid") == "false"
    assert sim.books.find_invoice(GUID.lower()) is not None


def test_invoice_add_keeps_the_print_and_email_later_marks_until_the_invoice_is_sent(
    sim: QuickBooksSimulator, ask
) -> None:
    (response,) = ask(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "<IsToBePrinted>false</IsToBePrinted><IsToBeEmailed>true</IsToBeEmailed>"
        f"<ExternalGUID>{GUID}</ExternalGUID>"
        "<InvoiceLineAdd><Desc>Text only</Desc></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
    )
    txn_id = response.find("InvoiceRet").findtext("TxnID")
    (query,) = ask(f"<InvoiceQueryRq><TxnID>{txn_id}</TxnID></InvoiceQueryRq>")
    ret = query.find("InvoiceRet")
    assert (ret.findtext("IsToBePrinted"), ret.findtext("IsToBeEmailed")) == ("false", "true")
    edit_sequence = ret.findtext("EditSequence")
    sent = send_forms(sim.books, txn_id, moment=dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC))
    assert (sent.findtext("IsToBePrinted"), sent.findtext("IsToBeEmailed")) == ("false", "false")
    assert sent.findtext("EditSequence") != edit_sequence
    (unmarked,) = ask(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "<InvoiceLineAdd><Desc>Text only</Desc></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
    )
    ret = unmarked.find("InvoiceRet")
    assert (ret.findtext("IsToBePrinted"), ret.findtext("IsToBeEmailed")) == ("false", "false")


def test_invoice_add_numbers_invoices_and_takes_the_customer_address(ask) -> None:
    (response,) = ask(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "<InvoiceLineAdd><Desc>Text only</Desc></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
    )
    ret = response.find("InvoiceRet")
    assert ret.findtext("RefNumber") == "1004"
    assert ret.findtext("TxnDate") == "2026-12-02"
    assert ret.find("InvoiceLineRet/Amount") is None
    assert ret.findtext("Subtotal") == "0.00"


def test_invoice_add_with_an_unknown_customer_is_3140_and_adds_nothing(
    sim: QuickBooksSimulator, ask
) -> None:
    before = len(sim.books.invoices)
    (response,) = ask(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Joe Smith</FullName></CustomerRef>"
        "</InvoiceAdd></InvoiceAddRq>"
    )
    assert status(response) == (3140, "Error")
    real = sample("SalesOrderAddRs_3140_invalid_ref__flowlink.xml")
    expected = sample_message("SalesOrderAddRs_3140_invalid_ref__flowlink.xml")
    assert response.get("statusMessage") == expected.replace("SalesOrder", "Invoice")
    assert "in the SalesOrder line" in real
    assert len(sim.books.invoices) == before


def test_invoice_add_with_an_unknown_item_is_3140(sim: QuickBooksSimulator, ask) -> None:
    before = len(sim.books.invoices)
    (response,) = ask(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "<InvoiceLineAdd><ItemRef><FullName>sooo wrong</FullName></ItemRef></InvoiceLineAdd>"
        "</InvoiceAdd></InvoiceAddRq>"
    )
    assert status(response) == (3140, "Error")
    assert 'QuickBooks Item "sooo wrong" in the Invoice line.' in response.get("statusMessage")
    assert len(sim.books.invoices) == before


# --------------------------------------------------------------------------
# InvoiceMod
# --------------------------------------------------------------------------


def invoice_mod(ret, *lines: str, edit_sequence: str | None = None) -> str:
    return (
        "<InvoiceModRq><InvoiceMod>"
        f"<TxnID>{ret.findtext('TxnID')}</TxnID>"
        f"<EditSequence>{edit_sequence or ret.findtext('EditSequence')}</EditSequence>"
        + "".join(lines)
        + "</InvoiceMod></InvoiceModRq>"
    )


def test_invoice_mod_with_a_stale_edit_sequence_is_3200_with_the_current_invoice(
    sim: QuickBooksSimulator, ask
) -> None:
    ret = open_invoice(sim)
    before = etree.tostring(ret)
    (response,) = ask(invoice_mod(ret, "<Memo>x</Memo>", edit_sequence="1272664823"))
    assert status(response) == (3200, "Error")
    real = sample_message("error_response__CustomerModRs_3200_with_Ret__jwachira.xml")
    assert response.get("statusMessage") == real
    assert response.findtext("InvoiceRet/EditSequence") == ret.findtext("EditSequence")
    assert etree.tostring(open_invoice(sim)) == before


def test_invoice_mod_deletes_every_existing_line_not_listed(sim: QuickBooksSimulator, ask) -> None:
    ret = open_invoice(sim)
    first, _, third = line_ids(ret)
    (response,) = ask(
        invoice_mod(
            ret,
            f"<InvoiceLineMod><TxnLineID>{third}</TxnLineID></InvoiceLineMod>",
            f"<InvoiceLineMod><TxnLineID>{first}</TxnLineID></InvoiceLineMod>",
        )
    )
    assert status(response) == (0, "Info")
    assert line_ids(open_invoice(sim)) == [third, first]
    assert open_invoice(sim).findtext("Subtotal") == "90.00"


def test_invoice_mod_minus_one_adds_a_line(sim: QuickBooksSimulator, ask) -> None:
    ret = open_invoice(sim)
    kept = line_ids(ret)
    (response,) = ask(
        invoice_mod(
            ret,
            *(f"<InvoiceLineMod><TxnLineID>{line}</TxnLineID></InvoiceLineMod>" for line in kept),
            "<InvoiceLineMod><TxnLineID>-1</TxnLineID><ItemRef><FullName>Box</FullName></ItemRef>"
            "<Quantity>2</Quantity></InvoiceLineMod>",
        )
    )
    new = response.find("InvoiceRet")
    assert line_ids(new)[:3] == kept
    added = list(new.iterfind("InvoiceLineRet"))[3]
    assert added.findtext("TxnLineID") not in kept
    assert (added.findtext("Rate"), added.findtext("Amount")) == ("50.00", "100.00")
    assert new.findtext("Subtotal") == "220.00"


def test_invoice_mod_line_listed_with_only_its_id_stays_unchanged(
    sim: QuickBooksSimulator, ask
) -> None:
    ret = open_invoice(sim)
    lines = {
        line.findtext("TxnLineID"): etree.tostring(line) for line in ret.iterfind("InvoiceLineRet")
    }
    ask(
        invoice_mod(
            ret,
            *(f"<InvoiceLineMod><TxnLineID>{line}</TxnLineID></InvoiceLineMod>" for line in lines),
        )
    )
    after = open_invoice(sim)
    assert {
        line.findtext("TxnLineID"): etree.tostring(line)
        for line in after.iterfind("InvoiceLineRet")
    } == lines


def test_invoice_mod_new_quantity_recomputes_amount_with_the_line_rate(
    sim: QuickBooksSimulator, ask
) -> None:
    ret = open_invoice(sim)
    support, seat, note = line_ids(ret)
    (response,) = ask(
        invoice_mod(
            ret,
            f"<InvoiceLineMod><TxnLineID>{support}</TxnLineID><Quantity>3</Quantity></InvoiceLineMod>",
            f"<InvoiceLineMod><TxnLineID>{seat}</TxnLineID></InvoiceLineMod>",
            f"<InvoiceLineMod><TxnLineID>{note}</TxnLineID></InvoiceLineMod>",
        )
    )
    line = response.find("InvoiceRet/InvoiceLineRet")
    # The line's rate (90), not the item's price (100).
    assert (line.findtext("Quantity"), line.findtext("Rate"), line.findtext("Amount")) == (
        "3",
        "90.00",
        "270.00",
    )
    assert response.findtext("InvoiceRet/Subtotal") == "300.00"


def test_invoice_mod_without_lines_leaves_the_lines_alone(
    sim: QuickBooksSimulator, ask, clock: Clock
) -> None:
    ret = open_invoice(sim)
    lines = [etree.tostring(line) for line in ret.iterfind("InvoiceLineRet")]
    sequence = ret.findtext("EditSequence")
    clock.tick(seconds=1)
    (response,) = ask(invoice_mod(ret, "<Memo>Updated</Memo>"))
    new = response.find("InvoiceRet")
    assert [etree.tostring(line) for line in open_invoice(sim).iterfind("InvoiceLineRet")] == lines
    assert new.findtext("Memo") == "Updated"
    assert int(new.findtext("EditSequence")) > int(sequence)
    assert new.findtext("TimeModified") == "2026-12-02T09:00:01-05:00"


def test_invoice_mod_with_an_unknown_line_id_is_3120_and_changes_nothing(
    sim: QuickBooksSimulator, ask
) -> None:
    ret = open_invoice(sim)
    before = etree.tostring(ret)
    (response,) = ask(
        invoice_mod(ret, "<InvoiceLineMod><TxnLineID>77-1</TxnLineID></InvoiceLineMod>")
    )
    assert status(response) == (3120, "Error")
    assert etree.tostring(open_invoice(sim)) == before


def test_invoice_mod_keeps_group_lines_listed_by_id(sim: QuickBooksSimulator, ask) -> None:
    ret = invoice_of(sim, "Beta:Site 1", "2026-12-01")
    group = ret.find("InvoiceLineGroupRet")
    (response,) = ask(
        invoice_mod(
            ret,
            f"<InvoiceLineGroupMod><TxnLineID>{group.findtext('TxnLineID')}</TxnLineID></InvoiceLineGroupMod>",
        )
    )
    new = response.find("InvoiceRet")
    assert new.find("InvoiceLineRet") is None
    assert new.findtext("InvoiceLineGroupRet/TotalAmount") == "100.00"
    assert new.findtext("Subtotal") == "100.00"


# --------------------------------------------------------------------------
# Item modifications and adds
# --------------------------------------------------------------------------


def item_mod(kind: str, item, body: str, edit_sequence: str | None = None) -> str:
    return (
        f"<{kind}ModRq><{kind}Mod><ListID>{item.findtext('ListID')}</ListID>"
        f"<EditSequence>{edit_sequence or item.findtext('EditSequence')}</EditSequence>"
        f"{body}</{kind}Mod></{kind}ModRq>"
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [("ItemService", "Cloud:Seat"), ("ItemNonInventory", "Box"), ("ItemOtherCharge", "Fee")],
)
def test_item_mod_sets_the_purchase_cost(
    sim: QuickBooksSimulator, ask, kind: str, name: str
) -> None:
    item = sim.books.item(name)
    sequence = item.findtext("EditSequence")
    (response,) = ask(
        item_mod(
            kind,
            item,
            "<SalesAndPurchaseMod><PurchaseCost>8.25</PurchaseCost></SalesAndPurchaseMod>",
        )
    )
    assert status(response) == (0, "Info")
    ret = response.find(f"{kind}Ret")
    assert ret.findtext("SalesAndPurchase/PurchaseCost") == "8.25"
    assert ret.findtext("SalesAndPurchase/SalesPrice") == item.findtext(
        "SalesAndPurchase/SalesPrice"
    )
    assert int(ret.findtext("EditSequence")) > int(sequence)
    assert sim.books.item(name).findtext("SalesAndPurchase/PurchaseCost") == "8.25"


def test_sales_and_purchase_mod_on_a_sales_only_item_is_refused(
    sim: QuickBooksSimulator, ask
) -> None:
    item = sim.books.item("Support")
    (response,) = ask(
        item_mod(
            "ItemService",
            item,
            "<SalesAndPurchaseMod><PurchaseCost>1</PurchaseCost></SalesAndPurchaseMod>",
        )
    )
    assert status(response) == (3170, "Error")
    assert (
        "Cannot use SalesAndPurchaseMod aggregate when the item is not reimbursable"
        in response.get("statusMessage")
    )
    assert sim.books.item("Support").find("SalesAndPurchase") is None


def test_item_mod_of_another_kind_or_stale_is_refused(sim: QuickBooksSimulator, ask) -> None:
    box = sim.books.item("Box")
    wrong_kind, stale = ask(
        item_mod("ItemService", box, "<IsActive>false</IsActive>"),
        item_mod("ItemNonInventory", box, "<IsActive>false</IsActive>", edit_sequence="1"),
        on_error="continueOnError",
    )
    assert status(wrong_kind) == (3120, "Error")
    assert status(stale) == (3200, "Error")
    assert sim.books.item("Box").findtext("IsActive") == "true"


def test_adding_a_name_in_use_is_3100(ask) -> None:
    customer, item = ask(
        "<CustomerAddRq><CustomerAdd><Name>alpha</Name></CustomerAdd></CustomerAddRq>",
        "<ItemServiceAddRq><ItemServiceAdd><Name>Seat</Name><ParentRef><FullName>Cloud</FullName>"
        "</ParentRef><SalesOrPurchase><Price>1</Price></SalesOrPurchase></ItemServiceAdd>"
        "</ItemServiceAddRq>",
        on_error="continueOnError",
    )
    assert status(customer) == (3100, "Error")
    real = sample_message("customer_add_error_response__jwachira.xml")
    assert customer.get("statusMessage") == real.replace('"abc"', '"alpha"')
    assert status(item) == (3100, "Error")
    assert '"Cloud:Seat"' in item.get("statusMessage")


def test_customer_add_creates_a_job_under_its_parent(ask) -> None:
    (response,) = ask(
        "<CustomerAddRq><CustomerAdd><Name>Site 2</Name><ParentRef><FullName>Beta</FullName>"
        "</ParentRef><Email>site2@example.com</Email></CustomerAdd></CustomerAddRq>"
    )
    ret = response.find("CustomerRet")
    assert (ret.findtext("FullName"), ret.findtext("Sublevel")) == ("Beta:Site 2", "1")
    assert ret.findtext("Email") == "site2@example.com"


# --------------------------------------------------------------------------
# onError, requestID, malformed requests
# --------------------------------------------------------------------------

BAD_ADD = (
    '<InvoiceAddRq requestID="2"><InvoiceAdd><CustomerRef><FullName>Nobody</FullName>'
    "</CustomerRef></InvoiceAdd></InvoiceAddRq>"
)


def test_stop_on_error_answers_nothing_after_the_first_error(ask) -> None:
    responses = ask('<HostQueryRq requestID="1"/>', BAD_ADD, '<CustomerQueryRq requestID="3"/>')
    assert [r.get("requestID") for r in responses] == ["1", "2"]


def test_continue_on_error_answers_every_request(ask) -> None:
    responses = ask(
        '<HostQueryRq requestID="1"/>',
        BAD_ADD,
        '<CustomerQueryRq requestID="3"/>',
        on_error="continueOnError",
    )
    assert [(r.get("requestID"), r.tag) for r in responses] == [
        ("1", "HostQueryRs"),
        ("2", "InvoiceAddRs"),
        ("3", "CustomerQueryRs"),
    ]


def test_requests_the_simulator_does_not_model_are_answered_not_crashed(
    sim: QuickBooksSimulator, ask
) -> None:
    before = books_to_qbxml(sim.books)
    vendors, vendor_add = ask(
        '<VendorQueryRq requestID="1"/>',
        '<VendorAddRq requestID="2"><VendorAdd><Name>Acme</Name></VendorAdd></VendorAddRq>',
        on_error="continueOnError",
    )
    # The company has no vendors; adding one is refused as an edition refuses a feature.
    assert status(vendors) == (1, "Info")
    assert list(vendors) == []
    assert status(vendor_add) == (3250, "Error")
    assert "not available in this version of QuickBooks" in vendor_add.get("statusMessage")
    assert books_to_qbxml(sim.books) == before
    assert sim.log[-1] == "VendorAddRq is not modelled by the simulator"


def test_the_simulator_keeps_every_request_it_received(sim: QuickBooksSimulator) -> None:
    first = request_document("<HostQueryRq/>")
    second = request_document('<CustomerQueryRq requestID="9"/>')
    sim.process(first)
    sim.process(second)
    assert sim.requests == [first, second]


def test_request_ids_are_echoed_and_left_out_when_absent(ask) -> None:
    with_id, without = ask('<HostQueryRq requestID="abc-1"/>', "<HostQueryRq/>")
    assert with_id.get("requestID") == "abc-1"
    assert "requestID" not in without.attrib


PARSE = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")


def test_a_document_that_is_not_well_formed_fails_with_the_parse_error(
    sim: QuickBooksSimulator,
) -> None:
    with pytest.raises(RequestProcessorError) as failure:
        sim.process('<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">')
    assert (failure.value.hresult, failure.value.message) == PARSE


@pytest.mark.skipif(not XSD_DIR.is_dir(), reason="../shared/reference is absent")
def test_a_schema_invalid_request_fails_as_a_whole_and_commits_nothing(
    sim: QuickBooksSimulator,
) -> None:
    before = len(sim.books.invoices)
    good_add = (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "</InvoiceAdd></InvoiceAddRq>"
    )
    # TxnDate after RefNumber: QuickBooks' classic element-order error.
    wrong_order = (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "<RefNumber>9</RefNumber><TxnDate>2026-12-01</TxnDate></InvoiceAdd></InvoiceAddRq>"
    )
    with pytest.raises(RequestProcessorError) as failure:
        sim.process(request_document(good_add, wrong_order))
    assert (failure.value.hresult, failure.value.message) == PARSE
    assert any("TxnDate" in line for line in failure.value.details)
    assert sim.log == list(failure.value.details)
    assert len(sim.books.invoices) == before


def test_a_request_without_version_or_with_an_unsupported_one_is_refused(clock: Clock) -> None:
    sim = QuickBooksSimulator(Books("X"), supported_versions=("13.0",), clock=clock)
    with pytest.raises(RequestProcessorError) as no_version:
        sim.process(
            '<QBXML><QBXMLMsgsRq onError="stopOnError"><HostQueryRq/></QBXMLMsgsRq></QBXML>'
        )
    assert no_version.value.hresult == "0x80040400"
    with pytest.raises(RequestProcessorError) as too_new:
        sim.process(request_document("<HostQueryRq/>", version="16.0"))
    assert too_new.value.hresult == "0x80040423"


def test_a_request_with_a_doctype_is_refused_without_resolving_it(sim: QuickBooksSimulator) -> None:
    attack = (
        '<?xml version="1.0"?><?qbxml version="13.0"?>'
        '<!DOCTYPE QBXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><FullName>&x;</FullName>'
        "</CustomerQueryRq></QBXMLMsgsRq></QBXML>"
    )
    with pytest.raises(RequestProcessorError) as failure:
        sim.process(attack)
    assert failure.value.hresult == "0x80040400"


# --------------------------------------------------------------------------
# Paid invoices
# --------------------------------------------------------------------------


def test_a_partial_payment_leaves_a_balance_and_links_the_payment(sim: QuickBooksSimulator) -> None:
    ret = open_invoice(sim)
    receive_payment(sim.books, ret.findtext("TxnID"), "100.00", date=dt.date(2026, 12, 5))
    assert ret.findtext("AppliedAmount") == "-100.00"
    assert ret.findtext("BalanceRemaining") == "20.00"
    assert ret.findtext("IsPaid") == "false"
    assert ret.findtext("LinkedTxn/TxnType") == "ReceivePayment"
    receive_payment(sim.books, ret.findtext("TxnID"))
    assert (ret.findtext("BalanceRemaining"), ret.findtext("IsPaid")) == ("0.00", "true")
    assert len(ret.findall("LinkedTxn")) == 2


def test_the_fixture_payment_marks_an_invoice_paid(sim: QuickBooksSimulator) -> None:
    paid = invoice_of(sim, "Alpha", "2026-11-01")
    assert paid.findtext("IsPaid") == "true"
    assert paid.findtext("LinkedTxn/RefNumber") == "CHK-1"
    assert Decimal(paid.findtext("AppliedAmount")) == -Decimal(paid.findtext("Subtotal"))


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------


def test_lock_errors_on_the_next_writes_then_success(sim: QuickBooksSimulator, ask) -> None:
    sim.faults.lock_next(2)
    add = (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
        "</InvoiceAdd></InvoiceAddRq>"
    )
    ret = open_invoice(sim)
    query, locked_add, locked_mod, added = ask(
        "<HostQueryRq/>", add, invoice_mod(ret, "<Memo>m</Memo>"), add, on_error="continueOnError"
    )
    assert status(query) == (0, "Info")
    assert status(locked_add)[0] == 3180
    assert "modified by another user" in locked_add.get("statusMessage")
    assert status(locked_mod)[0] == 3170
    assert status(added) == (0, "Info")
    assert open_invoice(sim).find("Memo") is None


def test_a_human_edit_before_the_next_request_makes_a_planned_mod_stale(
    sim: QuickBooksSimulator, ask
) -> None:
    ret = open_invoice(sim)
    planned = invoice_mod(ret, "<Memo>planned</Memo>")
    quantity = ret.findtext("InvoiceLineRet/Quantity")
    sim.faults.human_edit_before_next(ret.findtext("TxnID"), skip=1)
    (query,) = ask("<HostQueryRq/>")
    assert status(query) == (0, "Info")
    assert open_invoice(sim).findtext("InvoiceLineRet/Quantity") == quantity
    (response,) = ask(planned)
    assert status(response) == (3200, "Error")
    assert open_invoice(sim).findtext("InvoiceLineRet/Quantity") == str(int(quantity) + 1)
    assert open_invoice(sim).find("Memo") is None


def test_a_lost_response_is_committed_all_the_same(sim: QuickBooksSimulator) -> None:
    sim.faults.lose_next_response()
    before = len(sim.books.invoices)
    with pytest.raises(ResponseLost) as lost:
        sim.process(
            request_document(
                "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>"
                f"<ExternalGUID>{GUID}</ExternalGUID></InvoiceAdd></InvoiceAddRq>"
            )
        )
    assert len(sim.books.invoices) == before + 1
    assert GUID in lost.value.response
    assert sim.process(request_document("<HostQueryRq/>")).startswith("<?xml")


def test_a_closed_company_cannot_be_opened_nor_asked(sim: QuickBooksSimulator) -> None:
    sim.faults.close_company()
    with pytest.raises(RequestProcessorError) as opening:
        sim.begin_session()
    assert (opening.value.hresult, opening.value.message) == (
        "0x80040408",
        "Could not start QuickBooks.",
    )
    with pytest.raises(RequestProcessorError):
        sim.process(request_document("<HostQueryRq/>"))
    sim.faults.open_company()
    sim.begin_session()


def test_a_session_opens_the_company_file_by_its_path_only(sim: QuickBooksSimulator) -> None:
    sim.begin_session(r"c:\company files\TEST COMPANY.QBW")
    sim.begin_session("")
    with pytest.raises(RequestProcessorError) as other:
        sim.begin_session(r"C:\Company Files\Other.qbw")
    assert other.value.hresult == "0x8004040A"

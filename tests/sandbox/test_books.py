"""The sandbox books: fixtures, qbXML in and out, generated books, the sample company's books."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from support.paths import REPO

from reconciler.base.errors import InvalidInput
from reconciler.base.resources import data_dir
from reconciler.base.xmlsafe import XMLInputError
from reconciler.config.load import load_config
from reconciler.qbxml.xsd import load_xsd, xsd_errors
from reconciler.sandbox.books import Books
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.generate import generate_books
from reconciler.sandbox.responses import books_from_qbxml, books_to_qbxml
from reconciler.sandbox.simulator import QuickBooksSimulator, request_document

REPO = REPO
REFERENCE = REPO.parent / "shared" / "reference" / "qbxml"
XSD_DIR = REFERENCE / "xsd-13.0"
SAMPLES = REFERENCE / "samples"
SAMPLE_COMPANY = data_dir() / "sample-company.yaml"


@pytest.fixture(scope="module")
def sample_books() -> Books:
    return load_fixture(SAMPLE_COMPANY)


def invoices(books: Books) -> list:
    return list(books.invoices.values())


# --------------------------------------------------------------------------
# The sample books match the example configuration
# --------------------------------------------------------------------------


def test_the_sample_company_is_the_example_configurations_company(sample_books: Books) -> None:
    config = load_config(REPO / "config")
    assert sample_books.name == config.billing.company.name
    assert sample_books.file_path == config.billing.company.file
    for organization in config.organizations:
        assert sample_books.customer(organization.customer) is not None, organization.customer


def test_every_mapped_item_is_a_service_item_with_a_price_and_a_cost(
    sample_books: Books,
) -> None:
    config = load_config(REPO / "config")
    for offer in config.offers:
        item = sample_books.item(offer.item)
        assert item is not None, offer.item
        assert item.tag == "ItemServiceRet"
        assert item.findtext("SalesAndPurchase/SalesPrice")
        assert item.findtext("SalesAndPurchase/PurchaseCost")


def test_update_organizations_have_an_unsent_invoice_for_december(sample_books: Books) -> None:
    config = load_config(REPO / "config")
    mapped = {sample_books.item(offer.item).findtext("ListID") for offer in config.offers}
    with_sherweb_line = 0
    for organization in config.organizations:
        if organization.action != "update":
            continue
        (december,) = [
            ret
            for ret in sample_books.invoices_of(organization.customer)
            if ret.findtext("TxnDate") == "2026-12-01"
        ]
        assert december.findtext("IsPaid") == "false"
        assert december.findtext("IsToBeEmailed") == "true"
        items = [line.findtext("ItemRef/ListID") for line in december.iterfind("InvoiceLineRet")]
        assert any(item and item not in mapped for item in items)
        with_sherweb_line += any(item in mapped for item in items)
    assert with_sherweb_line >= 1


def test_the_sample_company_has_history_and_paid_invoices(sample_books: Books) -> None:
    dates = [dt.date.fromisoformat(ret.findtext("TxnDate")) for ret in invoices(sample_books)]
    assert max(dates) == dt.date(2026, 12, 1)
    assert sum(date < dt.date(2026, 12, 1) for date in dates) >= 5
    assert any(ret.findtext("IsPaid") == "true" for ret in invoices(sample_books))
    partly_paid = [
        ret
        for ret in invoices(sample_books)
        if ret.findtext("IsPaid") == "false" and ret.findtext("AppliedAmount") != "0.00"
    ]
    assert partly_paid


@pytest.mark.skipif(not XSD_DIR.is_dir(), reason="../shared/reference is absent")
def test_the_sample_company_dump_validates(sample_books: Books) -> None:
    assert xsd_errors(load_xsd(XSD_DIR), books_to_qbxml(sample_books)) == []


# --------------------------------------------------------------------------
# Fixture format
# --------------------------------------------------------------------------


def test_a_fixture_with_an_unknown_key_names_the_file_and_line(tmp_path: Path) -> None:
    fixture = tmp_path / "company.yaml"
    fixture.write_text(
        "company:\n  name: X\ncustomers:\n  - name: A\n    colour: blue\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as failure:
        load_fixture(fixture)
    (problem,) = failure.value.diagnostics
    assert problem.location.file == fixture
    assert problem.location.line == 5  # the unknown key itself
    assert "colour" in problem.message


def test_a_fixture_invoice_for_an_unknown_item_says_which_invoice(tmp_path: Path) -> None:
    fixture = tmp_path / "company.json"
    fixture.write_text(
        '{"company": {"name": "X"}, "customers": [{"name": "A"}],\n'
        ' "invoices": [\n  {"customer": "A", "date": "2026-12-01", "lines": [{"item": "Nope"}]}]}',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as failure:
        load_fixture(fixture)
    (problem,) = failure.value.diagnostics
    assert problem.location.line == 3
    assert 'Item "Nope"' in problem.message


def test_a_fixture_that_is_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    fixture = tmp_path / "company.yaml"
    fixture.write_text("company: [\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as failure:
        load_fixture(fixture)
    assert "YAML syntax error" in str(failure.value)


def test_fixture_defaults_follow_quickbooks() -> None:
    books = load_fixture(
        {
            "company": {"name": "X"},
            "customers": [{"name": "A"}],
            "items": [
                {"name": "Thing", "type": "service", "description": "A thing", "price": 12.5}
            ],
            "invoices": [
                {"customer": "A", "date": "2026-07-01", "lines": [{"item": "Thing", "quantity": 2}]}
            ],
        }
    )
    (ret,) = invoices(books)
    assert ret.findtext("TimeCreated") == "2026-07-01T05:00:00-04:00"
    assert ret.findtext("RefNumber") == "1001"
    line = ret.find("InvoiceLineRet")
    assert (line.findtext("Desc"), line.findtext("Rate"), line.findtext("Amount")) == (
        "A thing",
        "12.50",
        "25.00",
    )


# --------------------------------------------------------------------------
# qbXML in and out
# --------------------------------------------------------------------------


def real_samples(*names: str) -> list[Path]:
    paths = [SAMPLES / name for name in names]
    if not all(path.is_file() for path in paths):
        pytest.skip("../shared/reference is absent")
    return paths


def test_books_load_from_real_query_responses() -> None:
    books = books_from_qbxml(
        real_samples(
            "CustomerQueryRs__qbxmlgem.xml",
            "InvoiceQueryRs_with_lines__Callbacks_SQL_L11506.xml",
            "ItemQueryRs_ItemInventoryAssemblyRet__Callbacks_API_L1444.xml",
            "valid_item_query_response__jwachira.xml",
        ),
        file_path=r"C:\x.qbw",
    )
    assert books.customer("Keith Palmer") is not None
    assert books.item("Retail 12oz bags-BOM:esp-boss-12").tag == "ItemInventoryAssemblyRet"
    paid = books.invoice("4-1232328070")
    assert paid.findtext("AppliedAmount") == "-55.00"
    assert paid.findtext("LinkedTxn/TxnType") == "ReceivePayment"
    if XSD_DIR.is_dir():
        assert xsd_errors(load_xsd(XSD_DIR), books_to_qbxml(books)) == []


def test_a_response_still_in_the_web_connector_envelope_loads() -> None:
    books = books_from_qbxml(real_samples("InvoiceAddRs_in_soap_envelope__flowlink.xml"))
    (ret,) = books.invoices.values()
    assert ret.findtext("TxnID") == "C5-1417118624"


def test_a_source_that_is_not_a_qbxml_response_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<html/>", encoding="utf-8")
    with pytest.raises(XMLInputError, match="not a qbXML response"):
        books_from_qbxml([path])


def test_new_ids_never_collide_with_loaded_ones() -> None:
    books = books_from_qbxml(
        real_samples(
            "InvoiceQueryRs_with_lines__Callbacks_SQL_L11506.xml", "CustomerQueryRs__qbxmlgem.xml"
        )
    )
    moment = dt.datetime(2009, 1, 18, 20, 21, 10, tzinfo=dt.UTC)
    new_ids = {books.new_txn_id(moment) for _ in range(50)}
    loaded = {node.text for ret in invoices(books) for node in ret.iter("TxnID", "TxnLineID")}
    assert not new_ids & loaded
    assert books.next_txn_number() > max(int(ret.findtext("TxnNumber")) for ret in invoices(books))


def test_a_dump_loads_back_to_the_same_books(sample_books: Books) -> None:
    dump = books_to_qbxml(sample_books)
    again = books_from_qbxml([dump], file_path=sample_books.file_path)
    assert books_to_qbxml(again) == dump
    assert again.name == ""  # a dump holds no CompanyRet: the name is given by the caller


def test_loaded_books_answer_queries() -> None:
    books = books_from_qbxml(real_samples("CustomerQueryRs__qbxmlgem.xml"))
    sim = QuickBooksSimulator(books)
    text = sim.process(
        request_document("<CustomerQueryRq><FullName>Keith Palmer</FullName></CustomerQueryRq>")
    )
    assert "<Phone>(860) 634-1602</Phone>" in text


# --------------------------------------------------------------------------
# Generated companies
# --------------------------------------------------------------------------


def test_generated_books_are_deterministic_and_sized_as_asked() -> None:
    first = generate_books(4, 3, 2, seed=7)
    second = generate_books(4, 3, 2, seed=7)
    other = generate_books(4, 3, 2, seed=8)
    assert books_to_qbxml(first) == books_to_qbxml(second) != books_to_qbxml(other)
    assert len(first.customers) == 4
    assert len(first.invoices) == 12
    assert all(len(ret.findall("InvoiceLineRet")) == 2 for ret in invoices(first))
    unsent = [ret for ret in invoices(first) if ret.findtext("IsToBeEmailed") == "true"]
    assert len(unsent) == 4
    if XSD_DIR.is_dir():
        assert xsd_errors(load_xsd(XSD_DIR), books_to_qbxml(first)) == []

"""Intuit's request samples, sent to the simulator; the product reads its answers.

The two samples are requests, not responses: what reading them means is
answering them as QuickBooks would and parsing that answer with the product's
own parser, after checking the answer against the qbXML 13.0 schema.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.model.quickbooks import Customer, DataExt, Invoice
from reconciler.qbxml.parse import parse_response
from reconciler.qbxml.xsd import xsd_errors
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.simulator import QuickBooksSimulator

COMPANY = {
    "company": {"name": "Sample Company", "file": r"C:\Company Files\Sample.qbw"},
    "customers": [{"name": "Baker, Chris"}, {"name": "Cook, Brian"}],
    "items": [{"name": "Consulting", "type": "service", "price": 100}],
    "invoices": [
        {"customer": "Baker, Chris", "date": "2026-10-01", "lines": [{"item": "Consulting"}]},
        {
            "customer": "Cook, Brian",
            "date": "2026-11-01",
            "lines": [{"item": "Consulting", "quantity": 2}],
        },
    ],
}


@pytest.fixture
def answer(reference: Path, qbxml_schema):
    """Send a request sample to a simulator; the product's reading of the schema-valid answer."""
    simulator = QuickBooksSimulator(
        load_fixture(COMPANY),
        xsd_dir=reference / "qbxml" / "xsd-13.0",
        clock=lambda: dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC),
    )

    def send(name: str):
        request = (reference / "qbxml" / "samples" / name).read_text(encoding="utf-8")
        simulator.begin_session()
        text = simulator.process(request)
        simulator.end_session()
        assert xsd_errors(qbxml_schema, text) == []
        return simulator, parse_response(text.encode("utf-8"))

    return send


def test_the_data_ext_add_sample_sets_a_custom_field_the_parser_reads(answer):
    simulator, (added,) = answer("DataExtAddRq__intuit_sdk_sample.xml")
    assert (added.request_type, added.request_id, added.status.ok) == ("DataExtAdd", "0", True)
    customer_query = simulator.process(
        '<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
        "<CustomerQueryRq><FullName>Baker, Chris</FullName><OwnerID>0</OwnerID></CustomerQueryRq>"
        "</QBXMLMsgsRq></QBXML>"
    )
    ((customer,),) = (r.objects for r in parse_response(customer_query.encode("utf-8")))
    assert isinstance(customer, Customer)
    assert customer.data_ext == (DataExt("0", "Spouse's Name", "Robin", "STR255TYPE"),)


def test_the_data_ext_add_sample_twice_is_refused_the_second_time(answer):
    answer("DataExtAddRq__intuit_sdk_sample.xml")
    _, (again,) = answer("DataExtAddRq__intuit_sdk_sample.xml")
    assert (again.status.code, again.status.ok, again.objects) == (3180, False, ())


def test_the_invoice_query_sample_returns_every_invoice(answer):
    _, (invoices,) = answer("InvoiceQueryRq__intuit_sdk_sample.xml")
    assert (invoices.request_type, invoices.request_id, invoices.status.code) == (
        "InvoiceQuery",
        "4",
        0,
    )
    assert all(isinstance(invoice, Invoice) for invoice in invoices.objects)
    # Without IncludeLineItems QuickBooks leaves the lines out, not the totals.
    assert [(i.customer.full_name, i.subtotal, i.lines) for i in invoices.objects] == [
        ("Baker, Chris", Decimal("100.00"), ()),
        ("Cook, Brian", Decimal("200.00"), ()),
    ]

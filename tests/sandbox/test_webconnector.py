"""The Web Connector emulator against a stand-in QBWC server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from support.paths import REFERENCE

from reconciler.base.errors import UserError
from reconciler.sandbox.fixture import load_fixture
from reconciler.sandbox.simulator import QuickBooksSimulator, request_document
from reconciler.sandbox.soap import QBWC, SOAP_ENV, request_body, soap_action
from reconciler.sandbox.webconnector import WebConnector

REFERENCE = REFERENCE
WSDL = REFERENCE / "qbwc" / "QBWebConnectorSvc.wsdl"
XSD_DIR = REFERENCE / "qbxml" / "xsd-13.0"
COMPANY_FILE = r"C:\Company Files\Test Company.qbw"
OWNER = "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}"
FILE_ID = "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}"

CUSTOMER_QUERY = request_document('<CustomerQueryRq requestID="1"/>')
INVOICE_ADD = request_document(
    '<InvoiceAddRq requestID="2"><InvoiceAdd><CustomerRef><FullName>Alpha</FullName></CustomerRef>'
    "<ExternalGUID>{3F2B6C1E-8A4D-4E0B-9C61-2D7A5B9E0F11}</ExternalGUID>"
    "<InvoiceLineAdd><ItemRef><FullName>Seat</FullName></ItemRef><Quantity>4</Quantity>"
    "</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
)


@dataclass
class Call:
    operation: str
    params: dict[str, str | None]
    soap_action: str | None
    content_type: str | None


class _Fault:
    """A SOAP fault answer."""


FAULT = _Fault()


class StandIn:
    """A scripted QBWC server: answers each operation as told, records every call."""

    def __init__(self, requests: list[str] | None = None, **answers: Any) -> None:
        self.queue = list(requests or [])
        self.calls: list[Call] = []
        self.received: list[dict[str, str | None]] = []
        self.answers: dict[str, Any] = {
            "serverVersion": "stand-in 1.0",
            "clientVersion": "",
            "authenticate": ["ticket-1", ""],
            "sendRequestXML": lambda params: self.queue.pop(0) if self.queue else "",
            "receiveResponseXML": self._receive,
            "getLastError": "",
            "connectionError": "done",
            "closeConnection": "Done: all requests sent",
        }
        self.answers.update(answers)

    def _receive(self, params: dict[str, str | None]) -> int:
        self.received.append(params)
        return 50 if self.queue else 100

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def params(self, operation: str) -> list[dict[str, str | None]]:
        return [call.params for call in self.calls if call.operation == operation]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        call = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
        operation = etree.QName(call).localname
        params = {etree.QName(child).localname: child.text for child in call}
        self.calls.append(
            Call(operation, params, environ.get("HTTP_SOAPACTION"), environ.get("CONTENT_TYPE"))
        )
        answer = self.answers[operation]
        value = answer(params) if callable(answer) else answer
        if isinstance(value, bytes):
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
            return [value]
        if value is FAULT:
            start_response("500 Internal Server Error", [("Content-Type", "text/xml")])
            return [
                f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
                "<faultcode>soap:Server</faultcode><faultstring>boom</faultstring>"
                "</soap:Fault></soap:Body></soap:Envelope>".encode()
            ]
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [_answer(operation, value)]


def _answer(operation: str, value: Any) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    response = etree.SubElement(body, f"{{{QBWC}}}{operation}Response", nsmap={None: QBWC})
    result = etree.SubElement(response, f"{{{QBWC}}}{operation}Result")
    if isinstance(value, list):
        for item in value:
            etree.SubElement(result, f"{{{QBWC}}}string").text = item
    else:
        result.text = str(value)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], str]]:
    servers = []

    def start(app: Callable) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/qbwc"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sim() -> QuickBooksSimulator:
    books = load_fixture(
        {
            "company": {"name": "Test Company", "file": COMPANY_FILE},
            "customers": [{"name": "Alpha"}],
            "items": [{"name": "Seat", "type": "service", "price": 10, "cost": 7}],
        }
    )
    return QuickBooksSimulator(
        books,
        xsd_dir=XSD_DIR if XSD_DIR.is_dir() else None,
        clock=lambda: dt.datetime(2026, 12, 1, 5, 0, tzinfo=ZoneInfo("America/New_York")),
    )


@pytest.fixture
def run(serve, sim: QuickBooksSimulator):
    """Run one update against a stand-in server; returns (result, server)."""

    def go(server: StandIn, **kw: Any):
        url = serve(server)
        kw.setdefault("noop_wait", 0)
        return WebConnector(url, "qbwc", "s3cret", sim, **kw).run(), server

    return go


# --------------------------------------------------------------------------
# The conversation
# --------------------------------------------------------------------------


def test_a_run_holds_the_whole_conversation(run, sim: QuickBooksSimulator) -> None:
    result, server = run(StandIn([CUSTOMER_QUERY, INVOICE_ADD]))
    assert server.operations() == [
        "serverVersion",
        "clientVersion",
        "authenticate",
        "sendRequestXML",
        "receiveResponseXML",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]
    assert (result.status, result.ok, result.errors) == ("Done: all requests sent", True, [])
    assert result.requests_processed == 2
    assert result.operations() == server.operations()
    first, second = server.params("sendRequestXML")
    assert "<HostQueryRs" in first["strHCPResponse"]
    assert "<CompanyName>Test Company</CompanyName>" in first["strHCPResponse"]
    assert "<PreferencesRet>" in first["strHCPResponse"]
    assert second["strHCPResponse"] is None  # an empty string: <strHCPResponse/>
    assert first["strCompanyFileName"] == COMPANY_FILE
    assert (first["qbXMLCountry"], first["qbXMLMajorVers"], first["qbXMLMinorVers"]) == (
        "US",
        "16",
        "0",
    )
    assert first["ticket"] == second["ticket"] == "ticket-1"
    added = server.received[1]
    assert '<InvoiceAddRs requestID="2" statusCode="0"' in added["response"]
    assert (added["hresult"], added["message"]) == (None, None)
    assert len(sim.books.invoices) == 1


def test_every_call_is_soap_1_1_with_the_wsdl_actions(run) -> None:
    _, server = run(StandIn([CUSTOMER_QUERY]))
    for call in server.calls:
        assert call.soap_action == f'"http://developer.intuit.com/{call.operation}"'
        assert call.content_type == "text/xml; charset=utf-8"
    assert server.params("clientVersion")[0]["strVersion"].startswith("2.")
    assert server.params("authenticate")[0] == {"strUserName": "qbwc", "strPassword": "s3cret"}


@pytest.mark.skipif(not WSDL.is_file(), reason="../shared/reference is absent")
def test_request_bodies_and_actions_match_the_official_wsdl() -> None:
    zeep = pytest.importorskip("zeep")
    client = zeep.Client(str(WSDL))
    binding = etree.parse(str(WSDL))
    actions = {
        op.getparent().get("name"): op.get("soapAction")
        for op in binding.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")
    }
    calls = {
        "serverVersion": [],
        "clientVersion": [("strVersion", "2.3.0.215")],
        "authenticate": [("strUserName", "u"), ("strPassword", "p")],
        "sendRequestXML": [
            ("ticket", "t"),
            ("strHCPResponse", "<x/>"),
            ("strCompanyFileName", "C:\\a.qbw"),
            ("qbXMLCountry", "US"),
            ("qbXMLMajorVers", 13),
            ("qbXMLMinorVers", 0),
        ],
        "receiveResponseXML": [
            ("ticket", "t"),
            ("response", "r"),
            ("hresult", ""),
            ("message", ""),
        ],
        "connectionError": [("ticket", "t"), ("hresult", "0x80040408"), ("message", "m")],
        "getLastError": [("ticket", "t")],
        "closeConnection": [("ticket", "t")],
    }
    assert set(calls) == set(actions)
    for operation, arguments in calls.items():
        expected = client.create_message(client.service, operation, **dict(arguments))
        ours = etree.fromstring(request_body(operation, arguments))
        assert _body(ours) == _body(expected), operation
        assert soap_action(operation) == f'"{actions[operation]}"'


def _body(envelope) -> tuple:
    call = envelope.find(f"{{{SOAP_ENV}}}Body")[0]
    return (call.tag, [(child.tag, child.text or "") for child in call])


def test_the_password_never_appears_in_the_recorded_calls(run) -> None:
    result, _ = run(StandIn([]))
    assert "s3cret" not in repr(result.calls)
    assert result.calls[2][1]["strPassword"] == "********"


# --------------------------------------------------------------------------
# clientVersion and authenticate answers
# --------------------------------------------------------------------------


def test_client_version_error_stops_before_authenticate(run) -> None:
    result, server = run(StandIn(clientVersion="E:Please upgrade your Web Connector"))
    assert server.operations() == ["serverVersion", "clientVersion"]
    assert not result.ok
    assert result.status.startswith("QBWC1037")
    assert "Please upgrade your Web Connector" in result.status


def test_client_version_o_stops_and_names_the_version(run) -> None:
    result, server = run(StandIn(clientVersion="O:2.3.0.215"))
    assert "authenticate" not in server.operations()
    assert "2.3.0.215" in result.status


def test_client_version_warning_is_accepted_or_not(run) -> None:
    accepted, _ = run(StandIn([], clientVersion="W:Old Web Connector"))
    assert accepted.ok
    assert accepted.warnings == ["Old Web Connector"]
    refused, server = run(StandIn([], clientVersion="W:Old Web Connector"), accept_warnings=False)
    assert not refused.ok
    assert "authenticate" not in server.operations()


@pytest.mark.parametrize(
    ("flag", "status", "ok"),
    [
        ("nvu", "Authentication failed", False),
        ("none", "No data exchange required", True),
        ("NONE", "No data exchange required", True),
        ("busy", "Application busy", True),
    ],
)
def test_authenticate_nvu_none_busy_end_the_run(run, flag: str, status: str, ok: bool) -> None:
    result, server = run(StandIn([CUSTOMER_QUERY], authenticate=["t", flag]))
    assert (result.status, result.ok) == (status, ok)
    assert server.operations()[-2:] == ["authenticate", "closeConnection"]
    assert "sendRequestXML" not in server.operations()


def test_authenticate_can_postpone_and_set_the_minimum_interval(run) -> None:
    result, server = run(StandIn([CUSTOMER_QUERY], authenticate=["t", "", "60", "300"]))
    assert result.status == "Update postponed by application"
    assert (result.postpone_seconds, result.min_run_every_seconds) == (60, 300)
    assert "sendRequestXML" not in server.operations()
    interval_only, server = run(StandIn([CUSTOMER_QUERY], authenticate=["t", "", "", "300"]))
    assert interval_only.min_run_every_seconds == 300
    assert "sendRequestXML" in server.operations()


def test_authenticate_naming_the_open_company_file_goes_ahead(run) -> None:
    result, server = run(StandIn([CUSTOMER_QUERY], authenticate=["t", COMPANY_FILE.upper()]))
    assert result.ok
    assert server.params("sendRequestXML")[0]["strCompanyFileName"] == COMPANY_FILE.upper()


def test_authenticate_naming_another_file_is_a_connection_error(run) -> None:
    result, server = run(StandIn([CUSTOMER_QUERY], authenticate=["t", r"C:\Other.qbw"]))
    assert server.operations()[-1] == "connectionError"
    (params,) = server.params("connectionError")
    assert params["hresult"] == "0x8004040A"
    assert "already open and it is different" in params["message"]
    assert not result.ok
    assert result.status.startswith("QBWC1013")


def test_connection_error_answer_with_a_path_retries_with_it(run) -> None:
    result, server = run(
        StandIn([CUSTOMER_QUERY], authenticate=["t", r"C:\Other.qbw"], connectionError="")
    )
    assert result.ok
    assert server.operations().count("connectionError") == 1
    assert server.params("sendRequestXML")[0]["strCompanyFileName"] == COMPANY_FILE


def test_a_closed_company_file_reports_quickbooks_hresult(run, sim: QuickBooksSimulator) -> None:
    sim.faults.close_company()
    result, server = run(StandIn([CUSTOMER_QUERY], connectionError="try again"))
    calls = server.params("connectionError")
    assert len(calls) == 3  # retried as told, then given up
    assert (calls[0]["hresult"], calls[0]["message"]) == (
        "0x80040408",
        "Could not start QuickBooks.",
    )
    assert "Could not start QuickBooks." in result.status
    assert "closeConnection" not in server.operations()


# --------------------------------------------------------------------------
# sendRequestXML / receiveResponseXML loop
# --------------------------------------------------------------------------


def test_an_empty_request_asks_get_last_error_and_shows_it(run) -> None:
    result, server = run(StandIn(getLastError="Nothing to send: 2 errors, see reconcile status"))
    assert server.operations()[-3:] == ["sendRequestXML", "getLastError", "closeConnection"]
    assert (result.status, result.ok) == ("Nothing to send: 2 errors, see reconcile status", False)


def test_an_empty_request_with_no_error_ends_with_close_connection_text(run) -> None:
    result, _ = run(StandIn())
    assert (result.status, result.ok) == ("Done: all requests sent", True)


def test_noop_pauses_and_asks_again(run) -> None:
    answers = iter(["NoOp", "", CUSTOMER_QUERY])
    errors = iter(["NoOp", "NoOp"])
    pauses: list[float] = []
    result, server = run(
        StandIn(
            sendRequestXML=lambda params: next(answers),
            getLastError=lambda params: next(errors),
            receiveResponseXML=100,
        ),
        noop_wait=5.0,
        sleep=pauses.append,
    )
    assert pauses == [5.0, 5.0]
    assert server.operations()[3:] == [
        "sendRequestXML",
        "getLastError",
        "sendRequestXML",
        "getLastError",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]
    assert result.ok


def test_a_negative_percentage_asks_get_last_error(run) -> None:
    result, server = run(
        StandIn([CUSTOMER_QUERY, CUSTOMER_QUERY], receiveResponseXML=-101, getLastError="It broke")
    )
    assert server.operations()[-3:] == ["receiveResponseXML", "getLastError", "closeConnection"]
    assert (result.status, result.ok) == ("It broke", False)
    assert result.errors == ["It broke"]


def test_a_malformed_request_reaches_the_server_as_the_parse_hresult(run) -> None:
    result, server = run(StandIn(["<QBXML><oops></QBXML>"], getLastError="QuickBooks refused it"))
    (received,) = server.received
    assert received["response"] is None
    assert received["hresult"] == "0x80040400"
    assert (
        received["message"]
        == "QuickBooks found an error when parsing the provided XML text stream."
    )
    assert result.requests_processed == 1


def test_a_lost_response_ends_the_run_without_receive_or_close(
    run, sim: QuickBooksSimulator
) -> None:
    sim.faults.lose_next_response()
    result, server = run(StandIn([INVOICE_ADD, CUSTOMER_QUERY]))
    assert server.operations()[-1] == "sendRequestXML"
    assert server.received == []
    assert len(sim.books.invoices) == 1  # committed all the same
    assert not result.ok
    assert result.status.startswith("QBWC1042")
    again, server = run(StandIn([CUSTOMER_QUERY]))
    assert again.ok
    assert server.operations()[2] == "authenticate"


# --------------------------------------------------------------------------
# Malformed answers are errors in the result, never crashes
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"this is not XML", "malformed XML"),
        (b"<html><body>Oops</body></html>", "not a SOAP 1.1 envelope"),
        (
            f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><wrongResponse/></s:Body></s:Envelope>'.encode(),
            "expected",
        ),
        (FAULT, "boom"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
            "DOCTYPE",
        ),
    ],
)
def test_a_malformed_send_request_answer_is_an_error_not_a_crash(
    run, answer, expected: str
) -> None:
    result, _ = run(StandIn(sendRequestXML=answer))
    assert not result.ok
    assert result.status.startswith("QBWC1041: SendRequestXML failed")
    assert expected in result.status
    assert result.errors == [result.status]


def test_a_non_integer_percentage_is_an_error(run) -> None:
    result, _ = run(StandIn([CUSTOMER_QUERY], receiveResponseXML="lots"))
    assert result.status.startswith("QBWC1042")


def test_an_authenticate_answer_without_ticket_is_an_error(run) -> None:
    result, server = run(StandIn(authenticate=[]))
    assert result.status.startswith("QBWC1012")
    assert server.operations()[-1] == "authenticate"


def test_an_unreachable_server_is_an_error(sim: QuickBooksSimulator) -> None:
    # A port that is bound but not listening refuses connections.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/qbwc"
        result = WebConnector(url, "u", "p", sim).run()
    assert not result.ok
    assert result.status.startswith("QBWC1036")
    assert [operation for operation, _, answer in result.calls] == [
        "serverVersion",
        "clientVersion",
    ]


def test_a_failing_server_version_is_only_a_warning(run) -> None:
    result, _ = run(StandIn([], serverVersion=FAULT))
    assert result.ok
    assert result.warnings


# --------------------------------------------------------------------------
# QWC file
# --------------------------------------------------------------------------


def write_qwc(directory: Path, url: str) -> Path:
    path = directory / "reconciler.qwc"
    path.write_text(
        f"""<?xml version="1.0"?>
<QBWCXML>
  <AppName>Reconciler</AppName>
  <AppID></AppID>
  <AppURL>{url}</AppURL>
  <AppDescription>Billing reconciler</AppDescription>
  <AppSupport>{url}/support</AppSupport>
  <UserName>qbwc-user</UserName>
  <OwnerID>{OWNER}</OwnerID>
  <FileID>{FILE_ID}</FileID>
  <QBType>QBFS</QBType>
  <Scheduler><RunEveryNMinutes>60</RunEveryNMinutes></Scheduler>
</QBWCXML>
""",
        encoding="utf-8",
    )
    return path


def test_a_qwc_file_gives_url_user_and_file_id(
    tmp_path: Path, serve, sim: QuickBooksSimulator
) -> None:
    server = StandIn([CUSTOMER_QUERY])
    url = serve(server)
    connector = WebConnector.from_qwc(write_qwc(tmp_path, url), "s3cret", sim, noop_wait=0)
    result = connector.run()
    assert result.ok
    assert server.params("authenticate")[0]["strUserName"] == "qbwc-user"
    hcp = server.params("sendRequestXML")[0]["strHCPResponse"]
    company = etree.fromstring(hcp.encode()).find("QBXMLMsgsRs/CompanyQueryRs/CompanyRet")
    assert company.findtext("DataExtRet/OwnerID") == OWNER
    assert company.findtext("DataExtRet/DataExtValue") == FILE_ID
    connector.run()
    assert len(sim.books.data_ext) == 1


def test_the_intuit_sample_qwc_is_read(sim: QuickBooksSimulator) -> None:
    path = REFERENCE / "qbwc" / "intuit-sample-https.qwc"
    if not path.is_file():
        pytest.skip("../shared/reference is absent")
    connector = WebConnector.from_qwc(path, "pw", sim)
    assert connector.url == "https://MTVL04A200337.corp.intuit.net/WCWebService/WCWebService.asmx"
    assert connector.username == "username"
    assert connector.owner_id == "{57F3B9B1-86F1-4fcc-B1EE-566DE1813D20}"


def test_a_bad_qwc_file_is_a_clear_error(tmp_path: Path, sim: QuickBooksSimulator) -> None:
    path = tmp_path / "bad.qwc"
    path.write_text("<QBWCXML><AppName>x</AppName></QBWCXML>", encoding="utf-8")
    with pytest.raises(UserError, match="AppURL or UserName"):
        WebConnector.from_qwc(path, "pw", sim)
    path.write_text("<QBWCXML>", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.qwc"):
        WebConnector.from_qwc(path, "pw", sim)

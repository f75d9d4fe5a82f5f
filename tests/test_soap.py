"""SOAP parsing and answers: well-formed calls, and every way a call can be bad."""

from __future__ import annotations

import pytest
from lxml import etree
from qbwc_support import envelope

from reconciler.qbwc.soap import (
    NAMESPACE,
    OPERATIONS,
    SOAP_ENV,
    FaultCode,
    SoapFault,
    parse_call,
    render_fault,
    render_result,
)


def test_parses_a_web_connector_call():
    call = parse_call(
        envelope(
            "sendRequestXML",
            ticket="abc",
            strHCPResponse="&lt;QBXML/&gt;",
            strCompanyFileName="C:\\Company.qbw",
            qbXMLCountry="US",
            qbXMLMajorVers="13",
            qbXMLMinorVers="0",
        )
    )
    assert call.operation.name == "sendRequestXML"
    assert call.text("strHCPResponse") == "<QBXML/>"
    assert call.number("qbXMLMajorVers") == 13
    assert call.text("missing") == ""


def test_absent_and_nil_arguments_are_none():
    body = envelope("authenticate", strUserName="u").replace(
        b"</authenticate>",
        b'<strPassword xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></authenticate>',
    )
    call = parse_call(body)
    assert call.args == {"strUserName": "u", "strPassword": None}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"<not xml", FaultCode.CLIENT, "malformed XML"),
        (b"", FaultCode.CLIENT, "malformed XML"),
        (b"<Envelope/>", FaultCode.VERSION_MISMATCH, "only SOAP 1.1"),
        (
            b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
            FaultCode.VERSION_MISMATCH,
            "only SOAP 1.1",
        ),
        (b"<html/>", FaultCode.CLIENT, "not a SOAP envelope"),
        (f'<s:Envelope xmlns:s="{SOAP_ENV}"/>'.encode(), FaultCode.CLIENT, "no Body"),
        (
            f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body/></s:Envelope>'.encode(),
            FaultCode.CLIENT,
            "exactly one",
        ),
        (envelope("dropTables"), FaultCode.CLIENT, "unknown operation"),
        (
            envelope("authenticate").replace(NAMESPACE.encode(), b"urn:other"),
            FaultCode.CLIENT,
            "unknown operation",
        ),
        (
            envelope("sendRequestXML", qbXMLMajorVers="thirteen"),
            FaultCode.CLIENT,
            "must be an integer",
        ),
        (envelope("getLastError", ticket="<a>b</a>"), FaultCode.CLIENT, "must be text"),
        (
            f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Header><x:Auth xmlns:x="urn:x" s:mustUnderstand="1"/>'
            f'</s:Header><s:Body><getLastError xmlns="{NAMESPACE}"/></s:Body></s:Envelope>'.encode(),
            FaultCode.MUST_UNDERSTAND,
            "not understood",
        ),
    ],
)
def test_bad_calls_are_faults(body, code, message):
    with pytest.raises(SoapFault, match=message) as caught:
        parse_call(body)
    assert caught.value.code is code


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<authenticate xmlns="http://developer.intuit.com/"><strUserName>&xxe;</strUserName></authenticate>
</soap:Body></soap:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<authenticate xmlns="http://developer.intuit.com/"><strUserName>&lol9;</strUserName></authenticate>
</soap:Body></soap:Envelope>"""


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_payloads_are_refused_without_expansion(body):
    with pytest.raises(SoapFault, match="DOCTYPE is not allowed") as caught:
        parse_call(body)
    assert "root:" not in caught.value.message
    assert "lollol" not in caught.value.message


def test_each_operation_has_its_own_size_bound():
    big = "x" * (70 * 1024)
    with pytest.raises(SoapFault, match="too large") as caught:
        parse_call(envelope("getLastError", ticket=big))
    assert caught.value.http_status == 413
    assert (
        parse_call(envelope("receiveResponseXML", ticket="t", response=big)).text("response") == big
    )


def _result(answer: bytes, operation: str) -> etree._Element:
    root = etree.fromstring(answer)
    return root.find(
        f"{{{SOAP_ENV}}}Body/{{{NAMESPACE}}}{operation}Response/{{{NAMESPACE}}}{operation}Result"
    )


def test_answers_escape_qbxml_and_strip_what_xml_cannot_hold():
    qbxml = '<?xml version="1.0"?><QBXML><A>&amp; "q"</A></QBXML>'
    result = _result(render_result(OPERATIONS["sendRequestXML"], qbxml + "\x01"), "sendRequestXML")
    assert result.text == qbxml + "\ufffd"


def test_string_arrays_and_ints():
    strings = _result(render_result(OPERATIONS["authenticate"], ["ticket", ""]), "authenticate")
    assert [s.text or "" for s in strings] == ["ticket", ""]
    assert (
        _result(render_result(OPERATIONS["receiveResponseXML"], 42), "receiveResponseXML").text
        == "42"
    )


def test_fault_rendering():
    root = etree.fromstring(render_fault(SoapFault(FaultCode.CLIENT, "bad <input>")))
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.findtext("faultstring") == "bad <input>"

"""SOAP parsing and answers: well-formed calls, every way a call can be bad, and how little
a bad one makes the server read and hold before it is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc

import pytest
from lxml import etree
from support.paths import REPO
from support.qbwc import LazyBody, envelope, hostile, soap_head, soap_tail

from reconciler.base.wsgibody import PIECE, Body
from reconciler.qbwc.soap import (
    MAX_BODY,
    MAX_DEPTH,
    MAX_ELEMENTS,
    NAMESPACE,
    OPERATIONS,
    SOAP_ENV,
    UNAUTHENTICATED_BODY,
    FaultCode,
    SoapCall,
    SoapFault,
    parse_call,
    read_call,
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
    # The largest call the Web Connector makes fits the element bound with room.
    assert call.complete and len(call.args) + 3 < MAX_ELEMENTS


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


# ------------------------------------------------- bounded before it is parsed

RECEIVE = OPERATIONS["receiveResponseXML"]


def _read(body: LazyBody, *, declared: bool = True, **options) -> SoapCall:
    return read_call(Body(body, body.length if declared else None, MAX_BODY), **options)


def test_the_issues_body_is_refused_once_its_first_piece_names_the_operation():
    # 900,000 tiny elements inside serverVersion, 9 MB: refused by its Content-Length
    # as soon as the operation is known, its own bound being 64 KiB.
    body = hostile("serverVersion")
    with pytest.raises(SoapFault, match="serverVersion request too large") as caught:
        _read(body)
    assert caught.value.http_status == 413
    assert body.served <= PIECE


def test_without_a_content_length_the_elements_are_counted_and_refused_early():
    body = hostile("serverVersion")
    with pytest.raises(SoapFault, match=f"more than {MAX_ELEMENTS} XML elements"):
        _read(body, declared=False)
    assert body.served <= PIECE


def test_the_soap_action_bounds_the_body_before_anything_is_read():
    body = hostile("serverVersion")
    with pytest.raises(SoapFault, match="too large") as caught:
        _read(body, soap_action='"http://developer.intuit.com/getLastError"')
    assert caught.value.http_status == 413 and body.served == 0
    with pytest.raises(SoapFault, match="is not an operation here"):
        _read(body, soap_action='"urn:evil#dropTables"')
    assert body.served == 0


def test_a_soap_action_never_lends_its_bound_to_another_operation():
    # receiveResponseXML may be 10 MiB; the body calls serverVersion.
    body = hostile("serverVersion")
    with pytest.raises(SoapFault, match="names receiveResponseXML, the body calls serverVersion"):
        _read(body, declared=False, soap_action=RECEIVE.soap_action)
    assert body.served <= PIECE


def test_elements_inside_the_large_operation_are_refused_as_early():
    body = hostile("receiveResponseXML", inner=b"<ticket>forged</ticket>")
    with pytest.raises(SoapFault, match="XML elements"):
        _read(body, declared=False, admit=lambda ticket: True)
    assert body.served <= PIECE


def test_a_large_call_is_not_read_past_a_ticket_no_session_holds():
    def response(ticket: str) -> LazyBody:
        head = soap_head("receiveResponseXML") + f"<ticket>{ticket}</ticket><response>".encode()
        tail = b"</response>" + soap_tail("receiveResponseXML")
        return LazyBody(head, b"&lt;QBXML&gt;", 700_000, tail)

    asked = []
    forged = response("forged")
    call = _read(forged, admit=lambda ticket: asked.append(ticket) or False)
    assert asked == ["forged"] and forged.served <= PIECE
    assert not call.complete and call.args == {"ticket": "forged"}
    # A session's ticket: the call is read whole.
    good = response("good")
    call = _read(good, admit=lambda ticket: ticket == "good")
    assert call.complete and good.served == good.length
    assert call.text("response").startswith("<QBXML><QBXML>")


def test_a_large_call_must_name_its_ticket_within_what_a_stranger_may_send():
    head = soap_head("receiveResponseXML") + b"<response>"
    body = LazyBody(head, b"x" * 1000, 5000, b"</response>" + soap_tail("receiveResponseXML"))
    with pytest.raises(SoapFault, match="no ticket") as caught:
        _read(body, admit=lambda ticket: True)
    assert caught.value.http_status == 413
    assert body.served <= UNAUTHENTICATED_BODY + PIECE


def test_a_start_tag_of_a_million_attributes_is_refused_unparsed():
    head = soap_head("serverVersion")
    head = head[: head.index(b"<serverVersion")] + b"<serverVersion "
    attributes = b"".join(b'a%d="" ' % i for i in range(700_000))
    body = LazyBody(head, attributes, 1, b"/></soap:Body></soap:Envelope>")
    with pytest.raises(SoapFault, match="no SOAP operation in the first") as caught:
        _read(body, declared=False)
    assert caught.value.http_status == 413
    assert body.served <= UNAUTHENTICATED_BODY + PIECE


def test_depth_is_bounded_too():
    nested = b"<x>" * (MAX_DEPTH + 1) + b"</x>" * (MAX_DEPTH + 1)
    body = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Header>'.encode() + nested
    with pytest.raises(SoapFault, match=f"nested deeper than {MAX_DEPTH}"):
        parse_call(body + b"</s:Header></s:Envelope>")


def test_python_allocations_while_refusing_the_issues_body_stay_small():
    # What Python allocates (lxml's proxies, the pieces); libxml2's own memory is
    # bounded by what the reader was fed (the tests above) and measured below.
    body = hostile("serverVersion")
    tracemalloc.start()
    try:
        with pytest.raises(SoapFault):
            _read(body, declared=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


MEMORY_PROBE = """
import resource, sys, threading
from support.qbwc import LazyBody, hostile, soap_head, soap_tail
from reconciler.qbwc.soap import MAX_BODY, SoapFault, read_call
from reconciler.base.wsgibody import Body

def text(ticket):
    head = soap_head("receiveResponseXML") + f"<ticket>{ticket}</ticket><response>".encode()
    tail = b"</response>" + soap_tail("receiveResponseXML")
    return LazyBody(head, b"&lt;QBXML&gt;", 700_000, tail)

KINDS = {
    # The issue's body, with and without its Content-Length.
    "declared": lambda: (hostile("serverVersion"), True),
    "chunked": lambda: (hostile("serverVersion"), False),
    # 10 MB of text behind a ticket no session holds.
    "forged": lambda: (text("forged"), True),
    # Elements in a session's receiveResponseXML: only the element bound stops them.
    "elements": lambda: (hostile("receiveResponseXML", inner=b"<ticket>good</ticket>"), False),
}

def refuse(kind):
    body, declared = KINDS[kind]()
    try:
        read_call(Body(body, body.length if declared else None, MAX_BODY),
                  admit=lambda ticket: ticket == "good")
    except SoapFault:
        pass

read_call(Body(hostile("serverVersion", count=1), None, MAX_BODY))  # lxml's own start-up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [threading.Thread(target=lambda k=k: [refuse(k) for _ in range(2)])
           for k in list(KINDS) * 2]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="peak RSS in kB is Linux's ru_maxrss")
def test_eight_hostile_bodies_at_once_do_not_grow_the_process():
    # Peak resident memory of a fresh process, libxml2's allocations included: the
    # whole of one such body used to take some 380 MB.
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)])},
    )
    grown_kb = int(probe.stdout.strip())
    assert grown_kb < 16 * 1024, f"peak RSS grew by {grown_kb} kB"

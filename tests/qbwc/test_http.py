"""The service over real HTTP on 127.0.0.1: conformance with Intuit's WSDL,
sign-in, sessions, throttling, bounds, paths, rejected calls, and answers that
never crash."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from lxml import etree
from support.paths import DATA
from support.qbwc import (
    OFFICIAL_WSDL,
    PASSWORD,
    QBXML,
    FakeClock,
    LazyBody,
    ScriptedRun,
    envelope,
    hostile,
    new_store,
    served,
    soap_head,
    soap_tail,
)

from reconciler import __version__
from reconciler.qbwc.service import UNKNOWN_SESSION, Limits
from reconciler.qbwc.soap import MAX_BODY, NAMESPACE, OPERATIONS, SOAP_ENV, parse_call
from reconciler.store.records import RejectReason

zeep = pytest.importorskip("zeep")

SERVICE = "{http://developer.intuit.com/}QBWebConnectorSvcSoap"


@pytest.fixture
def server(tmp_path):
    with served(tmp_path) as s:
        yield s


def _official_client(url: str):
    if not OFFICIAL_WSDL.is_file():
        pytest.skip("../shared/reference is absent (reference material is not in user clones)")
    return zeep.Client(str(OFFICIAL_WSDL)).create_service(SERVICE, url)


def _strings(result) -> list[str]:
    return [s or "" for s in result]


def test_every_operation_of_the_official_wsdl_answers_well_formed(server):
    """A SOAP client built from Intuit's WSDL drives a whole session."""
    qbwc = _official_client(server.url)
    assert qbwc.serverVersion() == f"reconciler {__version__}"
    assert qbwc.clientVersion("2.3.0.215") in (None, "")
    ticket, company_file = _strings(qbwc.authenticate("acme", PASSWORD))
    assert len(ticket) >= 32 and company_file == ""
    assert qbwc.sendRequestXML(ticket, "<QBXML/>", "C:\\Acme.qbw", "US", 13, 0) == QBXML
    assert qbwc.receiveResponseXML(ticket, "<QBXML/>", "", "") == 100
    assert qbwc.getLastError(ticket) in (None, "")
    assert qbwc.closeConnection(ticket) == "Sent 1 requests"
    ticket, _ = _strings(qbwc.authenticate("acme", PASSWORD))
    assert qbwc.connectionError(ticket, "0x80040408", "Could not start QuickBooks.") == "done"
    # The Web Connector stops after "done": the session is over.
    assert server.store.sessions.unclosed(server.company.id) == []
    assert server.run.seen[0][1].company_file == "C:\\Acme.qbw"


def test_our_wsdl_matches_the_official_one_and_adds_interactive_mode(server):
    ours = etree.fromstring(server.http.get(f"{server.url}?wsdl").content)
    xs = "{http://www.w3.org/2001/XMLSchema}"

    def elements(root):
        found = {}
        for element in root.iter(f"{xs}element"):
            name = element.get("name")
            if name and element.getparent().tag == f"{xs}schema":
                found[name] = [
                    child.get("name")
                    for child in element.iter(f"{xs}element")
                    if child is not element
                ]
        return found

    mine = elements(ours)
    if OFFICIAL_WSDL.is_file():
        theirs = elements(etree.parse(str(OFFICIAL_WSDL)).getroot())
        for name, children in theirs.items():
            assert mine[name] == children, name
    assert set(OPERATIONS) <= set(mine)
    address = ours.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == server.url


def test_interactive_operations_through_our_own_wsdl(server):
    qbwc = zeep.Client(f"{server.url}?wsdl").service
    assert qbwc.getInteractiveURL("t", "s") in (None, "")
    assert qbwc.interactiveDone("t") == "Done"
    assert "interactive mode" in qbwc.interactiveRejected("t", "user said no")


def test_support_url_answers_200(server):
    page = server.http.get(server.url + "/support")
    assert page.status_code == 200 and "reconcile status" in page.text
    assert server.http.get(server.url).status_code == 200
    assert server.http.request("PUT", server.url).status_code == 405


def _call(server, operation: str, **args: str) -> tuple[int, etree._Element]:
    answer = server.http.post(
        server.url, content=envelope(operation, **args), headers={"Content-Type": "text/xml"}
    )
    return answer.status_code, etree.fromstring(answer.content)


def _value(root: etree._Element, operation: str) -> list[str] | str:
    result = root.find(
        f"{{{SOAP_ENV}}}Body/{{{NAMESPACE}}}{operation}Response/{{{NAMESPACE}}}{operation}Result"
    )
    children = list(result)
    return [c.text or "" for c in children] if children else (result.text or "")


def _authenticate(server, user: str = "acme", password: str = PASSWORD) -> list[str]:
    """authenticate's strings (a ticket, a status, sometimes a postponement)."""
    status, root = _call(server, "authenticate", strUserName=user, strPassword=password)
    assert status == 200
    return _value(root, "authenticate")


def test_wrong_password_and_unknown_user_both_answer_nvu(server):
    assert _authenticate(server, password="wrong")[1] == "nvu"
    assert _authenticate(server, user="nobody")[1] == "nvu"
    assert server.store.sessions.unclosed(server.company.id) == []


def test_failed_sign_ins_are_throttled_even_with_the_right_password(server):
    limit = Limits().failures_per_client
    for _ in range(limit):
        assert _authenticate(server, password="wrong")[1] == "nvu"
    assert _authenticate(server)[1] == "nvu"  # locked out: same answer, no hint
    server.clock.advance(minutes=16)
    assert _authenticate(server)[1] == ""


def test_another_address_hammering_wrong_passwords_never_locks_the_web_connector_out(server):
    attacker = "203.0.113.9"

    def attack(password: str) -> str:
        call = parse_call(envelope("authenticate", strUserName="acme", strPassword=password))
        return server.service.call(call, attacker)[1]

    for _ in range(200):
        assert attack("wrong") == "nvu"
    # Throttled per address: even the right password from there gets nvu, and only
    # the failures before the throttle were counted (hammering writes nothing).
    assert attack(PASSWORD) == "nvu"
    assert server.store.sign_ins.failures(attacker, server.clock.now() - dt.timedelta(hours=1)) == (
        Limits().failures_per_client
    )
    # The Web Connector, from its own address, signs in as ever.
    assert _authenticate(server)[1] == ""


def test_nothing_to_do_answers_none(server):
    server.run.work = False
    ticket, status = _authenticate(server)
    assert status == "none"
    assert server.store.sessions.unclosed(server.company.id) == []
    assert _value(_call(server, "closeConnection", ticket=ticket)[1], "closeConnection") == "OK"


def test_two_web_connectors_for_one_company_busy(server):
    first, _ = _authenticate(server)
    server.clock.advance(seconds=30)
    _, status, postpone = _authenticate(server)
    # Busy, and the Web Connector is told to try again when the other goes quiet.
    assert status == "busy" and int(postpone) == 151
    _call(server, "closeConnection", ticket=first)
    assert _authenticate(server)[1] == ""


def test_simultaneous_sign_ins_open_exactly_one_session(server):
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: _authenticate(server), range(6)))
    assert [a[1] for a in answers].count("") == 1
    assert sum(a[1] == "busy" for a in answers) == 5


def test_a_quiet_session_stops_blocking_and_its_ticket_stops_working(server):
    first, _ = _authenticate(server)
    server.clock.advance(minutes=4)
    second, status = _authenticate(server)
    assert status == ""
    status, root = _call(
        server, "sendRequestXML", ticket=first, qbXMLMajorVers="13", qbXMLMinorVers="0"
    )
    assert status == 200 and _value(root, "sendRequestXML") == ""
    assert _value(_call(server, "getLastError", ticket=first)[1], "getLastError") == UNKNOWN_SESSION
    assert (
        _value(
            _call(server, "sendRequestXML", ticket=second, qbXMLMajorVers="13", qbXMLMinorVers="0")[
                1
            ],
            "sendRequestXML",
        )
        == QBXML
    )


def test_expired_and_unknown_tickets_are_answered_cleanly(server):
    ticket, _ = _authenticate(server)
    server.clock.advance(minutes=31)
    for bad in (ticket, "no-such-ticket", ""):
        assert (
            _value(
                _call(server, "receiveResponseXML", ticket=bad, response="&lt;QBXML/&gt;")[1],
                "receiveResponseXML",
            )
            == "-1"
        )
        assert (
            _value(_call(server, "getLastError", ticket=bad)[1], "getLastError") == UNKNOWN_SESSION
        )
        assert _value(_call(server, "connectionError", ticket=bad)[1], "connectionError") == "done"
        assert _value(_call(server, "closeConnection", ticket=bad)[1], "closeConnection") == "OK"


def test_sessions_survive_a_restart_of_the_service_object(server, tmp_path):
    """A ticket is in the store, not in memory: a new process still knows it."""
    from reconciler.qbwc.service import QBWCService

    ticket, _ = _authenticate(server)
    restarted = QBWCService(server.store, server.run, server.clock)
    from reconciler.qbwc.soap import parse_call

    call = parse_call(
        envelope("sendRequestXML", ticket=ticket, qbXMLMajorVers="13", qbXMLMinorVers="0")
    )
    assert restarted.call(call, "127.0.0.1") == QBXML
    # ...but its session no longer makes another Web Connector wait.
    call = parse_call(envelope("authenticate", strUserName="acme", strPassword=PASSWORD))
    assert restarted.call(call, "127.0.0.1")[1] == ""


def test_malformed_and_hostile_bodies_get_soap_faults(server):
    for body in (
        b"<oops",
        b"\x00\xff" * 10,
        b"<!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]><x>&a;</x>",
    ):
        answer = server.http.post(server.url, content=body)
        assert answer.status_code == 500
        fault = etree.fromstring(answer.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        assert fault.findtext("faultcode") == "soap:Client"
        assert "Traceback" not in answer.text


def test_oversized_bodies_are_refused_before_they_are_read(server):
    answer = server.http.post(server.url, content=b"x" * (MAX_BODY + 10))
    assert answer.status_code == 413
    answer = server.http.post(server.url, content=envelope("getLastError", ticket="t" * 100_000))
    assert answer.status_code == 413
    assert b"too large" in answer.content


def test_a_chunked_body_over_the_servers_bound_is_413_not_an_internal_error(server, caplog):
    def chunks():
        yield b"x" * (40 * 1024 * 1024)  # over cheroot's own bound, in one chunk

    answer = server.http.post(server.url, content=chunks())
    assert answer.status_code == 413
    assert b"too large" in answer.content
    assert "Traceback" not in caplog.text and "internal error" not in caplog.text


def test_an_internal_error_is_a_fault_without_a_traceback(server):
    def explode(*args):
        raise ValueError("secret internal detail")

    server.run.next_request = explode
    ticket, _ = _authenticate(server)
    answer = server.http.post(
        server.url,
        content=envelope("sendRequestXML", ticket=ticket, qbXMLMajorVers="13", qbXMLMinorVers="0"),
    )
    assert answer.status_code == 500
    assert b"internal error" in answer.content
    assert b"secret internal detail" not in answer.content and b"Traceback" not in answer.content


def test_tickets_and_passwords_never_reach_the_log(server, caplog):
    caplog.set_level("DEBUG", logger="reconciler")
    ticket, _ = _authenticate(server)
    _authenticate(server, password="wrong-password-123")
    _call(server, "closeConnection", ticket=ticket)
    text = caplog.text
    assert ticket[:8] in text
    assert ticket not in text and PASSWORD not in text and "wrong-password-123" not in text


def test_client_version_policy_over_soap(server):
    assert _value(
        _call(server, "clientVersion", strVersion="1.5.0.0")[1], "clientVersion"
    ).startswith("E:")
    assert _value(
        _call(server, "clientVersion", strVersion="2.1.0.30")[1], "clientVersion"
    ).startswith("W:")
    assert _value(_call(server, "clientVersion", strVersion="2.3.0.215")[1], "clientVersion") == ""


def test_https_with_a_certificate_and_key(tmp_path):
    """The Web Connector needs HTTPS beyond localhost: the server speaks it itself."""
    import socket
    import ssl

    import httpx

    from reconciler.qbwc.app import QBWCApp
    from reconciler.qbwc.service import QBWCService
    from reconciler.web.app import WebApp
    from reconciler.web.server import Listen, running

    tls = DATA / "tls"
    store, _ = new_store(tmp_path)
    service = QBWCService(store, ScriptedRun(store), FakeClock())
    listen = Listen(
        host="127.0.0.1", port=0, certfile=tls / "localhost.pem", keyfile=tls / "localhost.key"
    )
    with running(WebApp(QBWCApp(service)), listen) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = (
            ssl.CERT_NONE
        )  # the test certificate's dates follow the machine that made it
        with (
            socket.create_connection(("127.0.0.1", server.port)) as raw,
            context.wrap_socket(raw) as tls_socket,
        ):
            served = tls_socket.getpeercert(binary_form=True)
        assert served == ssl.PEM_cert_to_DER_cert(
            (tls / "localhost.pem").read_text(encoding="utf-8")
        )
        with httpx.Client(verify=False, timeout=30) as client:
            answer = client.post(server.url, content=envelope("serverVersion"))
        assert answer.status_code == 200 and b"serverVersionResult" in answer.content
    store.close()


def test_half_a_certificate_is_a_clear_error(tmp_path):
    from reconciler.base.errors import UserError
    from reconciler.qbwc.app import QBWCApp
    from reconciler.qbwc.service import QBWCService
    from reconciler.web.app import WebApp
    from reconciler.web.server import Listen, build_server

    store, _ = new_store(tmp_path)
    app = WebApp(QBWCApp(QBWCService(store, ScriptedRun(store), FakeClock())))
    with pytest.raises(UserError, match="both --certfile and --keyfile"):
        build_server(app, Listen(certfile=tmp_path / "cert.pem"))
    with pytest.raises(UserError, match="no such file"):
        build_server(app, Listen(certfile=tmp_path / "cert.pem", keyfile=tmp_path / "key.pem"))
    store.close()


def _rejected(server) -> dict[RejectReason, int]:
    return {r.reason: r.count for r in server.store.rejected_calls.by_reason()}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nonexist"),
        ("GET", "/foo/bar?wsdl"),
        ("GET", "/qbwcx"),
        ("GET", "/qbwc/other"),
        ("HEAD", "/nonexist"),
        ("POST", "/nonexist"),
        ("POST", "/"),
    ],
)
def test_unknown_paths_are_404(server, method, path):
    base = server.url.removesuffix("/qbwc")
    answer = server.http.request(method, base + path, content=envelope("serverVersion"))
    assert answer.status_code == 404
    assert method == "HEAD" or b"/qbwc" in answer.content
    assert server.run.seen == [] and _rejected(server) == {}


def test_the_documented_paths_answer(server):
    assert server.http.get(server.url).status_code == 200
    assert server.http.get(server.url + "/").status_code == 200
    assert b"<wsdl:definitions" in server.http.get(server.url + "?wsdl").content
    assert "reconcile status" in server.http.get(server.url + "/support").text
    posted = server.http.post(server.url + "/", content=envelope("serverVersion"))
    assert __version__ in _value(etree.fromstring(posted.content), "serverVersion")
    wrong = server.http.post(server.url + "/support", content=envelope("serverVersion"))
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, HEAD"
    assert server.http.request("PUT", server.url).headers["Allow"] == "GET, HEAD, POST"


def test_the_issues_body_is_413_and_counted_apart(server):
    body = hostile("serverVersion")
    answer = server.http.post(
        server.url,
        content=body.read(),
        headers={"SOAPAction": OPERATIONS["serverVersion"].soap_action},
    )
    assert answer.status_code == 413 and b"too large" in answer.content
    assert _rejected(server) == {RejectReason.TOO_LARGE: 1}


def test_a_large_call_with_a_ticket_no_session_holds_is_answered_unread(server):
    head = soap_head("receiveResponseXML") + b"<ticket>forged</ticket><response>"
    body = LazyBody(
        head, b"&lt;QBXML&gt;", 500_000, b"</response>" + soap_tail("receiveResponseXML")
    )
    answer = server.http.post(server.url, content=body.read())
    status, root = answer.status_code, etree.fromstring(answer.content)
    assert status == 200 and _value(root, "receiveResponseXML") == "-1"
    assert server.run.seen == []
    assert _rejected(server) == {RejectReason.UNKNOWN_TICKET: 1}
    # What was left unread was dropped: the connection serves the next call.
    assert _authenticate(server)[1] == ""


def test_a_sessions_large_response_is_read_whole(server):
    ticket, _ = _authenticate(server)
    assert _call(server, "sendRequestXML", ticket=ticket)[0] == 200
    response = "&lt;QBXML&gt;" * 500_000
    status, root = _call(server, "receiveResponseXML", ticket=ticket, response=response)
    assert status == 200 and _value(root, "receiveResponseXML") == "100"
    [seen] = [what[0] for event, what in server.run.seen if event == "response"]
    assert seen == "<QBXML>" * 500_000
    assert _rejected(server) == {}


def test_the_soap_action_and_the_body_must_agree(server):
    answer = server.http.post(
        server.url,
        content=envelope("serverVersion"),
        headers={"SOAPAction": OPERATIONS["receiveResponseXML"].soap_action},
    )
    assert answer.status_code == 500 and b"the body calls serverVersion" in answer.content
    assert _rejected(server) == {RejectReason.MALFORMED: 1}


def test_strangers_calls_are_counted_apart_by_reason(server):
    server.http.post(server.url, content=b"<oops")
    server.http.post(server.url, content=envelope("getLastError", ticket="t" * 100_000))
    _authenticate(server, password="wrong")
    _call(server, "sendRequestXML", ticket="forged")
    _call(server, "connectionError", ticket="forged")
    assert _rejected(server) == {
        RejectReason.MALFORMED: 1,
        RejectReason.TOO_LARGE: 1,
        RejectReason.SIGN_IN: 1,
        RejectReason.UNKNOWN_TICKET: 2,
    }


def test_a_web_connectors_own_calls_are_never_counted_as_rejected(server):
    # After "none" (or nvu, or busy) the Web Connector closes the ticket it was given,
    # which no session holds: the protocol's own way, not a stranger's.
    server.run.work = False
    ticket, status = _authenticate(server)
    assert status == "none"
    assert _value(_call(server, "closeConnection", ticket=ticket)[1], "closeConnection") == "OK"
    server.run.work = True
    ticket, _ = _authenticate(server)
    _call(server, "sendRequestXML", ticket=ticket)
    _call(server, "receiveResponseXML", ticket=ticket, response="&lt;QBXML/&gt;")
    _call(server, "closeConnection", ticket=ticket)
    assert _rejected(server) == {}

"""SOAP 1.1 messages as the Web Connector writes and reads them.

The Web Connector is a .NET ``SoapHttpClientProtocol`` client generated from
``QBWebConnectorSvc.wsdl`` (document/literal, namespace
``http://developer.intuit.com/``): each call is a POST with
``SOAPAction: "http://developer.intuit.com/<operation>"`` and a body whose
operation element and parameters are in that namespace. Answers are parsed
with the hardened XML parser; anything that is not the expected
``<operation>Response`` becomes a :class:`SoapError` with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.sandbox.elements import Element

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
QBWC = "http://developer.intuit.com/"

Argument = tuple[str, str | int | None]


class SoapError(Exception):
    """An answer that is not the SOAP response the operation expects."""


def soap_action(operation: str) -> str:
    """The SOAPAction header value, quoted as .NET sends it."""
    return f'"{QBWC}{operation}"'


def request_body(operation: str, arguments: Sequence[Argument]) -> bytes:
    """The request envelope; ``None`` arguments are left out, as .NET leaves out nulls."""
    envelope = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD}
    )
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    call = etree.SubElement(body, f"{{{QBWC}}}{operation}", nsmap={None: QBWC})
    for name, value in arguments:
        if value is not None:
            etree.SubElement(call, f"{{{QBWC}}}{name}").text = str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + etree.tostring(envelope, encoding="utf-8")


def parse_response(content: bytes, operation: str) -> Element:
    """The ``<operation>Response`` element of an answer (raises :class:`SoapError`)."""
    try:
        root = parse_xml(content, source=f"{operation} answer")
    except XMLInputError as exc:
        raise SoapError(str(exc)) from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapError(f"the {operation} answer is not a SOAP 1.1 envelope (root {root.tag})")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        raise SoapError(f"the {operation} answer has no SOAP body")
    answer = body[0]
    if answer.tag == f"{{{SOAP_ENV}}}Fault":
        raise SoapError(_fault_text(answer))
    if answer.tag != f"{{{QBWC}}}{operation}Response":
        raise SoapError(f"expected {{{QBWC}}}{operation}Response, got {answer.tag}")
    return answer


def fault(content: bytes) -> str | None:
    """The text of a SOAP fault answer (None when the answer is not one)."""
    try:
        root = parse_xml(content, source="SOAP answer")
    except XMLInputError:
        return None
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    return None if found is None else _fault_text(found)


def _fault_text(found: Element) -> str:
    code = (found.findtext("faultcode") or "").strip()
    text = (found.findtext("faultstring") or "").strip()
    return f"SOAP fault {code}: {text}"


def result(response: Element, operation: str) -> Element | None:
    """The ``<operation>Result`` element (None when the service left it out)."""
    return response.find(f"{{{QBWC}}}{operation}Result")


def string_result(response: Element, operation: str) -> str | None:
    """A ``string`` result (None when absent or nil)."""
    found = result(response, operation)
    if found is None or found.get(f"{{{XSI}}}nil") == "true":
        return None
    return found.text or ""


def int_result(response: Element, operation: str) -> int:
    """An ``int`` result."""
    text = string_result(response, operation)
    try:
        return int((text or "").strip())
    except ValueError:
        raise SoapError(f"{operation}Result is not an integer: {text!r}") from None


def strings_result(response: Element, operation: str) -> list[str | None]:
    """An ``ArrayOfString`` result (nil members are None)."""
    found = result(response, operation)
    if found is None:
        return []
    return [
        None if item.get(f"{{{XSI}}}nil") == "true" else (item.text or "")
        for item in found.iterfind(f"{{{QBWC}}}string")
    ]

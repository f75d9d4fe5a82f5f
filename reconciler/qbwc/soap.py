"""SOAP 1.1, document/literal, as the QuickBooks Web Connector speaks it.

The eleven operations, their parameters and results are declared once here
(:data:`OPERATIONS`); the parser, the answers and the WSDL all follow that
table, with the element names of Intuit's WSDL. Every input is parsed by
:mod:`reconciler.xmlsafe` (no DTD, no entities, no network); anything that is
not a well-formed call of a known operation becomes a :class:`SoapFault`,
never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from reconciler.xmlsafe import XMLInputError, parse_xml

NAMESPACE = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"

KiB = 1024
MiB = 1024 * KiB
# The largest body any call may have: a receiveResponseXML carrying a page
# of invoices with their lines. Other calls are small.
MAX_BODY = 10 * MiB


class ResultType(StrEnum):
    """What an operation returns, by its type in Intuit's WSDL."""

    STRING = "string"
    INT = "int"
    STRINGS = "ArrayOfString"


@dataclass(frozen=True)
class Param:
    """One parameter of an operation, by its element name; ``is_int``: an ``xsd:int``."""

    name: str
    is_int: bool = False


@dataclass(frozen=True)
class Operation:
    """One Web Connector callback."""

    name: str
    params: tuple[Param, ...]
    result: ResultType
    max_body: int

    @property
    def result_element(self) -> str:
        """The element that holds the operation's result (``<name>Result``)."""
        return f"{self.name}Result"

    @property
    def soap_action(self) -> str:
        """The operation's SOAPAction: the Intuit namespace followed by its name."""
        return f"{NAMESPACE}{self.name}"


def _op(name: str, params: Sequence[str | Param], result: ResultType, max_body: int) -> Operation:
    return Operation(
        name,
        tuple(p if isinstance(p, Param) else Param(p) for p in params),
        result,
        max_body,
    )


_SMALL = 64 * KiB
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        _op("serverVersion", ["strVersion"], ResultType.STRING, _SMALL),
        _op("clientVersion", ["strVersion"], ResultType.STRING, _SMALL),
        _op("authenticate", ["strUserName", "strPassword"], ResultType.STRINGS, _SMALL),
        _op(
            "sendRequestXML",
            [
                "ticket",
                "strHCPResponse",  # HostQuery, CompanyQuery, PreferencesQuery responses
                "strCompanyFileName",
                "qbXMLCountry",
                Param("qbXMLMajorVers", is_int=True),
                Param("qbXMLMinorVers", is_int=True),
            ],
            ResultType.STRING,
            2 * MiB,
        ),
        _op(
            "receiveResponseXML",
            ["ticket", "response", "hresult", "message"],
            ResultType.INT,
            MAX_BODY,
        ),
        _op("connectionError", ["ticket", "hresult", "message"], ResultType.STRING, _SMALL),
        _op("getLastError", ["ticket"], ResultType.STRING, _SMALL),
        _op("closeConnection", ["ticket"], ResultType.STRING, _SMALL),
        _op("getInteractiveURL", ["wcTicket", "sessionID"], ResultType.STRING, _SMALL),
        _op("interactiveDone", ["wcTicket"], ResultType.STRING, _SMALL),
        _op("interactiveRejected", ["wcTicket", "reason"], ResultType.STRING, _SMALL),
    )
}


class FaultCode(StrEnum):
    """The SOAP 1.1 fault codes (written ``soap:<code>`` in ``faultcode``)."""

    CLIENT = "Client"
    SERVER = "Server"
    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"


class SoapFault(Exception):
    """A call answered with a SOAP fault (HTTP 500, or ``http_status``)."""

    def __init__(self, code: FaultCode, message: str, *, http_status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


@dataclass(frozen=True)
class SoapCall:
    """A parsed call: the operation and its arguments (None when absent or nil)."""

    operation: Operation
    args: dict[str, str | int | None]

    def text(self, name: str) -> str:
        """A string argument, "" when absent."""
        value = self.args.get(name)
        return "" if value is None else str(value)

    def number(self, name: str) -> int | None:
        """An integer argument; None when absent or nil."""
        value = self.args.get(name)
        return value if isinstance(value, int) else None


def _local(tag: object) -> tuple[str | None, str]:
    if not isinstance(tag, str):
        return None, ""
    qname = etree.QName(tag)
    return qname.namespace, qname.localname


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def parse_call(body: bytes) -> SoapCall:
    """Parse a SOAP 1.1 request body into a call; raise :class:`SoapFault`."""
    try:
        envelope = parse_xml(body, source="SOAP request")
    except XMLInputError as exc:
        raise SoapFault(FaultCode.CLIENT, str(exc)) from None
    namespace, name = _local(envelope.tag)
    if name != "Envelope":
        raise SoapFault(FaultCode.CLIENT, "not a SOAP envelope")
    if namespace != SOAP_ENV:
        raise SoapFault(
            FaultCode.VERSION_MISMATCH,
            f"only SOAP 1.1 ({SOAP_ENV}) is spoken here, not {namespace or 'no namespace'}",
        )
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    if header is not None:
        for entry in _elements(header):
            if entry.get(f"{{{SOAP_ENV}}}mustUnderstand") in {"1", "true"}:
                raise SoapFault(
                    FaultCode.MUST_UNDERSTAND, f"header {_local(entry.tag)[1]} is not understood"
                )
    soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None:
        raise SoapFault(FaultCode.CLIENT, "the SOAP envelope has no Body")
    children = _elements(soap_body)
    if len(children) != 1:
        raise SoapFault(FaultCode.CLIENT, "the SOAP Body must hold exactly one operation")
    namespace, name = _local(children[0].tag)
    operation = OPERATIONS.get(name)
    if operation is None or namespace != NAMESPACE:
        raise SoapFault(FaultCode.CLIENT, f"unknown operation {{{namespace or ''}}}{name}")
    if len(body) > operation.max_body:
        raise SoapFault(
            FaultCode.CLIENT,
            f"{name} request too large ({len(body)} bytes, at most {operation.max_body})",
            http_status=413,
        )
    return SoapCall(operation, _arguments(operation, children[0]))


def _arguments(operation: Operation, element: etree._Element) -> dict[str, str | int | None]:
    given: dict[str, etree._Element] = {}
    for child in _elements(element):
        namespace, name = _local(child.tag)
        if namespace in (NAMESPACE, None):
            given.setdefault(name, child)
    args: dict[str, str | int | None] = {}
    for param in operation.params:
        child = given.get(param.name)
        if child is None or child.get(f"{{{XSI}}}nil") in {"true", "1"}:
            args[param.name] = None
            continue
        if _elements(child):
            raise SoapFault(FaultCode.CLIENT, f"{param.name} must be text, not XML elements")
        text = child.text or ""
        if param.is_int:
            try:
                args[param.name] = int(text.strip())
            except ValueError:
                raise SoapFault(
                    FaultCode.CLIENT, f"{param.name} must be an integer, not {text[:20]!r}"
                ) from None
        else:
            args[param.name] = text
    return args


# Characters XML 1.0 cannot carry; QuickBooks messages echo user data.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML cannot hold replaced."""
    return _NOT_XML.sub("\ufffd", text)


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD}
    )
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def render_result(operation: Operation, value: str | int | Sequence[str]) -> bytes:
    """The SOAP answer of ``operation`` returning ``value``."""
    envelope, body = _envelope()
    response = etree.SubElement(
        body, f"{{{NAMESPACE}}}{operation.name}Response", nsmap={None: NAMESPACE}
    )
    result = etree.SubElement(response, f"{{{NAMESPACE}}}{operation.result_element}")
    if operation.result is ResultType.STRINGS:
        assert not isinstance(value, str | int)
        for item in value:
            etree.SubElement(result, f"{{{NAMESPACE}}}string").text = xml_text(item)
    elif operation.result is ResultType.INT:
        assert isinstance(value, int)
        result.text = str(value)
    else:
        assert isinstance(value, str)
        result.text = xml_text(value)
    return _serialize(envelope)


def render_fault(fault: SoapFault) -> bytes:
    """A SOAP 1.1 fault."""
    envelope, body = _envelope()
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = f"soap:{fault.code.value}"
    etree.SubElement(element, "faultstring").text = xml_text(fault.message)
    return _serialize(envelope)

"""SOAP 1.1, document/literal, as the QuickBooks Web Connector speaks it.

The eleven operations, their parameters and results are declared once here
(:data:`OPERATIONS`); the parser, the answers and the WSDL all follow that
table, with the element names of Intuit's WSDL. Every input is parsed by
:mod:`reconciler.base.xmlsafe` (no DTD, no entities, no network); anything that is
not a well-formed call of a known operation becomes a :class:`SoapFault`,
never a traceback.

A call is parsed as its body arrives (:func:`read_call`), and what a stranger
can make the server spend is bounded before anything is parsed whole: the
operation's own size bound applies once the SOAPAction header or the first
64 KiB of the body name it, whichever comes first (and the two must agree);
the envelope may hold only a few elements, a few levels deep (the qbXML
travels as escaped text inside one element); and the two calls that may be
large (``sendRequestXML``, ``receiveResponseXML``) are read past their first
64 KiB only once the ticket that opens them is a session's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from reconciler.base.wsgibody import BadBody, Body, BodyTooLarge
from reconciler.base.xmlsafe import BoundedXML, XMLInputError

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
# What a caller who holds no session can make the server read of one call: the
# whole of a small call, the start of a large one (up to its ticket).
UNAUTHENTICATED_BODY = 64 * KiB
# An envelope, its body, the operation and its parameters: a Web Connector call
# has about ten elements, four levels deep (its qbXML is text). Room is left
# for a header or two.
MAX_ELEMENTS = 64
MAX_DEPTH = 8


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

    def __post_init__(self) -> None:
        if self.ticket_first:
            assert self.params[0].name == "ticket", f"{self.name} may be large: ticket first"

    @property
    def ticket_first(self) -> bool:
        """Whether the call may be larger than a stranger may send: then it is read past
        :data:`UNAUTHENTICATED_BODY` only once its ticket (its first parameter) is known."""
        return self.max_body > UNAUTHENTICATED_BODY

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


_SMALL = UNAUTHENTICATED_BODY
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
    """A parsed call: the operation and its arguments (None when absent or nil).

    ``complete`` is False for a large call whose ticket no session holds: the
    rest of it was not read, and ``args`` hold its ticket alone.
    """

    operation: Operation
    args: dict[str, str | int | None]
    complete: bool = True

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


# Whether a ticket is an open session's (given by the service, which owns sessions).
Admit = Callable[[str], bool]


def announced_operation(soap_action: str | None) -> Operation | None:
    """The operation a SOAPAction header names (None when it is absent or empty, which
    SOAP 1.1 allows); a :class:`SoapFault` when it names none of this service's."""
    value = (soap_action or "").strip().strip('"').strip()
    if not value:
        return None
    operation = OPERATIONS.get(value.removeprefix(NAMESPACE))
    if operation is None or not value.startswith(NAMESPACE):
        raise SoapFault(FaultCode.CLIENT, f"SOAPAction {value[:100]!r} is not an operation here")
    return operation


def parse_call(body: bytes) -> SoapCall:
    """Parse a whole SOAP 1.1 request body into a call; raise :class:`SoapFault`."""
    return read_call(Body(io.BytesIO(body), len(body), MAX_BODY))


def read_call(
    body: Body, *, soap_action: str | None = None, admit: Admit | None = None
) -> SoapCall:
    """Read and parse a SOAP 1.1 call from ``body`` as it arrives; raise :class:`SoapFault`.

    Reading stops at the first piece that shows the call is not to be read: more
    elements or depth than a call has (:data:`MAX_ELEMENTS`, :data:`MAX_DEPTH`), no
    operation within :data:`UNAUTHENTICATED_BODY`, more than its operation's bound
    (answered 413), or a large call whose ticket ``admit`` refuses (returned
    incomplete, for the service to answer as it answers an unknown ticket).
    """
    announced = announced_operation(soap_action)
    reader = _CallReader(body, announced, admit)
    try:
        if announced is not None:
            body.limit_to(announced.max_body)
        return reader.read()
    except BodyTooLarge as exc:
        name = reader.operation.name if reader.operation else announced.name if announced else ""
        raise SoapFault(FaultCode.CLIENT, f"{name} {exc}".strip(), http_status=413) from None
    except (BadBody, XMLInputError) as exc:
        raise SoapFault(FaultCode.CLIENT, str(exc)) from None


class _CallReader:
    """One call being read: finds its operation and its ticket as the pieces come."""

    def __init__(self, body: Body, announced: Operation | None, admit: Admit | None) -> None:
        self.body = body
        self.announced = announced
        self.admit = admit
        self.xml = BoundedXML(source="SOAP request", max_elements=MAX_ELEMENTS, max_depth=MAX_DEPTH)
        self.operation: Operation | None = None
        self.element: etree._Element | None = None  # the operation's element
        self.first_param: etree._Element | None = None
        # Whether the rest may be read: the operation is known, and when it may be
        # large, its ticket is a session's.
        self.admitted = False

    def read(self) -> SoapCall:
        while piece := self.body.read():
            for event, element in self.xml.feed(piece):
                refused = self._event(event, element)
                if refused is not None:
                    return refused
            if not self.admitted and self.body.consumed > UNAUTHENTICATED_BODY:
                raise self._too_much()
        return _call_of(self.xml.close())

    def _too_much(self) -> SoapFault:
        """Why a call is not read past :data:`UNAUTHENTICATED_BODY` before it is admitted."""
        if self.operation is None:
            what = "no SOAP operation"
        else:
            what = f"{self.operation.name}: no ticket (it comes first)"
        return SoapFault(
            FaultCode.CLIENT,
            f"{what} in the first {UNAUTHENTICATED_BODY} bytes of the request",
            http_status=413,
        )

    def _event(self, event: str, element: etree._Element) -> SoapCall | None:
        """Take one event in; the incomplete call when its ticket is refused."""
        parent = element.getparent()
        if event == "start" and self.operation is None and _is_soap_body(parent):
            self._found(element)
        elif event == "start" and parent is not None and parent is self.element:
            if self.first_param is None:
                self.first_param = element
        elif event == "end" and element is self.first_param and not self.admitted:
            return self._ticket(element)
        return None

    def _found(self, element: etree._Element) -> None:
        namespace, name = _local(element.tag)
        operation = OPERATIONS.get(name)
        if operation is None or namespace != NAMESPACE:
            raise SoapFault(FaultCode.CLIENT, f"unknown operation {{{namespace or ''}}}{name}")
        if self.announced is not None and operation is not self.announced:
            raise SoapFault(
                FaultCode.CLIENT,
                f"the SOAPAction header names {self.announced.name}, the body calls {name}",
            )
        self.operation, self.element = operation, element
        self.body.limit_to(operation.max_body)
        self.admitted = not operation.ticket_first or self.admit is None

    def _ticket(self, element: etree._Element) -> SoapCall | None:
        assert self.operation is not None and self.admit is not None
        namespace, name = _local(element.tag)
        if name != "ticket" or namespace not in (NAMESPACE, None):
            return None  # read no further than a stranger may send
        if _elements(element):
            raise SoapFault(FaultCode.CLIENT, "ticket must be text, not XML elements")
        ticket = element.text or ""
        if not self.admit(ticket):
            return SoapCall(self.operation, {"ticket": ticket}, complete=False)
        self.admitted = True
        return None


def _is_soap_body(element: etree._Element | None) -> bool:
    """Whether ``element`` is the Body of a SOAP 1.1 envelope at the document's root."""
    if element is None or element.tag != f"{{{SOAP_ENV}}}Body":
        return False
    envelope = element.getparent()
    return envelope is not None and envelope.getparent() is None


def _call_of(envelope: etree._Element) -> SoapCall:
    """The call a whole (bounded) envelope holds; raise :class:`SoapFault`."""
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

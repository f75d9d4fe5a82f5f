"""Reading qbXML responses: a hardened, streaming parser into the domain model.

A response document may be plain qbXML or still wrapped in the Web
Connector's SOAP envelope (``receiveResponseXML/response``). Plain qbXML is
streamed with ``lxml.etree.iterparse``: each top-level ``*Ret`` element is
turned into a model object as soon as it is complete, then cleared and
dropped, so memory stays bounded by one object's XML however long the
response. Entity resolution, DTDs and network access are off, a DOCTYPE is
refused, and every error names the file (or "response") and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from lxml import etree

from reconciler.base.xmlsafe import SAFE_OPTIONS, XMLInputError, parse_xml, safe_parser
from reconciler.model.quickbooks import (
    CompanyInfo,
    Customer,
    HostInfo,
    Invoice,
    Item,
    ListHeader,
    QBState,
    TxnHeader,
)
from reconciler.qbxml.rets import Element, QbxmlParseError, RetBuilder
from reconciler.qbxml.status import Severity, Status

__all__ = [
    "QBObject",
    "QbxmlParseError",
    "Response",
    "parse_response",
    "parse_ret",
    "parse_state",
    "read_fields",
]

# What a *Ret becomes; a header when QuickBooks returned only part of the object.
QBObject = HostInfo | CompanyInfo | Customer | Item | Invoice | ListHeader | TxnHeader
T = TypeVar("T", Customer, Item, Invoice)

# The protections of reconciler.base.xmlsafe, for the streaming parser.
_SAFE = {**SAFE_OPTIONS, "remove_comments": True, "remove_pis": True}
_SNIFF_BYTES = 4096
_TAG_NAME = re.compile(rb"<([^\s/>]+)")
_XML_DECLARATION = re.compile(rb"<\?xml\s[^>]*\?>")
_LEADING_DECLARATION = re.compile(r"^\s*<\?xml\s[^>]*\?>")


@dataclass(frozen=True)
class Response:
    """One ``*Rs`` element of a response document."""

    request_type: str  # "InvoiceQuery", "InvoiceAdd", "ItemServiceMod", ...
    request_id: str | None
    status: Status
    objects: tuple[QBObject, ...] = ()
    iterator_id: str | None = None
    iterator_remaining_count: int | None = None


def parse_response(source: bytes | str | Path) -> list[Response]:
    """Every response in a qbXML response document, in document order.

    ``source`` is the document (bytes or text) or a file holding it; the
    document may be plain qbXML or the Web Connector's SOAP request that
    carries it. Raises :class:`QbxmlParseError` on malformed or unexpected input.
    """
    label = str(source) if isinstance(source, Path) else "response"
    with _opened(source, label) as stream:
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
        if _root_name(head).rpartition(b":")[2] == b"Envelope":
            inner = _unwrap_soap(stream.read(), label)
            return _stream(io.BytesIO(inner), f"{label} (qbXML inside the SOAP envelope)")
        return _stream(stream, label)


def parse_state(sources: Iterable[bytes | Path]) -> QBState:
    """Merge the objects of many response documents into one :class:`QBState`.

    Objects are kept in QuickBooks' order; one that appears more than once
    (the same ListID or TxnID) keeps the copy with the latest TimeModified.
    A failed query, an iterator whose remaining objects no document holds, or
    an object QuickBooks returned only in part (a :class:`ListHeader` or
    :class:`TxnHeader`) raises :class:`QbxmlParseError`: planning on part of
    the state could add an invoice that already exists, or keep one's stale
    EditSequence.
    """
    host: HostInfo | None = None
    company: CompanyInfo | None = None
    customers = _Latest[Customer](lambda c: c.list_id)
    items = _Latest[Item](lambda i: i.list_id)
    invoices = _Latest[Invoice](lambda i: i.txn_id)
    iterators: dict[str, tuple[str, str, int]] = {}
    for source in sources:
        label = str(source) if isinstance(source, Path) else "response"
        for response in parse_response(source):
            _check_complete(response, label)
            if response.iterator_id and response.iterator_remaining_count is not None:
                # The count falls page by page: its lowest value is what is
                # still missing, in whatever order the files come.
                known = iterators.get(response.iterator_id)
                if known is None or response.iterator_remaining_count < known[2]:
                    iterators[response.iterator_id] = (
                        label,
                        response.request_type,
                        response.iterator_remaining_count,
                    )
            for obj in response.objects:
                match obj:
                    case Invoice():
                        invoices.add(obj)
                    case Customer():
                        customers.add(obj)
                    case Item():
                        items.add(obj)
                    case HostInfo():
                        host = obj
                    case CompanyInfo():
                        company = obj
                    case ListHeader() | TxnHeader():
                        raise _partial_object(obj, response, label)
    for iterator_id, (label, request_type, remaining) in iterators.items():
        if remaining > 0:
            raise QbxmlParseError(
                f"{label}: the {request_type} iterator {iterator_id} still had {remaining} "
                "object(s) to return, and no response holds them; read QuickBooks again"
            )
    if company is not None and company.company_name is not None:
        host = replace(host or HostInfo(product_name=""), company_name=company.company_name)
    return QBState(
        host=host,
        customers=customers.values(),
        items=items.values(),
        invoices=invoices.values(),
    )


def read_fields(
    source: bytes | str, ret: str, fields: Sequence[str]
) -> list[tuple[str | None, ...]]:
    """The text of ``fields`` in each ``ret`` element of a response document (say the
    ``TxnID`` and ``ExternalGUID`` of every ``InvoiceRet``), None where one is absent.

    For a caller that needs a few IDs of a document :func:`parse_response` has
    already read whole: a tenth of the work. Same hardening; values are not checked.
    """
    found: list[tuple[str | None, ...]] = []
    with _opened(source, "response") as stream:
        context = etree.iterparse(stream, events=("end",), tag=ret, **_SAFE)
        try:
            for _event, element in context:
                parent = element.getparent()
                if parent is not None and parent.tag.endswith("Rs"):
                    found.append(tuple(element.findtext(name) for name in fields))
                element.clear()
        except etree.XMLSyntaxError as exc:
            raise QbxmlParseError(f"response: malformed XML: {exc.msg}") from None
        _check_document(context.root, "response")
    return found


def parse_ret(source: bytes | str | Path) -> QBObject:
    """The object of a document that is a single ``*Ret`` element (``ItemServiceRet``...).

    Such fragments come from logs and documentation rather than from
    QuickBooks, and carry no status: :func:`parse_response` refuses them.
    Same hardening and errors as :func:`parse_response`.
    """
    label = str(source) if isinstance(source, Path) else "object"
    builder = RetBuilder(label)
    with _opened(source, label) as stream:
        try:
            root = etree.parse(stream, safe_parser(remove_comments=True, remove_pis=True)).getroot()
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or (exc.position[0] if exc.position else None)
            where = f"{label}:{line}" if line else label
            raise QbxmlParseError(f"{where}: malformed XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise QbxmlParseError(f"{label}: a DOCTYPE is not allowed in a qbXML object")
    build = builder.builders.get(root.tag)
    if build is None:
        what = (
            "a whole qbXML document, not a single object"
            if root.tag == "QBXML"
            else f"<{root.tag}> is not an object reconciler reads"
        )
        raise QbxmlParseError(f"{label}:{root.sourceline}: {what}")
    return build(root)  # type: ignore[return-value]


def _partial_object(obj: ListHeader | TxnHeader, response: Response, label: str) -> QbxmlParseError:
    object_id = obj.list_id if isinstance(obj, ListHeader) else obj.txn_id
    return QbxmlParseError(
        f"{label}: the {response.request_type} response holds only part of "
        f"{obj.object_type} {object_id}: a plan needs whole objects",
        hint="QuickBooks returns part of an object when the request names the fields "
        "it wants (IncludeRetElement): read QuickBooks with queries that return whole objects.",
    )


def _check_complete(response: Response, label: str) -> None:
    if response.request_type.endswith("Query") and response.status.severity is Severity.ERROR:
        request = f"the {response.request_type} request"
        if response.request_id:
            request += f" {response.request_id}"
        raise QbxmlParseError(
            f"{label}: {request} failed with status {response.status.code}: "
            f"{response.status.message}",
            hint=response.status.explanation,
        )


class _Latest(Generic[T]):
    """Objects by id in first-seen order, each the copy modified last."""

    def __init__(self, key: Any) -> None:
        self._key = key
        self._objects: dict[str, T] = {}

    def add(self, obj: T) -> None:
        key = self._key(obj)
        current = self._objects.get(key)
        if current is None or _modified(obj) >= _modified(current):
            self._objects[key] = obj

    def values(self) -> tuple[T, ...]:
        return tuple(self._objects.values())


def _modified(obj: Any) -> tuple[int, Any]:
    # Objects without TimeModified sort first; among them, the later one wins.
    stamp = obj.time_modified
    return (0, 0) if stamp is None else (1, stamp.timestamp())


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


@contextmanager
def _opened(source: bytes | str | Path, label: str) -> Iterator[IO[bytes]]:
    if isinstance(source, Path):
        try:
            stream = source.open("rb")
        except OSError as exc:
            raise QbxmlParseError(f"{label}: cannot read the file: {exc.strerror}") from None
        with stream:
            yield stream
    elif isinstance(source, str):
        # Text has no encoding of its own: drop a declaration that names one.
        yield io.BytesIO(_LEADING_DECLARATION.sub("", source, count=1).encode("utf-8"))
    else:
        yield io.BytesIO(source)


def _root_name(head: bytes) -> bytes:
    """The root element's name as written, from the start of a document."""
    position = 0
    while (position := head.find(b"<", position)) >= 0:
        for opening, closing in ((b"<?", b"?>"), (b"<!--", b"-->"), (b"<!", b">")):
            if head.startswith(opening, position):
                end = head.find(closing, position)
                if end < 0:
                    return b""
                position = end + len(closing)
                break
        else:
            found = _TAG_NAME.match(head, position)
            return found.group(1) if found else b""
    return b""


def _unwrap_soap(data: bytes, label: str) -> bytes:
    """The qbXML document a Web Connector ``receiveResponseXML`` call carries."""
    # Some tools embed the qbXML unescaped, XML declaration included, which
    # makes the envelope malformed. An XML declaration is legal nowhere but
    # at the very start, so dropping the others changes nothing else.
    head = re.match(rb"^(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*\?>", data)
    start = head.end() if head else 0
    data = data[:start] + _XML_DECLARATION.sub(b"", data[start:])
    try:
        envelope = parse_xml(data, source=label)
    except XMLInputError as exc:
        raise QbxmlParseError(str(exc)) from None
    response = next(
        (el for el in envelope.iter() if isinstance(el.tag, str) and _local(el.tag) == "response"),
        None,
    )
    if response is None:
        raise QbxmlParseError(
            f"{label}: this SOAP message is not a Web Connector receiveResponseXML call"
        )
    embedded = [child for child in response if isinstance(child.tag, str)]
    if embedded:
        return etree.tostring(_without_namespaces(embedded[0]), encoding="utf-8")
    text = (response.text or "").strip()
    if not text:
        details = {
            _local(el.tag): (el.text or "").strip()
            for el in response.itersiblings()
            if isinstance(el.tag, str) and _local(el.tag) in ("hresult", "message")
        }
        said = "; ".join(f"{k} {v}" for k, v in details.items() if v)
        raise QbxmlParseError(
            f"{label}:{response.sourceline}: the Web Connector sent no qbXML response"
            + (f" ({said})" if said else "")
        )
    return _LEADING_DECLARATION.sub("", text, count=1).encode("utf-8")


def _without_namespaces(element: Element) -> Element:
    """A copy of ``element`` in no namespace (embedded qbXML inherits the SOAP body's)."""
    copy = etree.Element(_local(element.tag), {_local(k): v for k, v in element.attrib.items()})
    copy.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            child_copy = _without_namespaces(child)
            child_copy.tail = child.tail
            copy.append(child_copy)
    return copy


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------


def _stream(stream: IO[bytes], label: str) -> list[Response]:
    builder = RetBuilder(label)
    watched = ("QBXMLMsgsRs", *builder.builders)
    context = etree.iterparse(stream, events=("end",), tag=watched, **_SAFE)
    responses: list[Response] = []
    buckets: list[tuple[Element, list[QBObject]]] = []
    current_rs: Element = None
    objects: list[QBObject] = []
    saw_messages = checked = False
    try:
        for _event, element in context:
            if not checked:
                _check_document(element.getroottree().getroot(), label)
                checked = True
            if element.tag == "QBXMLMsgsRs":
                responses.extend(_responses(element, buckets, label))
                buckets.clear()
                current_rs = None
                saw_messages = True
                continue
            parent = element.getparent()
            if parent is None or not parent.tag.endswith("Rs"):
                continue  # a *Ret nested somewhere we do not read
            if parent is not current_rs:
                current_rs, objects = parent, []
                buckets.append((parent, objects))
            objects.append(builder.builders[element.tag](element))
            # Keep memory bounded: drop what has been turned into objects.
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        where = f"{label}:{line}" if line else label
        raise QbxmlParseError(f"{where}: malformed XML: {exc.msg}") from None
    root = context.root
    if not checked:
        _check_document(root, label)
    if not saw_messages:
        kinds = [child.tag for child in root if isinstance(child.tag, str)]
        if "QBXMLMsgsRq" in kinds:
            raise QbxmlParseError(f"{label}: this is a qbXML request (QBXMLMsgsRq), not a response")
        raise QbxmlParseError(f"{label}: the qbXML document holds no QBXMLMsgsRs")
    return responses


def _check_document(root: Element, label: str) -> None:
    if root is None:
        raise QbxmlParseError(f"{label}: the document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise QbxmlParseError(f"{label}: a DOCTYPE is not allowed in a qbXML response")
    if root.tag != "QBXML":
        lone = " (a single object, not a response)" if root.tag.endswith("Ret") else ""
        raise QbxmlParseError(
            f"{label}:{root.sourceline}: not a qbXML response document: "
            f"its root element is <{root.tag}>, not <QBXML>{lone}"
        )


def _responses(
    messages: Element, buckets: list[tuple[Element, list[QBObject]]], label: str
) -> list[Response]:
    found = dict((id(rs), objects) for rs, objects in buckets)
    responses = []
    for rs in messages:
        tag = rs.tag
        if not isinstance(tag, str):
            continue
        if not tag.endswith("Rs"):
            raise QbxmlParseError(f"{label}:{rs.sourceline}: unexpected <{tag}> in QBXMLMsgsRs")
        responses.append(_response(rs, tuple(found.get(id(rs), ())), label))
    return responses


def _response(rs: Element, objects: tuple[QBObject, ...], label: str) -> Response:
    attributes = rs.attrib
    code_text = attributes.get("statusCode")
    try:
        code = int(code_text)
    except (TypeError, ValueError):
        raise QbxmlParseError(
            f"{label}:{rs.sourceline}: {rs.tag} has no valid statusCode ({code_text!r})"
        ) from None
    remaining = attributes.get("iteratorRemainingCount")
    try:
        remaining_count = int(remaining) if remaining is not None else None
    except ValueError:
        raise QbxmlParseError(
            f"{label}:{rs.sourceline}: {rs.tag} iteratorRemainingCount {remaining!r} is not a number"
        ) from None
    return Response(
        request_type=rs.tag[:-2],
        request_id=attributes.get("requestID"),
        status=Status.from_code(code, attributes.get("statusMessage", "")),
        objects=objects,
        iterator_id=attributes.get("iteratorID"),
        iterator_remaining_count=remaining_count,
    )

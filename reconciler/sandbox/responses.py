"""Books to and from qbXML response documents.

:func:`books_from_qbxml` builds books from real responses (captured query
answers, a dump); :func:`books_to_qbxml` writes books as the one response
document the product reads as ``--qb-state``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.sandbox import elements as el
from reconciler.sandbox.books import ITEM_RETS, Books
from reconciler.sandbox.elements import Element
from reconciler.sandbox.host import host_ret, versions_up_to
from reconciler.sandbox.status import OK


def books_from_qbxml(
    sources: Iterable[Path | bytes | str],
    *,
    name: str | None = None,
    file_path: str = "",
) -> Books:
    """Books from qbXML response documents (``*QueryRs``, ``*AddRs``, ``*ModRs``).

    ``sources`` are paths or document bytes/text, plain or still inside the
    Web Connector's ``receiveResponseXML`` SOAP envelope. The company name
    comes from a ``CompanyRet`` when ``name`` is not given. A source that
    is not a qbXML response raises :class:`~reconciler.base.xmlsafe.XMLInputError`.
    """
    books = Books(name or "", file_path)
    for source in sources:
        where = str(source) if isinstance(source, Path) else "qbXML response"
        data = source.read_bytes() if isinstance(source, Path) else source
        root = _unwrap(parse_xml(data, source=where), where)
        _register_rets(books, el.strip_blank_text(root), keep_name=name is not None)
    return books


def books_to_qbxml(books: Books, *, version: str = "13.0") -> str:
    """One qbXML response document holding everything the books hold.

    ``HostQueryRs`` (supported versions up to ``version``), ``CustomerQueryRs``,
    ``ItemQueryRs`` and ``InvoiceQueryRs`` with lines, linked transactions
    and all private data: what the product reads as ``--qb-state``.
    """
    host = el.response_element("HostQueryRs", request_id=None, status=OK)
    host.append(host_ret("QuickBooks Pro", versions_up_to(version)))
    customers = el.response_element("CustomerQueryRs", request_id=None, status=OK)
    balances = books.balances()
    customers.extend(books.customer_view(ret, balances) for ret in books.customers.values())
    items = el.response_element("ItemQueryRs", request_id=None, status=OK)
    items.extend(copy.deepcopy(ret) for ret in books.items.values())
    invoices = el.response_element("InvoiceQueryRs", request_id=None, status=OK)
    invoices.extend(copy.deepcopy(ret) for ret in books.invoices.values())
    return el.document([host, customers, items, invoices])


def _register_rets(books: Books, root: Element, *, keep_name: bool) -> None:
    for ret in root.iterfind("QBXMLMsgsRs/*/*"):
        tag = ret.tag
        if tag == "CustomerRet":
            books.register_customer(copy.deepcopy(ret))
        elif tag in ITEM_RETS:
            books.register_item(copy.deepcopy(ret))
        elif tag == "InvoiceRet":
            books.register_invoice(copy.deepcopy(ret))
        elif tag == "CompanyRet" and not keep_name:
            books.name = el.text_of(ret, "CompanyName", books.name) or ""


def _unwrap(root: Element, where: str) -> Element:
    """The QBXML root of a response, taken out of a SOAP envelope when it is in one."""
    if etree.QName(root).localname == "Envelope":
        response = root.find(".//{http://developer.intuit.com/}response")
        if response is not None and response.text and response.text.strip():
            root = parse_xml(response.text.strip(), source=f"{where} (response)")
    if root.tag != "QBXML" or root.find("QBXMLMsgsRs") is None:
        raise XMLInputError(f"{where}: not a qbXML response document")
    return root

"""Test-only: answer a rendered InvoiceAdd or InvoiceMod the way QuickBooks does.

Turns the request into the ``InvoiceRet`` QuickBooks would return: it assigns
TxnID, TxnLineIDs and EditSequence, takes each line's rate from the item,
computes amounts, leaves out empty fields, applies an InvoiceMod to the
existing lines (listed lines kept or changed, ``-1`` added, the others
deleted), and writes the fields in the order of Intuit's schema.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from lxml import etree

from reconciler.model.quickbooks import Invoice, InvoiceLine, InvoiceLineGroup, Ref

CENT = Decimal("0.01")
_ids = itertools.count(0x100)


def _ref_xml(tag: str, ref: Ref | None) -> str:
    if ref is None:
        return ""
    parts = [f"<ListID>{escape(ref.list_id)}</ListID>" if ref.list_id else ""]
    parts.append(f"<FullName>{escape(ref.full_name)}</FullName>" if ref.full_name else "")
    return f"<{tag}>{''.join(parts)}</{tag}>"


def _field(tag: str, value: object) -> str:
    if value is None or value == "":
        return ""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _line_xml(line: InvoiceLine) -> str:
    return (
        "<InvoiceLineRet>"
        + _field("TxnLineID", line.txn_line_id)
        + _ref_xml("ItemRef", line.item)
        + _field("Desc", line.desc)
        + _field("Quantity", line.quantity)
        + _field("Rate", line.rate)
        + _field("Amount", line.amount)
        + _field("ServiceDate", line.service_date)
        + "</InvoiceLineRet>"
    )


def _group_xml(group: InvoiceLineGroup) -> str:
    return (
        "<InvoiceLineGroupRet>"
        + _field("TxnLineID", group.txn_line_id)
        + _ref_xml("ItemGroupRef", group.item_group)
        + _field("Desc", group.desc)
        + f"<IsPrintItemsInGroup>{str(group.is_print_items_in_group).lower()}</IsPrintItemsInGroup>"
        + f"<TotalAmount>{group.total_amount or Decimal('0.00')}</TotalAmount>"
        + "".join(_line_xml(line) for line in group.lines)
        + "</InvoiceLineGroupRet>"
    )


def _new_line(element: etree._Element, txn_line_id: str, prices: dict[str, Decimal]) -> InvoiceLine:
    ref_element = element.find("ItemRef")
    list_id = ref_element.findtext("ListID")
    full_name = ref_element.findtext("FullName")
    key = list_id or full_name
    # QuickBooks answers a reference by either field with both.
    item = Ref(list_id or f"LID-{full_name}"[:36], full_name or f"Item {list_id}")
    quantity = Decimal(element.findtext("Quantity"))
    rate = prices.get(key, Decimal("10.00"))
    amount = (quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    service_date = element.findtext("ServiceDate")
    return InvoiceLine(
        txn_line_id=txn_line_id,
        item=item,
        desc=element.findtext("Desc") or None,
        quantity=quantity,
        rate=rate,
        amount=amount,
        service_date=None if service_date is None else dt.date.fromisoformat(service_date),
    )


def _invoice_xml(
    *,
    txn_id: str,
    edit_sequence: str,
    customer: Ref,
    txn_date: str,
    memo: str | None,
    external_guid: str | None,
    lines: list[InvoiceLine | InvoiceLineGroup],
) -> str:
    subtotal = sum(
        (
            (line.amount or Decimal(0)) if isinstance(line, InvoiceLine) else line.total_amount or 0
            for line in lines
        ),
        Decimal("0.00"),
    )
    body = "".join(
        _line_xml(line) if isinstance(line, InvoiceLine) else _group_xml(line) for line in lines
    )
    return (
        "<InvoiceRet>"
        + _field("TxnID", txn_id)
        + "<TimeCreated>2024-06-01T05:00:00-05:00</TimeCreated>"
        + f"<TimeModified>2024-06-01T05:00:{int(edit_sequence) % 60:02d}-05:00</TimeModified>"
        + _field("EditSequence", edit_sequence)
        + _ref_xml("CustomerRef", customer)
        + _field("TxnDate", txn_date)
        + "<IsPending>false</IsPending>"
        + f"<Subtotal>{subtotal.quantize(CENT)}</Subtotal>"
        + "<AppliedAmount>0.00</AppliedAmount>"
        + f"<BalanceRemaining>{subtotal.quantize(CENT)}</BalanceRemaining>"
        + _field("Memo", memo)
        + "<IsPaid>false</IsPaid>"
        + _field("ExternalGUID", external_guid and external_guid.upper())
        + body
        + "</InvoiceRet>"
    )


def respond(rs_tag: str, request_id: str, ret: str) -> bytes:
    return (
        '<?xml version="1.0" ?>\n<QBXML><QBXMLMsgsRs>'
        f'<{rs_tag} requestID="{request_id}" statusCode="0" statusSeverity="Info" '
        f'statusMessage="Status OK">{ret}</{rs_tag}></QBXMLMsgsRs></QBXML>'
    ).encode()


def answer_invoice_add(request_xml: str, prices: dict[str, Decimal]) -> bytes:
    """The InvoiceAddRs QuickBooks sends back for a rendered InvoiceAddRq."""
    request = etree.fromstring(request_xml)
    add = request.find("InvoiceAdd")
    customer = add.find("CustomerRef")
    serial = next(_ids)
    lines = [
        _new_line(line, f"{serial:X}-{n}", prices)
        for n, line in enumerate(add.iter("InvoiceLineAdd"))
    ]
    ret = _invoice_xml(
        txn_id=f"{serial:X}-1717200000",
        edit_sequence="1717200000",
        customer=Ref(customer.findtext("ListID"), customer.findtext("FullName") or "Customer"),
        txn_date=add.findtext("TxnDate"),
        memo=add.findtext("Memo"),
        external_guid=add.findtext("ExternalGUID"),
        lines=lines,
    )
    return respond("InvoiceAddRs", request.get("requestID"), ret)


def answer_invoice_mod(request_xml: str, invoice: Invoice, prices: dict[str, Decimal]) -> bytes:
    """The InvoiceModRs QuickBooks sends back for a rendered InvoiceModRq on ``invoice``."""
    request = etree.fromstring(request_xml)
    mod = request.find("InvoiceMod")
    assert mod.findtext("TxnID") == invoice.txn_id
    assert mod.findtext("EditSequence") == invoice.edit_sequence
    existing = {line.txn_line_id: line for line in invoice.lines}
    lines: list[InvoiceLine | InvoiceLineGroup] = []
    serial = next(_ids)
    for n, element in enumerate(mod):
        if element.tag not in ("InvoiceLineMod", "InvoiceLineGroupMod"):
            continue
        line_id = element.findtext("TxnLineID")
        if line_id == "-1":
            lines.append(_new_line(element, f"{serial:X}-{n}", prices))
        elif len(element) == 1:
            lines.append(existing[line_id])  # listed alone: kept as it is
        else:
            lines.append(_new_line(element, line_id, prices))
    edit_sequence = str(int(invoice.edit_sequence) + 1)
    ret = _invoice_xml(
        txn_id=invoice.txn_id,
        edit_sequence=edit_sequence,
        customer=invoice.customer,
        txn_date=invoice.txn_date.isoformat(),
        memo=invoice.memo,
        external_guid=invoice.external_guid and "{" + invoice.external_guid + "}",
        lines=lines,
    )
    return respond("InvoiceModRs", request.get("requestID"), ret)

"""Rendering plan changes and queries to qbXML, through the Jinja templates.

Rendering is a pure function. Python checks and formats every value (text
QuickBooks can store, lengths, numbers, GUIDs) and the templates in
``templates/qbxml/`` lay the elements out in the schema's order. Every
rendered request is then checked against the version table: a field the
negotiated qbXML version lacks is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from reconciler.base.resources import templates_dir
from reconciler.base.xmlsafe import parse_xml
from reconciler.engine.changes import (
    AddLine,
    Change,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model.quickbooks import COST_CHECKBOX, COSTED_ITEM_KINDS, InvoiceLineGroup, Ref
from reconciler.qbxml.queries import (
    CompanyQuery,
    CustomerQuery,
    HostQuery,
    InvoiceQuery,
    ItemQuery,
    Query,
)
from reconciler.qbxml.values import (
    MAX_LENGTH,
    QbxmlRenderError,
    check_edit_sequence,
    check_id,
    check_ids,
    check_request_id,
    check_text,
    check_texts,
    format_guid,
    format_quantity,
)
from reconciler.qbxml.version import (
    FIELD_VERSIONS,
    UnsupportedQuickBooks,
    check_version,
    supports,
)

__all__ = ["QbxmlRenderError", "compile_templates", "render_document", "render_request"]

OnError = Literal["stopOnError", "continueOnError"]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: compiled once, never looked at
        # on disk again (the server renders on every call).
        auto_reload=False,
    )


def compile_templates() -> None:
    """Compile every qbXML template now rather than at its first use: a server calls this
    as it starts, so that its first Web Connector calls (tens of ms of CPU) do not pay."""
    environment = _environment()
    for name in environment.list_templates(filter_func=lambda name: name.endswith(".j2")):
        environment.get_template(name)


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context).strip()


def render_request(request: Query | Change, *, version: str, request_id: str) -> str:
    """One qbXML request element for ``request``, e.g. ``<InvoiceAddRq requestID="...">``.

    Raises :class:`QbxmlRenderError` (a user error naming the object and
    field) for values QuickBooks cannot store, and :class:`UnsupportedQuickBooks`
    when ``version`` lacks a field the request needs.
    """
    version = check_version(version)
    request_id = check_request_id(request_id)
    match request:
        case HostQuery():
            xml = _render("HostQueryRq.xml.j2", request_id=request_id)
        case CompanyQuery():
            xml = _render("CompanyQueryRq.xml.j2", request_id=request_id)
        case CustomerQuery() | ItemQuery():
            xml = _render_list_query(request, request_id)
        case InvoiceQuery():
            xml = _render_invoice_query(request, request_id)
        case ItemCostUpdate():
            xml = _render_item_cost(request, request_id)
        case InvoiceCreate():
            xml = _render_invoice_add(request, request_id)
        case InvoiceUpdate():
            xml = _render_invoice_mod(request, request_id)
        case _:
            raise TypeError(f"cannot render {type(request).__name__} as qbXML")
    _check_fields(xml, version)
    return xml


def render_document(
    requests: Sequence[str],
    *,
    version: str,
    on_error: OnError = "stopOnError",
    checked: bool = False,
) -> str:
    """A whole qbXML request document holding ``requests`` (rendered elements).

    ``checked``: each request is known to be one well-formed request element
    (it comes from :func:`render_request`, or from a document this function
    made), so it is not parsed again: the server builds a document at every
    call, some with a thousand ListIDs.
    """
    if on_error not in ("stopOnError", "continueOnError"):
        raise ValueError(f"on_error must be stopOnError or continueOnError, not {on_error!r}")
    for request in () if checked else requests:
        tag = parse_xml(request, source="qbXML request").tag
        if not tag.endswith("Rq"):
            raise ValueError(f"<{tag}> is not a qbXML request element")
    return _render(
        "envelope.xml.j2",
        version=check_version(version),
        on_error=on_error,
        # Each request was rendered (and escaped) by render_request and is
        # one well-formed request element (checked just now, or known to be).
        requests=[Markup(r) for r in requests],  # noqa: S704
    )


# --------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------


def _owner_id(value: str, subject: str) -> str:
    return "0" if value.strip() == "0" else format_guid(value, subject=subject, field="OwnerID")


def _paging(query: CustomerQuery | ItemQuery | InvoiceQuery, subject: str) -> dict[str, object]:
    """The fields every list and transaction query shares."""
    return {
        "max_returned": query.max_returned,
        "owner_ids": [_owner_id(o, subject) for o in query.owner_ids],
        "iterator": query.iterator,
        "iterator_id": query.iterator_id,
    }


def _render_list_query(query: CustomerQuery | ItemQuery, request_id: str) -> str:
    is_customer = isinstance(query, CustomerQuery)
    subject = "customer query" if is_customer else "item query"
    limit = MAX_LENGTH["CustomerRef/FullName" if is_customer else "ItemRef/FullName"]
    view = {
        "list_ids": check_ids(query.list_ids, subject=subject, field="ListID"),
        "full_names": check_texts(
            query.full_names, subject=subject, field="FullName", max_length=limit
        ),
        "active_status": query.active_status,
        **_paging(query, subject),
    }
    template = "CustomerQueryRq.xml.j2" if is_customer else "ItemQueryRq.xml.j2"
    return _render(template, request_id=request_id, query=view)


def _render_invoice_query(query: InvoiceQuery, request_id: str) -> str:
    subject = "invoice query"
    limit = MAX_LENGTH["CustomerRef/FullName"]
    view = {
        "txn_ids": check_ids(query.txn_ids, subject=subject, field="TxnID"),
        "txn_date_from": query.txn_date_from and query.txn_date_from.isoformat(),
        "txn_date_to": query.txn_date_to and query.txn_date_to.isoformat(),
        "modified_from": query.modified_from and query.modified_from.isoformat(),
        "customer_list_ids": check_ids(
            query.customer_list_ids, subject=subject, field="EntityFilter/ListID"
        ),
        "customer_full_names": check_texts(
            query.customer_full_names,
            subject=subject,
            field="EntityFilter/FullName",
            max_length=limit,
        ),
        "include_line_items": query.include_line_items,
        "include_linked_txns": query.include_linked_txns,
        **_paging(query, subject),
    }
    return _render("InvoiceQueryRq.xml.j2", request_id=request_id, query=view)


# --------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------


def _ref(ref: Ref, *, subject: str, field: str, max_length: int) -> dict[str, str | None]:
    if ref.list_id:
        return {"list_id": check_id(ref.list_id, subject=subject, field=f"{field}/ListID")}
    if not ref.full_name:
        raise QbxmlRenderError(f"{subject}: {field} names no ListID and no FullName")
    name = check_text(
        ref.full_name, subject=subject, field=f"{field}/FullName", max_length=max_length
    )
    return {"list_id": None, "full_name": name}


def _line(line: SyncedLine, subject: str) -> dict[str, object]:
    return {
        "item": _ref(
            line.item, subject=subject, field="ItemRef", max_length=MAX_LENGTH["ItemRef/FullName"]
        ),
        "desc": check_text(line.desc, subject=subject, field="Desc", max_length=MAX_LENGTH["Desc"]),
        "quantity": format_quantity(line.quantity, subject=subject, field="Quantity"),
        "service_date": line.service_date and line.service_date.isoformat(),
    }


def _line_subject(invoice_subject: str, number: int, line: SyncedLine) -> str:
    what = line.sku or line.item.full_name or line.item.list_id
    return f"{invoice_subject}, line {number} ({what})"


def _render_item_cost(change: ItemCostUpdate, request_id: str) -> str:
    item = change.item
    subject = f"item {item.full_name}"
    if item.kind not in COSTED_ITEM_KINDS:
        raise QbxmlRenderError(
            f"{subject}: reconciler sets the purchase cost of service, non-inventory and "
            f"other-charge items only, and this one is a {item.kind.value} item",
            hint="Map the offer to a service, non-inventory or other-charge item in QuickBooks.",
        )
    if not item.sales_and_purchase:
        raise QbxmlRenderError(
            f"{subject}: the item has no purchase cost in QuickBooks",
            hint=f"In QuickBooks, edit the item and tick '{COST_CHECKBOX[item.kind]}' "
            "so that it has a Cost field, then run again.",
        )
    view = {
        "list_id": check_id(item.list_id, subject=subject, field="ListID"),
        "edit_sequence": check_edit_sequence(item.edit_sequence, subject=subject),
        "purchase_cost": format_quantity(change.cost, subject=subject, field="PurchaseCost"),
    }
    return _render("ItemModRq.xml.j2", request_id=request_id, kind=item.kind.value, item=view)


def _render_invoice_add(change: InvoiceCreate, request_id: str) -> str:
    subject = f"invoice for {change.organization_name}"
    if not change.lines:
        raise QbxmlRenderError(f"{subject}: an invoice needs at least one line")
    view = {
        "customer": _ref(
            change.customer,
            subject=subject,
            field="CustomerRef",
            max_length=MAX_LENGTH["CustomerRef/FullName"],
        ),
        "txn_date": change.txn_date.isoformat(),
        "memo": change.memo
        and check_text(change.memo, subject=subject, field="Memo", max_length=MAX_LENGTH["Memo"]),
        "external_guid": format_guid(change.external_guid, subject=subject),
        "flags": change.mark.flags,
        "lines": [
            _line(line, _line_subject(subject, n, line))
            for n, line in enumerate(change.lines, start=1)
        ],
    }
    return _render("InvoiceAddRq.xml.j2", request_id=request_id, invoice=view)


def _render_invoice_mod(change: InvoiceUpdate, request_id: str) -> str:
    invoice = change.invoice
    names = ", ".join(change.organization_names) or invoice.customer.full_name or "?"
    subject = f"invoice {invoice.ref_number or invoice.txn_id} for {names}"
    _check_update_safety(change, subject)
    groups = {line.txn_line_id for line in invoice.lines if isinstance(line, InvoiceLineGroup)}
    ops: list[dict[str, object]] = []
    for number, op in enumerate(change.lines, start=1):
        match op:
            case KeepLine(txn_line_id=line_id, is_group=is_group):
                check_id(line_id, subject=subject, field=f"line {number} TxnLineID")
                group = is_group or line_id in groups
                ops.append({"kind": "keep_group" if group else "keep", "txn_line_id": line_id})
            case ModifyLine(txn_line_id=line_id, line=line):
                line_subject = _line_subject(subject, number, line)
                check_id(line_id, subject=line_subject, field="TxnLineID")
                ops.append(
                    {"kind": "set", "txn_line_id": line_id, "line": _line(line, line_subject)}
                )
            case AddLine(line=line):
                line_subject = _line_subject(subject, number, line)
                ops.append({"kind": "set", "txn_line_id": "-1", "line": _line(line, line_subject)})
    view = {
        "txn_id": check_id(invoice.txn_id, subject=subject, field="TxnID"),
        "edit_sequence": check_edit_sequence(invoice.edit_sequence, subject=subject),
        "lines": ops,
    }
    return _render("InvoiceModRq.xml.j2", request_id=request_id, invoice=view)


def _check_update_safety(change: InvoiceUpdate, subject: str) -> None:
    """Refuse an InvoiceMod that would break the design's invariants.

    The diff is meant to guarantee these; checking again where the request is
    written costs nothing and keeps a bug upstream from deleting a person's
    line (invariant 3) or touching a settled invoice (invariant 5).
    """
    invoice = change.invoice
    if invoice.is_settled:
        raise QbxmlRenderError(
            f"{subject}: the invoice is paid or has a payment or credit applied; "
            "reconciler never modifies such an invoice"
        )
    if not change.lines:
        # An InvoiceMod without line elements leaves every line as it is:
        # an update that means to remove all lines would silently do nothing.
        raise QbxmlRenderError(f"{subject}: an invoice update must list the lines it keeps")
    existing = {line.txn_line_id: line for line in invoice.lines}
    listed = [op.txn_line_id for op in change.lines if isinstance(op, KeepLine | ModifyLine)]
    unknown = [line_id for line_id in listed if line_id not in existing]
    if existing and unknown:
        raise QbxmlRenderError(
            f"{subject}: the update names line(s) {', '.join(unknown)} that the invoice does not hold"
        )
    removed = {line.txn_line_id for line in change.removed}
    dropped = [
        line
        for line_id, line in existing.items()
        if line_id not in listed and line_id not in removed
    ]
    if dropped:
        ids = ", ".join(line.txn_line_id for line in dropped)
        raise QbxmlRenderError(
            f"{subject}: the update does not list line(s) {ids}, "
            "so QuickBooks would delete them; reconciler never drops a line it does not own"
        )


# --------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------


def _check_fields(xml: str, version: str) -> None:
    """Refuse a request that holds a field ``version`` lacks, or one we never listed."""
    root = parse_xml(xml, source="rendered qbXML request")
    # Each distinct path once: a query for a thousand customers repeats one.
    for path, has_children in dict.fromkeys(_element_paths(root)):
        if path in FIELD_VERSIONS:
            if not supports(version, path):
                raise UnsupportedQuickBooks(
                    f"{root.tag}: qbXML {version} has no {path} "
                    f"(it came with qbXML {FIELD_VERSIONS[path]}); update QuickBooks"
                )
        elif not has_children and not _covered(path, FIELD_VERSIONS):
            raise RuntimeError(f"{path} is sent but missing from FIELD_VERSIONS")


def _element_paths(root: Any) -> list[tuple[str, bool]]:
    paths: list[tuple[str, bool]] = []

    def walk(element: Any, prefix: str) -> None:
        path = f"{prefix}/{element.tag}" if prefix else element.tag
        children = [child for child in element if isinstance(child.tag, str)]
        paths.append((path, bool(children)))
        leaves: set[str] = set()
        for child in children:
            if not len(child):
                # A leaf repeats its sibling's path (a query's thousand ListIDs).
                if child.tag in leaves:
                    continue
                leaves.add(child.tag)
            walk(child, path)

    walk(root, "")
    return paths


def _covered(path: str, table: Mapping[str, str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:n]) in table for n in range(len(parts), 0, -1))

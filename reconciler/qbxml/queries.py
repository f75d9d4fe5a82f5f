"""The read requests the product sends, as plain values.

Each dataclass describes one ``*QueryRq``; :func:`reconciler.qbxml.render.render_request`
turns it into qbXML. The constructors refuse combinations QuickBooks refuses
(its filters are "one of" choices), so a bad query fails here, not in QuickBooks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Iterator = Literal["Start", "Continue", "Stop"]
ActiveStatus = Literal["ActiveOnly", "InactiveOnly", "All"]

_ITERATORS = ("Start", "Continue", "Stop")
_ACTIVE = ("ActiveOnly", "InactiveOnly", "All")


def _check_paging(
    query: object, max_returned: int | None, iterator: str | None, iterator_id: str | None
) -> None:
    name = type(query).__name__
    if max_returned is not None and max_returned < 1:
        raise ValueError(f"{name}: max_returned must be at least 1, not {max_returned}")
    if iterator is not None and iterator not in _ITERATORS:
        raise ValueError(
            f"{name}: iterator must be one of {', '.join(_ITERATORS)}, not {iterator!r}"
        )
    if iterator in ("Continue", "Stop") and not iterator_id:
        raise ValueError(f"{name}: iterator {iterator!r} needs the iterator_id QuickBooks returned")
    if iterator_id and iterator not in ("Continue", "Stop"):
        raise ValueError(f"{name}: iterator_id goes with iterator 'Continue' or 'Stop'")


def _check_list_filter(query: _ListQuery) -> None:
    name = type(query).__name__
    if query.list_ids and query.full_names:
        raise ValueError(f"{name}: filter by list_ids or by full_names, not both")
    if query.active_status not in _ACTIVE:
        raise ValueError(f"{name}: active_status must be one of {', '.join(_ACTIVE)}")
    if (query.list_ids or query.full_names) and query.max_returned is not None:
        raise ValueError(f"{name}: max_returned cannot be combined with list_ids or full_names")
    _check_paging(query, query.max_returned, query.iterator, query.iterator_id)


@dataclass(frozen=True)
class HostQuery:
    """What QuickBooks is and which qbXML versions it speaks."""


@dataclass(frozen=True)
class CompanyQuery:
    """The open company file (its name), to check it is the configured one."""


@dataclass(frozen=True)
class _ListQuery:
    list_ids: tuple[str, ...] = ()
    full_names: tuple[str, ...] = ()
    # "All": an inactive customer or item still holds invoices we must see.
    active_status: ActiveStatus = "All"
    max_returned: int | None = None
    iterator: Iterator | None = None
    iterator_id: str | None = None
    owner_ids: tuple[str, ...] = ()  # "0" for custom fields, a GUID for private data

    def __post_init__(self) -> None:
        _check_list_filter(self)


@dataclass(frozen=True)
class CustomerQuery(_ListQuery):
    """Customers and jobs."""


@dataclass(frozen=True)
class ItemQuery(_ListQuery):
    """Items of every kind (the generic ``ItemQueryRq``)."""


@dataclass(frozen=True)
class InvoiceQuery:
    """Invoices by TxnID, or by customers and a TxnDate window (or modified since a day)."""

    txn_ids: tuple[str, ...] = ()
    customer_list_ids: tuple[str, ...] = ()
    customer_full_names: tuple[str, ...] = ()
    txn_date_from: dt.date | None = None
    txn_date_to: dt.date | None = None
    # ModifiedDateRangeFilter/FromModifiedDate: invoices added or changed since that
    # day began (QuickBooks' local time). QuickBooks takes it or a TxnDate window.
    modified_from: dt.date | None = None
    include_line_items: bool = True
    include_linked_txns: bool = True
    owner_ids: tuple[str, ...] = ()
    max_returned: int | None = None
    iterator: Iterator | None = None
    iterator_id: str | None = None

    def __post_init__(self) -> None:
        if self.customer_list_ids and self.customer_full_names:
            raise ValueError(
                "InvoiceQuery: filter customers by list ids or by full names, not both"
            )
        filters = (
            self.customer_list_ids,
            self.customer_full_names,
            self.txn_date_from,
            self.txn_date_to,
            self.modified_from,
            self.max_returned,
        )
        if self.txn_ids and any(f for f in filters):
            raise ValueError("InvoiceQuery: txn_ids cannot be combined with other filters")
        if self.modified_from is not None and (self.txn_date_from or self.txn_date_to):
            raise ValueError(
                "InvoiceQuery: filter by modified date or by transaction date, not both"
            )
        if (
            self.txn_date_from is not None
            and self.txn_date_to is not None
            and self.txn_date_from > self.txn_date_to
        ):
            raise ValueError(
                f"InvoiceQuery: txn_date_from {self.txn_date_from} is after txn_date_to {self.txn_date_to}"
            )
        _check_paging(self, self.max_returned, self.iterator, self.iterator_id)


Query = HostQuery | CompanyQuery | CustomerQuery | ItemQuery | InvoiceQuery

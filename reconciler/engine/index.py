"""Indexes over a QuickBooks state, so that every lookup of the diff is O(1).

QuickBooks compares names without regard to case; ExternalGUIDs come back
wrapped in braces and in upper case. Both are normalised here, once.
"""

from __future__ import annotations

from collections import defaultdict

from reconciler.model.quickbooks import Customer, Invoice, Item, QBState, Ref, canonical_guid


def name_key(name: str) -> str:
    """How QuickBooks compares list names: case-insensitively."""
    return name.casefold()


def is_void(invoice: Invoice) -> bool:
    """Whether QuickBooks voided the invoice (it prefixes the memo with ``VOID:``)."""
    return bool(invoice.memo) and invoice.memo.lstrip().upper().startswith("VOID:")


class QBIndex:
    """Customers, items and invoices of a state, looked up by name, id or GUID."""

    def __init__(self, state: QBState) -> None:
        self.state = state
        self._customers = {name_key(c.full_name): c for c in state.customers}
        self._items = {name_key(i.full_name): i for i in state.items}
        self._items_by_id = {i.list_id: i for i in state.items}
        self._by_guid: dict[str, Invoice] = {}
        self._by_customer_id: dict[str, list[Invoice]] = defaultdict(list)
        self._by_customer_name: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in state.invoices:
            if invoice.external_guid:
                # Two invoices should never share a GUID (design invariant 2);
                # should they (a copy, a duplicate added by mistake), the
                # first read wins so that the choice is stable.
                self._by_guid.setdefault(canonical_guid(invoice.external_guid), invoice)
            ref = invoice.customer
            if ref.list_id:
                self._by_customer_id[ref.list_id].append(invoice)
            elif ref.full_name:
                self._by_customer_name[name_key(ref.full_name)].append(invoice)

    def customer(self, full_name: str) -> Customer | None:
        """The customer with this full name (any case), if QuickBooks has it."""
        return self._customers.get(name_key(full_name))

    def item(self, full_name: str) -> Item | None:
        """The item with this full name (any case), if QuickBooks has it."""
        return self._items.get(name_key(full_name))

    def item_by_ref(self, ref: Ref | None) -> Item | None:
        """The item a line refers to (by ListID, else by full name)."""
        if ref is None:
            return None
        if ref.list_id:
            return self._items_by_id.get(ref.list_id)
        return self._items.get(name_key(ref.full_name)) if ref.full_name else None

    def invoice_by_guid(self, guid: str) -> Invoice | None:
        """The invoice marked with this ExternalGUID (braces and case do not matter), if any."""
        return self._by_guid.get(canonical_guid(guid))

    def invoices_of(self, customer: Customer) -> list[Invoice]:
        """The customer's invoices (by ListID, or by name where only that is known)."""
        return self._by_customer_id.get(customer.list_id, []) + self._by_customer_name.get(
            name_key(customer.full_name), []
        )

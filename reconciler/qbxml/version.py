"""qbXML version negotiation, and which fields each version accepts.

QuickBooks lists the qbXML versions it understands in ``HostQueryRs``
(``SupportedQBXMLVersion``). We speak the highest of them, never below 13.0
(QuickBooks 2015, the oldest release the product supports). A field that a
version lacks is never sent to it: QuickBooks rejects the whole request
(0x80040400) when an element is unknown to the declared version.
"""

from __future__ import annotations

import functools

from reconciler.base.errors import UserError
from reconciler.model.quickbooks import HostInfo

MIN_VERSION = "13.0"  # QuickBooks 2015 (US)

# Every field the product sends, by request path, with the qbXML version that
# introduced it (the "vX.Y" notes of Intuit's qbxmlops130.xml; fields with no
# note are in 1.0). A test checks this table against that reference.
FIELD_VERSIONS: dict[str, str] = {
    "HostQueryRq": "1.0",
    "CompanyQueryRq": "1.0",
    "CustomerQueryRq/ListID": "1.0",
    "CustomerQueryRq/FullName": "1.0",
    "CustomerQueryRq/MaxReturned": "1.0",
    "CustomerQueryRq/ActiveStatus": "1.0",
    "CustomerQueryRq/OwnerID": "2.0",
    "ItemQueryRq/ListID": "1.0",
    "ItemQueryRq/FullName": "1.0",
    "ItemQueryRq/MaxReturned": "1.0",
    "ItemQueryRq/ActiveStatus": "1.0",
    "ItemQueryRq/OwnerID": "2.0",
    "InvoiceQueryRq/TxnID": "1.0",
    "InvoiceQueryRq/MaxReturned": "1.0",
    "InvoiceQueryRq/TxnDateRangeFilter/FromTxnDate": "1.0",
    "InvoiceQueryRq/TxnDateRangeFilter/ToTxnDate": "1.0",
    "InvoiceQueryRq/ModifiedDateRangeFilter/FromModifiedDate": "1.0",
    "InvoiceQueryRq/EntityFilter/ListID": "2.0",
    "InvoiceQueryRq/EntityFilter/FullName": "1.0",
    "InvoiceQueryRq/IncludeLineItems": "1.0",
    "InvoiceQueryRq/IncludeLinkedTxns": "1.1",
    "InvoiceQueryRq/OwnerID": "2.0",
    "InvoiceAddRq/InvoiceAdd/CustomerRef": "1.0",
    "InvoiceAddRq/InvoiceAdd/TxnDate": "1.0",
    "InvoiceAddRq/InvoiceAdd/Memo": "1.0",
    "InvoiceAddRq/InvoiceAdd/IsToBePrinted": "1.0",
    "InvoiceAddRq/InvoiceAdd/IsToBeEmailed": "6.0",
    "InvoiceAddRq/InvoiceAdd/ExternalGUID": "9.0",
    "InvoiceAddRq/InvoiceAdd/InvoiceLineAdd/ItemRef": "1.0",
    "InvoiceAddRq/InvoiceAdd/InvoiceLineAdd/Desc": "1.0",
    "InvoiceAddRq/InvoiceAdd/InvoiceLineAdd/Quantity": "1.0",
    "InvoiceAddRq/InvoiceAdd/InvoiceLineAdd/ServiceDate": "1.0",
    "InvoiceModRq": "2.1",
    "InvoiceModRq/InvoiceMod/TxnID": "1.0",
    "InvoiceModRq/InvoiceMod/EditSequence": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineMod/TxnLineID": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineMod/ItemRef": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineMod/Desc": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineMod/Quantity": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineMod/ServiceDate": "1.0",
    "InvoiceModRq/InvoiceMod/InvoiceLineGroupMod/TxnLineID": "1.0",
    "ItemServiceModRq/ItemServiceMod/ListID": "1.0",
    "ItemServiceModRq/ItemServiceMod/EditSequence": "1.0",
    "ItemServiceModRq/ItemServiceMod/SalesAndPurchaseMod/PurchaseCost": "1.0",
    "ItemNonInventoryModRq/ItemNonInventoryMod/ListID": "1.0",
    "ItemNonInventoryModRq/ItemNonInventoryMod/EditSequence": "1.0",
    "ItemNonInventoryModRq/ItemNonInventoryMod/SalesAndPurchaseMod/PurchaseCost": "1.0",
    "ItemOtherChargeModRq": "3.0",
    "ItemOtherChargeModRq/ItemOtherChargeMod/ListID": "1.0",
    "ItemOtherChargeModRq/ItemOtherChargeMod/EditSequence": "1.0",
    "ItemOtherChargeModRq/ItemOtherChargeMod/SalesAndPurchaseMod/PurchaseCost": "1.0",
}


class UnsupportedQuickBooks(UserError):
    """The QuickBooks that answered is older than the product supports."""


# Cached: a pure function of a handful of distinct texts, which the server asks for
# a dozen times per call (each field of each request it renders is checked).
@functools.lru_cache(maxsize=256)
def version_key(version: str) -> tuple[int, ...]:
    """``"13.0"`` -> ``(13, 0)``: versions compare as numbers, not text."""
    try:
        return tuple(int(part) for part in version.strip().split("."))
    except ValueError:
        raise ValueError(f"not a qbXML version: {version!r}") from None


def negotiate_version(host: HostInfo | None) -> str:
    """The qbXML version to speak with the QuickBooks described by ``host``.

    The highest ``SupportedQBXMLVersion`` (compared as numbers: "16.0" is
    above "13.0", and above "2.0"). Without a HostQuery answer, the minimum.
    Raises :class:`UnsupportedQuickBooks` when QuickBooks tops out below 13.0.
    """
    if host is None or not host.supported_versions:
        return MIN_VERSION
    valid = [v for v in host.supported_versions if _is_version(v)]
    if not valid:
        return MIN_VERSION
    highest = max(valid, key=version_key)
    if version_key(highest) < version_key(MIN_VERSION):
        raise UnsupportedQuickBooks(
            "QuickBooks 2015 or newer is required "
            f"(this QuickBooks supports qbXML up to {highest})",
            hint=f"{host.product_name or 'This QuickBooks'} is too old; update QuickBooks Desktop.",
        )
    return _normalized(highest)


def supports(version: str, field: str) -> bool:
    """Whether qbXML ``version`` accepts ``field`` (a path in :data:`FIELD_VERSIONS`)."""
    introduced = FIELD_VERSIONS.get(field)
    if introduced is None:
        raise KeyError(f"{field!r} is not in the table of fields the product sends")
    return version_key(version) >= version_key(introduced)


def check_version(version: str) -> str:
    """``version`` normalized ("13" -> "13.0"); refuses one below :data:`MIN_VERSION`."""
    if version_key(version) < version_key(MIN_VERSION):
        raise UnsupportedQuickBooks(
            f"QuickBooks 2015 or newer is required (qbXML {version} was asked for)"
        )
    return _normalized(version)


def _is_version(text: str) -> bool:
    try:
        version_key(text)
    except ValueError:
        return False
    return True


def _normalized(version: str) -> str:
    parts = version_key(version)
    return ".".join(str(p) for p in (parts if len(parts) > 1 else (*parts, 0)))

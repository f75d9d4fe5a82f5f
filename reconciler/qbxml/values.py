"""Values as QuickBooks stores them: text it can hold, numbers it keeps, GUIDs.

QuickBooks Desktop (US) stores text in Windows-1252: any other character
comes back as "?" (or garbles the record), so such text is refused before it
is sent, naming the object and field. Quantities and prices carry at most 5
decimals (QUANTYPE/PRICETYPE in the qbXML schema); they are rounded here, half
away from zero as QuickBooks rounds on its forms, so that QuickBooks never has
to round what we send and what we compare is exactly what it stores.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from reconciler.base.errors import UserError

QUANTITY_PLACES = Decimal("0.00001")
# QUANTYPE and PRICETYPE: up to 10 integer digits, up to 5 decimals.
_MAX_INTEGER_DIGITS = 10
# Longest requestID QuickBooks accepts (status 1060).
MAX_REQUEST_ID = 50

# Maximum lengths in QuickBooks Desktop (US), from Intuit's qbxmlops130.xml.
MAX_LENGTH = {
    "CustomerRef/FullName": 209,
    "ItemRef/FullName": 159,
    "Desc": 4095,
    "Memo": 4095,
    "EditSequence": 16,
    "ID": 36,  # IDTYPE: ListID, TxnID, TxnLineID
}

_ALLOWED_CONTROLS = frozenset("\t\n")
# Unicode's control characters (category Cc: C0, DEL, C1) but tab and newline.
_REFUSED_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class QbxmlRenderError(UserError):
    """A value QuickBooks cannot take; says which object and field."""


def check_text(value: str, *, subject: str, field: str, max_length: int | None = None) -> str:
    """``value`` if QuickBooks can store it in ``field``; else a clear error.

    Refuses characters outside Windows-1252 and control characters other
    than tab and newline, and text longer than ``max_length`` characters.
    """
    for char in value if _may_refuse(value) else ():
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) == "Cc" or not _in_windows_1252(char):
            raise QbxmlRenderError(
                f"{subject}: {field} contains {_describe(char)}, which QuickBooks cannot store",
                hint="QuickBooks Desktop stores text in Windows-1252 (Western European): "
                "replace the character in the configuration or the charge description.",
            )
    if max_length is not None and len(value) > max_length:
        raise QbxmlRenderError(
            f"{subject}: {field} is {len(value)} characters long; QuickBooks allows at most {max_length}"
        )
    return value


def check_id(value: str, *, subject: str, field: str) -> str:
    """A ListID, TxnID or TxnLineID as QuickBooks issues them."""
    if not value:
        raise QbxmlRenderError(f"{subject}: {field} is empty")
    return check_text(value, subject=subject, field=field, max_length=MAX_LENGTH["ID"])


def check_texts(
    values: Sequence[str], *, subject: str, field: str, max_length: int | None = None
) -> list[str]:
    """:func:`check_text` of each of ``values`` (the names a query filters on):
    one pass over them all when they are fine, the same error as one by one when not."""
    fine = not _may_refuse("\t".join(values)) and (
        max_length is None or not values or max(map(len, values)) <= max_length
    )
    if fine:
        return list(values)
    return [check_text(v, subject=subject, field=field, max_length=max_length) for v in values]


def check_ids(values: Sequence[str], *, subject: str, field: str) -> list[str]:
    """:func:`check_id` of each of ``values``, as :func:`check_texts` does."""
    if all(values):
        return check_texts(values, subject=subject, field=field, max_length=MAX_LENGTH["ID"])
    return [check_id(v, subject=subject, field=field) for v in values]


def check_edit_sequence(value: str, *, subject: str) -> str:
    """The EditSequence QuickBooks issued with the object (optimistic locking)."""
    if not value:
        raise QbxmlRenderError(f"{subject}: EditSequence is empty")
    return check_text(
        value, subject=subject, field="EditSequence", max_length=MAX_LENGTH["EditSequence"]
    )


def quantize(value: Decimal) -> Decimal:
    """``value`` rounded to the 5 decimals QuickBooks keeps for quantities and prices."""
    return value.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)


def format_quantity(value: Decimal, *, subject: str, field: str) -> str:
    """A QUANTYPE/PRICETYPE text: at most 5 decimals, no exponent, no trailing zeros."""
    try:
        if not value.is_finite():
            raise InvalidOperation
        rounded = quantize(value)
    except (InvalidOperation, AttributeError, TypeError):
        raise QbxmlRenderError(f"{subject}: {field} {value!r} is not a number") from None
    integer_digits = len(str(abs(rounded).to_integral_value(rounding="ROUND_DOWN")))
    if integer_digits > _MAX_INTEGER_DIGITS:
        raise QbxmlRenderError(
            f"{subject}: {field} {value} is too large for QuickBooks "
            f"(at most {_MAX_INTEGER_DIGITS} digits before the decimal point)"
        )
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_guid(value: str, *, subject: str, field: str = "ExternalGUID") -> str:
    """A GUID in the braces qbXML wants: ``{8-4-4-4-12}``."""
    try:
        parsed = uuid.UUID(value.strip().strip("{}"))
    except (ValueError, AttributeError):
        raise QbxmlRenderError(f"{subject}: {field} {value!r} is not a GUID") from None
    return "{" + str(parsed) + "}"


def check_request_id(value: str) -> str:
    """A ``requestID``: non-empty, printable ASCII, at most 50 characters."""
    if not value or len(value) > MAX_REQUEST_ID or not value.isascii() or not value.isprintable():
        raise ValueError(
            f"requestID {value!r} must be 1 to {MAX_REQUEST_ID} printable ASCII characters"
        )
    return value


def _may_refuse(value: str) -> bool:
    """Whether ``value`` holds a character :func:`check_text` refuses (one pass in C;
    the character by character look that names it runs only then)."""
    if _REFUSED_CONTROL.search(value):
        return True
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def _in_windows_1252(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} ({name})" if name else code

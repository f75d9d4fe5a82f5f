"""The status codes and messages QuickBooks answers with, and the errors of its request processor.

Messages follow QuickBooks' wording (two spaces before "QuickBooks error
message", the trailing space after "out-of-date.") as seen in real captured
responses, so that a client parsing them is tested against the real text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.sandbox.elements import Element

OK = (0, "Info", "Status OK")
NO_MATCH = (1, "Info", "A query request did not find a matching object in QuickBooks")
UNSUPPORTED_FEATURE = "This feature is not enabled or not available in this version of QuickBooks."

# HRESULTs of QBXMLRP2 (the request processor) that the Web Connector passes on.
PARSE_ERROR = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
UNSUPPORTED_VERSION = (
    "0x80040423",
    "The version of QBXML that was requested is not supported or is unknown.",
)
COULD_NOT_START = ("0x80040408", "Could not start QuickBooks.")
OTHER_FILE_OPEN = (
    "0x8004040A",
    "A QuickBooks company data file is already open and it is different from the one requested.",
)

_NOT_IN_LIST = (
    "QuickBooks error message: Invalid argument.  The specified record does not exist in the list."
)


@dataclass
class StatusError(Exception):
    """A request that QuickBooks answers with an error or warning status (nothing committed)."""

    code: int
    message: str
    severity: str = "Error"
    # QuickBooks returns the current object with some errors (3200).
    rets: Sequence[Element] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RequestProcessorError(Exception):
    """The request processor refused the whole request (a COM error, not a qbXML status).

    The Web Connector passes ``hresult`` and ``message`` to ``receiveResponseXML``
    (or to ``connectionError`` when the company cannot be opened).
    """

    def __init__(self, hresult: str, message: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(f"{hresult}: {message}")
        self.hresult = hresult
        self.message = message
        # What QuickBooks would write to qbsdklog.txt (e.g. the schema errors).
        self.details = tuple(details)


class ResponseLost(Exception):
    """QuickBooks committed the request but its response never reached the server.

    ``response`` is the answer that was lost (tests may look at it).
    """

    def __init__(self, response: str) -> None:
        super().__init__("the response was lost after QuickBooks committed the request")
        self.response = response


def object_not_found(object_id: str) -> StatusError:
    """3120: a ListID/TxnID (or TxnLineID) that does not exist."""
    return StatusError(
        3120, f'Object "{object_id}" specified in the request cannot be found.  {_NOT_IN_LIST}'
    )


def invalid_reference(list_name: str, value: str, where: str) -> StatusError:
    """3140: a reference to a list object that does not exist."""
    return StatusError(
        3140,
        f'There is an invalid reference to QuickBooks {list_name} "{value}" in the {where}.  {_NOT_IN_LIST}',
    )


def name_in_use(name: str) -> StatusError:
    """3100: an add whose name another list object already has."""
    return StatusError(3100, f'The name "{name}" of the list element is already in use.')


def stale_edit_sequence(edit_sequence: str, current: Element) -> StatusError:
    """3200: the EditSequence is not the object's current one; QuickBooks returns the object."""
    return StatusError(
        3200, f'The provided edit sequence "{edit_sequence}" is out-of-date. ', rets=(current,)
    )


def not_fully_completed(name: str) -> StatusError:
    """500: a query by name where one of the names does not exist."""
    return StatusError(
        500,
        "The query request has not been fully completed. There was a required element "
        f'("{name}") that could not be found in QuickBooks.',
        severity="Warn",
    )


def unknown_iterator(iterator_id: str) -> StatusError:
    """3391: an iterator that does not exist (never started, finished or expired)."""
    return StatusError(
        3391, f'The iterator "{iterator_id}" specified in the request is not valid or has expired.'
    )


def lock_error(code: int, object_name: str, *, adding: bool) -> StatusError:
    """3180 (saving) or 3170 (modifying) when another user holds the record or list."""
    verb = "saving" if adding else "modifying"
    return StatusError(
        code,
        f"There was an error when {verb} a {object_name}.  "
        "QuickBooks error message: This list has been modified by another user.",
    )


def modify_refused(object_name: str, reason: str) -> StatusError:
    """3170: QuickBooks refuses the modification itself (e.g. a wrong item aggregate)."""
    return StatusError(
        3170,
        f"There was an error when modifying a {object_name}.  QuickBooks error message: {reason}",
    )


@dataclass
class Reply:
    """What one request is answered with: the ``*Ret`` elements, a status, extra attributes."""

    rets: list[Element] = field(default_factory=list)
    status: tuple[int, str, str] = OK
    attributes: dict[str, str] = field(default_factory=dict)

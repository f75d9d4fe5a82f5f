"""qbXML status codes as typed results: how bad, and what to do about it.

Every ``*Rs`` element carries ``statusCode``, ``statusSeverity`` and
``statusMessage``. Intuit documents the ranges (0–499 info, 500–999 warning,
1000 and up error) and the meaning of each code; :func:`classify` turns a code
into the one thing the caller needs: do nothing, retry the same request,
re-read and re-plan, or ask a person to fix something in QuickBooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a status is (``statusSeverity``): Info, Warning or Error."""

    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"


class Action(StrEnum):
    """What the caller should do with a response that carries this status."""

    NONE = "none"  # success, or a warning that changes nothing we rely on
    RETRY = "retry"  # transient: send the very same request again later
    REPLAN = "replan"  # QuickBooks changed under us: re-read, re-plan, never resend as is
    FIX = "fix"  # a person must change something (in QuickBooks or the configuration)


# Codes QuickBooks returns when a record or list is locked or being saved by
# someone else: the request itself is fine and goes through when sent again.
_RETRY_CODES = frozenset({3170, 3175, 3176, 3180})
# The EditSequence we sent is out of date: someone edited the object since we
# read it (design invariant 4).
_REPLAN_CODES = frozenset({3200})

# One line per code we know: what it means and what to do. Meanings follow
# Intuit's "Status codes in response messages" appendix; the advice is ours.
EXPLANATIONS: dict[int, str] = {
    0: "OK.",
    1: "No match: the query found nothing (not an error).",
    500: "Some of the objects asked for by ListID/FullName do not exist; the others were returned.",
    501: "An object cannot be shown in this qbXML version; use a newer QuickBooks.",
    510: "QuickBooks could not return the object; the request itself succeeded.",
    530: "QuickBooks ignored a field it does not support; the rest was saved.",
    531: "QuickBooks ignored an enum value it does not support; the rest was saved.",
    550: "The object was saved but its notes were not.",
    560: "A deprecated field was used; it still works.",
    570: "A link to a closed transaction was not made; the object was saved.",
    1000: "QuickBooks had an internal error; check the company file (Verify Data) and try again.",
    1010: "QuickBooks is not available; make sure it is running with the company file open.",
    1030: "This QuickBooks does not support the request; update QuickBooks.",
    1060: "The requestID is invalid (more than 50 characters?): a bug in reconciler, please report it.",
    3000: "An object ID in the request is invalid: re-read the state and plan again.",
    3010: "A boolean in the request is invalid: a bug in reconciler, please report it.",
    3020: "A date in the request is invalid: check the billing period and dates in the plan.",
    3030: "A date range in the request is invalid (from after to).",
    3040: "An amount in the request is invalid or out of range.",
    3045: "A number in the request is invalid or out of range.",
    3070: "A text in the request is too long for QuickBooks: shorten it in the configuration.",
    3100: "The name is already in use in QuickBooks: rename one of the two list entries.",
    3120: "An object named in the request does not exist in QuickBooks (deleted?): re-read and fix the mapping.",
    3130: "A parent reference is invalid: the parent customer or item does not exist.",
    3140: "A reference is invalid: the customer, item or account named does not exist in QuickBooks; fix the mapping.",
    3150: "A required element is missing: a bug in reconciler, please report it.",
    3170: "The object could not be modified, usually because someone else is editing it; retried automatically.",
    3171: "QuickBooks could not modify the object (it is in a state that forbids it); fix it in QuickBooks.",
    3175: "The object is in use by another QuickBooks user; retried automatically.",
    3176: "The object is locked by another QuickBooks user; retried automatically.",
    3180: "The list was modified by another user while saving; retried automatically.",
    3200: "The object changed in QuickBooks since it was read (EditSequence out of date): re-read and plan again.",
    3210: "A field has a value QuickBooks refuses (see the message); fix the data.",
    3231: "The request was not processed because an earlier request in the batch failed.",
    3250: "This feature is not enabled or not available in this edition of QuickBooks; enable it in Preferences.",
    3260: "The QuickBooks user of the Web Connector lacks permission: grant it in Company > Users.",
    3261: "The application has no permission to access personal data: allow it in Preferences > Integrated Applications.",
    3262: "The application is not allowed to access QuickBooks while no user is logged in.",
    3270: "A posting account is missing: set the item's accounts in QuickBooks.",
}


def severity_of(code: int) -> Severity:
    """The severity Intuit's documented ranges give ``code``."""
    if code < 500:
        return Severity.INFO
    if code < 1000:
        return Severity.WARNING
    return Severity.ERROR


def classify(code: int) -> Action:
    """What to do after a response with ``code``."""
    if code in _RETRY_CODES:
        return Action.RETRY
    if code in _REPLAN_CODES:
        return Action.REPLAN
    if severity_of(code) is Severity.ERROR:
        return Action.FIX
    return Action.NONE


def explain(code: int) -> str:
    """A one-line explanation of ``code`` and what to do about it."""
    known = EXPLANATIONS.get(code)
    if known is not None:
        return known
    match severity_of(code):
        case Severity.INFO:
            return "Information from QuickBooks; nothing to do."
        case Severity.WARNING:
            return "A warning from QuickBooks; the request was carried out."
        case _:
            return "QuickBooks refused the request; see its message, fix the cause and run again."


@dataclass(frozen=True)
class Status:
    """The status of one qbXML response.

    The severity comes from the code, not from ``statusSeverity``: real
    responses exist that say ``Info`` for an error code (3210), and a caller
    that trusted the attribute would take a refusal for a success.
    """

    code: int
    severity: Severity
    message: str
    action: Action = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", classify(self.code))

    @classmethod
    def from_code(cls, code: int, message: str = "") -> Status:
        """The status for ``code`` with the severity its range implies."""
        return cls(code, severity_of(code), message)

    @property
    def ok(self) -> bool:
        """True unless QuickBooks refused the request."""
        return self.severity is not Severity.ERROR

    @property
    def explanation(self) -> str:
        """A one-line explanation of the code and what to do about it (see :func:`explain`)."""
        return explain(self.code)

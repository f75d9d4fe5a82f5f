"""A run that stops: what getLastError says, and the status errors it lists."""

from __future__ import annotations

from reconciler.qbxml.parse import QbxmlParseError
from reconciler.store.records import NewStatusError

# What to do when QuickBooks' request processor did not answer a request.
CHECK_QUICKBOOKS = (
    "Check that QuickBooks is running and shows no dialog, then click Update Selected."
)


class RunFailed(Exception):
    """Ends the run: the message goes to getLastError, the errors to the status list (one
    saying the message and what to do when none is given: every error a run counts is
    listed)."""

    def __init__(self, message: str, *errors: NewStatusError) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def run_error(message: str) -> NewStatusError:
    """The status error of a run that stopped for a reason no request or object holds."""
    return NewStatusError(
        object="Web Connector run",
        code="run-stopped",
        message=message,
        what_to_do="Click Update Selected to run again. If it stops the same way, send the "
        "server log and the output of `reconcile status` to whoever supports reconciler.",
    )


def incomplete_state(exc: QbxmlParseError) -> RunFailed:
    """The failure of a run whose documents, read again, do not make a whole state."""
    return RunFailed(
        f"The QuickBooks state read in this run is incomplete: {exc}",
        NewStatusError(
            object="QuickBooks state",
            code="incomplete-state",
            message=str(exc),
            what_to_do="Click Update Selected to read QuickBooks again.",
        ),
    )


def unanswered(request_id: str) -> RunFailed:
    """The failure of a run whose response lacks the answer to one of its requests."""
    return RunFailed(f"QuickBooks' response does not answer request {request_id}.")


def unreadable(problem: str | None) -> RunFailed:
    """The failure of a run whose response could not be read."""
    return RunFailed(f"QuickBooks' response could not be read: {problem}")

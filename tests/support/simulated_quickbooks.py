"""A plan carried out by the sandbox's QuickBooks simulator, and the state read back.

The one QuickBooks stand-in of the tests is the sandbox
(``reconciler/sandbox/``): what QuickBooks does with a request (InvoiceMod
deletes every line it does not list, EditSequence is checked, a line takes the
item's price) is coded there once. These helpers join it to the product: the
state is the books dumped as qbXML and read by the product's parser, and a
plan's requests are the product's rendered qbXML.
"""

from __future__ import annotations

from reconciler.model.quickbooks import QBState
from reconciler.plan.model import Plan
from reconciler.plan.requests import render_plan_requests
from reconciler.qbxml.parse import parse_response, parse_state
from reconciler.qbxml.status import Severity
from reconciler.sandbox.books import Books
from reconciler.sandbox.responses import books_to_qbxml
from reconciler.sandbox.simulator import QuickBooksSimulator


def read_state(books: Books) -> QBState:
    """The QuickBooks state of ``books`` as the product reads it."""
    return parse_state([books_to_qbxml(books).encode("utf-8")])


def apply_plan(simulator: QuickBooksSimulator, plan: Plan, *, only: set[str] | None = None) -> None:
    """Send each change's request (those keyed in ``only``, if given); each must succeed."""
    requests = render_plan_requests(plan)
    for change in plan.changes:
        if only is not None and change.key not in only:
            continue
        (response,) = parse_response(simulator.process(requests.documents[change.key]))
        assert response.request_id == change.request_id
        assert response.status.severity is not Severity.ERROR, response.status.message

"""The qbXML requests of a plan: one document per change, ready to queue.

Rendering is the qbXML layer's; this module only decides the version (the
highest the QuickBooks of the state supports, never below 13.0) and gives each
change its deterministic requestID.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.plan.build import collector_paused
from reconciler.plan.document import Document, plan_document
from reconciler.plan.model import Plan
from reconciler.qbxml.render import render_document, render_request
from reconciler.qbxml.version import negotiate_version


@dataclass(frozen=True)
class PlanRequests:
    """Each change's qbXML document, by change key, in one qbXML version."""

    version: str
    documents: dict[str, str]


def render_plan_requests(plan: Plan) -> PlanRequests:
    """Render every change of ``plan`` as a qbXML document of its own."""
    version = negotiate_version(plan.host)
    documents = {}
    with collector_paused():
        for change in plan.changes:
            request = render_request(change.change, version=version, request_id=change.request_id)
            documents[change.key] = render_document([request], version=version)
    return PlanRequests(version=version, documents=documents)


def render_plan_document(plan: Plan, *, force: bool = False) -> Document:
    """The plan document with every change's qbXML request.

    ``force``: ``--force`` was given, which the document records when the
    plan is over the safety threshold.
    """
    requests = render_plan_requests(plan)
    return plan_document(
        plan,
        requests.documents,
        qbxml_version=requests.version,
        forced=force and plan.safety.exceeded,
    )

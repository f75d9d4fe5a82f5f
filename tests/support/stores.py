"""The stores the store's contract suite (tests/store/) runs against, and its helpers.

Every test of tests/store/ but test_sqlite.py speaks only to ``Store``'s concerns:
it runs once per factory of :data:`FACTORIES`. Another backend adds its factory
here, and the whole suite holds it to the same contract.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.qbwc.credentials import hash_password
from reconciler.store import Store, open_store
from reconciler.store.records import CompanyRecord, NewRequest, PlanRecord, SnapshotRecord
from support.qbwc import PASSWORD

NOW = dt.datetime(2024, 5, 28, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class StoreFactory:
    """How to open a store of one backend in a directory (the same store when opened again)."""

    name: str
    open: Callable[[Path], Store]


FACTORIES = [StoreFactory("sqlite", open_store)]


def add_company(store: Store, *, name: str = "Acme Ltd", username: str = "acme") -> CompanyRecord:
    """A registered company with a password."""
    company = store.companies.register(name, username=username, company_file="")
    store.companies.set_password_hash(company.id, hash_password(PASSWORD))
    return store.companies.get(company.id)


def new_requests(*, held: int = 0, due: int = 2) -> list[NewRequest]:
    """``held`` InvoiceAdds due in four days, then ``due`` item changes due at once."""
    later = NOW + dt.timedelta(days=4)
    return [
        NewRequest(
            "InvoiceAddRq", f"Invoice {n}", f"<InvoiceAddRq>{n}</InvoiceAddRq>", later, f"guid-{n}"
        )
        for n in range(held)
    ] + [
        NewRequest("ItemServiceModRq", f"Item {n}", f"<ItemServiceModRq>{n}</ItemServiceModRq>")
        for n in range(due)
    ]


def queue_plan(
    store: Store, company_id: int, requests: list[NewRequest], key: str = "plan-1"
) -> PlanRecord:
    """Queue a plan of ``requests``, applied at :data:`NOW`."""
    return store.plans.queue(
        company_id,
        key=key,
        qb_fingerprint="fp",
        billing_mode="advance",
        document='{"plan": 1}',
        requests=requests,
        applied_at=NOW,
    )


def next_request(store: Store, company_id: int):
    """The next due request, or None."""
    found = store.queue.next(company_id)
    return found[0] if found else None


_TICKETS = itertools.count(1)


def open_session(store: Store, company_id: int, ticket_hash: str | None = None) -> int:
    """A session opened at :data:`NOW` for 30 minutes (a new ticket unless given); its id."""
    return store.sessions.open(
        company_id,
        ticket_hash=ticket_hash or f"{next(_TICKETS):064x}",
        ticket_prefix="hhhhhhhh",
        boot_id="boot",
        client="127.0.0.1",
        now=NOW,
        expires_at=NOW + dt.timedelta(minutes=30),
        state={},
    ).id


def take_snapshot(store: Store, company_id: int, documents=(), coverage=None) -> SnapshotRecord:
    """A snapshot taken the way a run takes one: of a session's refresh documents."""
    session_id = open_session(store, company_id)
    for document in documents:
        store.sessions.add_document(session_id, "host", document)
    return store.snapshots.save_from_session(
        company_id, session_id, taken_at=NOW, qbxml_version="13.0", coverage=coverage
    )

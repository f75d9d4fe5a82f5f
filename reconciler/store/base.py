"""The store access layer: what the server and the commands may ask of the state.

Callers speak in intentions ("queue this plan", "the next due request",
"record this response"), never in SQL, and by concern: ``store.plans.queue``,
``store.queue.next``, ``store.errors.record`` (the interfaces, documented once,
are in :mod:`reconciler.store.concerns`). Each call is one atomic change;
:meth:`Store.atomic` groups calls to any of the concerns into one transaction,
so that a SOAP answer is sent only after every change it depends on is
committed. SQLite is the embedded default (:mod:`reconciler.store.sqlite`);
another backend implements the concerns and a :class:`Store` composing them,
and nothing else changes.
"""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager

from reconciler.store.concerns import (
    ApiTokenStore,
    AuditLog,
    BillingLockStore,
    CompanyStore,
    CreatedInvoiceStore,
    InstallationStore,
    PlanStore,
    RejectedCallLog,
    RequestQueue,
    SessionStore,
    SignInThrottle,
    SnapshotStore,
    StatusErrorStore,
)


class StoreError(Exception):
    """The state directory cannot be used (newer schema, corrupt file...)."""


class Store(abc.ABC):
    """Everything the reconciler keeps between runs, one attribute per concern.

    An implementation sets every attribute below to its implementation of that
    concern, all sharing the transactions of :meth:`atomic`.
    """

    installation: InstallationStore
    companies: CompanyStore
    sign_ins: SignInThrottle
    rejected_calls: RejectedCallLog
    sessions: SessionStore
    snapshots: SnapshotStore
    created_invoices: CreatedInvoiceStore
    plans: PlanStore
    queue: RequestQueue
    errors: StatusErrorStore
    billing_locks: BillingLockStore
    tokens: ApiTokenStore
    audit: AuditLog

    @abc.abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """Group the calls made inside, to any concern, into one transaction.

        A nested block joins the enclosing transaction: everything commits at
        the end of the outermost block, or rolls back if an exception leaves it.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connections."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the state lives, as people read it."""

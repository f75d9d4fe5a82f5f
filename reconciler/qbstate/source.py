"""The QuickBooks state a plan is computed from, whatever its source.

Three sources answer the same questions: qbXML response files on disk
(``--qb-state``, :mod:`reconciler.qbstate.files`), the latest snapshot in the
state directory (:mod:`reconciler.qbstate.snapshot`), and a server's latest
snapshot through its API (:mod:`reconciler.api.server_snapshot`, which lives
with the API client so that this package never imports the API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from reconciler.engine.coverage import Coverage
from reconciler.model.config import BillingMode
from reconciler.model.quickbooks import QBState


@dataclass(frozen=True)
class LockedMode:
    """The billing mode the first apply locked, and since when: plans bill in it alone."""

    mode: BillingMode
    since: dt.datetime


class StateSource(Protocol):
    """Where the QuickBooks state of a plan comes from, and what else a plan needs of it.

    Every method raises :class:`~reconciler.base.errors.UserError` when what it
    answers cannot be had (no snapshot yet, an unreadable file).
    """

    def state(self) -> QBState:
        """The QuickBooks state: customers, items and invoices (read once, however often
        asked)."""
        ...

    def coverage(self) -> Coverage | None:
        """What the state read of the invoices; None when unknown (the user vouches for it)."""
        ...

    def lock(self) -> LockedMode | None:
        """The billing-mode lock; None when no apply locked it (or the source cannot know)."""
        ...

    def outdated(self) -> bool:
        """Whether requests went out after this state was read: `apply` refuses its plans."""
        ...

    def describe(self) -> str:
        """What the state is, for the user (``QuickBooks state: snapshot 3 taken ...``)."""
        ...

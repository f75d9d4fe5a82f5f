"""A server's latest snapshot, through its API, as the QuickBooks state a plan is computed
from (``plan --server URL``, ``apply --server URL``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from reconciler import __version__
from reconciler.api.client import ApiClient, Json
from reconciler.base.errors import UserError
from reconciler.base.releases import install_hint
from reconciler.base.times import when
from reconciler.engine.coverage import Coverage
from reconciler.engine.fingerprint import fingerprint_state
from reconciler.model.config import BillingMode
from reconciler.model.quickbooks import QBState
from reconciler.qbstate.source import LockedMode


@dataclass(frozen=True)
class ServerSnapshot:
    """A :class:`~reconciler.qbstate.source.StateSource`: the snapshot a server's
    ``GET /api/v1/snapshot`` answered (read once)."""

    server: str  # the server's base URL, to say where the state came from
    answer: Json = field(repr=False)

    @classmethod
    def fetch(cls, client: ApiClient, company: str) -> ServerSnapshot:
        """The server's latest snapshot, refused when the token is not for ``company`` (the
        configuration's): a plan of one company against another's books is never meant."""
        answer = client.snapshot()
        served = answer["company"]["name"]
        if served != company:
            raise UserError(
                f"the token is for {served!r}, but the configuration is for {company!r}",
                hint="Use a token created on the server with --config pointing at this "
                "configuration.",
            )
        return cls(client.server, answer)

    @property
    def _snapshot(self) -> Json:
        return self.answer["snapshot"]

    @cached_property
    def _state(self) -> QBState:
        from reconciler.qbxml.parse import QbxmlParseError, parse_state

        version = self._snapshot["version"]
        try:
            state = parse_state(document.encode("utf-8") for document in self.answer["documents"])
        except QbxmlParseError as exc:
            raise UserError(f"snapshot {version} cannot be read: {exc}") from None
        if fingerprint_state(state) != self._snapshot["fingerprint"]:
            server_version = self.answer["server_version"]
            raise UserError(
                f"this reconciler ({__version__}) reads snapshot {version} differently "
                f"from the server ({server_version}): the server would refuse its plan "
                "as stale",
                hint=f"Plan with the server's version: {install_hint(server_version)}.",
            )
        return state

    def state(self) -> QBState:
        """The state the snapshot's documents hold, refused when this reconciler reads them
        differently from the server (another version): the server would refuse the plan as
        stale."""
        return self._state

    def coverage(self) -> Coverage | None:
        """What the snapshot's refresh read of the invoices (None: not recorded)."""
        return Coverage.from_dict(self.answer.get("coverage"))

    def lock(self) -> LockedMode | None:
        """The server's billing-mode lock."""
        lock = self.answer["billing_lock"]
        if lock is None:
            return None
        return LockedMode(BillingMode(lock["mode"]), dt.datetime.fromisoformat(lock["locked_at"]))

    def outdated(self) -> bool:
        """Whether requests went out after the snapshot, as the server says."""
        return bool(self._snapshot["outdated"])

    def describe(self) -> str:
        """Which snapshot, when it was taken and how long ago on the server's clock, and
        from which server."""
        taken = dt.datetime.fromisoformat(self._snapshot["taken_at"])
        # Its age on the server's clock, as the server's `status` tells it.
        server_now = taken + dt.timedelta(seconds=self._snapshot["age_seconds"])
        moment = when(taken, server_now, self.answer["company"]["timezone"])
        return (
            f"QuickBooks state: snapshot {self._snapshot['version']} taken {moment}, "
            f"from {self.server}"
        )

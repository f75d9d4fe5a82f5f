"""A client of the server's API, for ``plan``, ``apply`` and ``status --server URL``.

Every failure becomes a :class:`~reconciler.base.errors.UserError` that says what
to do: a refused token names ``RECONCILE_TOKEN``, a refused connection names
the URL, a stale plan is a :class:`~reconciler.queue.apply.StalePlan` (so that
``apply`` can plan again), a conflict carries the server's reason.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler import __version__
from reconciler.base.errors import UserError
from reconciler.queue.apply import BillingModeLocked, NoFreshSnapshot, StalePlan

TOKEN_VAR = "RECONCILE_TOKEN"  # noqa: S105 (the variable's name, not a token)
BASE_HINT = "--server takes the server's base URL, e.g. https://qb.example.com:8443."

Json = dict[str, Any]


class ApiClient:
    """The API of the reconciler server at ``server`` (its base URL)."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(server)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise UserError(f"{server!r} is not an http(s) URL", hint=BASE_HINT)
        self.server = server.rstrip("/")
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"reconciler/{__version__}",
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_environment(cls, server: str) -> ApiClient:
        """A client with the token in ``RECONCILE_TOKEN``."""
        token = os.environ.get(TOKEN_VAR, "").strip()
        if not token:
            raise UserError(
                f"--server needs a token: {TOKEN_VAR} is not set",
                hint=f"Create one on the server (`reconcile token create NAME`) and set {TOKEN_VAR} "
                "to it (in CI, as a secret).",
            )
        return cls(server, token)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (the ``with`` block does it on leaving)."""
        self._http.close()

    # ------------------------------------------------------------------ calls

    def snapshot(self) -> Json:
        """The latest snapshot: its qbXML documents, fingerprint, age, and the billing lock."""
        return self._call("GET", "/api/v1/snapshot")

    def status(self) -> Json:
        """The status document (``GET /api/v1/status``)."""
        return self._call("GET", "/api/v1/status")

    def history(self, limit: int = 20) -> Json:
        """The applied plans, newest first."""
        return self._call("GET", "/api/v1/plans", params={"limit": limit})

    def submit(
        self,
        plan: Json,
        *,
        profile: Json | None,
        commit: str | None,
        requested_by: str | None,
        force: bool = False,
    ) -> Json:
        """Queue a plan; what was queued (``outcome``, ``requests``, ``held``...).

        ``force`` accepts a plan over the safety threshold that was made with --force.
        """
        body: Json = {"plan": plan}
        if profile is not None:
            body["profile"] = profile
        if force:
            body["force"] = True
        if commit:
            body["commit"] = commit[:128]
        if requested_by:
            body["requested_by"] = requested_by[:200]
        return self._call("POST", "/api/v1/plans", json=body)

    def _call(self, method: str, path: str, **options: Any) -> Json:
        url = self.server + path
        try:
            response = self._http.request(method, url, **options)
        except httpx.TimeoutException:
            raise UserError(
                f"the reconciler server at {self.server} did not answer in time",
                hint="Check that it runs and is reachable from here.",
            ) from None
        except httpx.HTTPError as exc:
            raise UserError(
                f"cannot reach the reconciler server at {self.server}: {exc}",
                hint="Check the URL (--server) and that `reconcile serve` runs there and "
                "is reachable from here.",
            ) from None
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media not in {"application/json", "application/problem+json"}:
            raise UserError(
                f"{url} answered {response.status_code} with {media or 'no content type'}, "
                "not the reconciler API",
                hint=BASE_HINT,
            )
        try:
            document = response.json()
        except ValueError:
            raise UserError(f"{url} answered {response.status_code} with invalid JSON") from None
        if response.is_success and isinstance(document, dict):
            return document
        raise _failure(self.server, response.status_code, document)


def _failure(server: str, status: int, problem: Any) -> UserError:
    """The error a problem answer means, for a person to act on."""
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or f"HTTP {status}")
    hint = problem.get("hint")
    code = problem.get("code")
    if status == 401:
        return UserError(
            f"the server at {server} refused the token ({detail})",
            hint=f"Check {TOKEN_VAR}: it must hold a live token of that server "
            "(`reconcile token list` there shows them).",
        )
    if status == 409 and code == "stale-plan":
        return StalePlan(detail, hint=hint)
    if status == 409 and code == "snapshot-outdated":
        return NoFreshSnapshot(detail, hint=hint)
    if status == 409 and code == "billing-mode-locked":
        return BillingModeLocked(detail, hint=hint)
    if status == 404 and code != "no-snapshot":
        return UserError(f"{server} has no such API call ({detail})", hint=BASE_HINT)
    if status >= 500:
        return UserError(f"the server at {server} failed ({detail})", hint="See the server's log.")
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        detail += ":\n  " + "\n  ".join(map(str, errors))
    return UserError(detail, hint=hint if isinstance(hint, str) else None)

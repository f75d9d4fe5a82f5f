"""API errors as problem details (RFC 9457, ``application/problem+json``).

Every problem has ``type`` ``about:blank`` (its ``title`` is the HTTP
status phrase) and a ``code`` member that a client can switch on:
``stale-plan``, ``billing-mode-locked``, ``invalid-plan``... ``detail``
says what happened and what to do, for a person to read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An API call that ends with an error answer."""

    def __init__(
        self,
        status: HTTPStatus,
        detail: str,
        *,
        code: str,
        headers: Sequence[tuple[str, str]] = (),
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = tuple(headers)
        self.extra = extra

    def document(self) -> dict[str, Any]:
        """The problem details object."""
        return {
            "type": "about:blank",
            "title": self.status.phrase,
            "status": int(self.status),
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }

    def body(self) -> bytes:
        """:meth:`document` as UTF-8 JSON, the answer's body."""
        return json.dumps(self.document(), ensure_ascii=False).encode("utf-8")

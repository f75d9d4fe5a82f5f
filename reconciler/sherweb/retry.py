"""When to try a Sherweb request again, and how long to wait first.

Sherweb's API sits behind Azure API Management, which throttles with HTTP 429
and says how long to wait either in a ``Retry-After`` header (seconds or an
HTTP-date) or only in the body ("Rate limit is exceeded. Try again in 12
seconds."). Everything here is pure: the caller passes the time and the
random draw, so tests never wait.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# 501 (not implemented) and 505 (HTTP version) never get better by waiting.
_PERMANENT_5XX = frozenset({501, 505})
_TRY_AGAIN = re.compile(r"try\s+again\s+in\s+(\d+(?:\.\d+)?)\s*(?:seconds?|s)\b", re.IGNORECASE)
# Only the start of a body is searched: an error page is short.
_BODY_SCAN = 4096


def is_retryable(status: int) -> bool:
    """Whether a response with ``status`` is worth sending again (429 and 5xx)."""
    return status == 429 or (500 <= status <= 599 and status not in _PERMANENT_5XX)


def server_delay(headers: Mapping[str, str], body: str, now: dt.datetime) -> float | None:
    """The wait, in seconds, that the server asked for; None when it asked none.

    ``Retry-After`` (delta-seconds or HTTP-date, relative to ``now``, an aware
    datetime) wins over the "Try again in N seconds" text of the body.
    """
    value = (headers.get("Retry-After") or "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:  # an HTTP-date is always GMT
                when = when.replace(tzinfo=dt.UTC)
            return max(0.0, (when - now).total_seconds())
    match = _TRY_AGAIN.search(body[:_BODY_SCAN])
    if match:
        return float(match.group(1))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in total time."""

    max_attempts: int = 6
    base_delay: float = 1.0  # seconds before the first retry (before jitter)
    max_delay: float = 60.0  # cap of one backoff step
    max_total: float = 300.0  # no retry starts later than this after the first attempt

    def delay(self, attempt: int, server: float | None, draw: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``draw`` is a uniform random number in [0, 1). A delay the server asked
        for is honoured, plus a little jitter so that parallel workers throttled
        together do not all come back at the same instant.
        """
        if server is not None:
            return server + draw * min(1.0, self.base_delay)
        step = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        # "Equal jitter": never less than half the step, so backoff still backs off.
        return step / 2 + draw * step / 2

"""How moments and ages read to people: "2026-12-01 05:00 EST (3 hours ago)".

One wording for every command, page and message; the demo's simulated clock is
said as such wherever one of its moments is shown.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def age(delta: dt.timedelta) -> str:
    """``delta`` as people say it: "just now", "5 minutes", "3 hours", "2 days"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "less than a minute"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable")


# How a time on the simulated clock of a state `reconcile demo` wrote is marked.
SIMULATED = "demo clock"
SIMULATED_NOTE = (
    "Clock: the demo's simulated clock (`reconcile demo` wrote this state as if it were "
    "its charges' date); the times below are on it."
)


def stamp(moment: dt.datetime, timezone: str = "UTC", *, simulated: bool = False) -> str:
    """A moment in ``timezone``, with its zone ("2026-12-01 05:00 EST"), and "(demo clock)"
    when it is on the demo's simulated clock."""
    local = moment.astimezone(ZoneInfo(timezone))
    text = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return f"{text} ({SIMULATED})" if simulated else text


def when(
    moment: dt.datetime, now: dt.datetime, timezone: str = "UTC", *, simulated: bool = False
) -> str:
    """A moment in the company's time zone, with how long ago (or from now) it is; ``now``
    is on the same clock (the demo's simulated one when ``simulated``)."""
    relative = f"{age(now - moment)} ago" if moment <= now else f"in {age(moment - now)}"
    if simulated:
        relative = f"{SIMULATED}, {relative}"
    return f"{stamp(moment, timezone)} ({relative})"

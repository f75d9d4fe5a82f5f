"""Which Web Connector versions the server works with (``clientVersion``).

- Before 2.0 the Web Connector lacks what a run relies on: ``serverVersion``,
  the ``NoOp`` pause, the update lock for several Web Connectors on one
  company file, and ``busy``. Refused (``E:``).
- 2.0 up to 2.2.0.71 works, but these builds predate Intuit's TLS 1.2
  updates and QuickBooks 2015 and newer ship a newer one; servers such as
  consolibyte's QuickBooks PHP DevKit require 2.2.0.71 for the same reason.
  Warned (``W:``): the user may continue.
- 2.2.0.71 and newer: proceed (``""``).

The Web Connector sends its version as four dotted numbers ("2.3.0.215").
"""

from __future__ import annotations

import re

MINIMUM = (2, 0, 0, 0)
RECOMMENDED = (2, 2, 0, 71)

_DOWNLOAD = "Download the current QuickBooks Web Connector from Intuit and add the QWC file again."


def _parse(version: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+){0,3})\s*", version)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group(1).split("."))
    return numbers + (0,) * (4 - len(numbers))


def _dotted(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


def client_version_answer(version: str) -> str:
    """The answer to ``clientVersion(version)``: "", ``W:...`` or ``E:...``."""
    numbers = _parse(version)
    if numbers is None:
        # An unreadable version is not a reason to stop a user's sync.
        return ""
    if numbers < MINIMUM:
        return (
            f"E:Web Connector {version.strip()} is too old for reconciler "
            f"(version {_dotted(MINIMUM)} or newer is required). {_DOWNLOAD}"
        )
    if numbers < RECOMMENDED:
        return (
            f"W:Web Connector {version.strip()} is out of date; version "
            f"{_dotted(RECOMMENDED)} or newer is recommended (secure HTTPS with TLS 1.2). "
            f"{_DOWNLOAD}"
        )
    return ""

"""The QWC file the user opens in the Web Connector (programmer's guide, chapter 4).

It holds everything the Web Connector needs but the password, which the user
types into the Web Connector once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from reconciler.base.errors import UserError

APP_NAME = "reconciler"
# The Web Connector shows at most 80 characters well.
DESCRIPTION = "Sherweb billing for QuickBooks, from configuration in Git"
DEFAULT_EVERY_MINUTES = 30
_LOCAL_HOSTS = {"localhost"}
# Where the server answers the Web Connector (and, below it, the support page).
SOAP_PATH = "/qbwc"


@dataclass(frozen=True)
class QwcFile:
    """The fields of one QWC file."""

    app_url: str
    username: str
    owner_id: str
    file_id: str
    app_id: str
    company: str
    every_minutes: int = DEFAULT_EVERY_MINUTES

    @property
    def app_name(self) -> str:
        """The AppName the Web Connector lists: ``reconciler (<company>)``."""
        # The Web Connector tells applications apart by name: one per company.
        return f"{APP_NAME} ({self.company})"

    @property
    def support_url(self) -> str:
        """The AppSupport URL for :attr:`app_url` (see :func:`support_url`)."""
        return support_url(self.app_url)


def support_url(app_url: str) -> str:
    """The AppSupport URL: the same host as AppURL (the Web Connector insists)."""
    parts = urlsplit(app_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/support", "", ""))


def check_app_url(url: str) -> list[str]:
    """Why the Web Connector would refuse ``url`` as AppURL (empty: it is fine).

    Raises :class:`UserError` for what is not a URL at all.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(
            f"{url!r} is not an http(s) URL", hint="e.g. https://qb.example.com:8443/qbwc"
        )
    if parts.query or parts.fragment:
        raise UserError(f"{url!r}: the AppURL takes no query or fragment")
    problems = []
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
        problems.append(
            f"the Web Connector does not load an AppURL whose host is an IP address ({host}); "
            "use a host name (error QBWC1001)"
        )
    except ValueError:
        pass
    if parts.scheme == "http" and host.lower() not in _LOCAL_HOSTS:
        problems.append(
            "the Web Connector accepts plain http only on localhost; serve HTTPS "
            "(reconcile serve --certfile ... --keyfile ...) and use an https:// URL"
        )
    if parts.path.rstrip("/") != SOAP_PATH:
        problems.append(
            f"reconcile serve answers the Web Connector at {SOAP_PATH}, not at "
            f"{parts.path or '/'} (every other path is 404): end the URL with {SOAP_PATH}, "
            f"unless a proxy in front of the server maps this path to {SOAP_PATH}"
        )
    return problems


def render_qwc(qwc: QwcFile) -> str:
    """The QWC file's XML text."""
    root = etree.Element("QBWCXML")
    fields = [
        ("AppName", qwc.app_name),
        ("AppID", qwc.app_id),
        ("AppURL", qwc.app_url),
        ("AppDescription", DESCRIPTION),
        ("AppSupport", qwc.support_url),
        ("UserName", qwc.username),
        ("OwnerID", qwc.owner_id),
        ("FileID", qwc.file_id),
        ("QBType", "QBFS"),
    ]
    for tag, text in fields:
        etree.SubElement(root, tag).text = text
    scheduler = etree.SubElement(root, "Scheduler")
    etree.SubElement(scheduler, "RunEveryNMinutes").text = str(qwc.every_minutes)
    etree.SubElement(root, "IsReadOnly").text = "false"
    # Invoices are due at 05:00, when nobody has QuickBooks open: let the user
    # allow unattended access. Personal data (credit cards, SSNs) is not needed.
    etree.SubElement(root, "UnattendedModePref").text = "umpOptional"
    etree.SubElement(root, "PersonalDataPref").text = "pdpNotNeeded"
    text: str = etree.tostring(
        root, xml_declaration=True, encoding="utf-8", pretty_print=True
    ).decode("utf-8")
    return text

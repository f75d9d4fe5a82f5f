"""What the server knows of a company's configuration between commands.

``reconcile serve`` reads no YAML: ``qwc`` and ``apply`` (which do) record
here what a run needs, namely which items and customers to refresh, and the
billing options that say which invoices the billing window holds and when
invoices are due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reconciler.model import BillingMode, Config


@dataclass(frozen=True)
class Profile:
    """The part of a configuration a sync run uses."""

    company: str
    company_file: str  # "" for the open company
    items: tuple[str, ...]  # mapped items' full names
    customers: tuple[str, ...]  # mapped customers' full names
    mode: BillingMode
    invoice_day: int | str
    invoice_time: dt.time
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "company_file": self.company_file,
            "items": list(self.items),
            "customers": list(self.customers),
            "mode": self.mode.value,
            "invoice_day": self.invoice_day,
            "invoice_time": self.invoice_time.strftime("%H:%M"),
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile | None:
        """The stored profile; None when nothing was recorded yet."""
        if not data:
            return None
        return cls(
            company=data["company"],
            company_file=data.get("company_file", ""),
            items=tuple(data.get("items", ())),
            customers=tuple(data.get("customers", ())),
            mode=BillingMode(data["mode"]),
            invoice_day=data["invoice_day"],
            invoice_time=dt.time.fromisoformat(data["invoice_time"]),
            timezone=data["timezone"],
        )


def profile_from_config(config: Config) -> Profile:
    """The profile of a loaded configuration."""
    billing = config.billing
    return Profile(
        company=billing.company.name,
        company_file=billing.company.file,
        items=tuple(sorted({offer.item for offer in config.offers})),
        customers=tuple(sorted({org.customer for org in config.organizations})),
        mode=billing.mode,
        invoice_day=billing.invoice_day,
        invoice_time=billing.invoice_time,
        timezone=billing.timezone,
    )

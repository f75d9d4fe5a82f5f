"""What the server knows of a company's configuration between commands.

``reconcile serve`` reads no YAML: ``qwc`` and ``apply`` (which do) record
here what a run needs, namely whose invoices to read (the mapped customers;
every customer and item is read), and the billing options that say which
invoices the billing window holds and when invoices are due; and what ``apply`` checks a plan against (the
configuration's fingerprint, which items each customer's organizations sync,
which invoices count as unsent, how created invoices are marked, the safety
threshold), on whichever path the plan arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconciler.engine.fingerprint import decimal_text, fingerprint_config
from reconciler.model.config import (
    BillingMode,
    BillingOptions,
    CompanyFile,
    Config,
    Safety,
    SendMark,
    UnsentInvoices,
)
from reconciler.plan.guard import GuardRules, synced_items


@dataclass(frozen=True)
class Profile:
    """The part of a configuration a sync run uses."""

    company: str
    company_file: str  # "" for the open company
    items: tuple[str, ...]  # mapped items' full names
    customers: tuple[str, ...]  # mapped customers' full names: whose invoices a run reads
    mode: BillingMode
    invoice_day: int | str
    invoice_time: dt.time
    timezone: str
    # Each mapped customer's full name and the items synced for its organizations.
    synced: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unsent_invoices: UnsentInvoices = UnsentInvoices.MARKED
    mark_created: SendMark = SendMark.EMAIL
    safety: Safety = field(default_factory=Safety)
    # fingerprint_config of the configuration; None in profiles recorded before it was kept.
    config_fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The profile as the store keeps it (JSON-ready); :meth:`from_dict` reads it back."""
        return {
            "company": self.company,
            "company_file": self.company_file,
            "items": list(self.items),
            "customers": list(self.customers),
            "mode": self.mode.value,
            "invoice_day": self.invoice_day,
            "invoice_time": self.invoice_time.strftime("%H:%M"),
            "timezone": self.timezone,
            "synced": {customer: list(items) for customer, items in self.synced},
            "unsent_invoices": self.unsent_invoices.value,
            "mark_created": self.mark_created.value,
            "safety": {
                "max_change_ratio": decimal_text(self.safety.max_change_ratio),
                "min_existing": self.safety.min_existing,
            },
            "config_fingerprint": self.config_fingerprint,
        }

    def billing(self) -> BillingOptions:
        """The billing options the profile holds (what `apply` checks a plan with)."""
        return BillingOptions(
            company=CompanyFile(name=self.company, file=self.company_file),
            mode=self.mode,
            invoice_day=self.invoice_day,
            invoice_time=self.invoice_time,
            timezone=self.timezone,
            safety=self.safety,
            unsent_invoices=self.unsent_invoices,
            mark_created=self.mark_created,
        )

    def guard_rules(self) -> GuardRules:
        """What a plan's requests are checked against (``plan.guard``)."""
        return GuardRules.of(self.billing(), self.items, dict(self.synced))

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
            synced=tuple(
                (customer, tuple(items)) for customer, items in data.get("synced", {}).items()
            ),
            unsent_invoices=UnsentInvoices(data.get("unsent_invoices", UnsentInvoices.MARKED)),
            mark_created=SendMark(data.get("mark_created", SendMark.EMAIL)),
            safety=_safety(data.get("safety") or {}),
            config_fingerprint=data.get("config_fingerprint"),
        )


def _safety(data: dict[str, Any]) -> Safety:
    default = Safety()
    return Safety(
        max_change_ratio=Decimal(str(data.get("max_change_ratio", default.max_change_ratio))),
        min_existing=int(data.get("min_existing", default.min_existing)),
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
        synced=tuple(synced_items(config).items()),
        unsent_invoices=billing.unsent_invoices,
        mark_created=billing.mark_created,
        safety=billing.safety,
        config_fingerprint=fingerprint_config(config),
    )

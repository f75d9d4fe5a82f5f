"""Loading and validating the configuration directory.

The configuration is three YAML files in one directory: ``billing.yaml``,
``offers.yaml`` and ``organizations.yaml``. Every problem in every file is
collected (YAML syntax, JSON Schema, then the rules that span objects and
files) and reported together, each with ``FILE:LINE:COL``. The rules run on
every value the schema found sound, whatever else is broken: a bad
organization never hides a bad time zone or a bad offer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from reconciler.base.errors import Diagnostic, InvalidInput, Location, NotUtf8Text
from reconciler.base.jsonschemas import load_schema, schema_problems
from reconciler.config.description import DescriptionTemplateError, check_template
from reconciler.config.yamlsource import PathKey, YamlDocument, YamlSyntaxError, load_yaml
from reconciler.model.config import (
    LAST_DAY,
    BillingMode,
    BillingOptions,
    CompanyFile,
    Config,
    InvoiceAction,
    Offer,
    Organization,
    Proration,
    Safety,
    SendMark,
    SherwebSettings,
    UnsentInvoices,
)

BILLING_FILE = "billing.yaml"
OFFERS_FILE = "offers.yaml"
ORGANIZATIONS_FILE = "organizations.yaml"

# File name -> schema name, in the order they are read and reported.
CONFIG_FILES = {
    BILLING_FILE: "billing",
    OFFERS_FILE: "offers",
    ORGANIZATIONS_FILE: "organizations",
}

NO_CONFIGURATION_HINT = (
    "Name the configuration directory with --config DIR, or start one from the example "
    "with `reconcile init DIR`."
)

# QuickBooks Desktop name limits (qbXML reference, QBD edition).
CUSTOMER_LEVEL_MAX = 41
CUSTOMER_FULL_NAME_MAX = 209
ITEM_LEVEL_MAX = 31
ITEM_FULL_NAME_MAX = 159


def schema_names() -> list[str]:
    """The names of the schemas that ship with the package."""
    return list(CONFIG_FILES.values())


@dataclass(frozen=True)
class ConfigSummary:
    """A one-line account of a valid configuration."""

    config: Config
    directory: Path

    def __str__(self) -> str:
        c = self.config
        synced = sum(1 for o in c.offers if o.sync)
        actions = {a: sum(1 for o in c.organizations if o.action is a) for a in InvoiceAction}
        return (
            f"{self.directory}: valid - {len(c.offers)} offers ({synced} synced), "
            f"{len(c.organizations)} organizations ({actions[InvoiceAction.CREATE]} create, "
            f"{actions[InvoiceAction.UPDATE]} update), billing {c.billing.mode.value}, "
            f"invoice day {c.billing.invoice_day}"
        )


# A value that is absent, or present but broken (the schema already said how).
_UNUSABLE: Any = object()


@dataclass(frozen=True)
class _CheckedFile:
    """One configuration file after its YAML and schema checks.

    The rules that need more than the schema run on every value the schema
    found sound, whatever is broken elsewhere in the file: one mistake never
    hides another.
    """

    # None when the file is missing, unreadable or not YAML.
    document: YamlDocument | None
    # Where the schema found problems: values at or under them are not used.
    broken: frozenset[PathKey] = frozenset()

    def raw(self, path: PathKey) -> Any:
        """The value at ``path`` whether sound or not; :data:`_UNUSABLE` when absent."""
        data = None if self.document is None else self.document.data
        for part in path:
            in_list = isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data)
            if not (in_list or (isinstance(data, dict) and part in data)):
                return _UNUSABLE
            data = data[part]
        return data

    def sound(self, path: PathKey) -> bool:
        """Whether the schema found no problem at ``path`` or under it."""
        return not any(where[: len(path)] == path for where in self.broken)

    def value(self, path: PathKey, default: Any = _UNUSABLE) -> Any:
        """The value at ``path`` when sound, ``default`` when absent, else :data:`_UNUSABLE`."""
        found = self.raw(path)
        if found is _UNUSABLE:
            return default
        return found if self.sound(path) else _UNUSABLE

    def entries(self, key: str) -> list[tuple[int, Any]]:
        """The entries of the top-level list ``key`` (none when it is not a list)."""
        found = self.raw((key,))
        return list(enumerate(found)) if isinstance(found, list) else []


def _check_file(path: Path, schema_name: str, problems: list[Diagnostic]) -> _CheckedFile:
    if not path.is_file():
        why = "is a directory, not a file" if path.is_dir() else "missing"
        problems.append(Diagnostic(Location(path), f"{why} (the configuration needs it)"))
        return _CheckedFile(None)
    try:
        document = load_yaml(path)
    except YamlSyntaxError as exc:
        problems.extend(exc.diagnostics)
        if exc.document is None:
            return _CheckedFile(None)
        document = exc.document  # duplicate keys: reported, and the rest is checked
    except NotUtf8Text as exc:
        problems.append(exc.diagnostic)
        return _CheckedFile(None)
    except OSError as exc:
        problems.append(Diagnostic(Location(path), f"cannot read: {exc.strerror or exc}"))
        return _CheckedFile(None)
    found = schema_problems(
        jsonschema.Draft202012Validator(
            load_schema(schema_name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        ),
        {} if document.data is None else document.data,
        written=document.written.get,
    )
    problems.extend(Diagnostic(document.where(p.at, key=p.key is not None), str(p)) for p in found)
    return _CheckedFile(document, frozenset(p.path for p in found))


def _check_directory(directory: Path) -> None:
    """Refuse a ``--config`` that is not a configuration directory, saying what it is."""
    if directory.is_dir():
        if any((directory / name).is_file() for name in CONFIG_FILES):
            return
        why = f"no {', '.join(CONFIG_FILES)} in this directory"
    elif directory.is_file():
        why = "is a file, not a directory"
        if directory.name in CONFIG_FILES:
            why += f": --config names the directory that holds it ({directory.parent})"
    elif directory.exists():
        why = "is not a directory"
    else:
        why = "no such directory"
    raise InvalidInput(
        [Diagnostic(Location(directory), why)], subject="configuration", hint=NO_CONFIGURATION_HINT
    )


def load_config(directory: Path) -> Config:
    """Load and validate the configuration in ``directory``.

    Raises :class:`InvalidInput` listing every problem found.
    """
    _check_directory(directory)
    problems: list[Diagnostic] = []
    checked = {
        file_name: _check_file(directory / file_name, schema_name, problems)
        for file_name, schema_name in CONFIG_FILES.items()
    }
    offers_file, organizations_file = checked[OFFERS_FILE], checked[ORGANIZATIONS_FILE]
    billing = _build_billing(checked[BILLING_FILE], problems)
    offers = _build_offers(offers_file, problems)
    organizations = _build_organizations(organizations_file, _known_skus(offers_file), problems)
    problems.extend(_shared_item_checks(offers, organizations))
    if problems or billing is None:
        raise InvalidInput(_sorted(problems), subject="configuration")
    return Config(billing=billing, offers=offers, organizations=organizations)


def load_billing(directory: Path) -> BillingOptions:
    """Load and validate ``billing.yaml`` alone, for commands that run before
    the mappings exist (``reconcile import``). Raises :class:`InvalidInput`."""
    if not directory.is_dir():
        _check_directory(directory)
    problems: list[Diagnostic] = []
    checked = _check_file(directory / BILLING_FILE, CONFIG_FILES[BILLING_FILE], problems)
    billing = _build_billing(checked, problems)
    if problems or billing is None:
        missing = not (directory / BILLING_FILE).is_file()
        raise InvalidInput(
            _sorted(problems),
            subject="configuration",
            hint=NO_CONFIGURATION_HINT if missing else None,
        )
    return billing


def _sorted(problems: list[Diagnostic]) -> list[Diagnostic]:
    order = {name: index for index, name in enumerate(CONFIG_FILES)}

    def key(d: Diagnostic) -> tuple[int, int, int]:
        if d.location is None:
            return (-1, 0, 0)
        return (
            order.get(d.location.file.name, len(order)),
            d.location.line or 0,
            d.location.column or 0,
        )

    return sorted(problems, key=key)


# --------------------------------------------------------------------------
# The rules that need more than one value, and the model built from them
# --------------------------------------------------------------------------


def _build_billing(checked: _CheckedFile, problems: list[Diagnostic]) -> BillingOptions | None:
    document = checked.document
    if document is None:
        return None
    before = len(problems)
    timezone = checked.value(("timezone",), "America/New_York")
    if timezone is not _UNUSABLE:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problems.append(
                Diagnostic(
                    document.where(("timezone",)),
                    f"timezone: unknown time zone {timezone!r} (use an IANA name such as America/New_York)",
                )
            )
    unsent = checked.value(("unsent_invoices",), UnsentInvoices.MARKED.value)
    mark = checked.value(("mark_created",), SendMark.EMAIL.value)
    if mark == SendMark.NONE.value and unsent == UnsentInvoices.MARKED.value:
        # Unmarked, what reconciler creates would count as sent at once, and
        # later corrections of its charges would never reach it.
        problems.append(
            Diagnostic(
                document.where(("mark_created",)),
                "mark_created: none with unsent_invoices: marked: the invoices reconciler "
                "creates would count as sent at once, so later corrections of their charges "
                "would never be applied. Use mark_created: email or print, or "
                "unsent_invoices: unpaid if your books do not use the Print/Email later marks",
            )
        )
    if checked.broken or len(problems) > before:
        return None
    data = document.data
    hours, minutes = (int(part) for part in data.get("invoice_time", "05:00").split(":"))
    safety = data.get("safety", {})
    company = data["company"]
    return BillingOptions(
        company=CompanyFile(name=company["name"], file=company.get("file", "")),
        mode=BillingMode(data["mode"]),
        proration=frozenset(Proration(p) for p in data.get("proration", [])),
        invoice_day=data["invoice_day"]
        if data["invoice_day"] == LAST_DAY
        else int(data["invoice_day"]),
        invoice_time=dt.time(hours, minutes),
        timezone=timezone,
        safety=Safety(
            max_change_ratio=Decimal(str(safety.get("max_change_ratio", "0.30"))),
            min_existing=int(safety.get("min_existing", 10)),
        ),
        sherweb=SherwebSettings(**data.get("sherweb", {})),
        unsent_invoices=UnsentInvoices(unsent),
        mark_created=SendMark(mark),
        where=document.where(()),
    )


def _checked_name(
    checked: _CheckedFile,
    path: PathKey,
    *,
    what: str,
    limits: tuple[int, int],
    problems: list[Diagnostic],
) -> Any:
    """The QuickBooks name at ``path``, once checked against QuickBooks' ``limits``
    (per level, in all); :data:`_UNUSABLE` when broken."""
    full_name = checked.value(path)
    if not isinstance(full_name, str) or checked.document is None:
        return full_name
    where = checked.document.where(path)
    level_max, full_max = limits
    levels = full_name.split(":")
    if any(not level.strip() for level in levels):
        problems.append(
            Diagnostic(
                where, f"{what} {full_name!r}: empty name level (levels are separated by ':')"
            )
        )
        return full_name
    if len(full_name) > full_max:
        problems.append(
            Diagnostic(
                where,
                f"{what} {full_name!r}: full name is {len(full_name)} characters; QuickBooks allows {full_max}",
            )
        )
    problems.extend(
        Diagnostic(
            where,
            f"{what} {full_name!r}: name {level!r} is {len(level)} characters; "
            f"QuickBooks allows {level_max} per level",
        )
        for level in levels
        if len(level) > level_max
    )
    return full_name


def _build_offers(checked: _CheckedFile, problems: list[Diagnostic]) -> tuple[Offer, ...]:
    """The sound offers; the rules checked on every sound value of every entry."""
    document = checked.document
    if document is None:
        return ()
    offers: list[Offer] = []
    first_seen: dict[str, int] = {}
    for index, _ in checked.entries("offers"):
        here: PathKey = ("offers", index)
        sku = checked.value((*here, "sku"))
        if isinstance(sku, str):
            if sku in first_seen:
                first = document.where(("offers", first_seen[sku]))
                problems.append(
                    Diagnostic(
                        document.where((*here, "sku")),
                        f"duplicate offer SKU {sku!r} (first mapped at line {first.line})",
                    )
                )
            first_seen.setdefault(sku, index)
        item = _checked_name(
            checked,
            (*here, "item"),
            what="item",
            limits=(ITEM_LEVEL_MAX, ITEM_FULL_NAME_MAX),
            problems=problems,
        )
        description = checked.value((*here, "description"), None)
        if isinstance(description, str):
            try:
                check_template(description)
            except DescriptionTemplateError as exc:
                label = f"offer {sku}" if isinstance(sku, str) else "offer"
                problems.append(
                    Diagnostic(document.where((*here, "description")), f"{label}: {exc}")
                )
        if checked.sound(here):
            offers.append(
                Offer(
                    sku=sku,
                    item=item,
                    sync=checked.value((*here, "sync"), True),
                    description=description,
                    where=document.where(here),
                )
            )
    return tuple(offers)


def _known_skus(offers: _CheckedFile) -> frozenset[str] | None:
    """The SKUs offers.yaml maps (None when it holds no list of offers to tell by).

    SKUs of entries that broke the schema still count as known: the user
    fixes that entry, not every override that names it.
    """
    if not isinstance(offers.raw(("offers",)), list):
        return None
    return frozenset(
        entry["sku"]
        for _, entry in offers.entries("offers")
        if isinstance(entry, dict) and isinstance(entry.get("sku"), str)
    )


def _build_organizations(
    checked: _CheckedFile, known_skus: frozenset[str] | None, problems: list[Diagnostic]
) -> tuple[Organization, ...]:
    """The sound organizations; the rules checked on every sound value of every entry."""
    document = checked.document
    if document is None:
        return ()
    organizations: list[Organization] = []
    first_seen: dict[str, int] = {}
    # Customer (case-folded) -> the first organization mapped to it: (index, name, action).
    by_customer: dict[str, tuple[int, str, str]] = {}
    for index, _ in checked.entries("organizations"):
        here: PathKey = ("organizations", index)
        org_id, name = checked.value((*here, "id")), checked.value((*here, "name"))
        label = name if isinstance(name, str) else f"at line {document.where(here).line}"
        if isinstance(org_id, str):
            if org_id.lower() in first_seen:
                first = document.where(("organizations", first_seen[org_id.lower()]))
                problems.append(
                    Diagnostic(
                        document.where((*here, "id")),
                        f"duplicate organization {org_id} ({label}; first mapped at line {first.line})",
                    )
                )
            first_seen.setdefault(org_id.lower(), index)
        customer = _checked_name(
            checked,
            (*here, "customer"),
            what="customer",
            limits=(CUSTOMER_LEVEL_MAX, CUSTOMER_FULL_NAME_MAX),
            problems=problems,
        )
        action = checked.value((*here, "action"))
        create_if_missing = checked.value((*here, "create_if_missing"), False)
        if create_if_missing is True and action == InvoiceAction.CREATE.value:
            problems.append(
                Diagnostic(
                    document.where((*here, "create_if_missing"), key=True),
                    f"organization {label}: create_if_missing applies only to action 'update'",
                )
            )
        overrides = checked.raw((*here, "offers"))
        if isinstance(overrides, dict) and known_skus is not None:
            problems.extend(
                Diagnostic(
                    document.where((*here, "offers", sku), key=True),
                    f"organization {label}: override names unknown offer {sku!r} (not in offers.yaml)",
                )
                for sku in overrides
                if sku not in known_skus
            )
        if isinstance(customer, str) and isinstance(action, str):
            first_index, first_name, first_action = by_customer.setdefault(
                customer.casefold(), (index, label, action)
            )
            if first_action != action:
                line = document.where(("organizations", first_index)).line
                problems.append(
                    Diagnostic(
                        document.where((*here, "action")),
                        f"organizations {first_name} and {label} both map to customer "
                        f"{customer!r} with different actions ({first_action} at line {line}, "
                        f"{action} here)",
                    )
                )
        if checked.sound(here):
            organizations.append(
                Organization(
                    id=org_id,
                    name=name,
                    customer=customer,
                    action=InvoiceAction(action),
                    offers=tuple(overrides.items()) if isinstance(overrides, dict) else (),
                    create_if_missing=create_if_missing,
                    where=document.where(here),
                )
            )
    return tuple(organizations)


def _shared_item_checks(
    offers: tuple[Offer, ...], organizations: tuple[Organization, ...]
) -> Iterator[Diagnostic]:
    """Refuse offers that share a QuickBooks item but not their sync, for some organization.

    An invoice line holds an item, not a SKU: when one offer on an item is
    synced and another is not, the reconciler cannot tell the hand-billed
    lines of the one from the synced lines of the other, and would rewrite or
    remove them (design invariant 3).
    """
    by_item: dict[str, list[Offer]] = {}
    for offer in offers:
        by_item.setdefault(offer.item.casefold(), []).append(offer)
    for sharing in by_item.values():
        first = sharing[0]
        for other in sharing[1:]:
            differ = [org.name for org in organizations if org.syncs(first) is not org.syncs(other)]
            if not differ:
                continue
            shown = ", ".join(differ[:3]) + (
                f" and {len(differ) - 3} more" if len(differ) > 3 else ""
            )
            line = f" (line {first.where.line})" if first.where and first.where.line else ""
            yield Diagnostic(
                other.where,
                f"offers {first.sku}{line} and {other.sku} share item {other.item!r} but only "
                f"one of them is synced for {shown}: lines on one item cannot be told apart, "
                "so the lines of the offer synced off would be rewritten or removed. Map the "
                "offers to separate QuickBooks items, or sync both or neither (sync here, or "
                "the organization's offers overrides in organizations.yaml)",
            )

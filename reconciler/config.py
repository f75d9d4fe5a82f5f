"""Loading and validating the configuration directory.

The configuration is three YAML files in one directory: ``billing.yaml``,
``offers.yaml`` and ``organizations.yaml``. Every problem in every file is
collected (YAML syntax, JSON Schema, then the rules that span objects and
files) and reported together, each with ``FILE:LINE:COL``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
from jsonschema.exceptions import ValidationError

from reconciler.description import DescriptionTemplateError, check_template
from reconciler.errors import Diagnostic, InvalidInput
from reconciler.jsonschemas import load_schema
from reconciler.model import (
    LAST_DAY,
    BillingMode,
    BillingOptions,
    Company,
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
from reconciler.yamlsource import PathKey, YamlDocument, YamlSyntaxError, load_yaml

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


@dataclass(frozen=True)
class _CheckedFile:
    """One configuration file after YAML and schema checks."""

    # None when the file is missing, unreadable or too broken to build from.
    document: YamlDocument | None
    # List entries that break the schema: left out of the rules that span
    # entries, so that their neighbours' mistakes are still found.
    broken_entries: frozenset[int] = frozenset()


def _check_file(path: Path, schema_name: str, problems: list[Diagnostic]) -> _CheckedFile:
    if not path.is_file():
        problems.append(Diagnostic(None, f"{path}: missing (the configuration needs it)"))
        return _CheckedFile(None)
    try:
        document = load_yaml(path)
    except YamlSyntaxError as exc:
        problems.append(exc.diagnostic)
        return _CheckedFile(None)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Diagnostic(None, f"{path}: cannot read: {exc}"))
        return _CheckedFile(None)
    errors = _schema_errors(document, load_schema(schema_name))
    problems.extend(Diagnostic(*_describe(document, at, e)) for at, e in errors)
    if any(len(at) < 2 for at, _ in errors) or (schema_name == "billing" and errors):
        return _CheckedFile(None)
    broken = frozenset(at[1] for at, _ in errors if isinstance(at[1], int))
    return _CheckedFile(document, broken)


def load_config(directory: Path) -> Config:
    """Load and validate the configuration in ``directory``.

    Raises :class:`InvalidInput` listing every problem found.
    """
    if not directory.is_dir():
        raise InvalidInput(
            [Diagnostic(None, f"{directory}: not a configuration directory")],
            subject="configuration",
            hint=NO_CONFIGURATION_HINT,
        )
    if not any((directory / name).is_file() for name in CONFIG_FILES):
        raise InvalidInput(
            [Diagnostic(None, f"{directory}: no {', '.join(CONFIG_FILES)} in this directory")],
            subject="configuration",
            hint=NO_CONFIGURATION_HINT,
        )
    problems: list[Diagnostic] = []
    checked = {
        file_name: _check_file(directory / file_name, schema_name, problems)
        for file_name, schema_name in CONFIG_FILES.items()
    }
    offers_file, organizations_file = checked[OFFERS_FILE], checked[ORGANIZATIONS_FILE]
    billing = _build_billing(checked[BILLING_FILE].document, problems)
    offers = _build_offers(offers_file.document, offers_file.broken_entries, problems)
    organizations = _build_organizations(
        organizations_file.document, organizations_file.broken_entries, problems
    )
    if offers is not None and organizations is not None:
        assert offers_file.document is not None and organizations_file.document is not None
        problems.extend(
            _cross_checks(offers_file.document, organizations, organizations_file.document)
        )
        problems.extend(_shared_item_checks(offers, [org for _, org in organizations]))
    if problems or billing is None or offers is None or organizations is None:
        raise InvalidInput(_sorted(problems), subject="configuration")
    return Config(
        billing=billing, offers=offers, organizations=tuple(org for _, org in organizations)
    )


def load_billing(directory: Path) -> BillingOptions:
    """Load and validate ``billing.yaml`` alone, for commands that run before
    the mappings exist (``reconcile import``). Raises :class:`InvalidInput`."""
    problems: list[Diagnostic] = []
    checked = _check_file(directory / BILLING_FILE, CONFIG_FILES[BILLING_FILE], problems)
    billing = _build_billing(checked.document, problems)
    if problems or billing is None:
        missing = not (directory / BILLING_FILE).is_file()
        raise InvalidInput(
            problems, subject="configuration", hint=NO_CONFIGURATION_HINT if missing else None
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
# JSON Schema
# --------------------------------------------------------------------------


def _schema_errors(
    document: YamlDocument, schema: dict[str, Any]
) -> list[tuple[PathKey, ValidationError]]:
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data = {} if document.data is None else document.data
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [(tuple(error.absolute_path), error) for error in errors]


def _describe(document: YamlDocument, path: PathKey, error: ValidationError) -> tuple[Any, str]:
    name = ".".join(str(p) for p in path) or "(top level)"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra and isinstance(error.instance, dict):
            key_path = (*path, extra[0])
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            hint = f" (allowed: {allowed})" if allowed else ""
            return document.where(key_path, key=True), f"{name}: unknown key {extra[0]!r}{hint}"
    if error.validator == "required":
        return document.where(path), f"{name}: {error.message}"
    if error.validator in {"enum", "const"} and "enum" in error.schema:
        allowed = ", ".join(str(v) for v in error.schema["enum"])
        return document.where(path), f"{name}: {error.instance!r} is not one of: {allowed}"
    if error.validator == "oneOf" and error.context:
        # The user wants the alternatives, not the validator's internals.
        best = min(error.context, key=lambda e: len(e.message))
        return document.where(path), f"{name}: {error.instance!r} is not valid ({best.message})"
    if error.validator == "pattern" and path and path[-1] == "id":
        return document.where(path), f"{name}: {error.instance!r} is not a UUID"
    return document.where(path), f"{name}: {error.message}"


# --------------------------------------------------------------------------
# Building the model, with the checks that need more than one value
# --------------------------------------------------------------------------


def _build_billing(
    document: YamlDocument | None, problems: list[Diagnostic]
) -> BillingOptions | None:
    if document is None:
        return None
    data = document.data
    try:
        ZoneInfo(data.get("timezone", "America/New_York"))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Diagnostic(
                document.where(("timezone",)),
                f"timezone: unknown time zone {data['timezone']!r} (use an IANA name such as America/New_York)",
            )
        )
        return None
    unsent = UnsentInvoices(data.get("unsent_invoices", UnsentInvoices.MARKED.value))
    mark = SendMark(data.get("mark_created", SendMark.EMAIL.value))
    if mark is SendMark.NONE and unsent is UnsentInvoices.MARKED:
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
        return None
    hours, minutes = (int(part) for part in data.get("invoice_time", "05:00").split(":"))
    safety = data.get("safety", {})
    company = data["company"]
    return BillingOptions(
        company=Company(name=company["name"], file=company.get("file", "")),
        mode=BillingMode(data["mode"]),
        proration=frozenset(Proration(p) for p in data.get("proration", [])),
        invoice_day=data["invoice_day"]
        if data["invoice_day"] == LAST_DAY
        else int(data["invoice_day"]),
        invoice_time=dt.time(hours, minutes),
        timezone=data.get("timezone", "America/New_York"),
        safety=Safety(
            max_change_ratio=Decimal(str(safety.get("max_change_ratio", "0.30"))),
            min_existing=int(safety.get("min_existing", 10)),
        ),
        sherweb=SherwebSettings(**data.get("sherweb", {})),
        unsent_invoices=unsent,
        mark_created=mark,
        where=document.where(()),
    )


def _name_problems(
    full_name: str,
    *,
    what: str,
    level_max: int,
    full_max: int,
    where: Callable[[], Any],
) -> Iterator[Diagnostic]:
    levels = full_name.split(":")
    if any(not level.strip() for level in levels):
        yield Diagnostic(
            where(), f"{what} {full_name!r}: empty name level (levels are separated by ':')"
        )
        return
    if len(full_name) > full_max:
        yield Diagnostic(
            where(),
            f"{what} {full_name!r}: full name is {len(full_name)} characters; QuickBooks allows {full_max}",
        )
    for level in levels:
        if len(level) > level_max:
            yield Diagnostic(
                where(),
                f"{what} {full_name!r}: name {level!r} is {len(level)} characters; "
                f"QuickBooks allows {level_max} per level",
            )


def _build_offers(
    document: YamlDocument | None, skip: frozenset[int], problems: list[Diagnostic]
) -> tuple[Offer, ...] | None:
    if document is None:
        return None
    offers: list[Offer] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(document.data["offers"]):
        if index in skip:
            continue
        here = ("offers", index)
        sku = entry["sku"]
        if sku in first_seen:
            first = document.where(("offers", first_seen[sku]))
            problems.append(
                Diagnostic(
                    document.where((*here, "sku")),
                    f"duplicate offer SKU {sku!r} (first mapped at line {first.line})",
                )
            )
        first_seen.setdefault(sku, index)
        problems.extend(
            _name_problems(
                entry["item"],
                what="item",
                level_max=ITEM_LEVEL_MAX,
                full_max=ITEM_FULL_NAME_MAX,
                where=lambda here=here: document.where((*here, "item")),
            )
        )
        description = entry.get("description")
        if description is not None:
            try:
                check_template(description)
            except DescriptionTemplateError as exc:
                problems.append(
                    Diagnostic(document.where((*here, "description")), f"offer {sku}: {exc}")
                )
        offers.append(
            Offer(
                sku=sku,
                item=entry["item"],
                sync=entry.get("sync", True),
                description=description,
                where=document.where(here),
            )
        )
    return tuple(offers)


def _build_organizations(
    document: YamlDocument | None, skip: frozenset[int], problems: list[Diagnostic]
) -> list[tuple[int, Organization]] | None:
    """The valid organizations, each with its index in the file."""
    if document is None:
        return None
    organizations: list[tuple[int, Organization]] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(document.data["organizations"]):
        if index in skip:
            continue
        here = ("organizations", index)
        org_id = entry["id"].lower()
        if org_id in first_seen:
            first = document.where(("organizations", first_seen[org_id]))
            problems.append(
                Diagnostic(
                    document.where((*here, "id")),
                    f"duplicate organization {entry['id']} ({entry['name']}; first mapped at line {first.line})",
                )
            )
        first_seen.setdefault(org_id, index)
        problems.extend(
            _name_problems(
                entry["customer"],
                what="customer",
                level_max=CUSTOMER_LEVEL_MAX,
                full_max=CUSTOMER_FULL_NAME_MAX,
                where=lambda here=here: document.where((*here, "customer")),
            )
        )
        action = InvoiceAction(entry["action"])
        create_if_missing = entry.get("create_if_missing", False)
        if create_if_missing and action is InvoiceAction.CREATE:
            problems.append(
                Diagnostic(
                    document.where((*here, "create_if_missing"), key=True),
                    f"organization {entry['name']}: create_if_missing applies only to action 'update'",
                )
            )
        organizations.append(
            (
                index,
                Organization(
                    id=entry["id"],
                    name=entry["name"],
                    customer=entry["customer"],
                    action=action,
                    offers=tuple(entry.get("offers", {}).items()),
                    create_if_missing=create_if_missing,
                    where=document.where(here),
                ),
            )
        )
    return organizations


def _cross_checks(
    offers_document: YamlDocument,
    organizations: list[tuple[int, Organization]],
    document: YamlDocument,
) -> Iterator[Diagnostic]:
    # SKUs of entries that broke the schema still count as known: the user
    # fixes that entry, not every override that names it.
    known = {
        entry["sku"]
        for entry in offers_document.data["offers"]
        if isinstance(entry, dict) and isinstance(entry.get("sku"), str)
    }
    by_customer: dict[str, tuple[int, Organization]] = {}
    for index, org in organizations:
        for sku, _ in org.offers:
            if sku not in known:
                yield Diagnostic(
                    document.where(("organizations", index, "offers", sku), key=True),
                    f"organization {org.name}: override names unknown offer {sku!r} (not in offers.yaml)",
                )
        customer = org.customer.casefold()
        if customer in by_customer:
            first_index, first = by_customer[customer]
            if first.action is not org.action:
                line = document.where(("organizations", first_index)).line
                yield Diagnostic(
                    document.where(("organizations", index, "action")),
                    f"organizations {first.name} and {org.name} both map to customer "
                    f"{org.customer!r} with different actions ({first.action.value} at line {line}, "
                    f"{org.action.value} here)",
                )
        else:
            by_customer[customer] = (index, org)


def _shared_item_checks(
    offers: tuple[Offer, ...], organizations: list[Organization]
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

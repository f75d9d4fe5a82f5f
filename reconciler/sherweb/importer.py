"""A first configuration from what exists: ``reconcile import``.

Sherweb customers are matched to QuickBooks customers and Sherweb offers
(the SKUs of the customers' subscriptions and charges) to QuickBooks items by
name, one to one, and written as ``organizations.yaml`` and ``offers.yaml``
for a person to review. What found no counterpart close enough is written
commented out with a ``TODO``: the files stay valid, and nothing is billed
for an entry until someone fills it in.

Everything here but :func:`write_import` is pure: Sherweb data and a
:class:`~reconciler.model.QBState` in, text out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.base.errors import UserError
from reconciler.base.files import write_text_atomically
from reconciler.base.names import DEFAULT_THRESHOLD, Match, match_names, normalize_name
from reconciler.config.load import OFFERS_FILE, ORGANIZATIONS_FILE
from reconciler.model.charges import BillingCycle, Charge, ChargesBundle, Subscription
from reconciler.model.config import InvoiceAction
from reconciler.model.quickbooks import COSTED_ITEM_KINDS, QBState

TODO = "TODO"
# New organizations get a separate invoice: "update" needs an existing unsent
# invoice in QuickBooks, which only the user knows to expect.
DEFAULT_ACTION = InvoiceAction.CREATE
# Words that say a product's term, so "Microsoft 365 E3 (annual)" finds the
# annual SKU and the plain item name the monthly one.
_TERM_BY_CYCLE = {BillingCycle.YEARLY: "Annual", BillingCycle.MONTHLY: "Monthly"}


@dataclass(frozen=True)
class SherwebCustomer:
    """A Sherweb customer (organization) as the API lists it."""

    id: str
    name: str


@dataclass(frozen=True)
class SherwebProduct:
    """A Sherweb offer seen in subscriptions or charges."""

    sku: str
    name: str
    term: str | None = None  # commitment term: Monthly, Annual, Biennial, Triennial

    @property
    def label(self) -> str:
        """``Microsoft 365 E3 (Annual)``."""
        return f"{self.name} ({self.term})" if self.term else self.name


@dataclass(frozen=True)
class Proposal:
    """What one Sherweb name was matched to in QuickBooks."""

    target: str | None  # QuickBooks full name; None when nothing was close enough
    score: float  # of the target; 0 without one
    # Other close QuickBooks names, best first, with their score and the
    # Sherweb entry they went to (if any), for the reviewer.
    alternatives: tuple[tuple[str, float, str | None], ...] = ()


@dataclass(frozen=True)
class ImportProposal:
    """The mappings ``reconcile import`` proposes."""

    organizations: tuple[tuple[SherwebCustomer, Proposal], ...]
    offers: tuple[tuple[SherwebProduct, Proposal], ...]
    qb_customers: int  # how many QuickBooks customers were candidates
    qb_items: int  # how many QuickBooks items were candidates

    @property
    def organizations_todo(self) -> int:
        """Organizations left for the user to map."""
        return sum(1 for _, p in self.organizations if p.target is None)

    @property
    def offers_todo(self) -> int:
        """Offers left for the user to map."""
        return sum(1 for _, p in self.offers if p.target is None)


# --------------------------------------------------------------------------
# Sherweb side
# --------------------------------------------------------------------------


def customers_from_bundle(bundle: ChargesBundle) -> tuple[SherwebCustomer, ...]:
    """The customers of a charges bundle."""
    return tuple(SherwebCustomer(c.customer_id, c.display_name) for c in bundle.customers)


def products_from(
    subscriptions: Iterable[Subscription], charges: Iterable[Charge]
) -> tuple[SherwebProduct, ...]:
    """Every SKU once, sorted: named as its first subscription (or charge) names it.

    A subscription's commitment term, else a charge's billing cycle, tells
    annual from monthly.
    """
    found: dict[str, SherwebProduct] = {}
    for subscription in subscriptions:
        found.setdefault(
            subscription.sku,
            SherwebProduct(
                subscription.sku, subscription.product_name, subscription.commitment_term
            ),
        )
    for charge in charges:
        term = _TERM_BY_CYCLE.get(charge.billing_cycle) if charge.billing_cycle else None
        found.setdefault(charge.sku, SherwebProduct(charge.sku, charge.product_name, term))
    return tuple(found[sku] for sku in sorted(found))


def products_from_bundle(bundle: ChargesBundle) -> tuple[SherwebProduct, ...]:
    """The offers that a charges bundle's subscriptions and charges show."""
    return products_from(
        (s for c in bundle.customers for s in c.subscriptions),
        (charge for c in bundle.customers for charge in c.charges),
    )


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


def propose_import(
    customers: Sequence[SherwebCustomer],
    products: Sequence[SherwebProduct],
    state: QBState,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> ImportProposal:
    """Match Sherweb customers to active QuickBooks customers (or jobs) and
    Sherweb offers to active QuickBooks items that can carry a purchase cost."""
    qb_customers = sorted((c.full_name for c in state.customers if c.is_active), key=str.casefold)
    qb_items = sorted(
        (i.full_name for i in state.items if i.is_active and i.kind in COSTED_ITEM_KINDS),
        key=str.casefold,
    )
    customer_matches = match_names(
        [[c.name] for c in customers], _with_unique_leaves(qb_customers), threshold=threshold
    )
    product_matches = match_names(
        [[f"{p.name} {p.term}", p.name] if p.term else [p.name] for p in products],
        _with_unique_leaves(qb_items),
        threshold=threshold,
    )
    return ImportProposal(
        organizations=tuple(
            zip(customers, _proposals(customer_matches, qb_customers, customers), strict=True)
        ),
        offers=tuple(zip(products, _proposals(product_matches, qb_items, products), strict=True)),
        qb_customers=len(qb_customers),
        qb_items=len(qb_items),
    )


def _with_unique_leaves(full_names: Sequence[str]) -> list[list[str]]:
    """Each full name, plus its last level when no other name shares it.

    "Fabrikam Inc.:Head Office" also answers to "Head Office", unless another
    customer has a "Head Office" job too: then only the full name counts.
    """
    leaves = [normalize_name(name.rsplit(":", 1)[-1]) for name in full_names]
    counts: dict[str, int] = {}
    for leaf in leaves:
        counts[leaf] = counts.get(leaf, 0) + 1
    return [
        [name, name.rsplit(":", 1)[-1]] if ":" in name and counts[leaf] == 1 else [name]
        for name, leaf in zip(full_names, leaves, strict=True)
    ]


def _proposals(
    matches: Sequence[Match],
    targets: Sequence[str],
    sources: Sequence[SherwebCustomer | SherwebProduct],
) -> list[Proposal]:
    owner = {m.chosen.index: i for i, m in enumerate(matches) if m.chosen is not None}

    def source_name(index: int) -> str:
        source = sources[index]
        return source.sku if isinstance(source, SherwebProduct) else source.name

    proposals = []
    for match in matches:
        alternatives = tuple(
            (
                targets[c.index],
                c.score,
                source_name(owner[c.index]) if c.index in owner else None,
            )
            for c in match.closest
            if match.chosen is None or c.index != match.chosen.index
        )
        if match.chosen is None:
            proposals.append(Proposal(None, 0.0, alternatives))
        else:
            proposals.append(
                Proposal(targets[match.chosen.index], match.chosen.score, alternatives)
            )
    return proposals


# --------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------


def render_organizations_yaml(proposal: ImportProposal) -> str:
    """``organizations.yaml`` for ``proposal``, with comments for the reviewer."""
    header = [
        "# yaml-language-server: $schema=.schemas/organizations.schema.json",
        "# Sherweb organizations -> QuickBooks customers, proposed by `reconcile import`",
        f"# ({len(proposal.organizations)} Sherweb customers, {proposal.qb_customers} active "
        "QuickBooks customers).",
        "# Names were matched automatically: review every mapping before the first plan;",
        "# a comment marks each match that is not exact.",
        "#   action create: a separate invoice holding the Sherweb products",
        "#   action update: the customer's unsent invoice of the billing period gets them",
    ]
    entries = [
        _Entry(
            fields=(
                ("id", customer.id),
                ("name", customer.name),
                ("customer", None),
                ("action", DEFAULT_ACTION.value),
            ),
            proposal=match,
            label=customer.name,
        )
        for customer, match in proposal.organizations
    ]
    return _render(header, "organizations", "customer", entries)


def render_offers_yaml(proposal: ImportProposal) -> str:
    """``offers.yaml`` for ``proposal``, with comments for the reviewer."""
    header = [
        "# yaml-language-server: $schema=.schemas/offers.schema.json",
        "# Sherweb offers (SKU) -> QuickBooks items, proposed by `reconcile import` from the",
        f"# customers' subscriptions and charges ({len(proposal.offers)} SKUs, "
        f"{proposal.qb_items} active QuickBooks items",
        "# that can carry a purchase cost). Names were matched automatically: review every",
        "# mapping before the first plan; a comment marks each match that is not exact.",
        "# The unit price is set by hand on each QuickBooks item; the reconciler keeps the",
        "# item's purchase cost in step with Sherweb's cost price.",
    ]
    entries = [
        _Entry(
            fields=(("sku", product.sku), ("item", None)),
            proposal=match,
            label=product.label,
            heading=product.label,
        )
        for product, match in proposal.offers
    ]
    return _render(header, "offers", "item", entries)


@dataclass(frozen=True)
class _Entry:
    """One list entry to write: its fields in order, the target's left as None."""

    fields: tuple[tuple[str, str | None], ...]
    proposal: Proposal
    label: str  # the Sherweb side's name, for comments
    heading: str | None = None  # a comment above a mapped entry


def _render(header: list[str], key: str, what: str, entries: Sequence[_Entry]) -> str:
    mapped = [e for e in entries if e.proposal.target is not None]
    todo = [e for e in entries if e.proposal.target is None]
    lines = list(header)
    if todo:
        lines += _todo_help(what, empty=not mapped)
    lines.append(f"{key}:" if mapped else f"{key}: []")
    for entry in mapped:
        lines.append("")
        if entry.heading:
            lines.append(f"  # {_comment(entry.heading)}")
        target = entry.proposal.target or TODO
        lines += _entry_lines(entry, _scalar(target) + _match_note(entry.proposal), "  ")
    for entry in todo:
        lines += [
            "",
            f"  # TODO: no QuickBooks {what} close enough to {_quoted(entry.label)}"
            f"{_closest_note(entry.proposal)}",
        ]
        lines += _entry_lines(entry, TODO, "  # ")
    return "\n".join(lines) + "\n"


def _entry_lines(entry: _Entry, target: str, indent: str) -> list[str]:
    lines = []
    for position, (name, value) in enumerate(entry.fields):
        bullet = "- " if position == 0 else "  "
        text = target if value is None else _scalar(value)
        lines.append(f"{indent}{bullet}{name}: {text}")
    return lines


def _todo_help(what: str, *, empty: bool) -> list[str]:
    lines = [
        f"# Entries marked TODO (commented out, at the end) matched no QuickBooks {what}:",
        f"# until one is filled in ({what}: the QuickBooks full name) and uncommented,",
        "# nothing is billed for it and the plan lists it as unmapped.",
    ]
    if empty:
        lines.append("# The list is empty for now: replace `[]` by the entries you uncomment.")
    return lines


def _match_note(match: Proposal) -> str:
    if match.score >= 1.0:
        return ""
    note = f"  # name match {match.score:.0%}: check"
    if match.alternatives:
        name, score, _ = match.alternatives[0]
        note += f" (next closest: {_quoted(name)}, {score:.0%})"
    return note


def _closest_note(match: Proposal) -> str:
    if not match.alternatives:
        return ""
    shown = []
    for name, score, owner in match.alternatives:
        taken = f", proposed for {_quoted(owner)}" if owner else ""
        shown.append(f"{_quoted(name)} {score:.0%}{taken}")
    return "; closest: " + ", ".join(shown)


def _scalar(value: str) -> str:
    """``value`` as a one-line YAML scalar, quoted only where YAML needs it."""
    if value.isprintable():
        text = yaml.safe_dump(value, allow_unicode=True, width=1_000_000)
    else:
        # Escaped in double quotes, on one line, whatever the characters.
        text = yaml.safe_dump(value, default_style='"', allow_unicode=False, width=1_000_000)
    return text.rstrip("\n").removesuffix("\n...").rstrip("\n")


def _quoted(text: str) -> str:
    return '"' + _comment(text) + '"'


def _comment(text: str) -> str:
    # A line break would end the comment and put the rest in the YAML.
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def write_import(proposal: ImportProposal, out_dir: Path, *, force: bool = False) -> list[Path]:
    """Write ``organizations.yaml`` and ``offers.yaml`` into ``out_dir``.

    Refuses, writing nothing, when either exists and ``force`` is false.
    """
    files = {
        out_dir / ORGANIZATIONS_FILE: render_organizations_yaml(proposal),
        out_dir / OFFERS_FILE: render_offers_yaml(proposal),
    }
    check_overwrite(list(files), force=force)
    for path, text in files.items():
        write_text_atomically(path, text)
    return list(files)


def check_overwrite(paths: Sequence[Path], *, force: bool) -> None:
    """Raise a :class:`UserError` naming the files that exist, unless ``force``."""
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise UserError(
            f"{', '.join(existing)}: already exist(s); not overwritten",
            hint="Use --force to replace them, or --out DIR to write elsewhere.",
        )

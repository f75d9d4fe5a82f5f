"""Invoice line descriptions from a per-offer Jinja template.

Templates run in Jinja's sandbox: the configuration is reviewed code, but a
description template has no business reaching anything but its variables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

DEFAULT_TEMPLATE = "{{ product }} ({{ start | date }} - {{ end | date }})"

VARIABLES = {
    "product": "Sherweb product name",
    "sku": "Sherweb SKU",
    "charge": "charge name (e.g. the subscription's name)",
    "start": "service period start (a date)",
    "end": "service period end (a date)",
    "quantity": "billed quantity",
    "organization": "Sherweb organization name",
    "cycle": "billing cycle: OneTime, Monthly or Yearly",
}


def _format_date(value: dt.date, fmt: str = "%m/%d/%Y") -> str:
    return value.strftime(fmt)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters["date"] = _format_date
    return env


_ENV = _environment()
# A plan renders one description per line; compile each template once.
_compile = lru_cache(maxsize=256)(_ENV.from_string)


class DescriptionTemplateError(ValueError):
    """A description template that cannot be compiled or uses unknown names."""


def check_template(source: str) -> None:
    """Raise :class:`DescriptionTemplateError` if ``source`` is not usable."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise DescriptionTemplateError(f"template syntax error: {exc.message}") from None
    unknown = sorted(meta.find_undeclared_variables(tree) - VARIABLES.keys())
    if unknown:
        known = ", ".join(sorted(VARIABLES))
        raise DescriptionTemplateError(
            f"unknown template variable(s) {', '.join(unknown)}; known: {known}"
        )


@lru_cache(maxsize=256)
def template_variables(source: str | None) -> frozenset[str]:
    """The variables a (valid) template reads; ``None`` is the default template."""
    return frozenset(meta.find_undeclared_variables(_ENV.parse(source or DEFAULT_TEMPLATE)))


@dataclass(frozen=True)
class DescriptionContext:
    """The values a description template can use."""

    product: str
    sku: str
    charge: str
    start: dt.date
    end: dt.date
    quantity: Decimal
    organization: str
    cycle: str


def render_description(source: str | None, context: DescriptionContext) -> str:
    """Render a description; ``None`` uses :data:`DEFAULT_TEMPLATE`."""
    template = _compile(source or DEFAULT_TEMPLATE)
    try:
        text = template.render(
            product=context.product,
            sku=context.sku,
            charge=context.charge,
            start=context.start,
            end=context.end,
            quantity=context.quantity,
            organization=context.organization,
            cycle=context.cycle,
        )
    except TemplateError as exc:
        raise DescriptionTemplateError(f"cannot render description: {exc}") from None
    return " ".join(text.split())

"""Line description templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reconciler.config.description import (
    DescriptionContext,
    DescriptionTemplateError,
    check_template,
    render_description,
)

CONTEXT = DescriptionContext(
    product="Microsoft 365 Business Premium",
    sku="MS-365-BP-M",
    charge="Microsoft 365 Business Premium - monthly",
    start=dt.date(2026, 12, 1),
    end=dt.date(2026, 12, 31),
    quantity=Decimal("12"),
    organization="Contoso Dental Group",
    cycle="Monthly",
)


def test_default_names_product_and_service_dates() -> None:
    assert (
        render_description(None, CONTEXT)
        == "Microsoft 365 Business Premium (12/01/2026 - 12/31/2026)"
    )


def test_custom_template_with_date_format() -> None:
    text = render_description("{{ sku }} x{{ quantity }} {{ end | date('%b %Y') }}", CONTEXT)
    assert text == "MS-365-BP-M x12 Dec 2026"


def test_whitespace_is_collapsed() -> None:
    assert render_description("{{ sku }}\n\n  {{ cycle }}", CONTEXT) == "MS-365-BP-M Monthly"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ product ", "template syntax error"),
        ("{{ price }}", "unknown template variable(s) price"),
    ],
)
def test_bad_templates(source: str, message: str) -> None:
    with pytest.raises(
        DescriptionTemplateError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        check_template(source)


def test_sandbox_refuses_attribute_escapes() -> None:
    check_template("{{ product.__class__ }}")
    with pytest.raises(DescriptionTemplateError, match="cannot render"):
        render_description("{{ product.__class__.__mro__[1].__subclasses__() }}", CONTEXT)

"""Generated books of any size, for tests and benchmarks.

The same arguments always give the same books (names, IDs, amounts, times):
a benchmark run is repeatable and a failing test can be replayed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from reconciler.sandbox.books import Books
from reconciler.sandbox.fixture import build_books

_KINDS = ("service",) * 8 + ("non-inventory",) * 2 + ("other-charge",) * 2


def generate_books(
    customers: int,
    invoices_per_customer: int,
    lines_per_invoice: int,
    seed: int = 0,
    *,
    first_invoice: dt.date = dt.date(2026, 1, 1),
) -> Books:
    """Books with ``customers`` customers, each with monthly invoices of random lines.

    Twelve items (service, non-inventory and other-charge, with a sales price
    and a purchase cost) under a "Generated" parent; invoice ``k`` of every
    customer is dated ``k`` months after ``first_invoice``; the last one of
    each customer is left unsent (``IsToBeEmailed``).
    """
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    items: list[dict[str, Any]] = [{"name": "Generated", "type": "service"}]
    for number, kind in enumerate(_KINDS, start=1):
        price = rng.randint(500, 20_000) / 100
        items.append(
            {
                "name": f"Generated:Product {number:02d}",
                "type": kind,
                "description": f"Product {number:02d}",
                "price": price,
                "cost": round(price * rng.uniform(0.5, 0.9), 2),
            }
        )
    names = [f"Customer {number:05d}" for number in range(1, customers + 1)]
    invoices = []
    for name in names:
        for month in range(invoices_per_customer):
            invoices.append(
                {
                    "customer": name,
                    "date": _add_months(first_invoice, month).isoformat(),
                    "to_be_emailed": month == invoices_per_customer - 1,
                    "lines": [
                        {
                            "item": rng.choice(items[1:])["name"],
                            "quantity": rng.randint(1, 50),
                        }
                        for _ in range(lines_per_invoice)
                    ],
                }
            )
    return build_books(
        {
            "company": {
                "name": f"Generated Company {seed}",
                "file": f"C:\\Company Files\\generated-{seed}.qbw",
            },
            "customers": [{"name": name} for name in names],
            "items": items,
            "invoices": invoices,
        }
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)

"""The safety threshold: a plan that rewrites too much asks for ``--force``.

As octoDNS refuses a plan that updates or deletes more than a share of the
existing records, a plan that modifies or removes lines on more than
``billing.safety.max_change_ratio`` of the existing invoices it looks at (when
it looks at ``min_existing`` or more) is refused unless forced: a wrong
template or mapping should not rewrite every customer's invoice unnoticed.
"""

from __future__ import annotations

from reconciler.base.errors import UserError
from reconciler.plan.model import Plan


class UnsafePlan(UserError):
    """A plan over the safety threshold, without ``--force``."""


def check_safety(plan: Plan, *, force: bool) -> None:
    """Raise :class:`UnsafePlan` when the plan exceeds the threshold and is not forced."""
    safety = plan.safety
    if force or not safety.exceeded:
        return
    raise UnsafePlan(
        f"plan refused: it changes lines on {safety.changed_invoices} of the "
        f"{safety.existing_invoices} existing invoices it looks at "
        f"({safety.ratio * 100:.0f}%), more than the safety threshold of "
        f"{safety.max_change_ratio * 100:.0f}% (billing.safety.max_change_ratio)",
        hint="Review the plan above; if it is right, run again with --force.",
    )

"""Plans: what ``apply`` would write to QuickBooks, and why.

``build_plan`` computes one (pure); ``plan_document`` turns it into the
documented JSON data that plan files hold and the renderers read.
"""

from reconciler.plan.build import BillingModeLocked, build_plan, check_mode_lock
from reconciler.plan.document import plan_document
from reconciler.plan.files import dumps_plan, load_plan, save_plan
from reconciler.plan.model import FORMAT_VERSION, Fingerprints, Plan, PlannedChange, SafetyCheck
from reconciler.plan.safety import UnsafePlan, check_safety

__all__ = [
    "FORMAT_VERSION",
    "BillingModeLocked",
    "Fingerprints",
    "Plan",
    "PlannedChange",
    "SafetyCheck",
    "UnsafePlan",
    "build_plan",
    "check_mode_lock",
    "check_safety",
    "dumps_plan",
    "load_plan",
    "plan_document",
    "save_plan",
]

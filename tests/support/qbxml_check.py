"""Checking the qbXML a plan produces, with or without the reference XSD.

Where ``../shared/reference`` is (the project's CI), every document is
validated against Intuit's qbXML 13.0 XSD; in a user's clone it is not there,
and the checks that need no XSD still run rather than the whole test skipping.
"""

from __future__ import annotations

from reconciler.qbxml.xsd import load_xsd, xsd_errors
from support.paths import XSD_DIR

# For the simulator: validate what it receives when the XSD is at hand.
XSD_DIR_OR_NONE = XSD_DIR if XSD_DIR.is_dir() else None


def check_qbxml(document: str) -> None:
    """No unit price on any line (design invariant 6); XSD-valid where the XSD is."""
    assert "<Rate>" not in document and "<RatePercent>" not in document
    if XSD_DIR_OR_NONE is not None:
        errors = xsd_errors(load_xsd(XSD_DIR_OR_NONE), document)
        assert not errors, "qbXML does not validate:\n" + "\n".join(errors)

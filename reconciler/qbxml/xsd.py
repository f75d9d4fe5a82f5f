"""Checking qbXML documents against Intuit's qbXML XSD.

The XSD is Intuit's and is not shipped with the package: callers pass the
directory that holds it (``qbxmlops130.xsd`` and the files it includes).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from reconciler.base.xmlsafe import parse_xml, safe_parser

# The XSD knows nothing of the <?qbxml version="..."?> instruction.
_QBXML_PI = re.compile(rb"<\?qbxml[^>]*\?>")


@cache
def load_xsd(xsd_dir: Path) -> etree.XMLSchema:
    """The compiled qbXML schema from ``xsd_dir/qbxmlops130.xsd``."""
    document = etree.parse(str(xsd_dir / "qbxmlops130.xsd"), parser=safe_parser())
    return etree.XMLSchema(document)


def xsd_errors(schema: etree.XMLSchema, document: bytes | str) -> list[str]:
    """Every way a qbXML document breaks the schema; empty when it is valid."""
    raw = document.encode("utf-8") if isinstance(document, str) else document
    root = parse_xml(_QBXML_PI.sub(b"", raw), source="qbXML document")
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]

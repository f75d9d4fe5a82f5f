"""Hardened XML parsing for every XML input (qbXML, SOAP).

No entity resolution, no DTD, no network, no huge trees: an XML input can
neither read local files (XXE), reach the network, nor blow up memory
(entity expansion). Every XML parse in the package goes through here.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree


def safe_parser(**options: bool) -> etree.XMLParser:
    """An lxml parser with every dangerous feature off (extra options allowed)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        **options,
    )


class XMLInputError(ValueError):
    """An XML input that is malformed or carries a DTD; says where."""


def parse_xml(data: bytes | str, *, source: str = "input") -> etree._Element:
    """Parse a whole XML document safely; raise :class:`XMLInputError` on bad input.

    Documents with a DOCTYPE are refused outright: qbXML and SOAP never need
    one, and it is how entity attacks arrive.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tree = etree.fromstring(raw, parser=safe_parser(remove_blank_text=False))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{source}:{line}" if line else source
        raise XMLInputError(f"{where}: malformed XML: {exc.msg}") from None
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLInputError(f"{source}: a DOCTYPE is not allowed in this input")
    return tree


def parse_xml_file(path: Path) -> etree._Element:
    """Parse an XML file safely (see :func:`parse_xml`)."""
    return parse_xml(path.read_bytes(), source=str(path))

"""Hardened XML parsing for every XML input (qbXML, SOAP).

No entity resolution, no DTD, no network, no huge trees: an XML input can
neither read local files (XXE), reach the network, nor blow up memory
(entity expansion). Every XML parse in the package goes through here.
Inputs from strangers (SOAP calls) are parsed as they arrive, within bounds on
their elements and depth (:class:`BoundedXML`), and refused as soon as they
pass them: the tree never grows past the bounds by more than one piece.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

# What every parser here is given: no entities, no network, no DTD, no huge trees.
SAFE_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}


def safe_parser(**options: bool) -> etree.XMLParser:
    """An lxml parser with every dangerous feature off (extra options allowed)."""
    return etree.XMLParser(**SAFE_OPTIONS, **options)


class XMLInputError(ValueError):
    """An XML input that is malformed or carries a DTD; says where."""


class XMLLimitError(XMLInputError):
    """An XML input with more elements, or deeper, than its reader allows."""


def _syntax_error(exc: etree.XMLSyntaxError, source: str) -> XMLInputError:
    line = getattr(exc, "lineno", None)
    where = f"{source}:{line}" if line else source
    return XMLInputError(f"{where}: malformed XML: {exc.msg}")


def _refuse_doctype(element: etree._Element, source: str) -> None:
    """Documents with a DOCTYPE are refused outright: qbXML and SOAP never need one,
    and it is how entity attacks arrive."""
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLInputError(f"{source}: a DOCTYPE is not allowed in this input")


class BoundedXML:
    """A document parsed piece by piece as it arrives, within bounds.

    :meth:`feed` gives the ``("start" | "end", element)`` events of each piece
    and raises :class:`XMLLimitError` as soon as the document has more than
    ``max_elements`` elements or nests deeper than ``max_depth``: the caller
    stops reading there, so that the tree never holds more than the bound and
    one piece's worth of elements. Malformed input and a DOCTYPE raise
    :class:`XMLInputError` as :func:`parse_xml` does.
    """

    def __init__(self, *, source: str, max_elements: int, max_depth: int) -> None:
        self.source = source
        self.max_elements = max_elements
        self.max_depth = max_depth
        self.elements = 0
        self.depth = 0
        self._parser = etree.XMLPullParser(events=("start", "end"), **SAFE_OPTIONS)

    def feed(self, piece: bytes) -> Iterator[tuple[str, etree._Element]]:
        """Parse one more piece; its events, each checked against the bounds as it is
        taken (take them all before the next piece)."""
        try:
            self._parser.feed(piece)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.source) from None
        return self._events()

    def close(self) -> etree._Element:
        """End the document; its root (:class:`XMLInputError` when it is incomplete)."""
        try:
            root: etree._Element = self._parser.close()
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.source) from None
        for _ in self._events():
            pass
        return root

    def _events(self) -> Iterator[tuple[str, etree._Element]]:
        for event, element in self._parser.read_events():
            if event == "start":
                if self.elements == 0:
                    _refuse_doctype(element, self.source)
                self.elements += 1
                self.depth += 1
                if self.elements > self.max_elements:
                    raise XMLLimitError(
                        f"{self.source}: more than {self.max_elements} XML elements"
                    )
                if self.depth > self.max_depth:
                    raise XMLLimitError(
                        f"{self.source}: XML elements nested deeper than {self.max_depth}"
                    )
            else:
                self.depth -= 1
            yield event, element


def parse_xml(data: bytes | str, *, source: str = "input") -> etree._Element:
    """Parse a whole XML document safely; raise :class:`XMLInputError` on bad input
    (a DOCTYPE included)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tree = etree.fromstring(raw, parser=safe_parser(remove_blank_text=False))
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, source) from None
    _refuse_doctype(tree, source)
    return tree


def parse_xml_file(path: Path) -> etree._Element:
    """Parse an XML file safely (see :func:`parse_xml`)."""
    return parse_xml(path.read_bytes(), source=str(path))

"""Every XML input is parsed with entities, DTDs and network off."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.base.xmlsafe import XMLInputError, parse_xml, parse_xml_file


def test_plain_document_parses() -> None:
    root = parse_xml(b"<QBXML><QBXMLMsgsRs/></QBXML>")
    assert root.tag == "QBXML"


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret.as_posix()}">]>'
        "<x>&e;</x>"
    )
    with pytest.raises(XMLInputError, match="DOCTYPE is not allowed"):
        parse_xml(payload)


def test_entity_expansion_is_refused() -> None:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    payload = f"<?xml version='1.0'?><!DOCTYPE x [{''.join(entities)}]><x>&l9;</x>"
    # libxml2 may stop it first (amplification limit); either way it is refused.
    with pytest.raises(XMLInputError, match=r"DOCTYPE is not allowed|amplification"):
        parse_xml(payload)


def test_malformed_input_names_source_and_line() -> None:
    with pytest.raises(XMLInputError, match=r"^response:2: malformed XML"):
        parse_xml(b"<a>\n<b></a>", source="response")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(b"<a>")
    with pytest.raises(XMLInputError, match=str(path)):
        parse_xml_file(path)

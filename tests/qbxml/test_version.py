"""qbXML version negotiation and the table of fields per version."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from support.qbxml_factories import EDGE, REALISTIC

from reconciler.base.xmlsafe import safe_parser
from reconciler.model.quickbooks import HostInfo
from reconciler.qbxml import version as versions
from reconciler.qbxml.render import render_request
from reconciler.qbxml.version import (
    FIELD_VERSIONS,
    MIN_VERSION,
    UnsupportedQuickBooks,
    negotiate_version,
    supports,
    version_key,
)


def host(*supported: str) -> HostInfo:
    return HostInfo(
        product_name="QuickBooks Enterprise Solutions 24.0", supported_versions=supported
    )


@pytest.mark.parametrize(
    ("supported", "expected"),
    [
        (("1.0", "2.0", "13.0"), "13.0"),
        (("13.0", "14.0", "16.0", "2.0"), "16.0"),  # numeric, not text, comparison
        (("16.0", "13.0", "9.0", "10.0"), "16.0"),
        (("13.0", "CA3.0", "UK3.0"), "13.0"),  # other editions' markers are ignored
        (("15",), "15.0"),
        ((), MIN_VERSION),
    ],
)
def test_negotiate_takes_the_highest_supported_version(supported, expected):
    assert negotiate_version(host(*supported)) == expected


def test_negotiate_without_a_host_answer_uses_the_minimum():
    assert negotiate_version(None) == "13.0"


def test_negotiate_refuses_quickbooks_older_than_2015():
    with pytest.raises(UnsupportedQuickBooks) as caught:
        negotiate_version(host("1.0", "11.0", "12.0", "2.0"))
    assert str(caught.value).startswith(
        "QuickBooks 2015 or newer is required (this QuickBooks supports qbXML up to 12.0)"
    )


def test_version_key_compares_numbers():
    assert version_key("16.0") > version_key("13.0") > version_key("2.1")
    with pytest.raises(ValueError, match="not a qbXML version"):
        version_key("CA3.0")


@pytest.mark.parametrize(("field", "introduced"), sorted(FIELD_VERSIONS.items()))
def test_supports_each_field_from_its_version_on(field, introduced):
    major, minor = version_key(introduced)
    assert supports(introduced, field)
    assert supports(f"{major + 1}.0", field)
    below = f"{major}.{minor - 1}" if minor else f"{major - 1}.9"
    if version_key(below) >= (1, 0):
        assert not supports(below, field)


def test_every_field_we_send_exists_in_the_minimum_version():
    assert all(supports(MIN_VERSION, field) for field in FIELD_VERSIONS)


def _introduced(ops: etree._Element, path: str) -> str:
    element = ops.find(".//" + path)
    assert element is not None, f"{path} is not in qbxmlops130.xml"
    notes = [element.getnext(), element[0] if len(element) else None]
    for note in notes:
        if isinstance(note, etree._Comment) and note.sourceline == element.sourceline:
            found = re.search(r"\bv(\d+\.\d+)\b", note.text)
            if found:
                return found.group(1)
    return "1.0"


def test_field_table_matches_intuits_reference(reference):
    ops = etree.parse(str(reference / "qbxml" / "qbxmlops130.xml"), parser=safe_parser()).getroot()
    mismatches = {
        path: (ours, _introduced(ops, path))
        for path, ours in FIELD_VERSIONS.items()
        if ours != _introduced(ops, path)
    }
    assert not mismatches


@pytest.mark.parametrize("name", ["invoice-add", "invoice-mod", "invoices-by-customer", "items"])
def test_a_field_the_version_lacks_is_never_sent(name, monkeypatch):
    request = REALISTIC[name]
    xml = render_request(request, version="13.0", request_id="1")
    tree = etree.fromstring(xml)
    sent = [path for path in FIELD_VERSIONS if tree.tag == path.split("/")[0]]
    assert sent
    for path in sent:
        local = "/".join(path.split("/")[1:])
        if local and tree.find(local) is None:
            continue  # not part of this request
        monkeypatch.setitem(FIELD_VERSIONS, path, "14.0")
        with pytest.raises(UnsupportedQuickBooks, match=re.escape(path)):
            render_request(request, version="13.0", request_id="1")
        assert render_request(request, version="14.0", request_id="1") == xml
        monkeypatch.setitem(FIELD_VERSIONS, path, versions.MIN_VERSION)


@pytest.mark.parametrize("name", [*REALISTIC, *EDGE])
def test_every_field_sent_is_in_the_table(name, monkeypatch):
    # Rendering checks completeness; emptying the table must make it complain.
    render_request({**REALISTIC, **EDGE}[name], version="13.0", request_id="1")
    monkeypatch.setattr(versions, "FIELD_VERSIONS", {})
    monkeypatch.setattr("reconciler.qbxml.render.FIELD_VERSIONS", {})
    with pytest.raises(RuntimeError, match="missing from FIELD_VERSIONS"):
        render_request({**REALISTIC, **EDGE}[name], version="13.0", request_id="1")

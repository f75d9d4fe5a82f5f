"""The QWC file and the Web Connector version policy."""

from __future__ import annotations

import pytest
from lxml import etree

from reconciler.base.errors import UserError
from reconciler.qbwc.qwc import QwcFile, check_app_url, render_qwc, support_url
from reconciler.qbwc.versions import client_version_answer


def test_qwc_has_every_field_the_web_connector_needs():
    qwc = QwcFile(
        app_url="https://qb.example.com:8443/qbwc",
        username="northwind",
        owner_id="{11111111-1111-1111-1111-111111111111}",
        file_id="{22222222-2222-2222-2222-222222222222}",
        app_id="{33333333-3333-3333-3333-333333333333}",
        company="Northwind & Co",
        every_minutes=15,
    )
    root = etree.fromstring(render_qwc(qwc).encode())
    assert root.tag == "QBWCXML"
    assert root.findtext("AppName") == "reconciler (Northwind & Co)"
    assert root.findtext("AppURL") == "https://qb.example.com:8443/qbwc"
    assert root.findtext("AppSupport") == "https://qb.example.com:8443/qbwc/support"
    assert len(root.findtext("AppDescription")) <= 80
    assert root.findtext("UserName") == "northwind"
    assert root.findtext("OwnerID") == qwc.owner_id
    assert root.findtext("FileID") == qwc.file_id
    assert root.findtext("AppID") == qwc.app_id
    assert root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    assert root.findtext("IsReadOnly") == "false"


def test_support_url_shares_the_app_url_host():
    assert support_url("http://localhost:8080/") == "http://localhost:8080/support"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://qb.example.com/qbwc", None),
        ("http://localhost:8080/qbwc", None),
        ("http://qb.example.com/qbwc", "plain http only on localhost"),
        ("https://192.168.1.10/qbwc", "IP address"),
        ("http://127.0.0.1:8080/qbwc", "IP address"),
        ("https://qb.example.com/qbwc/", None),
        ("https://qb.example.com/sync", "answers the Web Connector at /qbwc, not at /sync"),
        ("https://qb.example.com", "not at / (every other path is 404)"),
    ],
)
def test_app_url_checks(url, problem):
    problems = check_app_url(url)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems)


@pytest.mark.parametrize("url", ["qb.example.com/qbwc", "ftp://x/y", "https://x/qbwc?a=1"])
def test_app_url_that_is_not_one(url):
    with pytest.raises(UserError):
        check_app_url(url)


@pytest.mark.parametrize(
    ("version", "prefix"),
    [
        ("1.5.0.0", "E:"),
        ("1.0", "E:"),
        ("2.0.1.30", "W:"),
        ("2.2.0.70", "W:"),
        ("2.2.0.71", ""),
        ("2.3.0.215", ""),
        ("not a version", ""),
        ("", ""),
    ],
)
def test_client_version_answers(version, prefix):
    answer = client_version_answer(version)
    assert answer.startswith(prefix) if prefix else answer == ""

"""`reconcile qwc` and `reconcile status` from the command line."""

from __future__ import annotations

import datetime as dt
import re

from click.testing import CliRunner
from lxml import etree

from reconciler.cli import cli
from reconciler.qbwc.credentials import verify_password
from reconciler.store import open_store
from reconciler.store.records import NewRequest, NewStatusError


def _qwc(tmp_path, example_config_dir, *extra):
    return CliRunner().invoke(
        cli,
        [
            "qwc",
            "--url",
            "https://qb.example.com:8443/qbwc",
            "--out",
            str(tmp_path / "northwind.qwc"),
            "--config",
            str(example_config_dir),
            "--state-dir",
            str(tmp_path / "state"),
            *extra,
        ],
    )


def _password(output: str) -> str:
    return re.search(r"only its hash is kept\):\n\s+(\S+)", output).group(1)


def test_qwc_writes_the_file_and_prints_a_password_only_its_hash_is_kept(
    tmp_path, example_config_dir
):
    result = _qwc(tmp_path, example_config_dir)
    assert result.exit_code == 0, result.output
    password = _password(result.output)
    root = etree.parse(str(tmp_path / "northwind.qwc")).getroot()
    assert root.findtext("UserName") == "northwind-it-services-llc"
    assert root.findtext("AppURL") == "https://qb.example.com:8443/qbwc"
    store = open_store(tmp_path / "state")
    company = store.companies.by_username("northwind-it-services-llc")
    assert company.file_id == root.findtext("FileID")
    assert store.installation.app_identity().owner_id == root.findtext("OwnerID")
    assert password not in company.password_hash
    assert verify_password(password, company.password_hash)
    assert company.profile["company"] == "Northwind IT Services LLC"
    assert company.profile["items"] and company.profile["customers"]
    raw = (tmp_path / "state" / "reconciler.sqlite3").read_bytes()
    assert password.encode() not in raw


def test_qwc_again_rotates_the_password_and_keeps_the_file_id(tmp_path, example_config_dir):
    first = _qwc(tmp_path, example_config_dir)
    file_id = etree.parse(str(tmp_path / "northwind.qwc")).getroot().findtext("FileID")
    second = _qwc(tmp_path, example_config_dir)
    assert "no longer works" in second.output
    assert etree.parse(str(tmp_path / "northwind.qwc")).getroot().findtext("FileID") == file_id
    company = open_store(tmp_path / "state").companies.all()[0]
    assert not verify_password(_password(first.output), company.password_hash)
    assert verify_password(_password(second.output), company.password_hash)


def test_a_qwc_file_that_cannot_be_written_changes_nothing(tmp_path, example_config_dir):
    first = _qwc(tmp_path, example_config_dir)
    store = open_store(tmp_path / "state")
    before = store.companies.all()[0]
    store.close()
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    failed = _qwc(tmp_path, example_config_dir, "--out", str(tmp_path / "a-file" / "x.qwc"))
    assert failed.exit_code == 1 and "cannot write the QWC file" in failed.output
    assert "password is still the old one" in failed.output
    assert "Web Connector password" not in failed.output
    store = open_store(tmp_path / "state")
    after = store.companies.all()[0]
    # The Web Connector set up with the first QWC file still signs in.
    assert verify_password(_password(first.output), after.password_hash)
    assert after == before and after.profile == before.profile
    store.close()
    # A new company whose QWC file cannot be written is not set up at all.
    elsewhere = CliRunner().invoke(
        cli,
        [
            "qwc",
            "--url",
            "https://qb.example.com:8443/qbwc",
            "--out",
            str(tmp_path / "a-file" / "x.qwc"),
            "--config",
            str(example_config_dir),
            "--state-dir",
            str(tmp_path / "other"),
        ],
    )
    assert elsewhere.exit_code == 1
    store = open_store(tmp_path / "other")
    assert store.companies.all() == []
    store.close()


def test_qwc_warns_about_urls_the_web_connector_refuses(tmp_path, example_config_dir):
    result = CliRunner().invoke(
        cli,
        [
            "qwc",
            "--url",
            "http://10.0.0.5:8080/qbwc",
            "--out",
            str(tmp_path / "x.qwc"),
            "--config",
            str(example_config_dir),
            "--state-dir",
            str(tmp_path / "state"),
        ],
    )
    assert result.exit_code == 0
    assert "IP address" in result.output and "plain http only on localhost" in result.output


def test_qwc_refuses_what_is_not_a_url(tmp_path, example_config_dir):
    result = CliRunner().invoke(
        cli,
        [
            "qwc",
            "--url",
            "qb.example.com",
            "--config",
            str(example_config_dir),
            "--state-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "is not an http(s) URL" in result.output
    assert "Traceback" not in result.output


def test_status_without_a_set_up_company_is_a_clear_error(tmp_path, example_config_dir):
    result = CliRunner().invoke(
        cli, ["status", "--config", str(example_config_dir), "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "reconcile qwc" in result.output


def test_status_shows_queue_and_errors_and_exits_1_while_unresolved(tmp_path, example_config_dir):
    assert _qwc(tmp_path, example_config_dir).exit_code == 0
    store = open_store(tmp_path / "state")
    company = store.companies.all()[0]
    now = dt.datetime.now(dt.UTC)
    store.plans.queue(
        company.id,
        key="a" * 64,
        qb_fingerprint="f",
        billing_mode="advance",
        document="{}",
        requests=[NewRequest("InvoiceAddRq", "Invoice", "<x/>", now + dt.timedelta(days=3), "g")],
        applied_at=now,
    )
    store.errors.record(
        company.id,
        NewStatusError("Invoice for Contoso", "3140", "Invalid reference", "Fix the item map"),
        now,
    )
    result = CliRunner().invoke(
        cli, ["status", "--config", str(example_config_dir), "--state-dir", str(tmp_path / "state")]
    )
    assert result.exit_code == 1
    assert "1 held" in result.output and "due" in result.output
    assert "Invoice for Contoso: 3140 Invalid reference" in result.output
    assert "what to do: Fix the item map" in result.output
    store.errors.resolve_run(company.id, now)
    store.snapshots.mark_outdated(company.id)
    result = CliRunner().invoke(
        cli, ["status", "--state-dir", str(tmp_path / "state"), "--config", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert "Errors: none" in result.output
    assert "requests went out after this snapshot" in result.output

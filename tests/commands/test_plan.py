"""`reconcile plan` and `reconcile show` as a user runs them.

The QuickBooks state is tests/data/example-company: qbXML responses of a
company that the example configuration bills (Tailspin's recurring invoice
to update, Adventure Works' invoice from the last sync, Northwind without a
December invoice, items whose costs are partly out of date).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import DATA
from support.qbxml_check import check_qbxml

from reconciler.base.jsonschemas import load_schema
from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.plan import FORMAT_VERSION

DATA = DATA
COMPANY = DATA / "example-company"
NORTHWIND_DECEMBER = DATA / "northwind-december.xml"
CHARGES = data_dir() / "charges-example.json"


def run(*args: str | Path) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def base(example_config_dir: Path) -> list[str | Path]:
    return ["plan", "--config", example_config_dir, "--charges", CHARGES, "--qb-state", COMPANY]


def test_plan_of_the_example_shows_every_change_and_its_one_error(base):
    result = run(*base)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert out.startswith("Reconciler will perform the following actions:\n")
    assert (
        '  # item "Cloud Services:Microsoft 365 Business Premium" purchase cost will be updated'
        in out
    )
    assert "      ~ purchase_cost = 20.90 -> 22.00" in out
    assert "  # invoice for Contoso Dental Group dated 2026-12-01 will be created" in out
    assert "  # invoice #1042 of Tailspin Toys dated 2026-12-01 will be updated in-place" in out
    assert "          ~ quantity = 22 -> 25" in out
    assert (
        "  # invoice #1043 of Adventure Works Cycles dated 2026-12-01 will be updated in-place"
        in out
    )
    assert "Plan: 3 invoices to create, 2 invoices to update, 2 item costs to update" in out
    assert "no open invoice for Northwind Traders Legal dated 2026-12" in out
    assert 'item "Security:Defender for Endpoint P2" has no purchase cost' in out
    assert "This service is used in assemblies or is performed by a subcontractor" in out
    assert "Error: the plan lists 1 error (above)" in result.stderr
    assert "\x1b[" not in out  # not a terminal: no colours


def test_detailed_exitcode_2_when_there_are_changes(base):
    result = run(*base, "--qb-state", NORTHWIND_DECEMBER, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert (
        "  # invoice #1044 of Northwind Traders Legal (Northwind Traders Legal LLP) dated 2026-12-01"
        in result.stdout
    )
    assert run(*base, "--qb-state", NORTHWIND_DECEMBER).exit_code == 0


def test_a_negative_whole_period_quantity_is_a_warning_naming_the_charge(tmp_path, base):
    data = json.loads(CHARGES.read_text(encoding="utf-8"))
    contoso = data["customers"][0]
    wrong = contoso["receivableCharges"]["charges"][0]
    assert (wrong["sku"], wrong["quantity"]) == ("MS-365-BP-M", 12)
    wrong["quantity"] = -5
    charges = tmp_path / "charges.json"
    charges.write_text(json.dumps(data), encoding="utf-8")
    args = [
        *base[:3],
        "--charges",
        charges,
        "--qb-state",
        COMPANY,
        "--qb-state",
        NORTHWIND_DECEMBER,
    ]
    result = run(*args, "--detailed-exitcode")
    assert result.exit_code == 2, result.output  # a warning: the changes are still changes
    warned = [line for line in result.stdout.splitlines() if "[negative-quantity]" in line]
    assert warned == [
        "  - monthly charge Microsoft 365 Business Premium (MS-365-BP-M) of Contoso Dental "
        f"Group, 2026-12-01 to 2026-12-31 (charge {wrong['chargeId']}, for its whole period) "
        "has a negative quantity, -5: it is billed as a credit line. Licences held cannot be "
        "negative (Sherweb reports a decrease as a prorated charge for part of the period): "
        "check the charges before applying [negative-quantity]"
    ]  # and Fabrikam's prorated decrease (-4 from 2026-12-20) is not warned of


def test_no_changes_as_terraform_says_it(tmp_path, example_config_dir):
    charges = tmp_path / "charges.json"
    charges.write_text('{"date": "2026-12-15", "customers": []}', encoding="utf-8")
    args = ["plan", "--config", example_config_dir, "--charges", charges, "--qb-state", COMPANY]
    result = run(*args, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("No changes. QuickBooks matches the configuration.\n")


def test_saved_plan_shows_exactly_what_plan_printed(tmp_path, base):
    saved = tmp_path / "plan.json"
    planned = run(*base, "--qb-state", NORTHWIND_DECEMBER, "--out", saved)
    assert planned.exit_code == 0, planned.output
    assert f"Saved the plan to: {saved}" in planned.stdout
    assert f"To perform exactly these actions, run: reconcile apply {saved}" in planned.stdout
    document = json.loads(saved.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(load_schema("plan")).validate(document)
    assert document["qbxml_version"] == "13.0"

    shown = run("show", saved)
    assert shown.exit_code == 0, shown.output
    assert planned.stdout.startswith(shown.stdout)

    as_json = run("show", saved, "--format", "json")
    assert json.loads(as_json.stdout) == document
    assert run("show", saved, "--format", "markdown").stdout.startswith("<!-- reconciler-plan -->")

    qbxml = run("show", saved, "--format", "qbxml").stdout
    documents = [d for d in qbxml.split('<?xml version="1.0"') if d.strip()]
    assert len(documents) == len(document["changes"]) == 8
    assert [c["qbxml"].strip() for c in document["changes"]] == [
        ('<?xml version="1.0"' + text).strip() for text in documents
    ]
    for change in document["changes"]:
        check_qbxml(change["qbxml"])
    request_ids = [c["request_id"] for c in document["changes"]]
    assert all(
        f'requestID="{rid}"' in c["qbxml"]
        for rid, c in zip(request_ids, document["changes"], strict=True)
    )


def test_json_and_markdown_formats_keep_stdout_a_document(tmp_path, base):
    saved = tmp_path / "plan.json"
    result = run(*base, "--qb-state", NORTHWIND_DECEMBER, "--format", "json", "--out", saved)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(saved.read_text(encoding="utf-8"))
    assert "Saved the plan to" in result.stderr
    markdown = run(*base, "--format", "markdown")
    assert markdown.stdout.startswith("<!-- reconciler-plan -->\n### Reconciler plan\n")
    assert "> [!CAUTION]" in markdown.stdout


def test_plans_are_deterministic(tmp_path, base):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run(*base, "--out", first)
    run(*base, "--out", second)
    assert first.read_bytes() == second.read_bytes()


def test_a_plan_over_the_safety_threshold_needs_force(tmp_path, example_config_dir, base):
    config = tmp_path / "config"
    shutil.copytree(example_config_dir, config)
    billing = config / "billing.yaml"
    billing.write_text(
        billing.read_text(encoding="utf-8").replace("min_existing: 10", "min_existing: 2"),
        encoding="utf-8",
    )
    saved = tmp_path / "plan.json"
    args = ["plan", "--config", config, "--charges", CHARGES, "--qb-state", COMPANY]
    args += ["--qb-state", NORTHWIND_DECEMBER, "--out", saved]
    refused = run(*args)
    assert refused.exit_code == 1
    assert "Reconciler will perform the following actions" in refused.stdout
    assert (
        "plan refused: it changes lines on 2 of the 3 existing invoices it looks at (67%)"
        in refused.stderr
    )
    assert "more than the safety threshold of 30%" in refused.stderr
    assert not saved.exists()
    forced = run(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert "(accepted with --force)" in forced.stdout
    assert json.loads(saved.read_text(encoding="utf-8"))["safety"]["forced"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qb-state", COMPANY], "Error: no charges given"),
        (["--charges", CHARGES], "Error: no QuickBooks state given"),
        (["--charges", CHARGES, "--qb-state", "absent-dir"], "absent-dir: no such qbXML response"),
    ],
)
def test_missing_inputs_are_clear_errors(example_config_dir, args, message):
    result = run("plan", "--config", example_config_dir, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_charges_sherweb_fetches_todays_charges(monkeypatch, example_config_dir):
    from reconciler.commands import plan as plan_module
    from reconciler.sherweb.charges import load_charges

    asked = {}

    def fetch(config, *, date, progress):
        asked.update(date=date, organizations=len(config.organizations))
        return load_charges(CHARGES)

    monkeypatch.setattr(plan_module, "fetch_charges_bundle", fetch)
    monkeypatch.setattr(plan_module, "today_in", lambda timezone: dt.date(2026, 12, 15))
    result = run(
        "plan", "--config", example_config_dir, "--charges", "sherweb", "--qb-state", COMPANY
    )
    assert asked == {"date": dt.date(2026, 12, 15), "organizations": 6}
    assert "  # invoice #1042 of Tailspin Toys dated 2026-12-01 will be updated" in result.stdout


def test_bad_inputs_name_the_file(tmp_path, example_config_dir):
    broken = tmp_path / "broken.xml"
    broken.write_text("<QBXML><QBXMLMsgsRs>", encoding="utf-8")
    result = run("plan", "--config", example_config_dir, "--charges", CHARGES, "--qb-state", broken)
    assert result.exit_code == 1
    assert str(broken) in result.stderr
    charges = tmp_path / "charges.json"
    charges.write_text('{"date": "2026-12-15"}', encoding="utf-8")
    result = run(
        "plan", "--config", example_config_dir, "--charges", charges, "--qb-state", COMPANY
    )
    assert result.exit_code == 1
    assert "customers" in result.stderr and "Traceback" not in result.output


def test_show_refuses_a_file_that_is_not_a_plan(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"format_version": FORMAT_VERSION}), encoding="utf-8")
    result = run("show", bad)
    assert result.exit_code == 1
    assert "problem" in result.stderr and "plan file" in result.stderr


@pytest.mark.parametrize("command", ["apply", "show"])
def test_a_charges_file_given_as_a_plan_is_named_as_such(tmp_path, command):
    charges = tmp_path / "charges.json"
    shutil.copyfile(CHARGES, charges)
    result = run(command, charges)
    assert result.exit_code == 1
    then = f"then `reconcile {command} plan.json`"
    at_once = f"; or `reconcile apply --charges {charges}` to plan and apply at once"
    assert result.stderr == (
        f"Error: {charges} is a charges file, not a plan\n"
        f"  Run `reconcile plan --charges {charges} --out plan.json` first, {then}"
        f"{at_once if command == 'apply' else ''}.\n"
    )


@pytest.mark.parametrize("command", ["apply", "show"])
def test_other_files_given_as_a_plan_are_named(tmp_path, example_config_dir, base, command):
    printed = tmp_path / "plan.txt"
    printed.write_text(run(*base).stdout, encoding="utf-8")
    markdown = tmp_path / "plan.md"
    markdown.write_text(run(*base, "--format", "markdown").stdout, encoding="utf-8")
    for path, what in [
        (example_config_dir / "organizations.yaml", "a configuration file"),
        (NORTHWIND_DECEMBER, "qbXML (QuickBooks state or requests)"),
        (printed, "a plan as printed (text or markdown), not a saved one"),
        (markdown, "a plan as printed (text or markdown), not a saved one"),
    ]:
        result = run(command, path)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {path} is {what}, not a plan\n  "), result.stderr
        assert "Traceback" not in result.output


def test_a_plan_of_an_older_format_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "plan.json"
    old.write_text('{"format_version": 1}', encoding="utf-8")
    result = run("show", old)
    assert result.exit_code == 1
    assert "plan format 1 was written by an older reconciler" in result.stderr
    assert "reconcile plan` again" in result.stderr


def test_a_redirected_plan_is_utf8_whatever_the_locale(tmp_path, example_config_dir):
    """On Windows a redirected stdout is cp1252, which has no arrow: still a whole plan."""
    environment = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    args = ["--config", example_config_dir, "--charges", CHARGES, "--qb-state", COMPANY]
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", *map(str, args), "--format", "markdown"],
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )
    errors = result.stderr.decode("utf-8")
    # Exit 1: the example company lacks Northwind Traders Legal's invoice (an error notice).
    assert result.returncode == 1 and "Traceback" not in errors, errors
    assert errors.startswith("Error: the plan lists 1 error")
    text = result.stdout.decode("utf-8")
    assert " → " in text and text.rstrip().endswith("</sub>")

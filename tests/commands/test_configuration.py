"""`reconcile validate` and `reconcile schema` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_valid_configuration_prints_one_line_and_exits_0(example_config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--config", str(example_config_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "valid - 8 offers (7 synced), 6 organizations (3 create, 3 update)" in lines[0]


def test_three_mistakes_in_two_files(tmp_path: Path, example_config_dir: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(example_config_dir, config)
    offers = config / "offers.yaml"
    offers.write_text(
        offers.read_text(encoding="utf-8")
        .replace("  - sku: MS-EXO-P1-M", "  - sku: MS-365-BP-M")
        .replace("    sync: false", "    sync: maybe"),
        encoding="utf-8",
    )
    organizations = config / "organizations.yaml"
    organizations.write_text(
        organizations.read_text(encoding="utf-8").replace("customer: Tailspin Toys", "customer: "),
        encoding="utf-8",
    )
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ".yaml:" in line]
    assert len(errors) == 3, result.stderr
    for line in errors:
        file, row, column, _ = line.split(":", 3)
        assert Path(file).is_file() and int(row) > 0 and int(column) > 0
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith("Error: 3 problems in the configuration")
    assert snapshot(tmp_path) == before


def test_yaml_syntax_error_is_one_clear_line(tmp_path: Path, example_config_dir: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(example_config_dir, config)
    (config / "billing.yaml").write_text("mode: [advance\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert f"{config / 'billing.yaml'}:2:1: YAML syntax error" in result.stderr


def test_missing_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--config", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{tmp_path / 'absent'}: no such directory\n")


def test_a_file_given_as_the_directory(tmp_path: Path, example_config_dir: Path) -> None:
    billing = example_config_dir / "billing.yaml"
    result = CliRunner().invoke(cli, ["validate", "--config", str(billing)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{billing}: is a file, not a directory: --config names the directory that holds it "
        f"({example_config_dir})\n"
    )


def test_every_problem_at_once_each_with_file_line_column(
    tmp_path: Path, example_config_dir: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(example_config_dir, config)
    billing = config / "billing.yaml"
    text = billing.read_text(encoding="utf-8")
    billing.write_text(
        text.replace("invoice_day: 1 ", "invoice_day: 31 ")
        .replace('invoice_time: "05:00"', 'invoice_time: "25:00"')
        .replace("timezone: America/New_York", "timezone: Eastern")
        .replace("mode: advance", "mode: advance\nmodes: arrears\nmood: calm"),
        encoding="utf-8",
    )
    organizations = config / "organizations.yaml"
    organizations.write_bytes(
        organizations.read_text(encoding="utf-8")
        .replace("name: Tailspin Toys", "name: Tailspin Jouets é")
        .encode("cp1252")
    )
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{billing}:9:1: (top level): unknown key 'modes' (allowed: company, invoice_day, "
        "invoice_time, mark_created, mode, proration, safety, sherweb, timezone, "
        "unsent_invoices)",
        f"{billing}:10:1: (top level): unknown key 'mood' (allowed: company, invoice_day, "
        "invoice_time, mark_created, mode, proration, safety, sherweb, timezone, "
        "unsent_invoices)",
        f"{billing}:14:14: invoice_day: 31 is not a whole number from 1 to 28 or last",
        f"{billing}:15:15: invoice_time: '25:00' is not a time of day HH:MM from 00:00 to "
        '23:59, in quotes ("05:00")',
        f"{billing}:16:11: timezone: unknown time zone 'Eastern' (use an IANA name such as "
        "America/New_York)",
        f"{organizations}:26:27: not UTF-8 text (byte 0xe9 here): save the file as UTF-8",
        "Error: 6 problems in the configuration",
    ]


def test_schema_prints_valid_draft_2020_12_schemas() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    bundle = json.loads(result.output)
    assert set(bundle) == {"billing", "offers", "organizations"}
    for schema in bundle.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_out_writes_files_editors_use(tmp_path: Path, example_config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path / ".schemas")])
    assert result.exit_code == 0
    for yaml_file in example_config_dir.glob("*.yaml"):
        first = yaml_file.read_text(encoding="utf-8").splitlines()[0]
        target = first.split("$schema=")[1]
        assert (tmp_path / target).is_file(), target


def test_schema_single_name() -> None:
    result = CliRunner().invoke(cli, ["schema", "offers"])
    assert json.loads(result.output)["title"].startswith("reconciler offer mappings")


def test_console_script_runs_as_a_module(example_config_dir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--config", str(example_config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "valid" in completed.stdout


@pytest.mark.parametrize("schema", ["billing", "offers", "organizations", "charges", "sherweb-api"])
def test_every_shipped_schema_is_a_valid_schema(schema: str) -> None:
    from reconciler.base.jsonschemas import load_schema

    jsonschema.Draft202012Validator.check_schema(load_schema(schema))

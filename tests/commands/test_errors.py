"""Mistakes at the command line: one clear message, no traceback, nothing left behind
(a state directory that cannot be used, one that holds no state, an output that
cannot be written, no configuration yet)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import DATA

from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.config.load import load_config

CHARGES = str(data_dir() / "charges-example.json")


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused(result, *expected: str) -> str:
    assert result.exit_code == 1, result.output
    # A user error ends in SystemExit(1); anything else escaped as a traceback.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


COMPANY = DATA / "example-company"


def save_a_plan(directory: Path, config: Path) -> None:
    """plan.json in ``directory``: apply reads the plan file before anything else."""
    saved = run(
        "plan", "--config", config, "--charges", CHARGES, "--qb-state", COMPANY,
        "--out", directory / "plan.json",
    )  # fmt: skip
    assert (directory / "plan.json").is_file(), saved.output


@pytest.fixture
def under_a_file(tmp_path: Path) -> Path:
    """A state directory that cannot be created: its parent is a file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory", encoding="utf-8")
    return blocker / "state"


@pytest.mark.parametrize(
    "command",
    [
        ["status", "--config", "{config}"],
        ["serve", "--port", "0"],
        ["apply", "plan.json", "--config", "{config}"],
        ["plan", "--charges", CHARGES, "--config", "{config}"],
        ["qwc", "--url", "https://qb.example.com/qbwc", "--out", "x.qwc", "--config", "{config}"],
    ],
    ids=lambda c: c[0],
)
def test_a_state_directory_that_cannot_be_used_is_one_clear_error(
    command, under_a_file, example_config_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    if command[0] == "apply":
        save_a_plan(tmp_path, example_config_dir)
    args = [str(example_config_dir) if a == "{config}" else a for a in command]
    result = run(*args, "--state-dir", under_a_file)
    message = refused(result, str(under_a_file))
    assert message.count("Error:") == 1


def test_the_demo_with_a_state_directory_that_cannot_be_used(under_a_file):
    refused(run("demo", "--state-dir", under_a_file), str(under_a_file), "cannot use")


@pytest.mark.parametrize(
    "command",
    [["status"], ["apply", "plan.json"], ["serve", "--port", "0"], ["token", "list"]],
    ids=lambda c: c[0],
)
def test_a_state_directory_that_holds_no_state_is_never_created_but_by_qwc(
    command, tmp_path, example_config_dir, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    if command[0] == "apply":
        save_a_plan(tmp_path, example_config_dir)
    typo = tmp_path / "stat"
    config = [] if command[0] in {"serve", "token"} else ["--config", example_config_dir]
    message = refused(run(*command, *config, "--state-dir", typo), f"no reconciler state in {typo}")
    assert "--state-dir" in message and "reconcile qwc" in message
    assert not typo.exists()


def test_plan_from_a_state_directory_that_holds_no_state_creates_nothing(
    tmp_path, example_config_dir
):
    typo = tmp_path / "stat"
    refused(
        run("plan", "--config", example_config_dir, "--charges", CHARGES, "--state-dir", typo),
        "no QuickBooks state given",
        str(typo),
    )
    assert not typo.exists()


def test_schema_out_where_it_cannot_be_written(under_a_file):
    refused(run("schema", "--out", under_a_file), "cannot write the schema")


# -- a first configuration -----------------------------------------------------------


def test_init_writes_the_example_configuration_that_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.exit_code == 0, result.output
    config = tmp_path / "config"
    assert load_config(config).billing.company.name == "Northwind IT Services LLC"
    assert sorted(p.name for p in (config / ".schemas").iterdir()) == [
        "billing.schema.json",
        "offers.schema.json",
        "organizations.schema.json",
    ]
    assert "Next:" in result.stdout and "reconcile validate" in result.stdout
    assert run("validate").exit_code == 0


def test_init_never_overwrites_without_force(tmp_path):
    config = tmp_path / "mine"
    assert run("init", config).exit_code == 0
    billing = config / "billing.yaml"
    billing.write_text("# mine\n", encoding="utf-8")
    refused(run("init", config), "already exist", "--force")
    assert billing.read_text(encoding="utf-8") == "# mine\n"
    assert run("init", config, "--force").exit_code == 0
    assert "Northwind" in billing.read_text(encoding="utf-8")
    assert "--config" in run("init", tmp_path / "other").stdout


def test_init_where_the_example_is_already_is_not_refused(tmp_path, example_config_dir):
    # A clone: config/ holds the example, so `reconcile init` as the README says must work.
    config = tmp_path / "config"
    shutil.copytree(example_config_dir, config)
    before = {p.name: p.read_bytes() for p in config.iterdir() if p.is_file()}
    result = run("init", config)
    assert result.exit_code == 0, result.output
    assert "already hold the example of Northwind IT Services" in result.stdout
    assert (config / ".schemas" / "offers.schema.json").is_file()
    assert {p.name: p.read_bytes() for p in config.iterdir() if p.is_file()} == before
    assert run("init", config, "--force").exit_code == 0


@pytest.mark.parametrize("command", [["validate"], ["plan", "--charges", CHARGES]])
def test_no_configuration_directory_says_how_to_get_one(command, tmp_path):
    message = refused(run(*command, "--config", tmp_path / "config"), "no such directory")
    assert "--config DIR" in message and "reconcile init DIR" in message


def test_an_empty_configuration_directory_says_how_to_fill_it(tmp_path):
    message = refused(run("validate", "--config", tmp_path), "no billing.yaml, offers.yaml")
    assert "reconcile init DIR" in message

"""Building the charges file from the API, and `reconcile fetch-charges`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from support.sherweb_fake import (
    CLIENT_SECRET,
    CREDENTIALS,
    ENV,
    UNRESOLVABLE_URLS,
    Answer,
    FakeSherweb,
    FakeTime,
    charge,
    make_unresolvable,
    subscription,
)

from reconciler.cli import cli
from reconciler.config.load import load_config
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Organization
from reconciler.sherweb.charges import load_charges
from reconciler.sherweb.client import PsaIntegrationError, SherwebClient, SherwebError
from reconciler.sherweb.fetch import (
    charges_json,
    fetch_charges_bundle,
    fetch_charges_data,
    select_customers,
    write_charges_file,
)

# Organizations of the example configuration (config/organizations.yaml).
CONTOSO = "3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11"
FABRIKAM_MFG = "7d9e4a20-1b3c-4f5d-8e6a-9b0c1d2e3f40"
FABRIKAM_HQ = "a1c3e5f7-0b2d-4f6a-8c9e-1a3b5c7d9e02"
TAILSPIN = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
ADVENTURE = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
NORTHWIND = "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"  # not served: unknown to the API
STRANGER = "11111111-2222-4333-8444-555555555555"  # served, in no configuration
DATE = dt.date(2026, 11, 15)


@pytest.fixture
def fake() -> Iterator[FakeSherweb]:
    server = FakeSherweb()
    server.add_customer(
        CONTOSO,
        "Contoso Dental Group",
        charges=[
            charge("MS-365-BP-M", "Microsoft 365 Business Premium", quantity=12, cost="18.70"),
            charge("MS-365-E3-A", "Microsoft 365 E3", quantity=3, cost="432.00", cycle="Yearly",
                   start="2026-03-14", end="2027-03-13"),
            # A prorated increase: amounts with digits a float would lose.
            charge("MS-365-BP-M", "Microsoft 365 Business Premium", quantity=Decimal("0.53333"),
                   cost="18.70", prorated="9.973333333333333333", start="2026-11-15"),
        ],
        subscriptions=[
            subscription("a0000000-0000-4000-8000-000000000001", "MS-365-BP-M",
                         "Microsoft 365 Business Premium", quantity=13),
            subscription("a0000000-0000-4000-8000-000000000002", "MS-365-E3-A",
                         "Microsoft 365 E3", quantity=3, term="Annual"),
        ],
    )  # fmt: skip
    server.add_customer(
        FABRIKAM_MFG,
        "Fabrikam Manufacturing",
        charges=[charge("MS-AZ-PLAN", "Azure plan", cost="1234.5678", kind="Usage")],
    )
    server.add_customer(FABRIKAM_HQ, "Fabrikam Head Office")
    server.add_customer(TAILSPIN, "Tailspin Toys")
    server.add_customer(ADVENTURE, "Adventure Works Cycles")
    server.add_customer(STRANGER, "Wide World Importers")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(example_config_dir):
    return load_config(example_config_dir)


def client_for(fake: FakeSherweb) -> SherwebClient:
    time_ = FakeTime()
    return SherwebClient(fake.settings(), CREDENTIALS, clock=time_.clock, sleep=time_.sleep)


def test_fetches_the_configured_organizations_and_warns_of_unknown_ones(fake, config):
    warnings: list[str] = []
    with client_for(fake) as client:
        data = fetch_charges_data(config, date=DATE, client=client, warn=warnings.append)
    assert data["date"] == "2026-11-15"
    names = [c["displayName"] for c in data["customers"]]
    assert names == sorted(names)  # a stable order, whatever the API's
    assert {c["id"] for c in data["customers"]} == {
        CONTOSO, FABRIKAM_MFG, FABRIKAM_HQ, TAILSPIN, ADVENTURE
    }  # fmt: skip
    [warning] = warnings
    assert "Northwind Traders Legal LLP" in warning and NORTHWIND in warning
    assert "organizations.yaml:" in warning  # where it is configured
    charged = [r.query["customerId"] for r in fake.api_requests("/billing/receivable-charges")]
    assert STRANGER not in charged
    assert {r.query["date"] for r in fake.api_requests("/billing/receivable-charges")} == {
        "2026-11-15"
    }


def test_all_customers_fetches_everyone(fake, config):
    with client_for(fake) as client:
        data = fetch_charges_data(
            config, date=DATE, client=client, all_customers=True, warn=lambda _: None
        )
    assert STRANGER in {c["id"] for c in data["customers"]}
    assert len(data["customers"]) == 6


def test_the_bundle_keeps_payloads_and_numbers_exact(fake, config):
    with client_for(fake) as client:
        bundle = fetch_charges_bundle(config, date=DATE, client=client, warn=lambda _: None)
    assert isinstance(bundle, ChargesBundle)
    contoso = next(c for c in bundle.customers if c.customer_id == CONTOSO)
    prorated = contoso.charges[2]
    assert prorated.quantity == Decimal("0.53333")
    assert prorated.cost_price_prorated == Decimal("9.973333333333333333")
    assert {s.sku: s.commitment_term for s in contoso.subscriptions} == {
        "MS-365-BP-M": "Monthly",
        "MS-365-E3-A": "Annual",
    }


def test_the_written_file_reads_back_digit_for_digit(fake, config, tmp_path):
    with client_for(fake) as client:
        data = fetch_charges_data(config, date=DATE, client=client, warn=lambda _: None)
    path = tmp_path / "charges.json"
    write_charges_file(data, path)
    text = path.read_text(encoding="utf-8")
    assert "9.973333333333333333" in text and "1234.5678" in text and "18.70" in text
    assert load_charges(path) == parse_bundle(data)
    assert json.loads(text, parse_float=Decimal) == data
    assert [p.name for p in tmp_path.iterdir()] == ["charges.json"]  # no temporary left


def parse_bundle(data) -> ChargesBundle:
    from reconciler.sherweb.charges import parse_charges

    return parse_charges(data, Path("x"))


def test_charges_json_writes_decimals_as_numbers():
    text = charges_json({"a": Decimal("0.10"), "b": Decimal("1E+2"), "c": 3, "d": "é"})
    assert json.loads(text) == {"a": 0.1, "b": 100, "c": 3, "d": "é"}
    assert '"a": 0.10' in text


def test_concurrency_is_bounded_by_the_workers(fake, config):
    for n in range(12):
        fake.add_customer(f"00000000-0000-4000-8000-{n:012d}", f"Customer {n:02d}")
    # The first three answers wait for one another: three workers must be asking at once.
    together = threading.Barrier(3)
    held = Answer(200, {"periodFrom": "2026-11-01", "periodTo": "2026-11-30", "charges": []},
                  hold=together)  # fmt: skip
    fake.script("/billing/receivable-charges", *[held] * 3)
    with client_for(fake) as client:
        data = fetch_charges_data(
            config, date=DATE, client=client, all_customers=True, workers=3, warn=lambda _: None
        )
    assert len(data["customers"]) == 18
    assert not together.broken
    assert fake.max_in_flight == 3


def test_one_failing_customer_fails_the_fetch_and_stops_the_rest(fake, config):
    fake.script("/billing/receivable-charges", Answer(400, {"title": "Bad Request"}))
    with client_for(fake) as client, pytest.raises(SherwebError, match="Bad Request"):
        fetch_charges_data(config, date=DATE, client=client, workers=1, warn=lambda _: None)
    # With one worker, nothing after the failure was asked for.
    assert len(fake.api_requests("/billing/receivable-charges")) == 1


def test_psa_integration_stops_the_fetch_with_the_explanation(fake, config):
    problem = {"title": "Forbidden", "status": 403,
               "detail": "Rebilling is unavailable while a PSA integration is enabled"}  # fmt: skip
    fake.script("/billing/receivable-charges", *[Answer(403, problem)] * 6)
    with client_for(fake) as client, pytest.raises(PsaIntegrationError):
        fetch_charges_data(config, date=DATE, client=client, warn=lambda _: None)


def test_select_customers_matches_ids_whatever_their_case():
    organizations = [
        Organization(id=CONTOSO.upper(), name="Contoso", customer="Contoso", action="create"),
        Organization(id=NORTHWIND, name="Northwind", customer="Northwind", action="create"),
    ]
    api = [{"id": CONTOSO, "displayName": "b"}, {"id": STRANGER, "displayName": "a"}]
    selection = select_customers(organizations, api)
    assert [c["id"] for c in selection.customers] == [CONTOSO]
    assert [o.name for o in selection.unknown] == ["Northwind"]
    assert selection.unmapped == 1
    everyone = select_customers(organizations, api, all_customers=True)
    assert [c["displayName"] for c in everyone.customers] == ["a", "b"]


# --------------------------------------------------------------------------
# reconcile fetch-charges
# --------------------------------------------------------------------------


def config_dir_for(fake: FakeSherweb, example_config_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(example_config_dir, target)
    fake.point_billing_at(example_config_dir / "billing.yaml", target / "billing.yaml")
    return target


def test_cli_writes_a_charges_file_that_loads(fake, example_config_dir, tmp_path):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    out = tmp_path / "out" / "charges.json"
    result = CliRunner().invoke(
        cli,
        ["fetch-charges", "--config", str(config_dir), "--date", "2026-11-15", "--out", str(out)],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    bundle = load_charges(out)
    assert bundle.date == dt.date(2026, 11, 15)
    assert len(bundle.customers) == 5
    assert f"wrote {out}: 5 customers, 4 charges, billing period 2026-11-01 to 2026-11-30" in (
        result.stderr
    )
    assert "Northwind Traders Legal LLP" in result.stderr
    assert CLIENT_SECRET not in result.output


def test_cli_defaults_to_a_dated_file_and_can_write_to_stdout(
    fake, example_config_dir, tmp_path, monkeypatch
):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["fetch-charges", "--config", str(config_dir), "--date", "2026-11-15"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert load_charges(tmp_path / "charges-2026-11-15.json").date == dt.date(2026, 11, 15)
    result = runner.invoke(
        cli,
        ["fetch-charges", "--config", str(config_dir), "--date", "2026-11-15", "--out", "-"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["date"] == "2026-11-15"


def test_cli_default_date_is_today_in_the_configured_time_zone(
    fake, example_config_dir, tmp_path, monkeypatch
):
    from reconciler.commands import sherweb as command

    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    asked: list[str] = []
    monkeypatch.setattr(command, "today_in", lambda tz: asked.append(tz) or dt.date(2026, 12, 1))
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        cli, ["fetch-charges", "--config", str(config_dir), "--out", str(out)], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert asked == ["America/New_York"]
    assert load_charges(out).date == dt.date(2026, 12, 1)


def test_cli_reports_missing_credentials_without_a_traceback(fake, example_config_dir, tmp_path):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    result = CliRunner().invoke(
        cli,
        ["fetch-charges", "--config", str(config_dir)],
        env={"SHERWEB_CLIENT_ID": "", "SHERWEB_CLIENT_SECRET": "", "SHERWEB_SUBSCRIPTION_KEY": ""},
    )
    assert result.exit_code == 1
    assert "SHERWEB_CLIENT_ID, SHERWEB_CLIENT_SECRET, SHERWEB_SUBSCRIPTION_KEY" in result.stderr
    assert "Traceback" not in result.output
    assert fake.requests == []


def test_cli_reports_a_refused_key_and_writes_nothing(fake, example_config_dir, tmp_path):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    out = tmp_path / "c.json"
    env = {**ENV, "SHERWEB_SUBSCRIPTION_KEY": "wrong"}
    result = CliRunner().invoke(
        cli, ["fetch-charges", "--config", str(config_dir), "--out", str(out)], env=env
    )
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "SHERWEB_SUBSCRIPTION_KEY" in result.stderr
    assert not out.exists()


def test_cli_names_the_credential_variables_the_configuration_chose(
    fake, example_config_dir, tmp_path
):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    billing_path = config_dir / "billing.yaml"
    billing = yaml.safe_load(billing_path.read_text(encoding="utf-8"))
    billing["sherweb"]["subscription_key_env"] = "ACME_SHERWEB_KEY"
    billing_path.write_text(yaml.safe_dump(billing), encoding="utf-8")
    env = {**ENV, "ACME_SHERWEB_KEY": "wrong"}
    result = CliRunner().invoke(cli, ["fetch-charges", "--config", str(config_dir)], env=env)
    assert result.exit_code == 1
    assert "ACME_SHERWEB_KEY" in result.stderr


def test_settings_are_taken_from_the_configuration(fake, example_config_dir, tmp_path):
    config = load_config(config_dir_for(fake, example_config_dir, tmp_path))
    assert config.billing.sherweb == dataclasses.replace(
        fake.settings(),
        client_id_env="SHERWEB_CLIENT_ID",
        client_secret_env="SHERWEB_CLIENT_SECRET",
        subscription_key_env="SHERWEB_SUBSCRIPTION_KEY",
    )


@pytest.mark.parametrize(
    ("prefix", "env", "coloured"),
    [
        ([], {"FORCE_COLOR": "1", "NO_COLOR": None}, True),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (["--no-color"], {"FORCE_COLOR": "1", "NO_COLOR": None}, False),
    ],
    ids=["forced", "NO_COLOR", "--no-color"],
)
def test_the_warning_of_unknown_organizations_colours_as_decided(
    prefix, env, coloured, fake, example_config_dir, tmp_path
):
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    args = ["fetch-charges", "--config", str(config_dir), "--out", str(tmp_path / "c.json")]
    result = CliRunner().invoke(cli, [*prefix, *args], env={**ENV, **env}, color=True)
    assert result.exit_code == 0, result.output
    assert "Northwind Traders Legal LLP" in result.stderr
    assert ("\x1b" in result.stderr) is coloured


def test_cli_says_each_wait_on_stderr_without_a_terminal(
    fake, example_config_dir, tmp_path, monkeypatch
):
    from reconciler.commands import sherweb as command

    time_ = FakeTime()
    opened = command.open_client
    monkeypatch.setattr(
        command,
        "open_client",
        lambda settings, **options: opened(
            settings, **options, clock=time_.clock, sleep=time_.sleep, draw=lambda: 0.5
        ),
    )
    fake.script("/customers", Answer(429, {"statusCode": 429}, {"Retry-After": "7"}))
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        cli, ["fetch-charges", "--config", str(config_dir), "--out", str(out)], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert (
        "GET /customers: Sherweb answered 429 Too Many Requests; waiting 7.5 s (attempt 2 of 6)\n"
        in result.stderr
    )
    assert time_.sleeps == [7.5]


def test_cli_reports_an_unresolvable_host_at_once(fake, example_config_dir, tmp_path, monkeypatch):
    make_unresolvable(monkeypatch)
    config_dir = config_dir_for(fake, example_config_dir, tmp_path)
    billing_path = config_dir / "billing.yaml"
    billing = yaml.safe_load(billing_path.read_text(encoding="utf-8"))
    billing["sherweb"].update(UNRESOLVABLE_URLS)
    billing_path.write_text(yaml.safe_dump(billing), encoding="utf-8")
    result = CliRunner().invoke(cli, ["fetch-charges", "--config", str(config_dir)], env=ENV)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: POST https://sherweb.invalid/auth/oidc/connect/token:")
    assert "the host name sherweb.invalid cannot be resolved" in result.stderr
    assert "waiting" not in result.stderr and "throttl" not in result.stderr
    assert "Traceback" not in result.output

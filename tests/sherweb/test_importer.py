"""`reconcile import`: a first configuration from Sherweb and QuickBooks."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sherweb_fake import ENV, FakeSherweb, charge, subscription

from reconciler.base.errors import UserError
from reconciler.cli import cli
from reconciler.config.load import load_config
from reconciler.model.charges import BillingCycle, Charge, ChargeType, Subscription
from reconciler.model.config import InvoiceAction
from reconciler.model.quickbooks import Customer, Item, ItemKind, QBState, Ref
from reconciler.sherweb.fetch import write_charges_file
from reconciler.sherweb.importer import (
    ImportProposal,
    Proposal,
    SherwebCustomer,
    SherwebProduct,
    products_from,
    propose_import,
    render_offers_yaml,
    render_organizations_yaml,
    write_import,
)

CONTOSO = "3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11"
FABRIKAM_MFG = "7d9e4a20-1b3c-4f5d-8e6a-9b0c1d2e3f40"
FABRIKAM_HQ = "a1c3e5f7-0b2d-4f6a-8c9e-1a3b5c7d9e02"
TAILSPIN = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
ACME = "11111111-2222-4333-8444-555555555555"

CUSTOMERS = (
    SherwebCustomer(CONTOSO, "Contoso Dental Group, Inc."),
    SherwebCustomer(FABRIKAM_MFG, "Fabrikam Manufacturing"),
    SherwebCustomer(FABRIKAM_HQ, "Fabrikam Head Office"),
    SherwebCustomer(TAILSPIN, "Tailspin Toys"),
    SherwebCustomer(ACME, "Acme Widgets"),
)
PRODUCTS = (
    SherwebProduct("MS-365-BP-M", "Microsoft 365 Business Premium", "Monthly"),
    SherwebProduct("MS-365-E3-A", "Microsoft 365 E3", "Annual"),
    SherwebProduct("MS-365-E3-M", "Microsoft 365 E3", "Monthly"),
    SherwebProduct("ACR-CP-BKP-M", "Acronis Cyber Protect Cloud", None),
    SherwebProduct("ZZ-UNKNOWN", "Quantum Widget Licence", None),
)


def qb_customer(full_name: str, *, active: bool = True) -> Customer:
    parent, _, name = full_name.rpartition(":")
    return Customer(
        list_id=f"80000{abs(hash(full_name)) % 10_000:04d}-1",
        full_name=full_name,
        name=name,
        edit_sequence="1",
        is_active=active,
        parent=Ref(full_name=parent) if parent else None,
        sublevel=full_name.count(":"),
    )


def qb_item(full_name: str, kind: ItemKind = ItemKind.SERVICE, *, active: bool = True) -> Item:
    return Item(
        list_id=f"90000{abs(hash(full_name)) % 10_000:04d}-1",
        full_name=full_name,
        name=full_name.rsplit(":", 1)[-1],
        kind=kind,
        edit_sequence="1",
        is_active=active,
        sales_and_purchase=True,
    )


STATE = QBState(
    customers=(
        qb_customer("Contoso Dental Group"),
        qb_customer("Fabrikam Inc."),
        qb_customer("Fabrikam Inc.:Manufacturing"),
        qb_customer("Fabrikam Inc.:Head Office"),
        qb_customer("Tailspin Toys", active=False),
        qb_customer("Tailspin Toys Ltd."),
        qb_customer("Woodgrove Bank"),
    ),
    items=(
        qb_item("Cloud Services"),
        qb_item("Cloud Services:Microsoft 365 Business Premium"),
        qb_item("Cloud Services:Microsoft 365 E3"),
        qb_item("Cloud Services:Microsoft 365 E3 (annual)"),
        qb_item("Backup:Acronis Cyber Protect", ItemKind.OTHER_CHARGE),
        qb_item("Quantum Widget Licence", ItemKind.SUBTOTAL),  # cannot carry a cost
        qb_item("Old:Acronis Cyber Protect Cloud", active=False),
    ),
)


@pytest.fixture
def proposal() -> ImportProposal:
    return propose_import(CUSTOMERS, PRODUCTS, STATE)


def test_customers_are_matched_by_name(proposal):
    targets = {c.id: p.target for c, p in proposal.organizations}
    assert targets == {
        CONTOSO: "Contoso Dental Group",
        FABRIKAM_MFG: "Fabrikam Inc.:Manufacturing",
        FABRIKAM_HQ: "Fabrikam Inc.:Head Office",
        TAILSPIN: "Tailspin Toys Ltd.",  # the inactive "Tailspin Toys" is no candidate
        ACME: None,
    }
    assert proposal.qb_customers == 6
    assert proposal.organizations_todo == 1


def test_offers_are_matched_by_name_and_term(proposal):
    targets = {o.sku: p.target for o, p in proposal.offers}
    assert targets == {
        "MS-365-BP-M": "Cloud Services:Microsoft 365 Business Premium",
        "MS-365-E3-A": "Cloud Services:Microsoft 365 E3 (annual)",
        "MS-365-E3-M": "Cloud Services:Microsoft 365 E3",
        "ACR-CP-BKP-M": "Backup:Acronis Cyber Protect",
        "ZZ-UNKNOWN": None,  # its namesake is a subtotal item
    }
    acronis = dict((o.sku, p) for o, p in proposal.offers)["ACR-CP-BKP-M"]
    assert 0.85 <= acronis.score < 1.0


def test_products_come_from_subscriptions_then_charges():
    subscriptions = [
        Subscription("s1", "Microsoft 365 E3", "MS-365-E3-A", 3, "monthly", "Annual"),
        Subscription("s2", "Exchange Online (Plan 1)", "MS-EXO-P1-M", 5, "monthly", None),
    ]
    charges = [
        Charge("Microsoft 365 E3 (renamed)", "MS-365-E3-A", "x", ChargeType.RECURRING,
               dt.date(2026, 11, 1), dt.date(2026, 11, 30), Decimal(1), Decimal(1), Decimal(1),
               "USD", True, billing_cycle=BillingCycle.YEARLY),
        Charge("Azure plan", "MS-AZ-PLAN", "x", ChargeType.USAGE, dt.date(2026, 11, 1),
               dt.date(2026, 11, 30), Decimal(1), Decimal(1), Decimal(1), "USD", False,
               billing_cycle=BillingCycle.MONTHLY),
        Charge("Setup", "SETUP-FEE", "x", ChargeType.SETUP, dt.date(2026, 11, 1),
               dt.date(2026, 11, 30), Decimal(1), Decimal(1), Decimal(1), "USD", False,
               billing_cycle=BillingCycle.ONE_TIME),
    ]  # fmt: skip
    assert products_from(subscriptions, charges) == (
        SherwebProduct("MS-365-E3-A", "Microsoft 365 E3", "Annual"),
        SherwebProduct("MS-AZ-PLAN", "Azure plan", "Monthly"),
        SherwebProduct("MS-EXO-P1-M", "Exchange Online (Plan 1)", None),
        SherwebProduct("SETUP-FEE", "Setup", None),
    )


def write_config(proposal: ImportProposal, directory: Path, example_config_dir: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(example_config_dir / "billing.yaml", directory / "billing.yaml")
    write_import(proposal, directory)
    return directory


def test_written_files_validate_and_hold_the_matches(proposal, tmp_path, example_config_dir):
    config = load_config(write_config(proposal, tmp_path / "config", example_config_dir))
    assert {o.id: o.customer for o in config.organizations} == {
        CONTOSO: "Contoso Dental Group",
        FABRIKAM_MFG: "Fabrikam Inc.:Manufacturing",
        FABRIKAM_HQ: "Fabrikam Inc.:Head Office",
        TAILSPIN: "Tailspin Toys Ltd.",
    }
    assert {o.action for o in config.organizations} == {InvoiceAction.CREATE}
    assert next(o for o in config.organizations if o.id == CONTOSO).name == (
        "Contoso Dental Group, Inc."
    )
    assert [o.sku for o in config.offers] == ["MS-365-BP-M", "MS-365-E3-A", "MS-365-E3-M", "ACR-CP-BKP-M"]  # fmt: skip
    assert all(o.sync for o in config.offers)


def test_unmatched_entries_are_commented_todos_that_become_valid_once_filled(
    proposal, tmp_path, example_config_dir
):
    directory = write_config(proposal, tmp_path / "config", example_config_dir)
    organizations = (directory / "organizations.yaml").read_text(encoding="utf-8")
    offers = (directory / "offers.yaml").read_text(encoding="utf-8")
    assert '# TODO: no QuickBooks customer close enough to "Acme Widgets"' in organizations
    assert '# TODO: no QuickBooks item close enough to "Quantum Widget Licence"' in offers
    assert "customer: TODO" in organizations and "item: TODO" in offers
    assert "Contoso Dental Group, Inc." in organizations
    # A non-exact match says so, for the reviewer.
    assert (
        re.search(r"customer: Tailspin Toys Ltd\.  # name match \d+%: check", organizations) is None
    )
    assert "item: Backup:Acronis Cyber Protect  # name match" in offers

    # The user fills the TODOs in and uncomments them: still valid.
    def fill(text: str, placeholder: str, value: str) -> str:
        return re.sub(r"^  # (-|  )", r"  \1", text, flags=re.MULTILINE).replace(placeholder, value)

    (directory / "organizations.yaml").write_text(
        fill(organizations, "customer: TODO", "customer: Woodgrove Bank"), encoding="utf-8"
    )
    (directory / "offers.yaml").write_text(
        fill(offers, "item: TODO", "item: Misc:Quantum"), encoding="utf-8"
    )
    config = load_config(directory)
    assert config.organization(ACME).customer == "Woodgrove Bank"
    assert config.offer("ZZ-UNKNOWN").item == "Misc:Quantum"


def test_a_todo_names_the_closest_candidates_and_who_took_them(tmp_path, example_config_dir):
    customers = (SherwebCustomer(CONTOSO, "Contoso Dental"), SherwebCustomer(TAILSPIN, "Contoso Dental Group"))  # fmt: skip
    state = QBState(customers=(qb_customer("Contoso Dental Group Inc"),))
    text = render_organizations_yaml(propose_import(customers, (), state))
    assert re.search(
        r'# TODO: no QuickBooks customer close enough to "Contoso Dental"; closest: '
        r'"Contoso Dental Group Inc" \d+%, proposed for "Contoso Dental Group"',
        text,
    )


def test_nothing_matched_still_validates(tmp_path, example_config_dir):
    proposal = propose_import(CUSTOMERS, PRODUCTS, QBState())
    assert "organizations: []" in render_organizations_yaml(proposal)
    config = load_config(write_config(proposal, tmp_path / "c", example_config_dir))
    assert config.organizations == () and config.offers == ()


def test_existing_files_are_not_overwritten_without_force(proposal, tmp_path):
    (tmp_path / "offers.yaml").write_text("offers: []\n", encoding="utf-8")
    with pytest.raises(UserError, match="--force"):
        write_import(proposal, tmp_path)
    assert (tmp_path / "offers.yaml").read_text(encoding="utf-8") == "offers: []\n"
    assert not (tmp_path / "organizations.yaml").exists()
    write_import(proposal, tmp_path, force=True)
    assert "MS-365-BP-M" in (tmp_path / "offers.yaml").read_text(encoding="utf-8")


awkward = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40
).filter(lambda s: s.strip() and ":" not in s)


@settings(
    max_examples=60,
    suppress_health_check=[
        *settings.default.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(name=awkward, target=awkward, sku=awkward)
def test_any_name_survives_the_yaml_writer(name, target, sku, tmp_path_factory):
    proposal = ImportProposal(
        organizations=((SherwebCustomer(CONTOSO, name), Proposal(target, 0.9, ((name, 0.5, name),))),),
        offers=((SherwebProduct(sku, name, "Annual"), Proposal(target, 1.0)),),
        qb_customers=1,
        qb_items=1,
    )  # fmt: skip
    organizations = yaml.safe_load(render_organizations_yaml(proposal))["organizations"]
    offers = yaml.safe_load(render_offers_yaml(proposal))["offers"]
    assert organizations == [{"id": CONTOSO, "name": name, "customer": target, "action": "create"}]
    assert offers == [{"sku": sku, "item": target}]


# --------------------------------------------------------------------------
# reconcile import
# --------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSherweb]:
    server = FakeSherweb()
    server.add_customer(
        CONTOSO,
        "Contoso Dental Group",
        charges=[charge("MS-AZ-PLAN", "Azure plan", kind="Usage")],
        subscriptions=[subscription("a0000000-0000-4000-8000-000000000001", "MS-365-E3-A",
                                    "Microsoft 365 E3", term="Annual")],
    )  # fmt: skip
    server.add_customer(ACME, "Acme Widgets")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def qb_state(monkeypatch) -> list[list[Path]]:
    """Stand in for the qbXML parser (another layer): the paths it was given."""
    from reconciler.commands import sherweb as command

    calls: list[list[Path]] = []

    def load(paths):
        calls.append(list(paths))
        return QBState(
            customers=(qb_customer("Contoso Dental Group"),),
            items=(qb_item("Cloud:Microsoft 365 E3 (annual)"), qb_item("Cloud:Azure plan")),
        )

    monkeypatch.setattr(command, "load_qb_state", load)
    return calls


def billing_dir(tmp_path: Path, example_config_dir: Path, fake: FakeSherweb | None = None) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    if fake is None:
        shutil.copyfile(example_config_dir / "billing.yaml", directory / "billing.yaml")
    else:
        fake.point_billing_at(example_config_dir / "billing.yaml", directory / "billing.yaml")
    return directory


def test_cli_imports_from_the_api(fake, qb_state, tmp_path, example_config_dir):
    directory = billing_dir(tmp_path, example_config_dir, fake)
    responses = tmp_path / "qb"
    responses.mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "import",
            "--config",
            str(directory),
            "--qb-state",
            str(responses),
            "--date",
            "2026-11-15",
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert qb_state == [[responses]]
    assert "organizations: 1 of 2 matched to a QuickBooks customer, 1 TODO" in result.stdout
    assert "offers: 2 of 2 matched to a QuickBooks item" in result.stdout
    assert f"{directory}: valid - 2 offers" in result.stdout
    assert "Fill in the TODO entries" in result.stdout
    config = load_config(directory)
    assert [o.customer for o in config.organizations] == ["Contoso Dental Group"]
    assert {o.sku: o.item for o in config.offers} == {
        "MS-365-E3-A": "Cloud:Microsoft 365 E3 (annual)",
        "MS-AZ-PLAN": "Cloud:Azure plan",
    }
    # Every Sherweb customer was asked for, not only configured ones (there are none yet).
    assert len(fake.api_requests("/billing/subscriptions")) == 2


def test_cli_imports_from_a_charges_file_into_another_directory(
    qb_state, tmp_path, example_config_dir
):
    directory = billing_dir(tmp_path, example_config_dir)
    charges = tmp_path / "charges.json"
    write_charges_file(
        {
            "date": "2026-11-15",
            "customers": [
                {
                    "id": CONTOSO,
                    "displayName": "Contoso Dental Group",
                    "receivableCharges": {"periodFrom": "2026-11-01", "periodTo": "2026-11-30",
                                          "charges": [charge("MS-AZ-PLAN", "Azure plan")]},
                }
            ],
        },
        charges,
    )  # fmt: skip
    out = tmp_path / "proposed"
    result = CliRunner().invoke(
        cli,
        ["import", "--config", str(directory), "--qb-state", str(tmp_path),
         "--charges", str(charges), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["offers.yaml", "organizations.yaml"]
    assert not (directory / "offers.yaml").exists()
    assert "TODO" not in result.stdout.replace("organizations: 1 of 1", "")


def test_cli_refuses_to_overwrite_before_asking_anyone(
    fake, qb_state, tmp_path, example_config_dir
):
    directory = billing_dir(tmp_path, example_config_dir, fake)
    (directory / "organizations.yaml").write_text("organizations: []\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["import", "--config", str(directory), "--qb-state", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert fake.requests == [] and qb_state == []


def test_cli_needs_billing_yaml_and_qb_state(tmp_path, example_config_dir):
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "--config", str(tmp_path), "--qb-state", str(tmp_path)])
    assert result.exit_code == 1
    assert "billing.yaml: missing" in result.stderr
    directory = billing_dir(tmp_path, example_config_dir)
    result = runner.invoke(cli, ["import", "--config", str(directory)])
    assert result.exit_code == 1
    assert "--qb-state" in result.stderr


def test_load_billing_reads_billing_yaml_alone(tmp_path, example_config_dir):
    from reconciler.base.errors import InvalidInput
    from reconciler.config.load import load_billing

    shutil.copyfile(example_config_dir / "billing.yaml", tmp_path / "billing.yaml")
    billing = load_billing(tmp_path)  # no organizations.yaml nor offers.yaml yet
    assert billing.timezone == "America/New_York"
    assert billing.sherweb.subscription_key_env == "SHERWEB_SUBSCRIPTION_KEY"
    text = (tmp_path / "billing.yaml").read_text(encoding="utf-8")
    (tmp_path / "billing.yaml").write_text(
        text.replace("mode: advance", "mode: sideways"), encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as caught:
        load_billing(tmp_path)
    [problem] = caught.value.diagnostics
    assert str(problem).startswith(f"{tmp_path / 'billing.yaml'}:8:")
    assert "sideways" in str(problem)

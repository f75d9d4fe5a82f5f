"""Validation of the configuration directory: every rule, failing and passing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.base.errors import InvalidInput
from reconciler.config.load import load_config
from reconciler.model.config import BillingMode, InvoiceAction, Proration, SendMark, UnsentInvoices


@pytest.fixture
def config_dir(tmp_path: Path, example_config_dir: Path) -> Path:
    """A writable copy of the example configuration."""
    target = tmp_path / "config"
    shutil.copytree(example_config_dir, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(config_dir: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load_config(config_dir)
    return [str(d) for d in caught.value.diagnostics]


def only_problem(config_dir: Path) -> str:
    found = problems(config_dir)
    assert len(found) == 1, found
    return found[0]


def test_example_configuration_is_valid(example_config_dir: Path) -> None:
    config = load_config(example_config_dir)
    assert config.billing.mode is BillingMode.ADVANCE
    assert config.billing.proration == {Proration.INCREASES, Proration.DECREASES}
    assert config.billing.invoice_day == 1
    assert config.billing.timezone == "America/New_York"
    assert config.billing.company.name == "Northwind IT Services LLC"
    assert len(config.organizations) >= 5
    assert len(config.offers) >= 6
    assert {o.action for o in config.organizations} == set(InvoiceAction)
    assert any("annual" in o.item.lower() for o in config.offers)
    tailspin = next(o for o in config.organizations if o.name == "Tailspin Toys")
    power_bi = config.offer("MS-PBI-PRO-M")
    assert power_bi is not None and not power_bi.sync
    assert tailspin.syncs(power_bi)


def test_positions_point_at_the_object(config_dir: Path) -> None:
    config = load_config(config_dir)
    offer = config.offers[1]
    assert offer.where is not None
    assert offer.where.file == config_dir / "offers.yaml"
    lines = (config_dir / "offers.yaml").read_text(encoding="utf-8").splitlines()
    assert offer.sku in lines[offer.where.line - 1]


# ---------------------------------------------------------------- YAML syntax


def test_yaml_syntax_error_has_file_line_and_column(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "  - sku: MS-365-BS-M", "  - sku: [MS-365-BS-M")
    message = only_problem(config_dir)
    assert message.startswith(f"{config_dir / 'offers.yaml'}:")
    assert "YAML syntax error" in message
    line = int(message.split(":")[1])
    assert 6 <= line <= 10


def test_duplicate_yaml_key_is_an_error(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "invoice_day: 1 ", "invoice_day: 1\ninvoice_day: 2 ")
    message = only_problem(config_dir)
    assert "duplicate key 'invoice_day'" in message
    assert f"{config_dir / 'billing.yaml'}:" in message


def test_missing_file_is_reported(config_dir: Path) -> None:
    (config_dir / "offers.yaml").unlink()
    message = only_problem(config_dir)
    assert "offers.yaml: missing" in message


def test_a_missing_directory_is_said_to_be_missing(tmp_path: Path) -> None:
    assert only_problem(tmp_path / "nowhere") == f"{tmp_path / 'nowhere'}: no such directory"


def test_a_file_given_as_the_directory_is_said_to_be_a_file(config_dir: Path) -> None:
    message = only_problem(config_dir / "billing.yaml")
    assert message == (
        f"{config_dir / 'billing.yaml'}: is a file, not a directory: --config names the "
        f"directory that holds it ({config_dir})"
    )


def test_a_directory_without_configuration_files(tmp_path: Path) -> None:
    message = only_problem(tmp_path)
    assert message.endswith("no billing.yaml, offers.yaml, organizations.yaml in this directory")


def test_empty_file_breaks_the_schema(config_dir: Path) -> None:
    (config_dir / "offers.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert "(top level): required key 'offers' is missing" in only_problem(config_dir)


def test_every_duplicate_key_is_reported_and_the_rest_is_still_checked(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "mode: advance", "mode: advance\nmode: arrears")
    edit(config_dir / "billing.yaml", "  min_existing: 10", "  min_existing: 10\n  min_existing: 5")
    edit(config_dir / "billing.yaml", "timezone: America/New_York", "timezone: Eastern")
    found = problems(config_dir)
    assert len(found) == 3, found
    assert "duplicate key 'mode' (first defined at line 8)" in found[0]
    assert "unknown time zone 'Eastern'" in found[1]
    assert "duplicate key 'min_existing'" in found[2]


def test_a_file_that_is_not_utf8_is_reported_with_its_line_and_column(config_dir: Path) -> None:
    path = config_dir / "organizations.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "name: Tailspin Toys", "name: Tailspin Jouets é"
    )
    path.write_bytes(text.encode("cp1252"))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "Jouets" in t)
    column = text.splitlines()[line - 1].index("é") + 1
    assert only_problem(config_dir) == (
        f"{path}:{line}:{column}: not UTF-8 text (byte 0xe9 here): save the file as UTF-8"
    )


def test_a_utf16_file_is_named_as_such(config_dir: Path) -> None:
    path = config_dir / "offers.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert "offers.yaml:1:1: not UTF-8 text (the file is UTF-16)" in only_problem(config_dir)


def test_a_control_character_is_reported_with_its_line_and_column(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "  - sku: MS-365-BS-M", "  - sku: MS-365-BS-M\x07")
    message = only_problem(config_dir)
    assert "character U+0007 is not allowed" in message
    lines = (config_dir / "offers.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "\x07" in text)
    assert message.split(":")[1:3] == [str(line), str(lines[line - 1].index("\x07") + 1)]


# ---------------------------------------------------------------- JSON Schema


def test_every_unknown_key_is_named_with_its_own_line(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "    sync: false", "    synch: false\n    colour: blue")
    edit(config_dir / "billing.yaml", "mode: advance", "mode: advance\nmodes: arrears")
    found = problems(config_dir)
    assert len(found) == 3, found
    for message, key in zip(found, ["modes", "synch", "colour"], strict=True):
        file, line, column, text = message.split(":", 3)
        assert f"unknown key {key!r}" in text
        assert (
            Path(file)
            .read_text(encoding="utf-8")
            .splitlines()[int(line) - 1]
            .startswith(" " * (int(column) - 1) + key)
        )


def test_unknown_key_is_named_with_its_line(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "    sync: false", "    synch: false")
    message = only_problem(config_dir)
    assert "unknown key 'synch'" in message
    assert "allowed: description, item, sku, sync" in message
    path = config_dir / "offers.yaml"
    line = int(message.split(":")[1])
    assert "synch" in path.read_text(encoding="utf-8").splitlines()[line - 1]


def test_bad_billing_mode(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "mode: advance", "mode: monthly")
    assert "'monthly' is not one of: advance, arrears" in only_problem(config_dir)


@pytest.mark.parametrize("day", ["0", "29", "31", "'first'", "2.5", "true"])
def test_invoice_day_out_of_range_says_what_is_allowed(config_dir: Path, day: str) -> None:
    edit(config_dir / "billing.yaml", "invoice_day: 1 ", f"invoice_day: {day} ")
    shown = {"'first'": "'first'", "true": "true"}.get(day, day)
    assert only_problem(config_dir).endswith(
        f"billing.yaml:12:14: invoice_day: {shown} is not a whole number from 1 to 28 or last"
    )


@pytest.mark.parametrize("day", ["28", "last", "15"])
def test_invoice_day_in_range(config_dir: Path, day: str) -> None:
    edit(config_dir / "billing.yaml", "invoice_day: 1 ", f"invoice_day: {day} ")
    expected = day if day == "last" else int(day)
    assert load_config(config_dir).billing.invoice_day == expected


@pytest.mark.parametrize(
    ("written", "shown"),
    [('"25:00"', "'25:00'"), ('"5am"', "'5am'"), ("6:30", "6:30 (a number to YAML, 390)")],
)
def test_invoice_time_says_what_is_allowed(config_dir: Path, written: str, shown: str) -> None:
    edit(config_dir / "billing.yaml", 'invoice_time: "05:00"', f"invoice_time: {written}")
    assert only_problem(config_dir).endswith(
        f'invoice_time: {shown} is not a time of day HH:MM from 00:00 to 23:59, in quotes ("05:00")'
    )


def test_semantic_checks_run_beside_schema_errors_in_one_file(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", 'invoice_time: "05:00"', 'invoice_time: "25:00"')
    edit(config_dir / "billing.yaml", "timezone: America/New_York", "timezone: Mars/Olympus")
    edit(config_dir / "billing.yaml", "mark_created: email", "mark_created: none")
    found = problems(config_dir)
    assert len(found) == 3, found
    assert "invoice_time: '25:00' is not a time of day" in found[0]
    assert "unknown time zone 'Mars/Olympus'" in found[1]
    assert "would count as sent at once" in found[2]


def test_a_broken_organization_hides_nothing_else(config_dir: Path) -> None:
    organizations = config_dir / "organizations.yaml"
    # One organization breaks the schema twice (id and action) and a rule (its customer name).
    edit(organizations, "id: 3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11", "id: contoso")
    edit(organizations, "    action: create\n", "    action: bill\n")
    edit(organizations, "customer: Contoso Dental Group", f"customer: {'C' * 42}")
    # Its neighbours' rules still run: an override of an unknown offer, a conflicting action.
    edit(organizations, "MS-AZ-PLAN: false", "MS-AZURE: false")
    edit(organizations, "customer: Adventure Works Cycles", "customer: Tailspin Toys")
    # And so do the other files' schema and rules.
    edit(config_dir / "billing.yaml", "timezone: America/New_York", "timezone: Eastern")
    edit(config_dir / "offers.yaml", "  - sku: MS-EXO-P1-M", "  - sku: MS-365-BP-M")
    edit(config_dir / "offers.yaml", "    sync: false", "    sync: maybe")
    found = problems(config_dir)
    expected = [
        "billing.yaml:14:11: timezone: unknown time zone 'Eastern'",
        "offers.yaml:",  # the duplicate SKU
        "offers.yaml:",  # sync: maybe
        "organizations.yaml:",  # id: contoso
        "organizations.yaml:",  # the customer name
        "organizations.yaml:",  # action: bill
        "organizations.yaml:",  # MS-AZURE
        "organizations.yaml:",  # the conflicting actions
    ]
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert start in message, (start, message)
    text = "\n".join(found)
    for part in (
        "duplicate offer SKU 'MS-365-BP-M'",
        "'maybe' is not true or false",
        "'contoso' is not a UUID",
        "is 42 characters; QuickBooks allows 41 per level",
        "'bill' is not one of: create, update",
        "override names unknown offer 'MS-AZURE'",
        "both map to customer 'Tailspin Toys' with different actions",
    ):
        assert part in text, part


def test_invoice_time_override(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", 'invoice_time: "05:00"', 'invoice_time: "06:30"')
    assert load_config(config_dir).billing.invoice_time.isoformat() == "06:30:00"


def test_unknown_timezone(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "timezone: America/New_York", "timezone: Eastern")
    assert "unknown time zone 'Eastern'" in only_problem(config_dir)


def test_proration_values(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "  - decreases", "  - refunds")
    assert "'refunds' is not one of: increases, decreases" in only_problem(config_dir)


def test_proration_may_be_empty(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "  - increases\n  - decreases\n", "  []\n")
    edit(config_dir / "billing.yaml", "proration:", "proration:")
    text = (config_dir / "billing.yaml").read_text(encoding="utf-8")
    (config_dir / "billing.yaml").write_text(
        text.replace(
            "proration:             # bill mid-month licence changes pro rata\n  []",
            "proration: []",
        ),
        encoding="utf-8",
    )
    assert load_config(config_dir).billing.proration == frozenset()


def test_organization_id_must_be_a_uuid(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml", "id: 3f2b6c1e-8a4d-4e0b-9c61-2d7a5b9e0f11", "id: contoso"
    )
    assert "'contoso' is not a UUID" in only_problem(config_dir)


def test_missing_required_field(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml",
        "    action: create\n",
        "",
    )
    assert "organizations[1]: required key 'action' is missing" in only_problem(config_dir)


def test_secret_in_yaml_is_refused(config_dir: Path) -> None:
    edit(
        config_dir / "billing.yaml",
        "  client_id_env: SHERWEB_CLIENT_ID",
        "  client_secret: hunter2",
    )
    assert "unknown key 'client_secret'" in only_problem(config_dir)


# ---------------------------------------------------------------- semantic rules


def test_duplicate_sku(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "  - sku: MS-EXO-P1-M", "  - sku: MS-365-BP-M")
    message = only_problem(config_dir)
    assert "duplicate offer SKU 'MS-365-BP-M' (first mapped at line 6)" in message


def test_duplicate_organization(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml",
        "id: 9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "id: 3F2B6C1E-8A4D-4E0B-9C61-2D7A5B9E0F11",
    )
    assert "duplicate organization 3F2B6C1E-8A4D-4E0B-9C61-2D7A5B9E0F11" in only_problem(config_dir)


def test_override_names_unknown_offer(config_dir: Path) -> None:
    edit(config_dir / "organizations.yaml", "MS-AZ-PLAN: false", "MS-AZURE: false")
    message = only_problem(config_dir)
    assert "override names unknown offer 'MS-AZURE'" in message
    line = int(message.split(":")[1])
    text = (config_dir / "organizations.yaml").read_text(encoding="utf-8")
    assert "MS-AZURE" in text.splitlines()[line - 1]


def test_conflicting_actions_for_one_customer(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml",
        "customer: Adventure Works Cycles",
        "customer: Tailspin Toys",
    )
    message = only_problem(config_dir)
    assert "both map to customer 'Tailspin Toys' with different actions" in message


def test_same_customer_same_action_is_allowed(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml",
        "customer: Northwind Traders Legal",
        "customer: Tailspin Toys",
    )
    config = load_config(config_dir)
    assert sum(o.customer == "Tailspin Toys" for o in config.organizations) == 2


def test_customer_level_too_long(config_dir: Path) -> None:
    long = "C" * 42
    edit(config_dir / "organizations.yaml", "customer: Tailspin Toys", f"customer: {long}")
    assert "is 42 characters; QuickBooks allows 41 per level" in only_problem(config_dir)


def test_customer_level_at_limit(config_dir: Path) -> None:
    edit(config_dir / "organizations.yaml", "customer: Tailspin Toys", f"customer: {'C' * 41}")
    load_config(config_dir)


def test_customer_full_name_too_long(config_dir: Path) -> None:
    name = ":".join(["C" * 41] * 5) + ":C"  # 6 levels, 211 characters
    edit(config_dir / "organizations.yaml", "customer: Tailspin Toys", f"customer: {name}")
    assert "full name is 211 characters; QuickBooks allows 209" in only_problem(config_dir)


def test_customer_full_name_at_limit(config_dir: Path) -> None:
    name = ":".join(["C" * 41] * 5)  # 209 characters
    assert len(name) == 209
    edit(config_dir / "organizations.yaml", "customer: Tailspin Toys", f"customer: {name}")
    load_config(config_dir)


def test_item_level_too_long(config_dir: Path) -> None:
    edit(
        config_dir / "offers.yaml",
        "item: Security:Defender for Endpoint P2",
        f"item: Security:{'I' * 32}",
    )
    assert "is 32 characters; QuickBooks allows 31 per level" in only_problem(config_dir)


def test_item_full_name_too_long(config_dir: Path) -> None:
    name = ":".join(["I" * 31] * 5) + ":I"  # 161 characters
    edit(config_dir / "offers.yaml", "item: Security:Defender for Endpoint P2", f"item: {name}")
    assert "full name is 161 characters; QuickBooks allows 159" in only_problem(config_dir)


def test_item_full_name_at_limit(config_dir: Path) -> None:
    name = ":".join(["I" * 31] * 5)  # 159 characters
    assert len(name) == 159
    edit(config_dir / "offers.yaml", "item: Security:Defender for Endpoint P2", f"item: {name}")
    load_config(config_dir)


def test_empty_name_level(config_dir: Path) -> None:
    edit(
        config_dir / "offers.yaml",
        "item: Security:Defender for Endpoint P2",
        "item: Security::Defender",
    )
    assert "empty name level" in only_problem(config_dir)


def test_create_if_missing_needs_update(config_dir: Path) -> None:
    edit(
        config_dir / "organizations.yaml",
        "    customer: Adventure Works Cycles\n    action: create\n",
        "    customer: Adventure Works Cycles\n    action: create\n    create_if_missing: true\n",
    )
    assert "create_if_missing applies only to action 'update'" in only_problem(config_dir)


def test_description_template_syntax(config_dir: Path) -> None:
    edit(
        config_dir / "offers.yaml", "({{ start | date }} - {{ end | date }})", "({{ start | date }"
    )
    assert "template syntax error" in only_problem(config_dir)


def test_description_template_unknown_variable(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "({{ start | date }} - {{ end | date }})", "({{ price }})")
    assert "unknown template variable(s) price" in only_problem(config_dir)


def test_three_mistakes_in_two_files_are_all_reported(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "  - sku: MS-EXO-P1-M", "  - sku: MS-365-BP-M")
    edit(config_dir / "offers.yaml", "    sync: false", "    sync: maybe")
    edit(
        config_dir / "organizations.yaml",
        "action: update\n    create_if_missing",
        "action: upgrade\n    create_if_missing",
    )
    found = problems(config_dir)
    assert len(found) == 3, found
    assert sum("offers.yaml:" in p for p in found) == 2
    assert sum("organizations.yaml:" in p for p in found) == 1


# ------------------------------------------------------- offers sharing an item

ANNUAL_BP = (
    "    item: Cloud Services:Microsoft 365 Business Premium\n"
    "  - sku: MS-365-BP-A\n"
    "    item: Cloud Services:Microsoft 365 Business Premium\n"
)


def test_offers_sharing_an_item_with_different_sync_are_refused(config_dir: Path) -> None:
    # The annual licences are prepaid and billed by hand on the same item.
    edit(
        config_dir / "offers.yaml",
        "    item: Cloud Services:Microsoft 365 Business Premium\n",
        ANNUAL_BP + "    sync: false\n",
    )
    message = only_problem(config_dir)
    offers = (config_dir / "offers.yaml").read_text(encoding="utf-8").splitlines()
    file, line, column, text = message.split(":", 3)
    assert Path(file) == config_dir / "offers.yaml" and int(column) > 0
    assert "MS-365-BP-A" in offers[int(line) - 1]
    assert "offers MS-365-BP-M (line 6) and MS-365-BP-A share item" in text
    assert "cannot be told apart" in text
    assert "Map the offers to separate QuickBooks items, or sync both or neither" in text
    assert "Contoso Dental Group" in text


def test_an_override_that_syncs_one_of_two_offers_on_an_item_is_refused(
    config_dir: Path,
) -> None:
    edit(
        config_dir / "offers.yaml",
        "    item: Cloud Services:Microsoft 365 Business Premium\n",
        ANNUAL_BP,
    )
    edit(config_dir / "organizations.yaml", "MS-AZ-PLAN: false", "MS-365-BP-A: false")
    message = only_problem(config_dir)
    assert "offers.yaml:" in message
    assert "synced for Fabrikam Head Office:" in message


def test_offers_sharing_an_item_are_allowed_when_every_organization_syncs_both_alike(
    config_dir: Path,
) -> None:
    edit(
        config_dir / "offers.yaml",
        "    item: Cloud Services:Microsoft 365 Business Premium\n",
        ANNUAL_BP + "    sync: false\n",
    )
    # Synced off for everyone but Tailspin, which overrides both back on.
    edit(
        config_dir / "offers.yaml",
        "  - sku: MS-365-BP-M\n",
        "  - sku: MS-365-BP-M\n    sync: false\n",
    )
    edit(
        config_dir / "organizations.yaml",
        "MS-PBI-PRO-M: true",
        "MS-PBI-PRO-M: true\n      MS-365-BP-M: true\n      MS-365-BP-A: true",
    )
    config = load_config(config_dir)
    items = [o.item for o in config.offers if o.sku.startswith("MS-365-BP")]
    assert len(items) == 2 and len(set(items)) == 1


def test_unsent_invoices_defaults_to_marked(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "unsent_invoices: marked", "")
    assert load_config(config_dir).billing.unsent_invoices is UnsentInvoices.MARKED


def test_unsent_invoices_unpaid_for_books_without_the_marks(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "unsent_invoices: marked", "unsent_invoices: unpaid")
    assert load_config(config_dir).billing.unsent_invoices is UnsentInvoices.UNPAID


def test_unsent_invoices_other_values_are_refused(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "unsent_invoices: marked", "unsent_invoices: emailed")
    message = only_problem(config_dir)
    assert "billing.yaml:" in message
    assert "'emailed' is not one of: marked, unpaid" in message


def test_created_invoices_are_marked_email_later_by_default(config_dir: Path) -> None:
    assert load_config(config_dir).billing.mark_created is SendMark.EMAIL
    edit(config_dir / "billing.yaml", "mark_created: email", "")
    assert load_config(config_dir).billing.mark_created is SendMark.EMAIL


def test_created_invoices_may_be_marked_print_later(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "mark_created: email", "mark_created: print")
    assert load_config(config_dir).billing.mark_created is SendMark.PRINT


def test_unmarked_created_invoices_with_books_that_skip_the_marks(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "unsent_invoices: marked", "unsent_invoices: unpaid")
    edit(config_dir / "billing.yaml", "mark_created: email", "mark_created: none")
    billing = load_config(config_dir).billing
    assert (billing.mark_created, billing.unsent_invoices) == (
        SendMark.NONE,
        UnsentInvoices.UNPAID,
    )


def test_unmarked_created_invoices_under_marked_are_refused(config_dir: Path) -> None:
    # They would count as sent at once: corrections of their charges would never be applied.
    edit(config_dir / "billing.yaml", "mark_created: email", "mark_created: none")
    message = only_problem(config_dir)
    line = next(
        n
        for n, text in enumerate((config_dir / "billing.yaml").read_text("utf-8").splitlines(), 1)
        if text.startswith("mark_created:")
    )
    assert f"billing.yaml:{line}:" in message
    assert "would count as sent at once" in message
    assert "unsent_invoices: unpaid" in message


def test_mark_created_other_values_are_refused(config_dir: Path) -> None:
    edit(config_dir / "billing.yaml", "mark_created: email", "mark_created: fax")
    assert "'fax' is not one of: email, print, none" in only_problem(config_dir)

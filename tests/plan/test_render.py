"""The plan document (JSON), plan files, and the text and markdown renderers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import jsonschema
import pytest
from support.builders import (
    DEC_1,
    ORG_A,
    ORG_B,
    bundle,
    charge,
    config,
    customer_charges,
    invoice,
    line,
    offer,
    org,
    qb_customer,
    qb_item,
    state,
)

from reconciler.base.errors import InvalidInput, UserError
from reconciler.base.jsonschemas import load_schema
from reconciler.model.config import InvoiceAction
from reconciler.model.quickbooks import InvoiceLineGroup, Ref
from reconciler.plan import build_plan, dumps_plan, load_plan, plan_document, save_plan
from reconciler.plan.files import FileKind, NotAPlan, file_kind, plan_digest
from reconciler.plan.render.markdown import COMMENT_MARKER, render_markdown
from reconciler.plan.render.text import render_text
from reconciler.plan.requests import render_plan_requests

D = dt.date


def document_for(plan, *, forced=False):
    requests = render_plan_requests(plan)
    return plan_document(plan, requests.documents, qbxml_version=requests.version, forced=forced)


@pytest.fixture
def every_kind_of_change():
    """A plan with an item cost, a create, an update (keep, group, modify, remove, add) and notices."""
    contoso, fabrikam = qb_customer("Contoso"), qb_customer("Fabrikam | Co")
    bp = qb_item("Cloud:BP", cost="18.7")
    bs = qb_item("Cloud:BS", cost="11.25")
    labour = qb_item("Services:Labour")
    cfg = config(
        [offer("BP"), offer("BS")],
        [
            org(ORG_A, "Contoso", action=InvoiceAction.UPDATE),
            org(ORG_B, "Fabrikam | Co"),
        ],
    )
    charges = bundle(
        customer_charges(
            ORG_A,
            "Contoso",
            [charge("BP", 15, cost="19.80"), charge("BS", 2, cost="11.25")],
        ),
        customer_charges(ORG_B, "Fabrikam | Co", [charge("BP", 4, cost="19.80"), charge("X", 1)]),
    )
    group = InvoiceLineGroup(txn_line_id="G-1", item_group=Ref("IG", "Bundle"), desc="Bundle")
    existing = invoice(
        contoso,
        [
            line(labour, 2, "Onsite support"),
            group,
            line(bp, 12, "Product BP (12/01/2026 - 12/31/2026)", service_date=DEC_1),
            line(bp, 1, "Product BP (11/20/2026 - 11/30/2026)", service_date=D(2026, 11, 20)),
            line(None, None, "Thank you"),
        ],
        number=1042,
    )
    return build_plan(cfg, charges, state([contoso, fabrikam], [bp, bs, labour], [existing]))


def test_document_validates_against_the_published_schema(every_kind_of_change):
    document = document_for(every_kind_of_change)
    jsonschema.Draft202012Validator(
        load_schema("plan"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(json.loads(dumps_plan(document)))
    assert [c["action"] for c in document["changes"]] == [
        "update-item-cost",
        "update-invoice",
        "create-invoice",
    ]
    update = document["changes"][1]
    assert [ln["op"] for ln in update["lines"]] == [
        "keep",
        "keep",
        "modify",
        "remove",
        "keep",
        "add",
    ]
    assert update["lines"][1]["group"] is True
    assert update["lines"][2]["fields"] == [{"field": "quantity", "before": "12", "after": "15"}]
    assert update["not_before"] == "2026-12-01T05:00:00-05:00"
    assert document["changes"][2]["mark"] == document["billing"]["mark_created"] == "email"
    assert document["changes"][0]["before"] == {"purchase_cost": "18.7"}
    assert document["summary"]["changes"] == 3
    assert document["notices"][0]["code"] == "unmapped-sku"


def test_json_is_stable_sorted_and_round_trips_through_a_plan_file(tmp_path, every_kind_of_change):
    document = document_for(every_kind_of_change)
    text = dumps_plan(document)
    assert text == dumps_plan(json.loads(text))
    assert list(json.loads(text)) == sorted([*document, "digest"])
    path = tmp_path / "plan.json"
    save_plan(path, document)
    assert path.read_text(encoding="utf-8") == text
    assert load_plan(path) == {**document, "digest": plan_digest(document)}
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_plan_file_edited_after_it_was_written_is_refused(tmp_path, every_kind_of_change):
    path = tmp_path / "plan.json"
    save_plan(path, document_for(every_kind_of_change))
    saved = json.loads(path.read_text(encoding="utf-8"))
    # Laid out differently (another editor, another JSON tool): still the plan.
    path.write_text(json.dumps(saved, indent=4), encoding="utf-8")
    assert load_plan(path) == saved
    # "Tidied" by hand: one request loses a line.
    edited = json.loads(json.dumps(saved))
    update = next(c for c in edited["changes"] if c["action"] == "update-invoice")
    update["qbxml"] = update["qbxml"].replace("<InvoiceLineMod><TxnLineID>", "<X><TxnLineID>", 1)
    path.write_text(json.dumps(edited, indent=2), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_plan(path)
    assert str(caught.value).startswith(
        f"{path} was modified after `reconcile plan` wrote it: plan again"
    )
    # So is a plan whose not_before was moved, or whose digest was dropped.
    edited = json.loads(json.dumps(saved))
    edited["changes"][1]["not_before"] = "2000-01-01T00:00:00+00:00"
    path.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(UserError, match="was modified after"):
        load_plan(path)
    del saved["digest"]
    path.write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(InvalidInput, match="required key 'digest' is missing"):
        load_plan(path)


def test_a_bad_plan_file_is_refused_with_a_clear_error(tmp_path, every_kind_of_change):
    path = tmp_path / "plan.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_plan(path)
    assert "plan.json:1:2: invalid JSON" in str(caught.value)

    document = document_for(every_kind_of_change)
    path.write_text(json.dumps({**document, "format_version": 99}), encoding="utf-8")
    with pytest.raises(UserError, match="newer reconciler"):
        load_plan(path)

    broken = json.loads(dumps_plan(document))
    del broken["changes"][0]["qbxml"]
    broken["digest"] = plan_digest(broken)
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_plan(path)
    assert "changes[0]" in str(caught.value)

    with pytest.raises(UserError, match="cannot read the plan"):
        load_plan(tmp_path / "absent.json")


def test_text_reads_like_terraform(every_kind_of_change):
    text = render_text(document_for(every_kind_of_change))
    assert text.startswith("Reconciler will perform the following actions:\n")
    assert '  # item "Cloud:BP" purchase cost will be updated\n' in text
    assert "      ~ purchase_cost = 18.70 -> 19.80\n" in text
    assert "  # invoice #1042 of Contoso dated 2026-12-01 will be updated in-place\n" in text
    assert "        # (2 unchanged lines hidden)\n" in text
    assert "          ~ quantity = 12 -> 15\n" in text
    assert '          - description  = "Product BP (11/20/2026 - 11/30/2026)"\n' in text
    assert '          + item         = "Cloud:BS"\n' in text
    assert "  # invoice for Fabrikam | Co dated 2026-12-01 will be created\n" in text
    assert '      + mark          = "Email later"\n        # written to QuickBooks from' in text
    assert "        # written to QuickBooks from 2026-12-01 05:00 EST\n" in text
    assert (
        "Plan: 1 invoice to create, 1 invoice to update, 1 item cost to update "
        "(lines: 2 to add, 1 to change, 1 to remove).\n"
    ) in text
    assert "\nWarnings:\n  - SKU X" in text
    assert "\x1b[" not in text


def test_text_colours_only_when_asked(every_kind_of_change):
    coloured = render_text(document_for(every_kind_of_change), color=True)
    assert "\x1b[32m" in coloured and "\x1b[33m" in coloured and "\x1b[31m" in coloured


def test_empty_plan_says_no_changes_as_terraform_does():
    cfg = config([offer("BP")], [org(ORG_A, "Contoso")])
    plan = build_plan(cfg, bundle(), state([], []))
    text = render_text(document_for(plan))
    assert text.startswith("No changes. QuickBooks matches the configuration.\n")
    assert "Notes:\n  - organization Contoso has no charges" in text
    markdown = render_markdown(document_for(plan))
    assert "**No changes. QuickBooks matches the configuration.**" in markdown


def test_markdown_for_a_pull_request_comment(every_kind_of_change):
    markdown = render_markdown(document_for(every_kind_of_change))
    assert markdown.startswith(COMMENT_MARKER + "\n### Reconciler plan\n")
    assert "| `~` | item cost: Cloud:BP | | | | cost 18.70 → 19.80 |" in markdown
    assert "| `~` | invoice #1042 | Contoso | Contoso | 2026-12-01 | +1 ~1 -1 |" in markdown
    # A pipe in a name does not break the table.
    assert "| `+` | new invoice | Fabrikam \\| Co | Fabrikam \\| Co | 2026-12-01 | +1 |" in markdown
    assert "> [!WARNING]\n> **1 warning**\n> - SKU X" in markdown
    assert markdown.count("<details><summary>") == 2
    assert "| | | *2 unchanged lines* | | | |" in markdown
    assert "~~12~~ 15" in markdown
    assert "~~Product BP (11/20/2026 - 11/30/2026)~~" in markdown
    assert "”, marked Email later; written to QuickBooks from 2026-12-01 05:00 EST." in markdown


def test_an_unmarked_new_invoice_shows_no_mark(every_kind_of_change):
    document = document_for(every_kind_of_change)
    document["billing"]["mark_created"] = "none"
    next(c for c in document["changes"] if c["action"] == "create-invoice")["mark"] = "none"
    assert "+ mark" not in render_text(document)
    assert "marked" not in render_markdown(document)


def test_markdown_and_text_show_errors(every_kind_of_change):
    plan = every_kind_of_change
    error_plan = replace(
        plan,
        notices=(
            *plan.notices,
            replace(
                plan.notices[0], level=type(plan.notices[0].level)("error"), message="boom <b>"
            ),
        ),
    )
    document = document_for(error_plan)
    assert "> [!CAUTION]\n> **1 error**\n> - boom &lt;b&gt;" in render_markdown(document)
    assert "\nErrors:\n  - boom <b> [unmapped-sku]\n" in render_text(document)


def test_forced_plans_say_so(every_kind_of_change):
    plan = every_kind_of_change
    over = replace(plan, safety=replace(plan.safety, existing_invoices=10, changed_invoices=10))
    text = render_text(document_for(over, forced=True))
    assert "Safety: lines change on 10 of 10 existing invoices (accepted with --force)." in text
    assert "(accepted with `--force`)" in render_markdown(document_for(over, forced=True))


def test_files_that_are_not_plans_are_recognised(tmp_path, every_kind_of_change):
    saved = dumps_plan(document_for(every_kind_of_change))
    assert file_kind(tmp_path / "plan.json", saved, json.loads(saved)) is None
    charges = {"date": "2026-12-15", "customers": []}
    assert file_kind(tmp_path / "c.json", json.dumps(charges), charges) is FileKind.CHARGES
    qwc = "<?xml version='1.0'?>\n<QBWCXML><AppName>reconciler</AppName></QBWCXML>"
    assert file_kind(tmp_path / "x.qwc", qwc, None) is FileKind.QWC
    assert file_kind(tmp_path / "r.xml", "\ufeff<?xml?><QBXML/>", None) is FileKind.QBXML
    billing = "mode: advance\ninvoice_day: 1\n"
    assert file_kind(tmp_path / "billing.yaml", billing, None) is FileKind.CONFIGURATION
    assert file_kind(tmp_path / "billing.txt", billing, None) is None
    assert file_kind(tmp_path / "p.txt", "No changes. QuickBooks matches the configuration.", None)
    assert file_kind(tmp_path / "n.json", "[1, 2", None) is None


def test_load_plan_names_a_charges_file_and_what_to_do(tmp_path):
    path = tmp_path / "charges.json"
    path.write_text('{"date": "2026-12-15", "customers": []}', encoding="utf-8")
    with pytest.raises(NotAPlan) as caught:
        load_plan(path, command="show")
    assert caught.value.message == f"{path} is a charges file, not a plan"
    assert caught.value.hint == (
        f"Run `reconcile plan --charges {path} --out plan.json` first, then "
        "`reconcile show plan.json`."
    )

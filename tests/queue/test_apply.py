"""What `apply` refuses: nothing in a plan is taken on trust (audit findings 3 and 7)."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from support.sync_world import REPO, world

from reconciler.base.errors import UserError
from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.commands.plan import plan_against
from reconciler.config.load import load_config
from reconciler.engine.fingerprint import fingerprint_config
from reconciler.model.config import Safety, SendMark
from reconciler.plan import build_plan
from reconciler.plan.files import dumps_plan
from reconciler.plan.guard import GuardRules
from reconciler.plan.profile import Profile, profile_from_config
from reconciler.plan.requests import render_plan_document
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.queue.apply import PlanRefused, queue_plan
from reconciler.sherweb.charges import load_charges

CHARGES = str(data_dir() / "charges-example.json")


def _nothing_queued(w) -> bool:
    return (
        w.store.plans.for_company(w.company.id) == [] and w.store.queue.requests(w.company.id) == []
    )


def _with_kept_line(document):
    return next(
        c
        for c in document["changes"]
        if c["action"] == "update-invoice" and "<InvoiceLineMod><TxnLineID>" in c["qbxml"]
    )


def test_an_edited_plan_that_drops_a_kept_line_and_sets_a_price_is_refused(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()
        update = _with_kept_line(document)
        txn_id = update["invoice"]["txn_id"]
        before = w.invoices()[txn_id]["lines"]
        # "Tidy" the plan by hand: drop the kept line(s) and put a price on the new ones.
        edited = re.sub(
            r"<InvoiceLineMod><TxnLineID>[^<]+</TxnLineID></InvoiceLineMod>\n?", "", update["qbxml"]
        )
        update["qbxml"] = edited.replace("</Quantity>", "</Quantity>\n<Rate>0.01</Rate>")
        with pytest.raises(PlanRefused, match=f"change {update['id']}: it writes Rate"):
            w.apply(document)
        update["qbxml"] = edited
        with pytest.raises(PlanRefused, match="so QuickBooks would delete it"):
            w.apply(document)
        assert _nothing_queued(w)
        w.sync()
        assert w.invoices()[txn_id]["lines"] == before


def test_a_delete_request_with_an_early_not_before_is_refused(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()
        change = next(c for c in document["changes"] if c["action"] == "update-invoice")
        change["qbxml"] = (
            '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>\n'
            '<QBXMLMsgsRq onError="stopOnError">\n'
            f'<TxnDelRq requestID="{change["request_id"]}"><TxnDelType>Invoice</TxnDelType>'
            f"<TxnID>{change['invoice']['txn_id']}</TxnID></TxnDelRq>\n"
            "</QBXMLMsgsRq>\n</QBXML>\n"
        )
        with pytest.raises(PlanRefused, match="a TxnDelRq request"):
            w.apply(document)
        assert _nothing_queued(w)


def test_not_before_comes_from_billing_yaml_not_from_the_plan(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()
        change = next(c for c in document["changes"] if c["action"] == "create-invoice")
        change["not_before"] = "2000-01-01T00:00:00+00:00"
        with pytest.raises(PlanRefused, match=r"billing\.yaml says invoices of"):
            w.apply(document)
        assert _nothing_queued(w)


def test_a_plan_from_another_configuration_is_refused(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()  # made from the example configuration
        # `reconcile apply plan.json --config other/`: another configuration of the same company
        w.config = dataclasses.replace(
            w.config,
            organizations=w.config.organizations[:1],
            billing=dataclasses.replace(w.config.billing, invoice_day=15),
        )
        with pytest.raises(UserError) as caught:
            w.apply(document)
        assert str(caught.value).startswith(
            "test plan was made from another configuration (fingerprint "
        )
        assert "plan again with this configuration" in str(caught.value)
        assert _nothing_queued(w)


def _strict(config):
    """The configuration with a safety threshold the example plan is over."""
    safety = Safety(max_change_ratio=Decimal("0.1"), min_existing=1)
    return dataclasses.replace(config, billing=dataclasses.replace(config.billing, safety=safety))


def _unchecked_plan(w):
    """The plan of the snapshot, over the threshold or not (as a hand-made file could be)."""
    state = StoredSnapshot.latest(w.store, w.company, w.clock).state()
    return render_plan_document(build_plan(w.config, load_charges(w.charges_path), state))


def test_a_plan_over_the_threshold_needs_force_when_made_and_when_applied(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        w.config = _strict(w.config)
        unforced = _unchecked_plan(w)
        assert unforced["safety"]["exceeded"] and not unforced["safety"]["forced"]
        with pytest.raises(UserError, match="not accepted with `reconcile plan --force`"):
            w.apply(unforced)
        with pytest.raises(UserError, match="not accepted with `reconcile plan --force`"):
            w.apply(unforced, force=True)
        # The file says it was forced: whoever applies it must say so too.
        forged = {**unforced, "safety": {**unforced["safety"], "forced": True}}
        with pytest.raises(UserError, match="apply it with --force too"):
            w.apply(forged)
        assert _nothing_queued(w)
        source = StoredSnapshot.latest(w.store, w.company, w.clock)
        forced = plan_against(source, w.config, load_charges(w.charges_path), force=True)
        assert forced["safety"]["forced"]
        assert w.apply(forced, force=True).requests == len(forced["changes"])


def test_the_threshold_counts_the_requests_not_the_plans_verdict(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        w.config = _strict(w.config)
        document = _unchecked_plan(w)
        # The file claims nothing changes on existing invoices.
        document["safety"] = {
            **document["safety"],
            "changed_invoices": 0,
            "ratio": "0",
            "exceeded": False,
        }
        with pytest.raises(UserError, match="more than the safety threshold"):
            w.apply(document)


# -- from the command line ---------------------------------------------------------


def _run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_apply_refuses_a_plan_file_edited_after_it_was_written(tmp_path):
    saved = tmp_path / "plan.json"
    common = ["--config", REPO / "config", "--state-dir", tmp_path]
    with world(tmp_path) as w:
        w.sync()
        assert _run("plan", *common, "--charges", CHARGES, "--out", saved).exit_code == 0
        document = json.loads(saved.read_text(encoding="utf-8"))
        _with_kept_line(document)["qbxml"] += "\n"
        saved.write_text(json.dumps(document, indent=2), encoding="utf-8")
        refused = _run("apply", saved, *common)
        assert refused.exit_code == 1
        assert f"{saved} was modified after `reconcile plan` wrote it: plan again" in refused.stderr
        assert "Traceback" not in refused.output
        assert _nothing_queued(w)


def test_apply_with_another_config_directory_is_refused(tmp_path):
    saved = tmp_path / "plan.json"
    other = tmp_path / "other"
    shutil.copytree(REPO / "config", other)
    billing = other / "billing.yaml"
    billing.write_text(
        billing.read_text(encoding="utf-8").replace("invoice_day: 1 ", "invoice_day: 2 "),
        encoding="utf-8",
    )
    with world(tmp_path) as w:
        w.sync()
        common = ["--state-dir", tmp_path, "--charges", CHARGES, "--out", saved]
        assert _run("plan", "--config", REPO / "config", *common).exit_code == 0
        refused = _run("apply", saved, "--config", other, "--state-dir", tmp_path)
        assert refused.exit_code == 1
        assert f"plan {saved} was made from another configuration" in refused.stderr
        assert _nothing_queued(w)


def test_a_document_laid_out_by_dumps_plan_is_the_one_that_was_reviewed(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = json.loads(dumps_plan(w.plan()))
        assert w.apply(document).requests == len(document["changes"])


# -- what the server keeps of the configuration ---------------------------------------


def test_the_profile_keeps_what_apply_checks_a_plan_against():
    config = load_config(REPO / "config")
    profile = profile_from_config(config)
    assert Profile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile
    assert profile.config_fingerprint == fingerprint_config(config)
    synced = dict(profile.synced)
    # Fabrikam Head Office syncs Azure off; Power BI is off but for Tailspin.
    assert "Cloud Services:Azure consumption" not in synced["Fabrikam Inc.:Head Office"]
    assert "Cloud Services:Power BI Pro" in synced["Tailspin Toys"]
    assert "Cloud Services:Power BI Pro" not in synced["Contoso Dental Group"]
    kept, loaded = profile.guard_rules(), GuardRules.from_config(config)
    assert (kept.items, kept.synced) == (loaded.items, loaded.synced)
    fields = (
        "mode",
        "invoice_day",
        "invoice_time",
        "timezone",
        "safety",
        "unsent_invoices",
        "mark_created",
    )
    assert [getattr(kept.billing, f) for f in fields] == [
        getattr(loaded.billing, f) for f in fields
    ]


def test_the_profile_keeps_how_created_invoices_are_marked():
    config = load_config(REPO / "config")
    printed = dataclasses.replace(
        config, billing=dataclasses.replace(config.billing, mark_created=SendMark.PRINT)
    )
    kept = Profile.from_dict(json.loads(json.dumps(profile_from_config(printed).to_dict())))
    assert kept.guard_rules().billing.mark_created is SendMark.PRINT
    # A profile recorded before the option holds the default.
    older = {k: v for k, v in kept.to_dict().items() if k != "mark_created"}
    assert Profile.from_dict(older).mark_created is SendMark.EMAIL


def test_a_plan_without_a_profile_is_checked_against_the_one_the_server_keeps(tmp_path):
    with world(tmp_path) as w:
        assert w.sync().ok
        document = w.plan()
        company = w.store.companies.get(w.company.id)
        # A profile recorded before the configuration's fingerprint was kept.
        older = {k: v for k, v in company.profile.items() if k != "config_fingerprint"}
        w.store.companies.set_profile(company.id, older)
        with pytest.raises(PlanRefused, match="none is known here yet"):
            _queue_without_profile(w, document)
        assert _nothing_queued(w)
        w.store.companies.set_profile(company.id, profile_from_config(w.config).to_dict())
        assert _queue_without_profile(w, document).requests == len(document["changes"])


def _queue_without_profile(w, document):
    """What the API does with a plan submitted without a profile."""
    return queue_plan(
        w.store,
        w.store.companies.get(w.company.id),
        document,
        profile=None,
        now=w.clock.now(),
        actor="t",
        commit=None,
        source="api",
    )

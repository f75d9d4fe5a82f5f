"""`reconcile plan` from the server's snapshot, `reconcile apply`, `reconcile status`
and `reconcile demo`, from the command line, with the server and the Web Connector
emulator running."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from support.sync_world import REPO, world

from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.sandbox.by_hand import human_edit
from reconciler.store.records import PlanStatus

CHARGES = str(data_dir() / "charges-example.json")
CONFIG = REPO / "config"


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _common(tmp_path) -> list[str]:
    return ["--config", str(REPO / "config"), "--state-dir", str(tmp_path)]


def test_plan_from_the_snapshot_apply_then_nothing_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    saved = tmp_path / "plan.json"
    with world(tmp_path) as w:
        w.sync()
        planned = _run("plan", *_common(tmp_path), "--charges", CHARGES, "--out", str(saved))
        assert planned.exit_code == 0, planned.output
        assert "QuickBooks state: snapshot 1 taken" in planned.stderr
        assert "Reconciler will perform the following actions" in planned.stdout

        changes = len(json.loads(saved.read_text(encoding="utf-8"))["changes"])
        applied = _run("apply", str(saved), *_common(tmp_path))
        assert applied.exit_code == 0, applied.output
        assert "Queued plan" in applied.stdout and f"{changes} requests" in applied.stdout
        assert _run("apply", str(saved), *_common(tmp_path)).stdout.endswith(
            "is already queued for Northwind IT Services LLC; nothing to do.\n"
        )
        [entry] = w.store.audit.newest(w.company.id)
        assert (entry.actor, entry.commit) == ("github:octocat", "0123456789abcdef")
        assert entry.detail["plan_id"] == json.loads(saved.read_text(encoding="utf-8"))["plan_id"]

        assert w.sync().ok
        again = _run("plan", *_common(tmp_path), "--charges", CHARGES, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
        assert "No changes" in again.stdout
        status = _run("status", *_common(tmp_path))
        assert status.exit_code == 0, status.output
        assert f"applied {changes} changes" in status.stdout and "Errors: none" in status.stdout


def test_apply_refuses_a_stale_plan_and_changes_nothing(tmp_path):
    saved = tmp_path / "plan.json"
    with world(tmp_path) as w:
        w.sync()
        assert (
            _run("plan", *_common(tmp_path), "--charges", CHARGES, "--out", str(saved)).exit_code
            == 0
        )
        december = [
            t for t, ret in w.qb.invoices.items() if ret.findtext("TxnDate") == "2026-12-01"
        ]
        human_edit(w.qb, december[0])
        w.clock.advance(days=1)
        assert w.sync().ok
        refused = _run("apply", str(saved), *_common(tmp_path))
        assert refused.exit_code == 1
        assert "the plan is stale" in refused.stderr and "reconcile plan" in refused.stderr
        assert "Traceback" not in refused.output
        assert (
            w.store.plans.for_company(w.company.id) == []
            and w.store.billing_locks.get(w.company.id) is None
        )


def test_apply_without_a_plan_file_plans_and_asks(tmp_path):
    with world(tmp_path) as w:
        w.sync()
        refused = _run("apply", *_common(tmp_path), "--charges", CHARGES)
        assert refused.exit_code == 1 and "--yes" in refused.stderr
        assert w.store.plans.for_company(w.company.id) == []
        applied = _run("apply", *_common(tmp_path), "--charges", CHARGES, "--yes")
        assert applied.exit_code == 0, applied.output
        assert "Reconciler will perform the following actions" in applied.stdout
        [plan] = w.store.plans.for_company(w.company.id)
        assert plan.status is PlanStatus.QUEUED


def test_plan_without_a_snapshot_says_what_to_do(tmp_path):
    result = _run("plan", *_common(tmp_path / "empty"), "--charges", CHARGES)
    assert result.exit_code == 1
    assert "no QuickBooks state given" in result.stderr and "Update Selected" in result.stderr


def test_demo_runs_the_whole_loop_in_seconds(tmp_path):
    kept = tmp_path / "demo"
    result = _run("demo", "--state-dir", str(kept))
    assert result.exit_code == 0, result.output
    for step in ("1. The Web Connector syncs", "3. reconcile apply", "5. reconcile plan again"):
        assert step in result.stdout
    applied = re.search(r"Web Connector: Applied (\d+) changes", result.stdout)
    assert applied and int(applied.group(1)) > 0
    assert result.stdout.count("No changes. QuickBooks matches the configuration.") == 1
    # A correction of the charges updates an invoice the demo created (marked Email later).
    correction = result.stdout.split("==> 6. Sherweb corrects a charge: ")[1]
    assert "marked Email later (not sent yet)" in correction
    assert "Plan: 0 invoices to create, 1 invoice to update, 0 item costs" in correction
    assert "Web Connector: Applied 1 change; QuickBooks read again" in correction
    status = _run("status", "--state-dir", str(kept), "--config", str(tmp_path))
    assert status.exit_code == 0 and "applied 1 change\n" in status.stdout
    assert f"Kept the state in {kept}: `reconcile status --state-dir {kept}`" in result.stdout


def test_the_demo_says_it_removes_its_temporary_directory():
    result = _run("demo")
    assert result.exit_code == 0, result.output
    said = re.search(r"^State directory: (.+) \(temporary\)$", result.stdout, re.MULTILINE)
    removed = re.search(
        r"^Removed the temporary state directory (.+) \(`reconcile demo --state-dir DIR` "
        r"keeps it\)\.$",
        result.stdout,
        re.MULTILINE,
    )
    assert said and removed and said.group(1) == removed.group(1), result.stdout
    assert not Path(removed.group(1)).exists()


def test_after_the_demo_status_and_plan_tell_its_simulated_time_alike(tmp_path):
    kept = tmp_path / "demo"
    demo = _run("demo", "--state-dir", str(kept))
    assert "Clock (simulated): 2026-12-15 12:00 EST, the charges' date" in demo.stdout
    # Ages run on from the demo's clock, whatever the time is now.
    on_the_demo_clock = (
        r"(2026-12-15 \d\d:\d\d EST) \(demo clock, (less than a minute|\d+ minutes?) ago\)"
    )
    status = _run("status", "--state-dir", str(kept), "--config", str(tmp_path))
    assert status.exit_code == 0, status.output
    assert "Clock: the demo's simulated clock" in status.stdout
    times = [line for line in status.stdout.splitlines() if re.search(r"\d\d:\d\d", line)]
    assert len(times) >= 5 and all(re.search(on_the_demo_clock, line) for line in times), times
    assert " (in " not in status.stdout
    shown = re.search(rf"Snapshot: version 5, taken {on_the_demo_clock}", status.stdout)
    plan = _run("plan", "--state-dir", str(kept), "--config", str(CONFIG), "--charges", CHARGES)
    said = re.search(rf"QuickBooks state: snapshot 5 taken {on_the_demo_clock}", plan.stderr)
    assert shown and said, plan.stderr
    assert said.group(1) == shown.group(1)


def test_a_customer_quickbooks_lacks_is_an_error_not_a_mapping_to_apply(tmp_path):
    """A typo in organizations.yaml: the snapshot read every customer, so the plan names the
    organization's line and the nearest customers, and exits 1 (not 2, "changes to apply")."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    organizations = config / "organizations.yaml"
    text = organizations.read_text(encoding="utf-8")
    organizations.write_text(
        text.replace("customer: Tailspin Toys", "customer: Tailspin Toyz"), encoding="utf-8"
    )
    lines = text.splitlines()
    line = next(n for n, t in enumerate(lines, 1) if t.endswith("customer: Tailspin Toys")) - 2
    assert lines[line - 1].startswith("  - id:")
    with world(tmp_path) as w:
        assert w.sync().ok
        planned = _run(
            "plan", "--config", str(config), "--state-dir", str(tmp_path), "--charges", CHARGES,
            "--detailed-exitcode",
        )  # fmt: skip
        assert planned.exit_code == 1, planned.output
        assert (
            f"organization Tailspin Toys (organizations.yaml:{line}) is mapped to customer "
            '"Tailspin Toyz", which is not in QuickBooks (the last sync read every customer); '
            'nearest QuickBooks customers: "Tailspin Toys"'
        ) in planned.stdout
        assert "[customer-missing]" in planned.stdout
        assert "has not read the invoices" not in planned.output
        assert "Error: the plan lists 1 error" in planned.stderr


def test_a_customer_mapped_since_the_last_sync_is_read_once_the_configuration_is_applied(
    tmp_path,
):
    """A pull request maps an update organization to another customer: the plan waits
    for its invoices and says that applying the configuration is what gets them read."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    organizations = config / "organizations.yaml"
    text = organizations.read_text(encoding="utf-8")
    organizations.write_text(
        text.replace("customer: Tailspin Toys", "customer: Wide World Importers"),
        encoding="utf-8",
    )
    common = ["--config", str(config), "--state-dir", str(tmp_path)]
    with world(tmp_path) as w:
        assert w.sync().ok
        w.apply(w.plan())
        assert w.sync().ok
        planned = _run("plan", *common, "--charges", CHARGES, "--detailed-exitcode")
        assert planned.exit_code == 2, planned.output  # something to apply: the mapping
        assert "No changes" in planned.stdout
        assert "invoices of Wide World Importers were not read" in planned.stdout
        assert "apply this configuration, even without changes" in planned.stdout
        applied = _run("apply", *common, "--charges", CHARGES, "--yes")
        assert applied.exit_code == 0, applied.output
        assert "has no changes; nothing queued" in applied.stdout
        result = w.sync()  # the new mapping is reason enough to read QuickBooks
        assert result.ok and "QuickBooks read" in result.status, result.status
        again = _run("plan", *common, "--charges", CHARGES, "--detailed-exitcode")
        assert "not read" not in again.output and "apply this configuration" not in again.output
        assert "no open invoice for Wide World Importers" in again.stdout

"""`reconcile token`, and `plan`, `apply` and `status` with --server URL, end to end:
the Web Connector emulator syncs, CI plans and applies through the API."""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import sys

import httpx
from click.testing import CliRunner
from support.api_world import TLS, api_world
from support.serve_process import serving
from support.sync_world import REPO

from reconciler.api.tokens import hash_token, key_id_of
from reconciler.base.resources import data_dir
from reconciler.cli import cli
from reconciler.sandbox.by_hand import human_edit
from reconciler.store.records import PlanStatus

CHARGES = str(data_dir() / "charges-example.json")
CONFIG = str(REPO / "config")
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_tokens_are_created_once_listed_and_revoked(tmp_path):
    state = tmp_path / "state"
    with api_world(state) as w:
        created = _run(
            "token", "create", "github-apply", "--scope", "apply", "--config", CONFIG,
            "--state-dir", state,
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        token = created.stdout.strip()
        key_id = key_id_of(token)
        assert key_id and "shown once" in created.stderr and "RECONCILE_TOKEN" in created.stderr
        # WAL: recent writes are in the -wal file until a checkpoint.
        raw = b"".join(path.read_bytes() for path in state.glob("reconciler.sqlite3*"))
        assert token.encode() not in raw and hash_token(token).encode() in raw
        # The token works at once, with its scope.
        assert w.get("/api/v1/status", token).status_code == 200

        listed = _run("token", "list", "--config", CONFIG, "--state-dir", state)
        assert listed.stdout.startswith("Tokens of Northwind IT Services LLC:\n")
        row = next(line for line in listed.stdout.splitlines() if "github-apply" in line)
        assert "apply" in row
        assert f"rct_{key_id}_…" in row and "never" not in row  # used once, above
        # Created and last used: in the company's time zone, with the zone.
        assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T", row)) == 2, row
        assert token not in listed.stdout

        again = _run("token", "create", "github-apply", "--config", CONFIG, "--state-dir", state)
        assert again.exit_code == 1 and "exists already" in again.stderr
        bad = _run("token", "create", "no spaces", "--config", CONFIG, "--state-dir", state)
        assert bad.exit_code == 1 and "is not a token name" in bad.stderr

        revoked = _run("token", "revoke", "github-apply", "--config", CONFIG, "--state-dir", state)
        assert revoked.exit_code == 0 and f"rct_{key_id}_…" in revoked.stdout
        assert w.get("/api/v1/status", token).status_code == 401
        assert "github-apply" not in _run("token", "list", "--state-dir", state).stdout
        assert "github-apply" in _run("token", "list", "--all", "--state-dir", state).stdout
        twice = _run("token", "revoke", "github-apply", "--state-dir", state)
        assert twice.exit_code == 1 and "no live token" in twice.stderr
        actions = [entry.action for entry in w.world.store.audit.newest(w.world.company.id)]
        assert actions == ["token-revoke", "token-create"]
        # A revoked name may be used again.
        assert (
            _run(
                "token", "create", "github-apply", "--config", CONFIG, "--state-dir", state
            ).exit_code
            == 0
        )


def test_token_list_and_revoke_keep_to_the_company_of_config(tmp_path):
    state = tmp_path / "state"
    other = tmp_path / "other"
    shutil.copytree(CONFIG, other)
    billing = other / "billing.yaml"
    text = billing.read_text(encoding="utf-8")
    billing.write_text(text.replace("Northwind IT Services LLC", "Litware Inc."), "utf-8")
    for config in (CONFIG, other):
        made = _run("qwc", "--url", "http://localhost:8080/qbwc", "--out", tmp_path / "x.qwc",
                    "--config", config, "--state-dir", state)  # fmt: skip
        assert made.exit_code == 0, made.output
    assert _run("token", "create", "ours", "--config", CONFIG, "--state-dir", state).exit_code == 0
    assert _run("token", "create", "theirs", "--config", other, "--state-dir", state).exit_code == 0

    ours = _run("token", "list", "--config", CONFIG, "--state-dir", state)
    assert ours.exit_code == 0, ours.output
    assert "ours" in ours.stdout and "theirs" not in ours.stdout
    theirs = _run("token", "list", "--config", other, "--state-dir", state)
    assert theirs.stdout.startswith("Tokens of Litware Inc.:") and "ours" not in theirs.stdout
    # Without --config a store of two companies cannot say whose tokens to list.
    unsaid = _run("token", "list", "--config", tmp_path / "nowhere", "--state-dir", state)
    assert unsaid.exit_code == 1 and "say which with --config" in unsaid.stderr

    refused = _run("token", "revoke", "theirs", "--config", CONFIG, "--state-dir", state)
    assert refused.exit_code == 1
    assert "'theirs' belongs to Litware Inc., not to Northwind IT Services LLC" in refused.stderr
    assert "theirs" in _run("token", "list", "--config", other, "--state-dir", state).stdout
    revoked = _run("token", "revoke", "theirs", "--config", other, "--state-dir", state)
    assert revoked.exit_code == 0 and "of Litware Inc." in revoked.stdout


def test_plan_and_apply_through_the_api_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", COMMIT)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    saved = tmp_path / "plan.json"
    with api_world(tmp_path / "server") as w:
        world = w.world
        assert world.sync().ok

        monkeypatch.setenv("RECONCILE_TOKEN", w.plan_token)
        common = ("--config", CONFIG, "--server", w.base)
        planned = _run("plan", *common, "--charges", CHARGES, "--out", saved)
        assert planned.exit_code == 0, planned.output
        assert re.search(
            r"QuickBooks state: snapshot 1 taken \d{4}-\d\d-\d\d \d\d:\d\d E[SD]T "
            rf"\(less than a minute ago\), from {re.escape(w.base)}\n",
            planned.stderr,
        ), planned.stderr
        assert "Reconciler will perform the following actions" in planned.stdout
        changes = len(json.loads(saved.read_text(encoding="utf-8"))["changes"])
        assert changes > 0

        # The pull request's token reads; it cannot apply.
        refused = _run("apply", saved, *common)
        assert refused.exit_code == 1 and "scope apply" in refused.stderr
        assert world.store.plans.for_company(world.company.id) == []

        monkeypatch.setenv("RECONCILE_TOKEN", w.apply_token)
        applied = _run("apply", saved, *common)
        assert applied.exit_code == 0, applied.output
        assert f"Queued plan {saved}" in applied.stdout and f"{changes} requests" in applied.stdout
        [entry] = world.store.audit.newest(world.company.id)
        assert (entry.actor, entry.commit) == ("token:ci-apply", COMMIT)
        assert entry.detail["requested_by"] == "github:octocat"
        assert "already queued" in _run("apply", saved, *common).stdout

        assert world.sync().ok
        again = _run("plan", *common, "--charges", CHARGES, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
        assert "No changes. QuickBooks matches the configuration." in again.stdout

        status = _run("status", "--server", w.base)
        assert status.exit_code == 0, status.output
        assert f"applied {changes} changes" in status.stdout and "Errors: none" in status.stdout
        assert "Billing mode: advance, locked since" in status.stdout
        assert f"Queue: 0 queued, {changes} done" in status.stdout


def test_development_builds_plan_against_each_other_unless_they_read_differently(
    tmp_path, monkeypatch
):
    # Versions from Git (hatch-vcs): a commit after a tag, and a tree without Git metadata.
    monkeypatch.setattr("reconciler.api.views.__version__", "0.2.1.dev3+g1a2b3c4d")
    monkeypatch.setattr("reconciler.api.server_snapshot.__version__", "0.1.0.dev0")
    with api_world(tmp_path / "server") as w:
        assert w.world.sync().ok
        monkeypatch.setenv("RECONCILE_TOKEN", w.plan_token)
        plan = ("plan", "--config", CONFIG, "--charges", CHARGES, "--server", w.base)
        # The versions differ, the snapshot reads the same: the plan is the server's to accept.
        planned = _run(*plan)
        assert planned.exit_code == 0, planned.output
        assert "Reconciler will perform the following actions" in planned.stdout

        monkeypatch.setattr(
            "reconciler.api.server_snapshot.fingerprint_state", lambda state: "0" * 64
        )
        refused = _run(*plan)
        assert refused.exit_code == 1
        assert "this reconciler (0.1.0.dev0) reads snapshot 1 differently from the server " in (
            refused.stderr
        )
        assert "0.2.1.dev3+g1a2b3c4d is a development build (commit 1a2b3c4d)" in refused.stderr
        assert "reconciler==" not in refused.stderr  # no release has that version

        monkeypatch.setattr("reconciler.api.views.__version__", "0.2.0")
        released = _run(*plan)
        assert released.exit_code == 1
        assert 'Plan with the server\'s version: pip install "reconciler==0.2.0".' in (
            released.stderr
        )


def test_a_stale_plan_is_refused_and_replans_when_asked(tmp_path, monkeypatch):
    saved = tmp_path / "plan.json"
    with api_world(tmp_path / "server") as w:
        world = w.world
        world.sync()
        monkeypatch.setenv("RECONCILE_TOKEN", w.apply_token)
        common = ("--config", CONFIG, "--server", w.base)
        assert _run("plan", *common, "--charges", CHARGES, "--out", saved).exit_code == 0
        december = [
            t for t, ret in world.qb.invoices.items() if ret.findtext("TxnDate") == "2026-12-01"
        ]
        human_edit(world.qb, december[0])
        world.clock.advance(days=1)
        assert world.sync().ok

        refused = _run("apply", saved, *common)
        assert refused.exit_code == 1
        assert "the plan is stale" in refused.stderr and "reconcile plan" in refused.stderr
        assert "Traceback" not in refused.output
        assert world.store.plans.for_company(world.company.id) == []

        replanned = _run(
            "apply", saved, *common, "--replan-if-stale", "--charges", CHARGES, "--yes"
        )
        assert replanned.exit_code == 0, replanned.output
        assert "the plan is stale" in replanned.stderr and "planning again" in replanned.stderr
        assert "Reconciler will perform the following actions" in replanned.stdout
        assert "Queued the plan above" in replanned.stdout
        [plan] = world.store.plans.for_company(world.company.id)
        assert plan.key != json.loads(saved.read_text(encoding="utf-8"))["plan_id"]
        assert plan.status is PlanStatus.QUEUED
        assert world.sync().ok
        assert world.plan()["changes"] == []


def test_apply_without_a_plan_file_plans_against_the_server(tmp_path, monkeypatch):
    with api_world(tmp_path / "server") as w:
        w.world.sync()
        monkeypatch.setenv("RECONCILE_TOKEN", w.apply_token)
        common = ("--config", CONFIG, "--server", w.base, "--charges", CHARGES)
        asked = _run("apply", *common)
        assert asked.exit_code == 1 and "--yes" in asked.stderr
        applied = _run("apply", *common, "--yes")
        assert applied.exit_code == 0, applied.output
        assert "snapshot 1 taken" in applied.stderr and "Queued the plan above" in applied.stdout
        [plan] = w.world.store.plans.for_company(w.world.company.id)
        assert plan.status is PlanStatus.QUEUED


def test_server_errors_say_what_to_do(tmp_path, monkeypatch):
    with api_world(tmp_path / "server") as w:
        plan = ("plan", "--config", CONFIG, "--charges", CHARGES, "--server")
        monkeypatch.delenv("RECONCILE_TOKEN", raising=False)
        missing = _run(*plan, w.base)
        assert missing.exit_code == 1 and "RECONCILE_TOKEN is not set" in missing.stderr

        monkeypatch.setenv("RECONCILE_TOKEN", "rct_000000000000_" + "x" * 43)
        wrong = _run(*plan, w.base)
        assert wrong.exit_code == 1 and "Check RECONCILE_TOKEN" in wrong.stderr

        monkeypatch.setenv("RECONCILE_TOKEN", w.plan_token)
        not_yet = _run(*plan, w.base)
        assert not_yet.exit_code == 1 and "has not read QuickBooks" in not_yet.stderr
        assert "Update Selected" in not_yet.stderr
        soap = _run(*plan, w.base + "/qbwc")
        assert soap.exit_code == 1 and "not the reconciler API" in soap.stderr
        assert "base URL" in soap.stderr
        both = _run(*plan, w.base, "--qb-state", tmp_path)
        assert both.exit_code == 1 and "not both" in both.stderr

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    refused = _run(*plan, closed)
    assert refused.exit_code == 1
    assert f"cannot reach the reconciler server at {closed}" in refused.stderr
    assert "Traceback" not in refused.output
    nonsense = _run(*plan, "qb.example.com")
    assert nonsense.exit_code == 1 and "is not an http(s) URL" in nonsense.stderr


def test_the_api_over_https_with_a_private_certificate(tmp_path, monkeypatch):
    with api_world(tmp_path / "server", tls=True) as w:
        assert w.base.startswith("https://127.0.0.1:")
        monkeypatch.setenv("RECONCILE_TOKEN", w.plan_token)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        untrusted = _run("status", "--server", w.base)
        assert untrusted.exit_code == 1
        assert f"cannot reach the reconciler server at {w.base}" in untrusted.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr

        # A private CA (or a self-signed certificate) is trusted through SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "localhost.pem"))
        trusted = _run("status", "--server", w.base)
        assert trusted.exit_code == 0, trusted.output
        assert "Company: Northwind IT Services LLC" in trusted.stdout
        assert "Snapshot: none yet" in trusted.stdout

        context = ssl.create_default_context(cafile=str(TLS / "localhost.pem"))
        with httpx.Client(verify=context, timeout=30) as client:
            signed_in = client.get(
                w.base + "/status",
                params={"token": w.plan_token},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        assert signed_in.status_code == 303 and "; Secure" in signed_in.headers["set-cookie"]


def test_an_outdated_snapshot_is_not_planned_again_in_vain(tmp_path, monkeypatch):
    saved = tmp_path / "plan.json"
    with api_world(tmp_path / "server") as w:
        world = w.world
        world.sync()
        monkeypatch.setenv("RECONCILE_TOKEN", w.apply_token)
        common = ("--config", CONFIG, "--server", w.base)
        assert _run("plan", *common, "--charges", CHARGES, "--out", saved).exit_code == 0
        world.store.snapshots.mark_outdated(world.company.id)
        planned = _run("plan", *common, "--charges", CHARGES)
        assert "Warning: requests went out after this snapshot" in planned.stderr
        refused = _run("apply", saved, *common, "--replan-if-stale", "--charges", CHARGES, "--yes")
        assert refused.exit_code == 1
        assert "no run has read QuickBooks since" in refused.stderr
        assert "planning again" not in refused.stderr
        assert world.store.plans.for_company(world.company.id) == []


def test_reconcile_serve_answers_the_api_and_the_status_page(tmp_path, example_config_dir):
    state = tmp_path / "state"
    qwc = _run(
        "qwc", "--url", "https://qb.example.com:8443/qbwc", "--out", tmp_path / "x.qwc",
        "--config", example_config_dir, "--state-dir", state,
    )  # fmt: skip
    assert qwc.exit_code == 0, qwc.output
    created = _run("token", "create", "ci", "--config", example_config_dir, "--state-dir", state)
    token = created.stdout.strip()
    command = [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--state-dir", state]
    with serving([str(part) for part in command]) as base:
        with httpx.Client(timeout=30) as http:
            status = http.get(base + "/api/v1/status", headers={"Authorization": f"Bearer {token}"})
            assert status.status_code == 200
            assert status.json()["company"]["name"] == "Northwind IT Services LLC"
            assert http.get(base + "/api/v1/status").status_code == 401
            page = http.get(base + "/status")
        assert page.status_code == 200 and "Never signed in" in page.text

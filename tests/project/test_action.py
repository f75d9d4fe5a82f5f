"""The composite GitHub Action (action.yml): what it declares, its scripts pass shellcheck,
and its plan and apply scripts do what a workflow's step would, run here with bash
against a real server (the example world, on 127.0.0.1) and the real `reconcile`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.api_world import api_world
from support.lint import shellcheck
from support.paths import REPO

from reconciler.base.resources import data_dir
from reconciler.plan.render.markdown import COMMENT_MARKER
from reconciler.store.records import PlanStatus

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS = {step.get("name", step.get("uses")): step for step in ACTION["runs"]["steps"]}
SCRIPTS = REPO / "action"
CHARGES = data_dir() / "charges-example.json"
# GitHub expressions in a `run:` script, replaced by a word for shellcheck.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def test_the_action_validates_plans_or_applies_a_given_release():
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert inputs["command"]["required"] is True
    assert {"version", "source", "config", "server-url", "token", "charges", "plan"} <= set(inputs)
    assert inputs["config"]["default"] == "config"
    install = STEPS["Install reconciler"]["run"]
    assert 'pip install --quiet "reconciler==$VERSION"' in install
    assert 'pip install --quiet "$SOURCE"' in install
    assert "reconcile --version" in install
    validate = STEPS["Validate the configuration"]
    assert validate["if"] == "inputs.command == 'validate'"
    assert validate["run"] == 'reconcile validate --config "$CONFIG"'
    plan = STEPS["Validate and plan against the server"]
    assert plan["id"] == "plan" and plan["if"] == "inputs.command == 'plan'"
    assert plan["env"]["RECONCILE_TOKEN"] == "${{ inputs.token }}"
    assert ACTION["outputs"]["changes"]["value"] == "${{ steps.plan.outputs.changes }}"
    assert ACTION["outputs"]["directory"]["value"] == "${{ steps.plan.outputs.directory }}"
    apply = STEPS["Apply the plan"]
    assert apply["if"] == "inputs.command == 'apply'"
    # Inputs reach the scripts through the environment, never pasted into them.
    for step in ACTION["runs"]["steps"]:
        assert not EXPRESSION.search(step.get("run", "")), step["name"]


def test_the_plan_is_one_comment_per_pull_request_updated_in_place():
    post = STEPS["Show the plan on the pull request"]
    assert post["uses"].startswith("actions/github-script@")
    assert "github.event_name == 'pull_request'" in post["if"]
    # Forks get a read-only token: no comment from their pull requests.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in post["if"]
    script = post["with"]["script"]
    assert f"const marker = '{COMMENT_MARKER}';" in script
    for call in ("paginate", "listComments", "updateComment", "createComment"):
        assert call in script
    assert COMMENT_MARKER in (SCRIPTS / "plan.sh").read_text(encoding="utf-8")
    fail = STEPS["Fail on validation errors or a refused plan"]
    assert fail["if"] == "inputs.command == 'plan' && steps.plan.outputs.failed == 'true'"
    assert "exit 1" in fail["run"]
    # The comment comes before the failure: a refused plan is still shown.
    names = list(STEPS)
    assert names.index("Show the plan on the pull request") < names.index(
        "Fail on validation errors or a refused plan"
    )


def test_every_script_of_the_action_passes_shellcheck(tmp_path):
    checker = shellcheck()
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert {path.name for path in scripts} == {"plan.sh", "apply.sh"}
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            inline = tmp_path / f"{step['name']}.sh".replace(" ", "-")
            text = EXPRESSION.sub("expression", step["run"])
            inline.write_text(f"#!/usr/bin/env bash\n{text}", encoding="utf-8")
            scripts.append(inline)
    checked = subprocess.run(
        [checker, "--shell=bash", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


# -- the scripts, run -------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path):
    """Run one of the action's scripts as its step does, with GitHub's files for outputs."""
    bash = shutil.which("bash")
    reconcile = Path(sys.executable).parent / ("reconcile.exe" if os.name == "nt" else "reconcile")
    if bash is None or os.name == "nt" or not reconcile.is_file():
        pytest.skip("needs bash and the reconcile script beside this Python")

    def run(script: str, **environment: str) -> Step:
        outputs, summary = tmp_path / "output.txt", tmp_path / "summary.md"
        outputs.write_text("", encoding="utf-8")
        summary.write_text("", encoding="utf-8")
        done = subprocess.run(
            [bash, str(SCRIPTS / script)],
            env={
                **os.environ,
                "PATH": f"{reconcile.parent}{os.pathsep}{os.environ['PATH']}",
                "CONFIG": str(REPO / "config"),
                "RECONCILE_SERVER_URL": "",
                "RECONCILE_TOKEN": "",
                "CHARGES": "",
                "PLAN": "",
                "HEAD_SHA": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                "RUN_URL": "https://github.com/northwind/billing/actions/runs/1",
                "NO_COLOR": "1",
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(summary),
                **environment,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        found = dict(
            line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines()
        )
        return Step(done, found, summary.read_text(encoding="utf-8"))

    return run


class Step:
    """How a script ran: its process, the step's outputs, the job summary it wrote."""

    def __init__(self, done: subprocess.CompletedProcess[str], outputs: dict, summary: str):
        self.done, self.outputs, self.summary = done, outputs, summary

    @property
    def comment(self) -> str:
        return (Path(self.outputs["directory"]) / "comment.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_without_a_server_the_plan_validates_only(runner, tmp_path):
    step = runner("plan.sh", OUT=str(tmp_path / "out"))
    assert step.done.returncode == 0, step.done.stderr
    assert step.outputs == {
        "directory": str(tmp_path / "out"),
        "changes": "false",
        "failed": "false",
    }
    assert step.comment.startswith(f"{COMMENT_MARKER}\n### Reconciler plan\n")
    assert "The configuration is valid. No plan: RECONCILE_SERVER_URL is not set." in step.comment
    assert "<sub>Commit 4b825dc642cb · [workflow run](https://github.com/" in step.comment
    assert step.summary == step.comment
    assert "::warning::RECONCILE_SERVER_URL is not set" in step.done.stdout


@pytest.mark.slow
def test_an_invalid_configuration_is_shown_and_fails_after_the_comment(runner, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    billing = config / "billing.yaml"
    billing.write_text(
        billing.read_text(encoding="utf-8").replace("invoice_day: 1", "invoice_day: 31"), "utf-8"
    )
    step = runner("plan.sh", OUT=str(tmp_path / "out"), CONFIG=str(config),
                  RECONCILE_SERVER_URL="https://qb.example.com:8443")  # fmt: skip
    assert step.done.returncode == 0, step.done.stderr
    assert step.outputs["failed"] == "true" and step.outputs["changes"] == "false"
    assert "**The configuration is not valid: nothing was planned.**" in step.comment
    assert "invoice_day: 31 is not a whole number from 1 to 28 or last" in step.comment
    assert not (tmp_path / "out" / "plan.json").exists()


@pytest.mark.slow
def test_a_plan_against_the_server_is_the_comment_and_apply_queues_it(runner, tmp_path):
    out = tmp_path / "out"
    with api_world(tmp_path / "server") as w:
        world = w.world
        # Before the Web Connector's first run the server has no snapshot: refused.
        refused = runner("plan.sh", OUT=str(tmp_path / "early"), RECONCILE_SERVER_URL=w.base,
                         RECONCILE_TOKEN=w.plan_token, CHARGES=str(CHARGES))  # fmt: skip
        assert refused.outputs["failed"] == "true", refused.done.stderr
        assert "**The plan was refused or could not be made.**" in refused.comment
        assert "has not read QuickBooks" in refused.comment

        assert world.sync().ok
        step = runner("plan.sh", OUT=str(out), RECONCILE_SERVER_URL=w.base,
                      RECONCILE_TOKEN=w.plan_token, CHARGES=str(CHARGES))  # fmt: skip
        assert step.done.returncode == 0, step.done.stderr
        assert step.outputs["changes"] == "true" and step.outputs["failed"] == "false"
        # The markdown plan is the comment, with the commit and the run under it.
        assert step.comment.startswith(COMMENT_MARKER)
        assert re.search(r"Plan: \d+ invoices? to create", step.comment)
        assert "CAUTION" not in step.comment and "<sub>Commit 4b825dc642cb" in step.comment
        assert (out / "plan.json").is_file() and (out / "charges.json").is_file()
        assert world.store.plans.for_company(world.company.id) == []

        # The pull request's token cannot apply; the summary still says what happened.
        common = {"OUT": str(tmp_path / "applied"), "RECONCILE_SERVER_URL": w.base,
                  "PLAN": str(out / "plan.json"), "CHARGES": str(out / "charges.json")}  # fmt: skip
        denied = runner("apply.sh", RECONCILE_TOKEN=w.plan_token, **common)
        assert denied.done.returncode == 1
        assert denied.summary.startswith("### Applied\n") and "scope apply" in denied.summary
        assert world.store.plans.for_company(world.company.id) == []

        applied = runner("apply.sh", RECONCILE_TOKEN=w.apply_token, **common)
        assert applied.done.returncode == 0, applied.done.stdout
        assert "Queued plan" in applied.summary
        [plan] = world.store.plans.for_company(world.company.id)
        assert plan.status is PlanStatus.QUEUED

        assert world.sync().ok
        again = runner("plan.sh", OUT=str(tmp_path / "again"), RECONCILE_SERVER_URL=w.base,
                       RECONCILE_TOKEN=w.plan_token, CHARGES=str(CHARGES))  # fmt: skip
        assert again.outputs["changes"] == "false" and again.outputs["failed"] == "false"
        assert "No changes" in again.comment


@pytest.mark.slow
def test_apply_without_a_plan_or_a_server_says_what_it_needs(runner, tmp_path):
    step = runner("apply.sh", OUT=str(tmp_path / "out"), PLAN="plan/plan.json")
    assert step.done.returncode == 1
    assert "apply needs server-url and plan" in step.done.stdout

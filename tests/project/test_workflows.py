"""The GitHub workflows: actionlint finds nothing, and they do what the README says."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import yaml
from support.lint import broken_workflow, lint
from support.paths import REPO

REPO = REPO
WORKFLOWS = REPO / ".github" / "workflows"
NEW_YORK = ZoneInfo("America/New_York")
# A version tag in full (v4.2.2) or a commit SHA: never a moving v4 or main.
PINNED = re.compile(r"[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})")


def _load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def test_actionlint_finds_nothing_in_the_workflows():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "plan.yml", "apply.yml", "release.yml"}
    # Their `run:` scripts too, with shellcheck where it is installed (.ci/run installs it).
    linted = lint(REPO, *files)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = broken_workflow(
        tmp_path, "      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    linted = lint(tmp_path, broken)
    assert linted.returncode != 0
    assert "nowhere" in linted.stdout and "untrusted" in linted.stdout


def test_every_action_is_pinned_to_a_full_version():
    for path in WORKFLOWS.glob("*.yml"):
        for job in _load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                # ./ is this repository's action, of the commit under test.
                if "uses" in step and step["uses"] != "./":
                    assert PINNED.fullmatch(step["uses"]), f"{path.name}: {step['uses']}"
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert PINNED.fullmatch(step["uses"]), f"action.yml: {step['uses']}"


def _action_steps(job: dict) -> list[dict]:
    """The job's steps that run this repository's action (the checkout's own: uses ./)."""
    return [step for step in job["steps"] if step.get("uses") == "./"]


def test_pull_requests_get_one_plan_comment_and_a_summary():
    workflow = _load("plan.yml")
    assert "config/**" in workflow["on"]["pull_request"]["paths"]
    # A change of the action is tried on the pull request that makes it.
    assert {"action.yml", "action/**"} <= set(workflow["on"]["pull_request"]["paths"])
    assert workflow["permissions"]["pull-requests"] == "write"
    [job] = workflow["jobs"].values()
    assert job["steps"][0]["uses"].startswith("actions/checkout@")
    # The action posts the comment and the summary (tests/project/test_action.py).
    [step] = _action_steps(job)
    assert step["with"]["command"] == "plan" and step["with"]["source"] == "."
    assert step["with"]["server-url"] == "${{ secrets.RECONCILE_SERVER_URL }}"
    assert step["with"]["token"] == "${{ secrets.RECONCILE_TOKEN }}"
    assert step["with"]["config"] == "config"
    assert set(step["env"]) == {
        "SHERWEB_CLIENT_ID",
        "SHERWEB_CLIENT_SECRET",
        "SHERWEB_SUBSCRIPTION_KEY",
    }


def test_main_is_applied_under_an_environment_and_a_stale_plan_replans():
    workflow = _load("apply.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    plan = workflow["jobs"]["plan"]
    [planned] = _action_steps(plan)
    assert planned["with"]["command"] == "plan" and planned["id"] == "plan"
    assert plan["outputs"]["changes"] == "${{ steps.plan.outputs.changes }}"
    kept = next(s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert kept["with"]["path"] == "${{ steps.plan.outputs.directory }}"
    assert kept["if"] == "steps.plan.outputs.changes == 'true'"
    apply = workflow["jobs"]["apply"]
    assert apply["environment"] == "quickbooks" and apply["needs"] == "plan"
    assert apply["if"] == "needs.plan.outputs.changes == 'true'"
    [applied] = _action_steps(apply)
    assert applied["with"]["command"] == "apply"
    # apply.sh adds --replan-if-stale --yes when the charges are given.
    assert applied["with"]["plan"] == "plan/plan.json"
    assert applied["with"]["charges"] == "plan/charges.json"
    assert applied["with"]["token"] == "${{ secrets.RECONCILE_TOKEN }}"


@pytest.mark.parametrize("day", [dt.date(2027, 1, 1), dt.date(2027, 7, 1)], ids=["EST", "EDT"])
def test_the_schedule_runs_before_05_00_in_new_york(day):
    [schedule] = _load("apply.yml")["on"]["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"], "daily: the invoice day is the configuration's"
    at = dt.datetime.combine(day, dt.time(int(hour), int(minute)), tzinfo=dt.UTC)
    local = at.astimezone(NEW_YORK)
    assert local.date() == day
    # An hour to spare: GitHub starts scheduled runs late when it is busy.
    assert local.time() <= dt.time(4, 0), local

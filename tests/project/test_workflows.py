"""The GitHub workflows: actionlint finds nothing, and they do what the README says."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from support.paths import REPO

from reconciler.plan.render.markdown import COMMENT_MARKER

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


def _actionlint() -> str:
    """The actionlint binary the test extras install (beside this Python), or on PATH."""
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed (pip install '.[test]')")
    try:
        subprocess.run([found, "-version"], capture_output=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"actionlint cannot run here: {exc}")
    return found


def _lint(actionlint: str, cwd: Path, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [actionlint, "-no-color", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_finds_nothing_in_the_workflows():
    actionlint = _actionlint()
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "plan.yml", "apply.yml"}
    linted = _lint(actionlint, REPO, *files)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    actionlint = _actionlint()
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    needs: nowhere\n"
        "    steps:\n      - run: echo ${{ github.event.head_commit.message }}\n",
        encoding="utf-8",
    )
    linted = _lint(actionlint, tmp_path, broken)
    assert linted.returncode != 0
    assert "nowhere" in linted.stdout and "untrusted" in linted.stdout


def test_every_action_is_pinned_to_a_full_version():
    for path in WORKFLOWS.glob("*.yml"):
        for job in _load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert PINNED.fullmatch(step["uses"]), f"{path.name}: {step['uses']}"


def test_pull_requests_get_one_plan_comment_and_a_summary():
    workflow = _load("plan.yml")
    assert "config/**" in workflow["on"]["pull_request"]["paths"]
    assert workflow["permissions"]["pull-requests"] == "write"
    [job] = workflow["jobs"].values()
    text = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    # The comment is found again by the marker the markdown plan starts with.
    assert text.count(COMMENT_MARKER) >= 2
    post = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/github-script"))
    assert "updateComment" in post["with"]["script"] and "createComment" in post["with"]["script"]
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert '--server "$RECONCILE_SERVER_URL"' in runs and "--format markdown" in runs
    assert "reconcile validate --config config" in runs
    assert "GITHUB_STEP_SUMMARY" in runs
    last = job["steps"][-1]
    assert "steps.validate.outcome == 'failure'" in last["if"] and "exit 1" in last["run"]


def test_main_is_applied_under_an_environment_and_a_stale_plan_replans():
    workflow = _load("apply.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    apply = workflow["jobs"]["apply"]
    assert apply["environment"] == "quickbooks" and apply["needs"] == "plan"
    command = next(s["run"] for s in apply["steps"] if "reconcile apply" in s.get("run", ""))
    for option in ("--server", "--yes", "--replan-if-stale", "--charges plan/charges.json"):
        assert option in command


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

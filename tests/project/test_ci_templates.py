"""`reconcile init --ci gitlab`: GitLab CI's pipeline of a configuration repository, and
its script that keeps one plan note on a merge request, run against a fake GitLab API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from click.testing import CliRunner
from support.lint import shellcheck

from reconciler.cli import cli
from reconciler.plan.render.markdown import COMMENT_MARKER


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A configuration repository that `reconcile init --ci gitlab` set up."""
    root = tmp_path_factory.mktemp("gitlab")
    (root / ".git").mkdir()
    result = CliRunner().invoke(
        cli, ["init", str(root / "config"), "--ci", "gitlab", "--pin", "1.4.2"]
    )
    assert result.exit_code == 0, result.output
    wrote = f"Wrote {root / '.gitlab-ci.yml'} and {root / 'ci' / 'mr-note.py'}: they install"
    assert f"{wrote} reconciler 1.4.2.\n" in result.stdout
    return root


def test_the_gitlab_pipeline_plans_merge_requests_and_applies_the_default_branch(written):
    pipeline = yaml.safe_load((written / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert pipeline["stages"] == ["plan", "apply"]
    # One release, the server's, for both jobs.
    assert pipeline["default"]["before_script"] == ['pip install --quiet "reconciler==1.4.2"']
    plan, apply = pipeline["plan"], pipeline["apply"]
    assert plan["stage"] == "plan" and apply["stage"] == "apply"
    plan_script = "\n".join(plan["script"])
    assert "reconcile validate --config config" in plan_script
    assert '--server "$RECONCILE_SERVER_URL"' in plan_script and "--format markdown" in plan_script
    assert "--detailed-exitcode" in plan_script and 'test "$code" -ne 1' in plan_script
    assert "python3 ci/mr-note.py plan.md" in plan_script
    assert any("merge_request_event" in rule["if"] for rule in plan["rules"])
    assert any("schedule" in rule["if"] for rule in plan["rules"])
    for rule in plan["rules"]:
        assert rule.get("changes", ["config/**/*"]) == ["config/**/*"]
    assert set(plan["artifacts"]["paths"]) == {"plan.json", "plan.md", "charges.json"}
    assert apply["needs"] == ["plan"] and apply["environment"] == "quickbooks"
    assert apply["variables"]["RECONCILE_TOKEN"] == "$RECONCILE_APPLY_TOKEN"
    [command] = apply["script"]
    for option in ("reconcile apply plan.json", "--replan-if-stale", "--charges charges.json",
                   "--yes"):  # fmt: skip
        assert option in command
    assert all("$CI_DEFAULT_BRANCH" in rule["if"] for rule in apply["rules"])


def test_the_gitlab_scripts_pass_shellcheck(written, tmp_path):
    checker = shellcheck()
    pipeline = yaml.safe_load((written / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    scripts = []
    for name in ("plan", "apply"):
        script = tmp_path / f"{name}.sh"
        # GitLab runs the job's lines in one shell, after before_script.
        lines = [*pipeline["default"]["before_script"], *pipeline[name]["script"]]
        script.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n", encoding="utf-8")
        scripts.append(str(script))
    checked = subprocess.run(
        [checker, *scripts], capture_output=True, text=True, timeout=120, check=False
    )
    assert checked.returncode == 0, checked.stdout


class _FakeGitLab(BaseHTTPRequestHandler):
    """The merge-request notes of GitLab's API (v4), paginated as GitLab does."""

    notes: list[dict]
    calls: list[tuple[str, str]]

    def _answer(self, status: int, document: object, next_page: str = "") -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Next-Page", next_page)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _allowed(self) -> bool:
        self.calls.append((self.command, self.path))
        if self.headers.get("PRIVATE-TOKEN") != "glpat-test":
            self._answer(401, {"message": "401 Unauthorized"})
            return False
        return urlsplit(self.path).path.startswith("/api/v4/projects/7/merge_requests/3/notes")

    def do_GET(self) -> None:
        if self._allowed():
            query = parse_qs(urlsplit(self.path).query)
            page, size = int(query["page"][0]), int(query["per_page"][0])
            notes = self.notes[(page - 1) * size : page * size]
            more = page * size < len(self.notes)
            self._answer(200, notes, str(page + 1) if more else "")

    def _body(self) -> str:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]

    def do_POST(self) -> None:
        if self._allowed():
            note = {"id": 1000 + len(self.notes), "body": self._body()}
            self.notes.append(note)
            self._answer(201, note)

    def do_PUT(self) -> None:
        if self._allowed():
            note_id = int(urlsplit(self.path).path.rsplit("/", 1)[1])
            note = next(n for n in self.notes if n["id"] == note_id)
            note["body"] = self._body()
            self._answer(200, note)

    def log_message(self, *args: object) -> None:
        pass


def test_the_merge_request_note_is_posted_once_then_updated_in_place(written, tmp_path):
    script = written / "ci" / "mr-note.py"
    _FakeGitLab.notes = [{"id": n, "body": f"a person's note {n}"} for n in range(150)]
    _FakeGitLab.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    environment = {
        **os.environ,
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v4",
        "CI_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": "3",
        "GITLAB_API_TOKEN": "glpat-test",
    }

    def post(plan: str) -> None:
        (tmp_path / "plan.md").write_text(plan, encoding="utf-8")
        subprocess.run(
            [sys.executable, str(script), str(tmp_path / "plan.md")],
            env=environment,
            check=True,
            timeout=60,
            capture_output=True,
        )

    try:
        post(f"{COMMENT_MARKER}\n### Reconciler plan\n\nPlan: 3 invoices to create.\n")
        post(f"{COMMENT_MARKER}\n### Reconciler plan\n\nNo changes.\n")
        post("Plan without its marker.\n")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    ours = [note for note in _FakeGitLab.notes if COMMENT_MARKER in note["body"]]
    assert len(ours) == 1 and len(_FakeGitLab.notes) == 151
    assert ours[0]["body"] == f"{COMMENT_MARKER}\nPlan without its marker.\n"
    assert [method for method, _ in _FakeGitLab.calls].count("POST") == 1
    assert [method for method, _ in _FakeGitLab.calls].count("PUT") == 2

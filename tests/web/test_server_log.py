"""The server's log file: `reconcile serve` (run as the Windows task would run it) writes
its log in the state directory, rotated, and never a password, a token or a ticket."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from click.testing import CliRunner
from support.qbwc import envelope
from support.serve_process import serving

from reconciler.base.errors import UserError
from reconciler.base.xmlsafe import parse_xml
from reconciler.cli import cli
from reconciler.deploy.windows_task import TASK_NAMESPACE
from reconciler.qbwc.credentials import ticket_prefix
from reconciler.web import logfile
from reconciler.web.logfile import LOG_FILE, log_to_state_dir


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def root_logging():
    """The root logger as it was: log_to_state_dir replaces its handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_log_file_rotates_and_keeps_a_bounded_number_of_files(
    tmp_path, monkeypatch, root_logging
):
    monkeypatch.setattr(logfile, "LOG_BYTES", 1000)
    monkeypatch.setattr(logfile, "LOG_BACKUPS", 2)
    path = log_to_state_dir(tmp_path, verbose=False)
    assert path == tmp_path / LOG_FILE
    log = logging.getLogger("reconciler.qbwc")
    for number in range(100):
        log.info("call %03d answered", number)
    logging.getLogger("reconciler.qbwc").debug("not without --verbose")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [LOG_FILE, f"{LOG_FILE}.1", f"{LOG_FILE}.2"]
    newest = path.read_text(encoding="utf-8")
    assert "INFO call 099 answered" in newest and "--verbose" not in newest
    assert all(p.stat().st_size <= 1000 for p in tmp_path.iterdir())


def test_a_log_file_that_cannot_be_written_is_a_clear_error(tmp_path, root_logging):
    (tmp_path / LOG_FILE).mkdir()
    with pytest.raises(UserError, match=r"reconciler\.log: cannot write the server's log"):
        log_to_state_dir(tmp_path, verbose=False)


def _task_command(state, tmp_path) -> list[str]:
    """The command line `serve --install-task` puts in the Windows task, split."""
    made = _run("serve", "--install-task", "--port", "0", "--verbose", "--state-dir", state,
                "--task-file", tmp_path / "task.xml")  # fmt: skip
    assert made.exit_code == 0, made.output
    task = parse_xml((tmp_path / "task.xml").read_bytes(), source="task")
    line = " ".join(
        task.findtext(
            f"{{{TASK_NAMESPACE}}}Actions/{{{TASK_NAMESPACE}}}Exec/{{{TASK_NAMESPACE}}}{n}"
        )
        for n in ("Command", "Arguments")
    )
    return [part.strip('"') for part in re.findall(r'"[^"]*"|[^\s"]+', line)]


@pytest.mark.slow
def test_the_tasks_command_serves_and_logs_no_secret(tmp_path, example_config_dir):
    state = tmp_path / "reconciler state"
    qwc = _run("qwc", "--url", "https://qb.example.com:8443/qbwc", "--out", tmp_path / "x.qwc",
               "--config", example_config_dir, "--state-dir", state)  # fmt: skip
    assert qwc.exit_code == 0, qwc.output
    password = re.search(r"only its hash is kept\):\n\s+(\S+)", qwc.output).group(1)
    token = _run("token", "create", "ci", "--config", example_config_dir, "--state-dir",
                 state).stdout.strip()  # fmt: skip
    secrets = [password, token, "not-the-password-7Yq", "rct_000000000000_" + "x" * 43]
    with (
        serving(_task_command(state, tmp_path), cwd=state) as base,
        httpx.Client(timeout=30) as http,
    ):

        def authenticate(secret: str) -> list[str]:
            answer = http.post(base + "/qbwc", content=envelope(
                "authenticate", strUserName="northwind-it-services-llc", strPassword=secret
            ), headers={"Content-Type": "text/xml"})  # fmt: skip
            return re.findall(r"<string>([^<]*)</string>", answer.text)

        assert authenticate("not-the-password-7Yq")[1] == "nvu"
        ticket, company_file = authenticate(password)[:2]
        assert company_file.endswith(".qbw")
        secrets.append(ticket)
        closed = http.post(base + "/qbwc", content=envelope("closeConnection", ticket=ticket),
                           headers={"Content-Type": "text/xml"})  # fmt: skip
        assert closed.status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert http.get(base + "/api/v1/status", headers=bearer).status_code == 200
        refused = {"Authorization": f"Bearer {secrets[3]}"}
        assert http.get(base + "/api/v1/status", headers=refused).status_code == 401
        http.get(base + "/status", params={"token": token})
    log = (state / LOG_FILE).read_text(encoding="utf-8")
    # What happened is there, by user name and ticket prefix...
    assert "INFO serving the Web Connector at http://127.0.0.1:" in log
    assert "sign-in of 'northwind-it-services-llc' failed" in log
    assert f"session {ticket_prefix(ticket)}… started for 127.0.0.1" in log
    assert "DEBUG authenticate answered in" in log  # --verbose, as the task said
    # ... and no secret, in any form.
    for secret in secrets:
        assert secret not in log, secret

"""`reconcile serve --install-task`: the Windows Task Scheduler definition it writes (parsed
as Task Scheduler reads it, on any system) and the schtasks command it prints."""

from __future__ import annotations

import codecs
import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import DATA

from reconciler.base.xmlsafe import parse_xml
from reconciler.cli import cli
from reconciler.deploy.windows_task import (
    LOCAL_SERVICE,
    TASK_NAMESPACE,
    ServeTask,
    serve_arguments,
    task_xml,
)
from reconciler.web.server import Listen

NS = {"t": TASK_NAMESPACE}
TLS = DATA / "tls"


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _parse(data: bytes):
    # Task Scheduler's encoding: UTF-16 (little-endian) with its byte order mark, and a
    # declaration that says so.
    assert data.startswith(codecs.BOM_UTF16_LE)
    text = data.decode("utf-16")
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    return parse_xml(data, source="task")


def _text(root, path: str) -> str:
    [element] = root.xpath(path, namespaces=NS)
    return element.text


def _windows_split(command_line: str) -> list[str]:
    """How the C runtime splits a command line (for the paths here: quotes, no backslashes
    before a quote)."""
    return [part.strip('"') for part in re.findall(r'"[^"]*"|[^\s"]+', command_line)]


@pytest.fixture
def state(tmp_path, example_config_dir) -> Path:
    """A state directory `reconcile qwc` set up, in a path with spaces."""
    state = tmp_path / "Program Data" / "reconciler state"
    made = _run("qwc", "--url", "https://qb.example.com:8443/qbwc", "--out", tmp_path / "x.qwc",
                "--config", example_config_dir, "--state-dir", state)  # fmt: skip
    assert made.exit_code == 0, made.output
    return state


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    folder = tmp_path / "TLS files"
    folder.mkdir()
    for name in ("localhost.pem", "localhost.key"):
        (folder / name).write_bytes((TLS / name).read_bytes())
    return folder / "localhost.pem", folder / "localhost.key"


def test_the_task_starts_at_boot_as_local_service_and_again_when_the_server_stops():
    task = ServeTask(Path("/opt/reconciler/bin/python"), ("-m", "reconciler", "serve"),
                     Path("/var/lib/reconciler"))  # fmt: skip
    root = _parse(task_xml(task))
    assert root.tag == f"{{{TASK_NAMESPACE}}}Task" and root.get("version") == "1.2"
    # At boot, whether or not anyone signs in: a boot trigger, a service account's SID
    # (no password kept, no interactive session needed), no more rights than it has.
    [trigger] = root.xpath("t:Triggers/*", namespaces=NS)
    assert trigger.tag == f"{{{TASK_NAMESPACE}}}BootTrigger"
    assert _text(trigger, "t:Enabled") == "true"
    assert _text(root, "t:Principals/t:Principal/t:UserId") == LOCAL_SERVICE == "S-1-5-19"
    assert _text(root, "t:Principals/t:Principal/t:RunLevel") == "LeastPrivilege"
    assert not root.xpath("t:Principals/t:Principal/t:LogonType", namespaces=NS)
    [principal] = root.xpath("t:Principals/t:Principal", namespaces=NS)
    assert root.xpath("t:Actions", namespaces=NS)[0].get("Context") == principal.get("id")
    # Started again when it stops: the trigger repeats for ever, one instance at a time
    # (a running server is left alone), and a failed start is retried.
    assert _text(trigger, "t:Repetition/t:Interval") == "PT5M"
    assert not trigger.xpath("t:Repetition/t:Duration", namespaces=NS)  # indefinitely
    assert _text(trigger, "t:Repetition/t:StopAtDurationEnd") == "false"
    settings = "t:Settings/t:"
    assert _text(root, settings + "MultipleInstancesPolicy") == "IgnoreNew"
    assert _text(root, settings + "RestartOnFailure/t:Interval") == "PT1M"
    assert 1 <= int(_text(root, settings + "RestartOnFailure/t:Count")) <= 255
    # Never stopped by Task Scheduler: no time limit, not on batteries, not when idle.
    assert _text(root, settings + "ExecutionTimeLimit") == "PT0S"
    assert _text(root, settings + "DisallowStartIfOnBatteries") == "false"
    assert _text(root, settings + "StopIfGoingOnBatteries") == "false"
    assert _text(root, settings + "IdleSettings/t:StopOnIdleEnd") == "false"
    assert _text(root, settings + "Enabled") == "true"


def test_the_trigger_holds_its_elements_in_the_schemas_order():
    # triggerBaseType is a sequence (Enabled, StartBoundary, EndBoundary, Repetition,
    # ExecutionTimeLimit), then BootTrigger's Delay: Task Scheduler refuses another order.
    task = ServeTask(Path("python"), (), Path("."))
    [trigger] = _parse(task_xml(task)).xpath("t:Triggers/t:BootTrigger", namespaces=NS)
    order = ["Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit", "Delay"]
    tags = [element.tag.split("}")[1] for element in trigger]
    assert tags == [tag for tag in order if tag in tags]


def test_serve_install_task_runs_that_serve_command_with_every_path_quoted(
    state, certificate, tmp_path
):
    certfile, keyfile = certificate
    result = _run("serve", "--install-task", "--host", "0.0.0.0", "--port", "8443",
                  "--certfile", certfile, "--keyfile", keyfile, "--threads", "16", "--verbose",
                  "--state-dir", state)  # fmt: skip
    assert result.exit_code == 0, result.output
    task_file = state / "reconciler-task.xml"
    root = _parse(task_file.read_bytes())
    execute = "t:Actions/t:Exec/t:"
    command = _text(root, execute + "Command")
    # This Python (a virtual environment's, not the interpreter behind it), quoted only
    # when its path holds a space.
    assert _windows_split(command) == [str(Path(sys.executable).absolute())]
    assert command.startswith('"') is (" " in sys.executable)
    arguments = _text(root, execute + "Arguments")
    assert _windows_split(arguments) == [
        "-m", "reconciler", "serve", "--host", "0.0.0.0", "--port", "8443",
        "--certfile", str(certfile.resolve()), "--keyfile", str(keyfile.resolve()),
        "--threads", "16", "--verbose", "--state-dir", str(state.resolve()),
    ]  # fmt: skip
    # Paths with spaces are quoted whole; nothing else is.
    assert f'--certfile "{certfile.resolve()}"' in arguments
    assert f'--state-dir "{state.resolve()}"' in arguments
    assert "--host 0.0.0.0 --port 8443" in arguments
    assert _text(root, execute + "WorkingDirectory") == str(state.resolve())
    # What it says: the account, the command line, and the one command that registers it.
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"Wrote {task_file}: from boot, whether or not anyone signs in, as LOCAL SERVICE, it runs"
    )
    assert lines[1].strip() == f"{command} {arguments}"
    assert lines[-1].strip() == (f'schtasks /Create /XML "{task_file.resolve()}" /TN reconciler /F')
    # Nothing else: no server started, no log written.
    assert not (state / "reconciler.log").exists()


def test_install_task_refuses_what_would_fail_at_every_boot(state, certificate, tmp_path):
    certfile, _ = certificate
    no_key = _run("serve", "--install-task", "--certfile", certfile, "--state-dir", state)
    assert no_key.exit_code == 1 and "HTTPS needs both --certfile and --keyfile" in no_key.stderr
    missing = _run("serve", "--install-task", "--certfile", certfile, "--keyfile",
                   tmp_path / "nowhere.key", "--state-dir", state)  # fmt: skip
    assert missing.exit_code == 1 and "nowhere.key: no such file" in missing.stderr
    empty = _run("serve", "--install-task", "--state-dir", tmp_path / "empty")
    assert empty.exit_code == 1 and "reconcile qwc" in empty.stderr
    assert not (tmp_path / "empty").exists()
    rehearsal = _run("serve", "--install-task", "--clock-start", "2026-12-01T05:00:00+0000",
                     "--state-dir", state)  # fmt: skip
    assert rehearsal.exit_code == 1 and "--clock-start" in rehearsal.stderr
    assert not (state / "reconciler-task.xml").exists()


def test_a_state_directory_in_the_user_profile_is_warned_about(
    tmp_path, example_config_dir, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    state = tmp_path / "AppData" / "Local" / "reconciler"
    made = _run("qwc", "--url", "https://qb.example.com:8443/qbwc", "--out", tmp_path / "x.qwc",
                "--config", example_config_dir, "--state-dir", state)  # fmt: skip
    assert made.exit_code == 0, made.output
    result = _run("serve", "--install-task", "--state-dir", state)
    assert result.exit_code == 0, result.output
    assert f"Warning: the state directory {state.resolve()} is in your user profile" in (
        result.stderr
    )
    assert "C:\\ProgramData\\reconciler" in result.stderr


def test_serve_arguments_name_every_path_absolutely(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments = serve_arguments(Listen(), verbose=False, state_dir=Path("state"))
    assert arguments[-2:] == ("--state-dir", str(tmp_path.resolve() / "state"))
    assert "--certfile" not in arguments and "--verbose" not in arguments
    assert shlex.join(arguments[:3]) == "-m reconciler serve"

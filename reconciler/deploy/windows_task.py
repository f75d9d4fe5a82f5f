"""A Windows Task Scheduler definition that keeps ``reconcile serve`` running.

The task starts the server at boot, whether or not anyone signs in, as the
built-in LOCAL SERVICE account: no password to store or rotate (a user account
would need one, kept by Task Scheduler), and none of SYSTEM's rights over the
machine for a process that answers the network. It can read what Users can (an
installation of Python for all users) and write only where it is granted: the
state directory. SYSTEM would work without granting anything, at the price of
a server that can do anything on the QuickBooks machine.

Task Scheduler restarts a task on failure only when it fails to start, not when
its program exits: a server that stopped is started again by the boot
trigger's repetition instead (every few minutes, with one instance at a time,
so a running server is left alone). ``schtasks /XML`` reads the definition as
UTF-16, the encoding Task Scheduler itself exports.
"""

from __future__ import annotations

import codecs
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from reconciler.web.server import Listen

TASK_NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"
# The well-known SID of NT AUTHORITY\LocalService.
LOCAL_SERVICE = "S-1-5-19"
TASK_NAME = "reconciler"
# How soon a server that stopped is started again (the repetition of the boot trigger).
RESTART_MINUTES = 5
RESTART_EVERY = f"PT{RESTART_MINUTES}M"
# After boot, time for the network to come up before the server binds its address.
BOOT_DELAY = "PT30S"


@dataclass(frozen=True)
class ServeTask:
    """What the task runs: a program, its arguments, and where."""

    program: Path  # the Python that runs reconciler (absolute)
    arguments: tuple[str, ...]  # after the program: -m reconciler serve ...
    working_directory: Path

    @property
    def command_line(self) -> str:
        """The whole command line, quoted as Windows parses it."""
        return subprocess.list2cmdline([str(self.program), *self.arguments])


def serve_arguments(listen: Listen, *, verbose: bool, state_dir: Path) -> tuple[str, ...]:
    """``reconcile serve``'s arguments for the task: every path absolute, since the task
    runs elsewhere, as another account, with a home of its own."""
    arguments = ["-m", "reconciler", "serve", "--host", listen.host, "--port", str(listen.port)]
    if listen.certfile is not None:
        arguments += ["--certfile", str(listen.certfile.resolve())]
    if listen.keyfile is not None:
        arguments += ["--keyfile", str(listen.keyfile.resolve())]
    arguments += ["--threads", str(listen.threads)]
    if verbose:
        arguments.append("--verbose")
    arguments += ["--state-dir", str(state_dir.resolve())]
    return tuple(arguments)


# An element's content: its text, or its children in order (a schema sequence).
Content = str | tuple[tuple[str, "Content"], ...]

SETTINGS: Content = (
    # The repetition finds the server running: left alone.
    ("MultipleInstancesPolicy", "IgnoreNew"),
    ("DisallowStartIfOnBatteries", "false"),
    ("StopIfGoingOnBatteries", "false"),
    ("AllowHardTerminate", "true"),
    ("StartWhenAvailable", "true"),
    ("RunOnlyIfNetworkAvailable", "false"),
    ("IdleSettings", (("StopOnIdleEnd", "false"), ("RestartOnIdle", "false"))),
    ("AllowStartOnDemand", "true"),
    ("Enabled", "true"),
    ("Hidden", "false"),
    ("RunOnlyIfIdle", "false"),
    ("WakeToRun", "false"),
    # No time limit: the default (72 hours) would stop the server every three days.
    ("ExecutionTimeLimit", "PT0S"),
    # Normal priority (the default, 7, is below normal: a server waits behind desktop work).
    ("Priority", "5"),
    # A start that fails (the program cannot be started) is tried again.
    ("RestartOnFailure", (("Interval", "PT1M"), ("Count", "3"))),
)
# triggerBaseType's sequence (Enabled, StartBoundary, EndBoundary, Repetition,
# ExecutionTimeLimit), then the boot trigger's Delay.
BOOT_TRIGGER: Content = (
    ("Enabled", "true"),
    # No Duration: repeated for as long as the machine runs.
    ("Repetition", (("Interval", RESTART_EVERY), ("StopAtDurationEnd", "false"))),
    ("Delay", BOOT_DELAY),
)


def task_xml(task: ServeTask) -> bytes:
    """The task's definition, UTF-16 with a byte order mark, as ``schtasks /XML`` reads it."""
    root = _element(None, "Task", version="1.2")
    _fill(
        _element(root, "RegistrationInfo"),
        (
            (
                "Description",
                "reconciler's QuickBooks Web Connector server (reconcile serve), from boot, "
                "started again when it stops.",
            ),
        ),
    )
    _fill(_element(root, "Triggers"), (("BootTrigger", BOOT_TRIGGER),))
    principal = _element(_element(root, "Principals"), "Principal", id="Author")
    _fill(principal, (("UserId", LOCAL_SERVICE), ("RunLevel", "LeastPrivilege")))
    _fill(_element(root, "Settings"), SETTINGS)
    execute = (
        # Quoted when it holds a space, as Task Scheduler's own dialog asks.
        ("Command", subprocess.list2cmdline([str(task.program)])),
        ("Arguments", subprocess.list2cmdline(task.arguments)),
        ("WorkingDirectory", str(task.working_directory)),
    )
    _fill(_element(root, "Actions", Context="Author"), (("Exec", execute),))
    text = etree.tostring(root, encoding="unicode", pretty_print=True)
    document = f'<?xml version="1.0" encoding="UTF-16"?>\n{text}'.replace("\n", "\r\n")
    return codecs.BOM_UTF16_LE + document.encode("utf-16-le")


def schtasks_command(task_file: Path, name: str = TASK_NAME) -> str:
    """The command that registers (or replaces) the task, for an administrator's prompt."""
    return subprocess.list2cmdline(
        ["schtasks", "/Create", "/XML", str(task_file), "/TN", name, "/F"]
    )


def _element(
    parent: etree._Element | None, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    name = f"{{{TASK_NAMESPACE}}}{tag}"
    if parent is None:
        element = etree.Element(name, attributes, nsmap={None: TASK_NAMESPACE})
    else:
        element = etree.SubElement(parent, name, attributes)
    element.text = text
    return element


def _fill(parent: etree._Element, children: Content) -> None:
    """Add ``children`` to ``parent`` in order, with their own children."""
    for tag, content in children:
        if isinstance(content, str):
            _element(parent, tag, content)
        else:
            _fill(_element(parent, tag), content)

"""A QuickBooks Web Connector emulator: one "Update Selected" over real HTTP and SOAP.

:meth:`WebConnector.run` holds the conversation the real Web Connector holds
with a QBWC server (programmer's guide v2.0, chapters 2, 8 and 10):

1. ``serverVersion``, then ``clientVersion``: ``E:`` or ``O:`` ends the run;
   ``W:`` is a warning the user accepts (``accept_warnings``) or not.
2. ``authenticate``: ``[ticket, ""]`` uses the open company, ``[ticket, path]``
   opens that .qbw; ``nvu``, ``none`` and ``busy`` end the run (after
   ``closeConnection``); a 3rd element postpones the update by that many
   seconds, a 4th sets the minimum run interval.
3. The company is opened; when it cannot be (closed file, another file),
   ``connectionError`` gets QuickBooks' HRESULT and message and answers
   ``done`` (the run ends, no ``closeConnection``) or another path to try.
4. ``sendRequestXML`` (the first call carries the HostQuery/CompanyQuery/
   PreferencesQuery response in ``strHCPResponse``) and ``receiveResponseXML``
   alternate until the server answers 100 or a negative number. A request the
   request processor refuses (0x80040400) reaches ``receiveResponseXML`` as
   ``hresult``/``message`` with an empty response. An empty request, or a
   negative percentage, is followed by ``getLastError``: its text ends the run
   as an error (after ``closeConnection``), an empty text ends it normally,
   ``NoOp`` (from ``sendRequestXML`` then ``getLastError``) pauses
   ``noop_wait`` seconds and asks again. The emulator gives up after
   ``max_noops`` pauses, where the real one would wait for ever.
5. ``closeConnection``; its text is the status column's ("Ok" when empty).

The status texts are the Web Connector's: "Authentication failed", "No data
exchange required", "Update postponed by application", QBWCnnnn errors
(appendix A of the guide) when a callback fails or answers malformed SOAP; a
malformed answer is an error in the :class:`RunResult`, never an exception.

When a response is lost after QuickBooks committed it
(:meth:`~reconciler.sandbox.faults.Faults.lose_next_response`), the emulator
does what the real one does when its connection drops: no
``receiveResponseXML``, no ``closeConnection``, a QBWC1042 status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from reconciler.base.errors import UserError
from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.sandbox import soap
from reconciler.sandbox.elements import Element, text_of
from reconciler.sandbox.simulator import QuickBooksSimulator
from reconciler.sandbox.status import RequestProcessorError, ResponseLost

WEB_CONNECTOR_VERSION = "2.3.0.215"
USER_AGENT = "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)"

# What the status column shows when a callback itself fails (appendix A).
_CALL_FAILED = {
    "clientVersion": "QBWC1036: Error countered during version check: {}",
    "authenticate": "QBWC1012: Authentication failed due to following error message. {}",
    "sendRequestXML": "QBWC1041: SendRequestXML failed due to error message: {}",
    "receiveResponseXML": "QBWC1042: ReceiveResponseXML failed due to error message: {}",
    "getLastError": "QBWC1043: getLastError failed due to error message: {}",
    "closeConnection": "QBWC1044: CloseConnection failed due to error message: {}",
    "connectionError": "QBWC1045: ConnectionError failed due to error message: {}",
}
_CONNECTION_DROPPED = (
    "The underlying connection was closed: An unexpected error occurred on a receive."
)


@dataclass
class RunResult:
    """The outcome of one run, as the Web Connector's window would show it."""

    status: str
    ok: bool
    # (operation, arguments, answer) for every SOAP call, in order; the
    # password is masked.
    calls: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)
    requests_processed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ticket: str | None = None
    postpone_seconds: int | None = None
    min_run_every_seconds: int | None = None

    def operations(self) -> list[str]:
        """The operations called, in order."""
        return [operation for operation, _, _ in self.calls]


class _Stop(Exception):
    """Ends a run with a status (the Web Connector gives up on this update)."""

    def __init__(self, status: str, *, ok: bool, error: bool = True) -> None:
        super().__init__(status)
        self.status = status
        self.ok = ok
        self.error = error


@dataclass(frozen=True)
class QwcFile:
    """What the Web Connector reads from a QWC file."""

    app_name: str
    url: str
    username: str
    owner_id: str | None
    file_id: str | None


def read_qwc(path: Path) -> QwcFile:
    """Read a QWC file (AppURL and UserName are required, as in the real one)."""
    try:
        root = parse_xml(path.read_bytes(), source=str(path))
    except (OSError, XMLInputError) as exc:
        raise UserError(f"{path}: cannot read the QWC file: {exc}") from None
    if root.tag != "QBWCXML":
        raise UserError(f"{path}: not a QWC file (the root element is {root.tag}, not QBWCXML)")
    missing = [tag for tag in ("AppURL", "UserName") if not text_of(root, tag)]
    if missing:
        raise UserError(f"{path}: the QWC file has no {' or '.join(missing)}")
    return QwcFile(
        app_name=text_of(root, "AppName", "") or "",
        url=text_of(root, "AppURL") or "",
        username=text_of(root, "UserName") or "",
        owner_id=text_of(root, "OwnerID"),
        file_id=text_of(root, "FileID"),
    )


class WebConnector:
    """Drives a QBWC server for one simulated QuickBooks (see the module docstring)."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        simulator: QuickBooksSimulator,
        *,
        client: httpx.Client | None = None,
        noop_wait: float = 5.0,
        max_noops: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        accept_warnings: bool = True,
        owner_id: str | None = None,
        file_id: str | None = None,
        client_version: str = WEB_CONNECTOR_VERSION,
        max_connection_attempts: int = 3,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.username = username
        self._password = password
        self.simulator = simulator
        self.owner_id = owner_id
        self.file_id = file_id
        self.noop_wait = noop_wait
        self.max_noops = max_noops
        self.accept_warnings = accept_warnings
        self.client_version = client_version
        self.max_connection_attempts = max_connection_attempts
        self._sleep = sleep
        self._client = client
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WebConnector({self.url!r}, {self.username!r})"

    @classmethod
    def from_qwc(
        cls, qwc_path: Path, password: str, simulator: QuickBooksSimulator, **kw: Any
    ) -> WebConnector:
        """A Web Connector set up from a QWC file (AppURL, UserName, OwnerID, FileID)."""
        qwc = read_qwc(Path(qwc_path))
        kw.setdefault("owner_id", qwc.owner_id)
        kw.setdefault("file_id", qwc.file_id)
        return cls(qwc.url, qwc.username, password, simulator, **kw)

    # ------------------------------------------------------------------
    # One run
    # ------------------------------------------------------------------

    def run(self) -> RunResult:
        """One "Update Selected": the whole SOAP conversation with the server."""
        result = RunResult(status="", ok=False)
        client = self._client or httpx.Client(timeout=self._timeout)
        try:
            self._conversation(client, result)
        except _Stop as stop:
            result.status, result.ok = stop.status, stop.ok
            if stop.error:
                result.errors.append(stop.status)
        finally:
            self.simulator.end_session()
            if self._client is None:
                client.close()
        return result

    def _conversation(self, client: httpx.Client, result: RunResult) -> None:
        call = _Caller(client, self.url, result)
        try:
            call.text("serverVersion", [])
        except _Stop as stop:
            # The Web Connector only shows the server's version: a failure is no reason to stop.
            result.warnings.append(stop.status)
        self._check_client_version(
            call.text("clientVersion", [("strVersion", self.client_version)]), result
        )
        ticket, company_file = self._authenticate(call, result)
        company_file = self._open_company(call, ticket, company_file)
        self._exchange(call, ticket, company_file, result)
        closing = call.text("closeConnection", [("ticket", ticket)])
        raise _Stop(closing or "Ok", ok=True, error=False)

    def _check_client_version(self, answer: str | None, result: RunResult) -> None:
        answer = answer or ""
        aborted = "QBWC1037: Application sent following error or warning message when checking version of QB web connector. Update aborted. {}"
        if answer.startswith("E:"):
            raise _Stop(aborted.format(answer[2:]), ok=False)
        if answer.startswith("O:"):
            needed = answer[2:] or "a newer version"
            raise _Stop(
                aborted.format(f"The application requires QuickBooks Web Connector {needed}."),
                ok=False,
            )
        if answer.startswith("W:"):
            result.warnings.append(answer[2:])
            if not self.accept_warnings:
                raise _Stop(aborted.format(answer[2:]), ok=False)

    def _authenticate(self, call: _Caller, result: RunResult) -> tuple[str, str]:
        answer = call.strings(
            "authenticate", [("strUserName", self.username), ("strPassword", self._password)]
        )
        if len(answer) < 2 or not answer[0]:
            raise _Stop(
                _CALL_FAILED["authenticate"].format(f"the answer {answer!r} has no ticket"),
                ok=False,
            )
        ticket, flag = answer[0], answer[1] or ""
        result.ticket = ticket
        result.postpone_seconds = _seconds(answer, 2)
        result.min_run_every_seconds = _seconds(answer, 3)
        outcome = {
            "nvu": ("Authentication failed", False),
            "none": ("No data exchange required", True),
            "busy": ("Application busy", True),
        }.get(flag.strip().lower())
        if result.postpone_seconds:
            outcome = ("Update postponed by application", True)
        if outcome is not None:
            status, ok = outcome
            call.text("closeConnection", [("ticket", ticket)])
            raise _Stop(status, ok=ok, error=not ok)
        return ticket, flag

    def _open_company(self, call: _Caller, ticket: str, company_file: str) -> str:
        attempts = 0
        while True:
            attempts += 1
            try:
                self.simulator.begin_session(company_file)
            except RequestProcessorError as error:
                answer = call.text(
                    "connectionError",
                    [("ticket", ticket), ("hresult", error.hresult), ("message", error.message)],
                )
                if (
                    answer or ""
                ).strip().lower() == "done" or attempts >= self.max_connection_attempts:
                    raise _Stop(
                        "QBWC1013: Error connecting to QuickBooks. Returning error message to "
                        f"application. {error.message}",
                        ok=False,
                    ) from None
                company_file = answer or ""
                continue
            self._register_file_id()
            return company_file or self.simulator.books.file_path

    def _register_file_id(self) -> None:
        """Store the QWC's FileID in the company file, as the Web Connector does on first contact."""
        if not (self.owner_id and self.file_id):
            return
        books = self.simulator.books
        for data_ext in books.data_ext:
            if (text_of(data_ext, "OwnerID") or "").lower() == self.owner_id.lower():
                return
        data_ext = etree.Element("DataExtRet")
        for tag, value in (
            ("OwnerID", self.owner_id),
            ("DataExtName", "FileID"),
            ("DataExtType", "STR255TYPE"),
            ("DataExtValue", self.file_id),
        ):
            etree.SubElement(data_ext, tag).text = value
        books.data_ext.append(data_ext)

    def _exchange(self, call: _Caller, ticket: str, company_file: str, result: RunResult) -> None:
        version = self.simulator.qbxml_version
        major, _, minor = version.partition(".")
        try:
            hcp = self.simulator.host_company_preferences(self.owner_id)
        except RequestProcessorError as error:
            raise _Stop(
                "QBWC1014: Could not get Host/Company/Preference Query response from "
                f"QuickBooks. Job ending. {error}",
                ok=False,
            ) from None
        noops = 0
        while True:
            request = call.text(
                "sendRequestXML",
                [
                    ("ticket", ticket),
                    ("strHCPResponse", hcp),
                    ("strCompanyFileName", company_file),
                    ("qbXMLCountry", "US"),
                    ("qbXMLMajorVers", int(major)),
                    ("qbXMLMinorVers", int(minor or 0)),
                ],
            )
            hcp = ""
            if not request or request == "NoOp":
                noops = self._after_error(call, ticket, noops)
                continue
            response, hresult, message = self._process(request)
            percent = call.integer(
                "receiveResponseXML",
                [
                    ("ticket", ticket),
                    ("response", response),
                    ("hresult", hresult),
                    ("message", message),
                ],
            )
            result.requests_processed += 1
            if percent < 0:
                noops = self._after_error(call, ticket, noops)
            elif percent >= 100:
                return

    def _process(self, request: str) -> tuple[str, str, str]:
        try:
            return self.simulator.process(request), "", ""
        except RequestProcessorError as error:
            return "", error.hresult, error.message
        except ResponseLost:
            raise _Stop(
                _CALL_FAILED["receiveResponseXML"].format(_CONNECTION_DROPPED), ok=False
            ) from None

    def _after_error(self, call: _Caller, ticket: str, noops: int) -> int:
        """``getLastError``: ``NoOp`` pauses and goes on; any other text ends the run."""
        message = call.text("getLastError", [("ticket", ticket)]) or ""
        if message == "NoOp":
            if noops >= self.max_noops:
                raise _Stop(f"the server answered NoOp more than {self.max_noops} times", ok=False)
            self._sleep(self.noop_wait)
            return noops + 1
        if message == "Interactive mode":
            call.text("closeConnection", [("ticket", ticket)])
            raise _Stop("interactive mode is not supported by the emulator", ok=False)
        closing = call.text("closeConnection", [("ticket", ticket)])
        if message:
            raise _Stop(message, ok=False)
        raise _Stop(closing or "Ok", ok=True, error=False)


class _Caller:
    """SOAP calls to the server, each recorded in the run's result."""

    def __init__(self, client: httpx.Client, url: str, result: RunResult) -> None:
        self._client = client
        self._url = url
        self._result = result

    def text(self, operation: str, arguments: Sequence[soap.Argument]) -> str | None:
        return self._call(operation, arguments, soap.string_result)

    def integer(self, operation: str, arguments: Sequence[soap.Argument]) -> int:
        return self._call(operation, arguments, soap.int_result)

    def strings(self, operation: str, arguments: Sequence[soap.Argument]) -> list[str | None]:
        return self._call(operation, arguments, soap.strings_result)

    def _call(
        self,
        operation: str,
        arguments: Sequence[soap.Argument],
        read: Callable[[Element, str], Any],
    ) -> Any:
        recorded = {
            name: ("********" if name == "strPassword" else value) for name, value in arguments
        }
        failure = _CALL_FAILED.get(operation, f"{operation} failed: {{}}")
        try:
            reply = self._client.post(
                self._url,
                content=soap.request_body(operation, arguments),
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "SOAPAction": soap.soap_action(operation),
                    "User-Agent": USER_AGENT,
                },
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            self._result.calls.append((operation, recorded, None))
            raise _Stop(failure.format(exc), ok=False) from None
        try:
            if reply.status_code != 200:
                raise soap.SoapError(
                    soap.fault(reply.content) or f"HTTP {reply.status_code} {reply.reason_phrase}"
                )
            answer = read(soap.parse_response(reply.content, operation), operation)
        except soap.SoapError as exc:
            self._result.calls.append((operation, recorded, None))
            raise _Stop(failure.format(exc), ok=False) from None
        self._result.calls.append((operation, recorded, answer))
        return answer


def _seconds(answer: list[str | None], index: int) -> int | None:
    if len(answer) <= index:
        return None
    text = (answer[index] or "").strip()
    return int(text) if text.isdigit() else None

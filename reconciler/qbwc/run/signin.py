"""Sign-in and version: whether a session has work, and the checks of its first call.

The first ``sendRequestXML`` brings QuickBooks' HostQuery, CompanyQuery and
PreferencesQuery responses. The run refuses a company file that is not the
configured one (its file name, or the FileID the Web Connector stored in it),
and negotiates the qbXML version: QuickBooks 2015 (qbXML 13.0) at least, the
highest version QuickBooks lists. Without usable host data it asks HostQuery
itself (:attr:`Phase.HOST`).
"""

from __future__ import annotations

import datetime as dt
import logging
import ntpath

from reconciler.engine.coverage import Coverage
from reconciler.model.quickbooks import CompanyInfo, HostInfo, canonical_guid
from reconciler.plan.profile import Profile
from reconciler.qbwc.run.call import RunCall, RunLimits, mapped_customers
from reconciler.qbwc.run.failure import RunFailed
from reconciler.qbwc.run.queries import query_document, refuse_errors
from reconciler.qbwc.run.state import HOST_DOCUMENT, Phase, RunState
from reconciler.qbwc.service import SendRequest
from reconciler.qbxml.parse import QbxmlParseError, Response, parse_response
from reconciler.qbxml.queries import CompanyQuery, HostQuery
from reconciler.qbxml.version import MIN_VERSION, UnsupportedQuickBooks, negotiate_version
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, NewStatusError

log = logging.getLogger("reconciler.qbwc")


def has_work(store: Store, limits: RunLimits, company: CompanyRecord, now: dt.datetime) -> bool:
    """Whether a session now would do anything: a profile is recorded, and the snapshot is
    missing, older than ``refresh_every``, outdated or read for other customers, or
    requests are due."""
    profile = Profile.from_dict(company.profile)
    if profile is None:
        return False
    snapshot = store.snapshots.latest(company.id)
    if snapshot is None or now - snapshot.taken_at >= limits.refresh_every:
        return True
    coverage = Coverage.from_dict(snapshot.coverage)
    if coverage is not None and coverage.mapped_customers != mapped_customers(profile):
        return True  # customers mapped since are read at the next run
    if company.snapshot_outdated:
        return True  # requests went out and no run has read QuickBooks since
    return store.queue.has_due(company.id, now)


def start(store: Store, company: CompanyRecord, now: dt.datetime) -> RunState:
    """A new session's run, from scratch; failed requests, and held ones now due, are
    queued again."""
    released = store.queue.release_due(company.id, now)
    if released:
        log.info("%s: %d request(s) due", company.name, released)
    return RunState()


def begin(run: RunCall, call: SendRequest) -> None:
    """Check the first call's company file and host data: on to the refresh, or to asking
    HostQuery when the Web Connector brought none that is usable."""
    profile = run.profile
    if (
        profile.company_file
        and call.company_file
        and not _same_file(call.company_file, profile.company_file)
    ):
        raise RunFailed(
            f"QuickBooks has {ntpath.basename(call.company_file)} open, not "
            f"{ntpath.basename(profile.company_file)}: nothing was read or written.",
            NewStatusError(
                object=f"company file {call.company_file}",
                code="wrong-company-file",
                message=f"the open company file is not {profile.company_file}",
                what_to_do=f"Open {profile.company_file} in QuickBooks and click Update "
                "Selected (or correct company.file in billing.yaml).",
            ),
        )
    responses = _host_responses(call.hcp_response)
    if responses is None:
        run.state.phase = Phase.HOST
        return
    _check_host(run, responses, call.hcp_response)


def host_query(run: RunCall) -> str:
    """The run's own HostQuery and CompanyQuery, in the lowest version any QuickBooks
    reconciler works with speaks."""
    return query_document(run, [HostQuery(), CompanyQuery()], kind="host", version=MIN_VERSION)


def take_host(run: RunCall, answers: list[Response], document: str) -> None:
    """QuickBooks' answer to the run's HostQuery: checked as the Web Connector's would be."""
    refuse_errors(answers)
    run.state.done_steps += 1
    if not any(isinstance(o, HostInfo) for a in answers for o in a.objects):
        raise RunFailed("QuickBooks answered HostQuery without saying what it is.")
    _check_host(run, answers, document)


def _check_host(run: RunCall, responses: list[Response], document: str) -> None:
    """Negotiate the version and check the FileID; the host document opens the refresh."""
    host = next(o for r in responses for o in r.objects if isinstance(o, HostInfo))
    info = next((o for r in responses for o in r.objects if isinstance(o, CompanyInfo)), None)
    try:
        run.state.version = negotiate_version(host)
    except UnsupportedQuickBooks as exc:
        raise RunFailed(
            f"QuickBooks 2015 or newer is required; this is {host.product_name}.",
            NewStatusError(
                object=host.product_name or "QuickBooks",
                code="unsupported-quickbooks",
                message=exc.message,
                what_to_do="Update QuickBooks Desktop to 2015 or newer.",
            ),
        ) from None
    if info is not None:
        _check_file_id(run, info)
    run.store.sessions.add_document(run.session.id, HOST_DOCUMENT, document)
    run.state.phase = Phase.REFRESH
    run.state.step = 0


def _check_file_id(run: RunCall, info: CompanyInfo) -> None:
    """Refuse a company file the Web Connector registered under another FileID."""
    owner = canonical_guid(run.store.installation.app_identity().owner_id)
    file_id = run.store.companies.get(run.company_id).file_id
    for ext in info.data_ext:
        if canonical_guid(ext.owner_id) != owner or ext.name != "FileID":
            continue
        if canonical_guid(ext.value) != canonical_guid(file_id):
            raise RunFailed(
                "This company file was registered with another reconciler QWC file "
                "(its FileID differs): nothing was read or written.",
                NewStatusError(
                    object=f"company {info.company_name or '(unnamed)'}",
                    code="wrong-file-id",
                    message=f"FileID {ext.value} is not {file_id}",
                    what_to_do="Open the configured company file, or run `reconcile qwc` "
                    "for this one and add the new QWC file.",
                ),
            )


def _same_file(open_file: str, configured: str) -> bool:
    """Whether QuickBooks' open file is the configured one (by file name)."""
    return ntpath.basename(open_file).casefold() == ntpath.basename(configured).casefold()


def _host_responses(text: str) -> list[Response] | None:
    """The Web Connector's HostQuery/CompanyQuery responses, when usable."""
    if not text.strip():
        return None
    try:
        responses = parse_response(text)
    except QbxmlParseError as exc:
        log.warning("unusable HostQuery response from the Web Connector (%s): asking again", exc)
        return None
    if not any(isinstance(o, HostInfo) for r in responses for o in r.objects):
        return None
    return responses

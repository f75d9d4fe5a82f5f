"""The three sources of the QuickBooks state answer alike: qbXML files on disk, the stored
snapshot and the server's snapshot through its API."""

from __future__ import annotations

import re

import httpx
import pytest
from support.api_world import api_world

from reconciler.api.client import ApiClient
from reconciler.api.server_snapshot import ServerSnapshot
from reconciler.base.errors import UserError
from reconciler.model.config import BillingMode
from reconciler.qbstate.files import QbxmlResponseFiles, qbxml_files
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.qbstate.source import StateSource

COMPANY = "Northwind IT Services LLC"


def _files_of(source: StoredSnapshot, directory) -> QbxmlResponseFiles:
    """The snapshot's documents written out as --qb-state files."""
    directory.mkdir()
    for number, document in enumerate(source.documents()):
        (directory / f"{number:03}.xml").write_text(document, encoding="utf-8")
    return qbxml_files([directory])


def test_the_three_sources_of_one_snapshot_agree(tmp_path):
    with api_world(tmp_path / "state") as w:
        world = w.world
        assert world.sync().ok
        world.apply(world.plan())  # locks the billing mode
        world.clock.advance(minutes=5)
        stored = StoredSnapshot.latest(
            world.store, world.store.companies.get(world.company.id), world.clock
        )
        files = _files_of(stored, tmp_path / "responses")
        with ApiClient(w.base, w.plan_token) as client:
            served = ServerSnapshot.fetch(client, COMPANY)
        sources: list[StateSource] = [files, stored, served]

        assert files.state() == stored.state() == served.state()
        assert stored.state().customers and stored.state().invoices
        # Files say what they hold, not what was looked for, and know no lock.
        assert files.coverage() is None and files.lock() is None and not files.outdated()
        coverage = stored.coverage()
        assert coverage is not None and coverage == served.coverage()
        lock = stored.lock()
        assert lock is not None and lock.mode is BillingMode.ADVANCE
        assert served.lock() == lock
        assert stored.outdated() is served.outdated() is False

        described = [source.describe() for source in sources]
        assert described[0] == f"QuickBooks state: qbXML responses in {tmp_path / 'responses'}"
        taken = r"snapshot 1 taken 2026-12-15 12:00 EST \(5 minutes ago\)"
        assert re.fullmatch(f"QuickBooks state: {taken}", described[1]), described[1]
        from_server = f"QuickBooks state: {taken}, from {re.escape(w.base)}"
        assert re.fullmatch(from_server, described[2]), described[2]

        # Requests went out after the snapshot: both snapshot sources say so.
        world.store.snapshots.mark_outdated(world.company.id)
        company = world.store.companies.get(world.company.id)
        assert StoredSnapshot.latest(world.store, company, world.clock).outdated()
        with ApiClient(w.base, w.plan_token) as client:
            assert ServerSnapshot.fetch(client, COMPANY).outdated()


def test_a_source_reads_its_state_once(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        assert world.sync().ok
        stored = StoredSnapshot.latest(world.store, world.company, world.clock)
        assert stored.state() is stored.state()
        with ApiClient(w.base, w.plan_token) as client:
            served = ServerSnapshot.fetch(client, COMPANY)
        assert served.state() is served.state()


def test_the_stored_source_keeps_the_snapshot_it_was_taken_from(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        assert world.sync().ok
        stored = StoredSnapshot.latest(world.store, world.company, world.clock)
        world.clock.advance(days=2)
        assert world.sync().ok  # a newer snapshot meanwhile
        assert world.store.snapshots.latest(world.company.id).version > stored.snapshot.version
        assert stored.describe().startswith("QuickBooks state: snapshot 1 taken ")
        assert (
            stored.state() == StoredSnapshot.latest(world.store, world.company, world.clock).state()
        )


def test_no_snapshot_yet_is_a_clear_error(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        with pytest.raises(UserError, match=f"no QuickBooks snapshot of {COMPANY} in "):
            StoredSnapshot.latest(world.store, world.company, world.clock)


def test_qbxml_files_must_be_named_and_must_exist(tmp_path):
    with pytest.raises(UserError, match="no QuickBooks state given"):
        qbxml_files([])
    with pytest.raises(UserError, match="no such qbXML response file or directory"):
        qbxml_files([tmp_path / "missing.xml"]).state()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no qbXML response files \(\*\.xml\) in this directory"):
        qbxml_files([tmp_path / "empty"]).state()


def _serving(answer: dict) -> ApiClient:
    """A client whose server answers ``answer`` to GET /api/v1/snapshot."""
    return ApiClient(
        "http://127.0.0.1:9",
        "rct_x",
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=answer)),
    )


def test_the_server_source_refuses_another_company_and_another_reading(tmp_path):
    with api_world(tmp_path) as w:
        assert w.world.sync().ok
        answer = w.get("/api/v1/snapshot", w.plan_token).json()
    with _serving(answer) as client:
        with pytest.raises(UserError, match=f"the token is for {COMPANY!r}, but the configuration"):
            ServerSnapshot.fetch(client, "Another Company LLC")
        assert ServerSnapshot.fetch(client, COMPANY).state().customers
    # A server that fingerprints the same documents otherwise reads them otherwise.
    answer["snapshot"]["fingerprint"] = "0" * 64
    answer["server_version"] = "0.0.1"
    with _serving(answer) as client:
        source = ServerSnapshot.fetch(client, COMPANY)
        with pytest.raises(
            UserError, match="reads snapshot 1 differently from the server"
        ) as refused:
            source.state()
        assert (
            refused.value.hint
            == 'Plan with the server\'s version: pip install "reconciler==0.0.1".'
        )
    answer["documents"] = ["<QBXML><QBXMLMsgsRs>"]
    with _serving(answer) as client, pytest.raises(UserError, match="snapshot 1 cannot be read: "):
        ServerSnapshot.fetch(client, COMPANY).state()

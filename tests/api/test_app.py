"""The JSON API over real HTTP: tokens, the snapshot, submitting plans, status, history."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gzip
import json
from decimal import Decimal

from support.api_world import HTTP, add_token, api_world

from reconciler.commands.plan import plan_against
from reconciler.engine.coverage import Coverage
from reconciler.engine.fingerprint import fingerprint_state
from reconciler.model.config import Safety
from reconciler.plan import FORMAT_VERSION
from reconciler.plan.files import with_digest
from reconciler.plan.profile import profile_from_config
from reconciler.qbstate.snapshot import StoredSnapshot, snapshot_fingerprint
from reconciler.qbxml.parse import parse_state
from reconciler.sandbox.by_hand import human_edit
from reconciler.sherweb.charges import load_charges
from reconciler.store.records import PlanStatus, RequestState, TokenScope

PROBLEM = "application/problem+json"


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["code"] == code
    assert problem["type"] == "about:blank" and problem["title"] and problem["detail"]
    return problem


def _submission(w, document, **extra) -> dict:
    return {
        "plan": with_digest(document),
        "profile": profile_from_config(w.world.config).to_dict(),
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "requested_by": "github:octocat",
        **extra,
    }


def test_the_openapi_document_is_served_without_a_token(tmp_path):
    with api_world(tmp_path) as w:
        answer = w.get("/api/v1/openapi.json")
        assert answer.status_code == 200
        document = answer.json()
        assert document["openapi"] == "3.1.0"
        assert {"/api/v1/snapshot", "/api/v1/plans", "/api/v1/status"} <= set(document["paths"])


def test_calls_without_a_valid_token_are_refused_with_401(tmp_path):
    with api_world(tmp_path) as w:
        missing = w.get("/api/v1/status")
        _problem(missing, 401, "unauthorized")
        assert missing.headers["www-authenticate"] == 'Bearer realm="reconciler"'
        basic = HTTP.get(w.base + "/api/v1/status", headers={"Authorization": "Basic dTpw"})
        _problem(basic, 401, "unauthorized")
        for wrong in ("nonsense", w.plan_token[:-1] + "x", w.plan_token + "x"):
            refused = w.get("/api/v1/status", wrong)
            _problem(refused, 401, "invalid-token")
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert w.get("/api/v1/status", w.plan_token).status_code == 200
        w.world.store.tokens.revoke("ci-plan", w.world.clock.now())
        _problem(w.get("/api/v1/status", w.plan_token), 401, "invalid-token")


def test_a_read_token_cannot_submit_plans(tmp_path):
    with api_world(tmp_path) as w:
        w.world.sync()
        answer = w.post("/api/v1/plans", w.plan_token, json=_submission(w, w.world.plan()))
        problem = _problem(answer, 403, "insufficient-scope")
        assert "scope apply" in problem["detail"] and "--scope apply" in problem["hint"]
        assert 'scope="apply"' in answer.headers["www-authenticate"]
        assert w.world.store.plans.for_company(w.world.company.id) == []


def test_a_token_sees_only_its_own_company(tmp_path):
    with api_world(tmp_path) as w:
        store = w.world.store
        other = store.companies.register("Other Co", username="other", company_file="")
        token = add_token(store, other, "other", TokenScope.APPLY)
        w.world.sync()
        _problem(w.get("/api/v1/snapshot", token), 404, "no-snapshot")
        assert w.get("/api/v1/status", token).json()["company"]["name"] == "Other Co"
        refused = w.post("/api/v1/plans", token, json=_submission(w, w.world.plan()))
        assert "Northwind" in _problem(refused, 422, "wrong-company")["detail"]


def test_the_snapshot_is_what_a_plan_elsewhere_needs(tmp_path):
    with api_world(tmp_path) as w:
        _problem(w.get("/api/v1/snapshot", w.plan_token), 404, "no-snapshot")
        w.world.sync()
        w.world.clock.advance(minutes=5)
        answer = w.get("/api/v1/snapshot", w.plan_token)
        assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
        document = answer.json()
        store, company = w.world.store, w.world.company
        record = store.snapshots.latest(company.id)
        assert document["snapshot"]["version"] == record.version == 1
        assert document["snapshot"]["fingerprint"] == snapshot_fingerprint(store, record)
        assert document["snapshot"]["age_seconds"] == 300
        assert document["snapshot"]["outdated"] is False
        assert document["billing_lock"] is None
        assert document["company"]["name"] == "Northwind IT Services LLC"
        state = parse_state(d.encode() for d in document["documents"])
        source = StoredSnapshot.latest(store, company, w.world.clock)
        assert state == source.state()
        assert fingerprint_state(state) == document["snapshot"]["fingerprint"]
        # What it read of the invoices: a plan elsewhere tells "not read" from "absent".
        coverage = Coverage.from_dict(document["coverage"])
        assert coverage == source.coverage()
        assert coverage.first == dt.date(2026, 11, 1) and coverage.last == dt.date(2027, 1, 31)
        assert len(coverage.customer_ids) == 6
        raw = HTTP.get(
            w.base + "/api/v1/snapshot",
            headers={"Authorization": f"Bearer {w.plan_token}", "Accept-Encoding": "identity"},
        )
        assert "content-encoding" not in raw.headers and raw.json() == document


def test_a_plan_is_queued_audited_and_listed(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        world.sync()
        document = world.plan()
        answer = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document))
        assert answer.status_code == 202, answer.text
        queued = answer.json()
        assert queued["outcome"] == "queued" and queued["company"] == world.company.name
        assert queued["requests"] == len(document["changes"]) and queued["held"] == 0
        assert queued["plan"]["key"] == document["plan_id"]
        assert queued["timezone"] == "America/New_York"

        [entry] = world.store.audit.newest(world.company.id)
        assert (entry.actor, entry.action) == ("token:ci-apply", "apply")
        assert entry.commit == "0123456789abcdef0123456789abcdef01234567"
        assert entry.detail["requested_by"] == "github:octocat"
        assert world.store.tokens.by_name("ci-apply").last_used_at == world.clock.now()

        again = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document))
        assert again.status_code == 200 and again.json()["outcome"] == "already-queued"
        assert len(world.store.plans.for_company(world.company.id)) == 1

        [listed] = w.get("/api/v1/plans", w.plan_token).json()["plans"]
        assert listed["applied_by"] == "token:ci-apply"
        assert listed["commit"].startswith("0123456789ab")
        assert listed["requested_by"] == "github:octocat"
        assert listed["status"] == "queued"
        assert listed["progress"] == {"done": 0, "total": queued["requests"]}

        assert world.sync().ok
        status = w.get("/api/v1/status", w.plan_token).json()
        assert status["queue"]["counts"]["done"] == queued["requests"]
        assert status["plans"][0]["status"] == "done"
        assert status["last_run"]["applied"] == queued["requests"]
        assert status["snapshot"]["version"] == 3 and status["errors"] == []
        assert status["billing_lock"]["mode"] == "advance"

        empty = world.plan()
        assert empty["changes"] == []
        nothing = w.post("/api/v1/plans", w.apply_token, json=_submission(w, empty))
        assert nothing.status_code == 200 and nothing.json()["outcome"] == "no-changes"


def test_a_stale_plan_is_refused_with_409_and_changes_nothing(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        world.sync()
        document = world.plan()
        december = [
            t for t, ret in world.qb.invoices.items() if ret.findtext("TxnDate") == "2026-12-01"
        ]
        human_edit(world.qb, december[0])
        world.clock.advance(days=1)
        assert world.sync().ok
        answer = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document))
        problem = _problem(answer, 409, "stale-plan")
        assert "the plan is stale" in problem["detail"] and "reconcile plan" in problem["hint"]
        assert world.store.plans.for_company(world.company.id) == []
        assert world.store.billing_locks.get(world.company.id) is None


def test_a_plan_in_another_billing_mode_is_refused_with_409(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        world.sync()
        document = world.plan()
        assert w.post("/api/v1/plans", w.apply_token, json=_submission(w, document)).is_success
        arrears = copy.deepcopy(document)
        arrears["billing"]["mode"] = "arrears"
        answer = w.post("/api/v1/plans", w.apply_token, json={"plan": with_digest(arrears)})
        problem = _problem(answer, 409, "billing-mode-locked")
        assert "locked to advance" in problem["detail"] and "mode: advance" in problem["hint"]
        assert len(world.store.plans.for_company(world.company.id)) == 1


def test_malformed_submissions_are_refused_with_422(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        world.sync()
        document = world.plan()

        def submit(body):
            return w.post("/api/v1/plans", w.apply_token, json=body)

        problem = _problem(
            submit({"plan": {"format_version": FORMAT_VERSION}}), 422, "invalid-plan"
        )
        assert problem["errors"] and all(isinstance(e, str) for e in problem["errors"])
        _problem(submit({"plan": {"format_version": FORMAT_VERSION - 1}}), 422, "plan-format")
        problem = _problem(submit({"plans": document}), 422, "invalid-request")
        assert any("'plan' is a required property" in e for e in problem["errors"])
        _problem(submit({"plan": document, "commit": ""}), 422, "invalid-request")
        _problem(submit([document]), 422, "invalid-request")

        newer = copy.deepcopy(document)
        newer["format_version"] = 99
        _problem(submit({"plan": newer}), 422, "plan-format")

        swapped = copy.deepcopy(with_digest(document))
        cost = next(c for c in swapped["changes"] if c["action"] == "update-item-cost")
        invoice = next(c for c in swapped["changes"] if c["action"] == "create-invoice")
        cost["qbxml"] = invoice["qbxml"]
        problem = _problem(submit({"plan": swapped}), 422, "plan-modified")
        assert "modified after `reconcile plan` wrote it" in problem["detail"]
        problem = _problem(submit({"plan": with_digest(swapped)}), 422, "plan-refused")
        assert "a InvoiceAddRq request: reconciler queues only the requests" in problem["detail"]

        other_config = _submission(w, document)
        other_config["profile"]["config_fingerprint"] = "0" * 64
        problem = _problem(submit(other_config), 422, "plan-refused")
        assert "was made from another configuration" in problem["detail"]

        other_mode = _submission(w, document)
        other_mode["profile"]["mode"] = "arrears"
        problem = _problem(submit(other_mode), 422, "profile-mismatch")
        assert "mode" in problem["detail"]
        other_mark = _submission(w, document)
        other_mark["profile"]["mark_created"] = "print"
        problem = _problem(submit(other_mark), 422, "profile-mismatch")
        assert "mark_created: 'print' != 'email'" in problem["detail"]
        bad_zone = _submission(w, document)
        bad_zone["profile"]["timezone"] = "Mars/Olympus"
        _problem(submit(bad_zone), 422, "invalid-request")
        assert world.store.plans.for_company(world.company.id) == []


def test_bodies_that_cannot_be_read_are_refused(tmp_path):
    with api_world(tmp_path, max_body=64 * 1024) as w:
        w.world.sync()
        _problem(
            w.post("/api/v1/plans", w.apply_token, content=b"{not json", headers=_json()),
            400,
            "invalid-json",
        )
        _problem(
            w.post("/api/v1/plans", w.apply_token, content=b"{}", headers=_json("text/plain")),
            415,
            "unsupported-media-type",
        )
        zipped = gzip.compress(json.dumps({"plan": {}}).encode())
        _problem(
            w.post(
                "/api/v1/plans",
                w.apply_token,
                content=zipped,
                headers={**_json(), "Content-Encoding": "gzip"},
            ),
            415,
            "unsupported-media-type",
        )
        large = json.dumps({"plan": {"padding": "x" * 70_000}}).encode()
        problem = _problem(
            w.post("/api/v1/plans", w.apply_token, content=large, headers=_json()),
            413,
            "too-large",
        )
        assert "65536 bytes" in problem["detail"]

        def chunks():
            yield large

        _problem(
            w.post("/api/v1/plans", w.apply_token, content=chunks(), headers=_json()),
            413,
            "too-large",
        )
        assert w.world.store.plans.for_company(w.world.company.id) == []


def _json(media: str = "application/json") -> dict[str, str]:
    return {"Content-Type": media}


def test_unknown_calls_methods_and_parameters(tmp_path):
    with api_world(tmp_path) as w:
        _problem(w.get("/api/v1/nothing", w.plan_token), 404, "not-found")
        wrong = HTTP.put(w.base + "/api/v1/plans", headers={"Authorization": "Bearer x"})
        assert _problem(wrong, 405, "method-not-allowed") and wrong.headers["allow"] == (
            "GET, POST, HEAD"
        )
        for limit in ("0", "101", "ten"):
            _problem(
                w.get("/api/v1/plans", w.plan_token, params={"limit": limit}),
                400,
                "invalid-parameter",
            )
        assert w.get("/api/v1/plans", w.plan_token, params={"limit": "1"}).json() == {"plans": []}
        # The SOAP endpoint is still there, next to the API.
        assert "WSDL" in HTTP.get(w.base + "/qbwc").text


def test_held_requests_are_reported_with_when_they_are_due(tmp_path):
    # Before the invoice day: invoice requests wait for 05:00 New York time.
    with api_world(tmp_path, start=dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)) as w:
        world = w.world
        world.sync()
        document = world.plan()
        queued = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document)).json()
        assert queued["held"] > 0 and queued["next_due"] == "2026-12-01T10:00:00Z"
        status = w.get("/api/v1/status", w.plan_token).json()
        assert status["queue"]["counts"][RequestState.HELD.value] == queued["held"]
        assert status["plans"][0]["status"] == PlanStatus.QUEUED.value


def test_a_plan_from_an_outdated_snapshot_is_refused_with_409(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        world.sync()
        document = world.plan()
        world.store.snapshots.mark_outdated(world.company.id)
        answer = w.get("/api/v1/snapshot", w.plan_token)
        assert answer.json()["snapshot"]["outdated"] is True
        refused = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document))
        problem = _problem(refused, 409, "snapshot-outdated")
        assert "requests went out" in problem["detail"] and "Update Selected" in problem["hint"]
        assert world.store.plans.for_company(world.company.id) == []


def test_a_plan_over_the_threshold_is_queued_only_when_forced_twice(tmp_path):
    with api_world(tmp_path) as w:
        world = w.world
        safety = Safety(max_change_ratio=Decimal("0.1"), min_existing=1)
        world.config = dataclasses.replace(
            world.config, billing=dataclasses.replace(world.config.billing, safety=safety)
        )
        world.sync()
        source = StoredSnapshot.latest(world.store, world.company, world.clock)
        document = plan_against(source, world.config, load_charges(world.charges_path), force=True)
        assert document["safety"]["forced"]
        refused = w.post("/api/v1/plans", w.apply_token, json=_submission(w, document))
        assert "apply it with --force too" in _problem(refused, 422, "plan-refused")["detail"]
        forced = _submission(w, document, force=True)
        assert w.post("/api/v1/plans", w.apply_token, json=forced).status_code == 202

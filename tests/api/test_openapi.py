"""The API against its OpenAPI document, with schemathesis, over HTTP on 127.0.0.1.

Every operation gets generated requests (valid and not), with the apply
token; every answer must match the document: status codes, content types,
bodies, headers, and no server error. The server has synced once, so the
snapshot and status are real.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import positive_data_acceptance  # noqa: E402
from support.api_world import api_world  # noqa: E402

from reconciler.api.openapi import openapi_document  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with api_world(tmp_path_factory.mktemp("openapi")) as w:
        assert w.world.sync().ok
        yield w


# The document is static: loaded at collection, the calls go to the served app.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_does_what_its_document_says(case, served):
    case.call_and_validate(
        base_url=served.base,
        headers={"Authorization": f"Bearer {served.apply_token}"},
        # A plan that matches the document's (loose) shape is still refused
        # unless it is a real, fresh plan: 422 and 409 are the documented answers.
        excluded_checks=[positive_data_acceptance],
    )


def test_the_document_is_the_one_served(served):
    from support.api_world import HTTP

    assert HTTP.get(served.base + "/api/v1/openapi.json").json() == openapi_document()

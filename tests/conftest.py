"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support.paths import REFERENCE, REPO

# No test may pass or fail by the machine's speed: no per-example deadline, and no
# health check that fails because generating examples is slow on a loaded machine.
settings.register_profile("reconciler", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("reconciler")


@pytest.fixture(scope="session")
def reference() -> Path:
    """``../shared/reference``; the test is skipped where it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is absent (reference material is not in user clones)")
    return REFERENCE


@pytest.fixture(scope="session")
def qbxml_schema(reference: Path):
    """The compiled qbXML 13.0 XSD."""
    from reconciler.qbxml.xsd import load_xsd

    return load_xsd(reference / "qbxml" / "xsd-13.0")


@pytest.fixture
def assert_valid_qbxml(qbxml_schema):
    """Assert that a qbXML document validates against the 13.0 XSD."""
    from reconciler.qbxml.xsd import xsd_errors

    def check(document: str | bytes) -> None:
        errors = xsd_errors(qbxml_schema, document)
        assert not errors, "qbXML does not validate:\n" + "\n".join(errors)

    return check


@pytest.fixture
def example_config_dir() -> Path:
    """The example configuration in the repository."""
    return REPO / "config"


@pytest.fixture(autouse=True)
def _state_dir_of_the_test(tmp_path_factory, monkeypatch) -> None:
    """Commands that default to the user's state directory use a temporary one."""
    monkeypatch.setenv("RECONCILE_STATE_DIR", str(tmp_path_factory.mktemp("state")))

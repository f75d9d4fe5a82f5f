"""The files that must ship inside the installed package."""

from __future__ import annotations

from reconciler.base import resources


def test_templates_and_example_configuration_are_found() -> None:
    assert resources.templates_dir().is_dir()
    assert (resources.example_config_dir() / "billing.yaml").is_file()
    assert (resources.schemas_dir() / "charges.schema.json").is_file()
    # The README tour's charges and QuickBooks state.
    assert (resources.data_dir() / "charges-example.json").is_file()
    assert (resources.data_dir() / "sample-company-qbxml" / "invoices.xml").is_file()


def test_installed_wheel_carries_its_files() -> None:
    # From `pip install .` (not editable) the package lives outside the
    # checkout and must hold the templates and example itself.
    if (resources.PACKAGE_DIR.parent / "pyproject.toml").is_file():
        import pytest

        pytest.skip("running from a source checkout")
    assert (resources.PACKAGE_DIR / "templates" / "qbxml").is_dir()
    assert (resources.PACKAGE_DIR / "example" / "config" / "offers.yaml").is_file()

"""Identity and credentials: the installation, the companies, their passwords and profiles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from support.qbwc import PASSWORD
from support.stores import NOW, add_company

from reconciler.qbwc.credentials import verify_password

GUID = re.compile(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}")


def test_the_app_identity_is_made_once_and_kept(factory, tmp_path):
    store = factory.open(tmp_path)
    identity = store.installation.app_identity()
    assert GUID.fullmatch(identity.owner_id) and GUID.fullmatch(identity.app_id)
    assert identity.owner_id != identity.app_id
    assert store.installation.app_identity() == identity
    company = add_company(store)
    store.close()
    reopened_store = factory.open(tmp_path)
    assert reopened_store.installation.app_identity() == identity
    assert reopened_store.companies.by_username("acme") == company
    reopened_store.close()


def test_the_clock_shift_is_none_until_set(store):
    assert store.installation.clock_shift() is None
    shift = dt.timedelta(days=-200, seconds=1.25)
    store.installation.set_clock_shift(shift)
    assert store.installation.clock_shift() == shift
    store.installation.set_clock_shift(dt.timedelta(0))
    assert store.installation.clock_shift() == dt.timedelta(0)


def test_register_company_keeps_its_file_id(store, company):
    assert GUID.fullmatch(company.file_id)
    assert verify_password(PASSWORD, company.password_hash)
    assert company.created_at is not None and company.last_contact is None
    assert (company.profile, company.snapshot_outdated) == ({}, False)
    again = store.companies.register(company.name, username="other", company_file="C:\\a.qbw")
    assert again.file_id == company.file_id
    assert (again.id, again.username, again.company_file) == (company.id, "other", "C:\\a.qbw")
    assert store.companies.by_username("acme") is None
    assert store.companies.by_username("other") == again


def test_companies_are_found_by_id_name_and_user_name(store, company):
    other = add_company(store, name="Contoso", username="contoso")
    assert store.companies.all() == [company, other]
    assert store.companies.get(other.id) == other
    assert store.companies.by_name("Contoso") == other
    assert store.companies.by_name("Nobody") is None
    assert store.companies.by_username("nobody") is None
    with pytest.raises(KeyError):
        store.companies.get(other.id + 1)


def test_password_contact_and_profile_are_kept(store, company):
    store.companies.set_password_hash(company.id, "sha256$other")
    store.companies.record_contact(company.id, NOW)
    profile = {"items": ["Consulting", "Backup"], "billing": {"day": 1, "mode": "advance"}}
    store.companies.set_profile(company.id, profile)
    found = store.companies.get(company.id)
    assert (found.password_hash, found.last_contact, found.profile) == (
        "sha256$other",
        NOW,
        profile,
    )
    assert found.file_id == company.file_id

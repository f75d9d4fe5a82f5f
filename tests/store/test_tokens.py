"""The API's bearer tokens: kept as hashes, found by key or name, revoked."""

from __future__ import annotations

import datetime as dt

from support.stores import NOW

from reconciler.store.records import ApiToken, TokenScope


def _add(store, company, name, key_id, scope=TokenScope.PLAN):
    return store.tokens.add(
        company.id, name=name, scope=scope, key_id=key_id, token_hash=f"hash-{key_id}", at=NOW
    )


def test_a_token_is_found_by_its_key_and_its_name(store, company):
    token = _add(store, company, "ci-plan", "k1")
    assert token == ApiToken(
        token.id, company.id, "ci-plan", TokenScope.PLAN, "k1", "hash-k1", NOW, None, None
    )
    assert store.tokens.by_key_id("k1") == token
    assert store.tokens.by_name("ci-plan") == token
    assert store.tokens.by_key_id("k2") is None
    assert store.tokens.by_name("ci-apply") is None


def test_a_revoked_token_keeps_its_key_and_frees_its_name(store, company):
    first = _add(store, company, "ci", "k1", TokenScope.APPLY)
    later = NOW + dt.timedelta(days=1)
    revoked = store.tokens.revoke("ci", later)
    assert revoked is not None and revoked.revoked_at == later and revoked.id == first.id
    assert store.tokens.revoke("ci", later) is None
    assert store.tokens.by_name("ci") is None
    assert store.tokens.by_key_id("k1") == revoked
    second = _add(store, company, "ci", "k2")
    assert store.tokens.by_name("ci") == second
    assert store.tokens.all() == [second]
    assert store.tokens.all(include_revoked=True) == [revoked, second]


def test_a_token_remembers_when_it_was_last_used(store, company):
    token = _add(store, company, "ci", "k1")
    later = NOW + dt.timedelta(minutes=3)
    store.tokens.touch(token.id, later)
    assert store.tokens.by_key_id("k1").last_used_at == later

"""The store's contract suite: each test runs against every store of support.stores."""

from __future__ import annotations

import pytest
from support.stores import FACTORIES, StoreFactory, add_company


@pytest.fixture(params=FACTORIES, ids=lambda factory: factory.name)
def factory(request) -> StoreFactory:
    """How to open a store of the backend under test."""
    return request.param


@pytest.fixture
def store(factory, tmp_path):
    """A new store of the backend under test, closed after the test."""
    opened = factory.open(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def company(store):
    """A company registered in ``store``, with a password."""
    return add_company(store)

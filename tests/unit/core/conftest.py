from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloudmodel_operator import providers
from tests.unit.core.fakes import FAKE_PROVIDER, FakeProvider


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """Serve `unit-fake` targets from a fresh FakeProvider through the provider registry."""
    monkeypatch.setitem(providers.PROVIDERS, FAKE_PROVIDER, "tests.unit.core.fakes:FakeProvider")
    providers.get_provider.cache_clear()
    provider = providers.get_provider(FAKE_PROVIDER)
    assert isinstance(provider, FakeProvider)
    yield provider
    providers.get_provider.cache_clear()

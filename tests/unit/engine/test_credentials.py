"""Credentials Secrets: one read per Secret, a cache with a TTL, rechecks of failing ones, health."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cloudmodel_operator.kube.client import KubeError, KubeUnavailable, NotFound
from cloudmodel_operator.kube.credentials import CredentialStore, SecretHealth, SecretMetadataHandler
from cloudmodel_operator.providers.base import CredentialsError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeSecrets:
    """Stands in for the API server's GET on Secrets; counts reads."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.reads: list[str] = []
        self.down = False

    def put(self, namespace: str, name: str, data: dict[str, str], version: str, **metadata: Any) -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.objects[f"/api/v1/namespaces/{namespace}/secrets/{name}"] = {
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": version, **metadata},
            "data": encoded,
        }

    async def get(
        self, path: str, *, accept: str | None = None, within: float | None = None
    ) -> dict[str, Any]:
        self.reads.append(path)
        if self.down:
            raise KubeUnavailable(0, "ConnectError", "no answer")
        if path not in self.objects:
            raise NotFound(404, "NotFound", "secrets not found")
        return self.objects[path]


@pytest.fixture
def world() -> tuple[
    FakeSecrets, Clock, list[tuple[str, str]], list[tuple[tuple[str, str], SecretHealth]], CredentialStore
]:
    api, clock, woken, health = FakeSecrets(), Clock(), [], []
    store = CredentialStore(
        api,  # type: ignore[arg-type]
        ttl=300,
        recheck=30,
        on_changed=lambda ns, name: woken.append((ns, name)),
        on_health=lambda key, state: health.append((key, SecretHealth(**vars(state)))),
        clock=clock,
    )
    return api, clock, woken, health, store


async def test_many_users_of_one_secret_share_one_read_until_the_ttl(world: Any) -> None:
    api, clock, woken, _, store = world
    api.put("ns", "creds", {"accessKeyId": "AK", "accessKeySecret": "SK-value-1"}, "1")
    for _ in range(1000):
        credentials = await store.get("ns", "creds")
    assert credentials.values["accessKeySecret"] == "SK-value-1"
    assert len(api.reads) == 1
    clock.now += 301
    await store.get("ns", "creds")
    assert len(api.reads) == 2
    assert woken == []  # an unchanged re-read wakes nobody


async def test_a_missing_secret_is_an_error_naming_it_and_is_rechecked_sooner(world: Any) -> None:
    api, clock, woken, health, store = world
    with pytest.raises(CredentialsError, match="Secret ns/later not found"):
        await store.get("ns", "later")
    assert health[-1][0] == ("ns", "later")
    assert (health[-1][1].valid, health[-1][1].error_class) == (False, "missing")
    clock.now += 10
    with pytest.raises(CredentialsError):
        await store.get("ns", "later")  # within the recheck: the cached error, no read
    assert len(api.reads) == 1
    api.put("ns", "later", {"accessKeyId": "AK", "accessKeySecret": "SK"}, "7")
    clock.now += 25
    await store.get("ns", "later")
    assert woken == [("ns", "later")]  # appeared: its users are woken at once


async def test_the_background_recheck_wakes_the_users_of_a_fixed_secret(world: Any) -> None:
    api, clock, woken, _, store = world
    api.put("ns", "creds", {"accessKeyId": "AK", "accessKeySecret": "wrong"}, "1")
    await store.get("ns", "creds")
    store.report("ns", "creds", ok=False, error_class="auth", message="SignatureDoesNotMatch")
    api.put("ns", "creds", {"accessKeyId": "AK", "accessKeySecret": "right"}, "2")
    clock.now += 31
    # One round of the recheck loop, without its timer.
    for key, entry in list(store._entries.items()):
        await store._refresh(key, entry)
    assert woken == [("ns", "creds")]
    assert (await store.get("ns", "creds")).values["accessKeySecret"] == "right"


async def test_health_changes_once_per_transition(world: Any) -> None:
    api, _, _, health, store = world
    api.put("ns", "creds", {"accessKeyId": "AK", "accessKeySecret": "SK"}, "1")
    await store.get("ns", "creds")
    for _ in range(5):
        store.report("ns", "creds", ok=True)
    for _ in range(5):
        store.report("ns", "creds", ok=False, error_class="auth")
    store.report("ns", "creds", ok=True)
    assert [(h.valid, h.error_class) for _, h in health] == [(True, None), (False, "auth"), (True, None)]


async def test_an_unreachable_api_server_keeps_serving_the_cached_copy(world: Any) -> None:
    api, clock, _, _, store = world
    api.put("ns", "creds", {"accessKeyId": "AK", "accessKeySecret": "SK"}, "1")
    await store.get("ns", "creds")
    api.down = True
    clock.now += 1000
    assert (await store.get("ns", "creds")).values["accessKeyId"] == "AK"
    with pytest.raises(KubeError):
        await store.get("ns", "never-read")  # nothing cached: the caller retries later


async def test_expiry_comes_from_the_secret_when_it_says_so(world: Any) -> None:
    api, _, _, _, store = world
    api.put("ns", "sts", {"accessKeyId": "STS.AK", "accessKeySecret": "SK", "securityToken": "tok",
                           "expiration": "2026-12-01T00:00:00Z"}, "1")  # fmt: skip
    await store.get("ns", "sts")
    store.report("ns", "sts", ok=True)
    expires = store.health("ns", "sts").expires_at
    assert expires is not None
    assert expires.isoformat() == "2026-12-01T00:00:00+00:00"


async def test_unused_secrets_are_forgotten_with_their_health(world: Any) -> None:
    api, _, _, health, store = world
    api.put("ns", "a", {"accessKeyId": "AK", "accessKeySecret": "SK"}, "1")
    await store.get("ns", "a")
    store.report("ns", "a", ok=True)
    store.forget_unused(set())
    assert store.health("ns", "a") is None
    assert health[-1] == (("ns", "a"), SecretHealth(valid=None))


def test_the_metadata_watch_wakes_only_users_of_referenced_secrets() -> None:
    changed: list[tuple[str, str]] = []

    class Store:
        def changed(self, namespace: str, name: str) -> None:
            changed.append((namespace, name))

    handler = SecretMetadataHandler(Store(), lambda ns, name: name == "used")  # type: ignore[arg-type]
    handler.relist_begin(None)
    handler.upsert({"metadata": {"namespace": "ns", "name": "used", "resourceVersion": "1"}})
    handler.upsert({"metadata": {"namespace": "ns", "name": "other", "resourceVersion": "1"}})
    handler.relist_end(None)
    assert changed == []  # the first listing only learns versions: a restart wakes nobody
    handler.upsert({"metadata": {"namespace": "ns", "name": "used", "resourceVersion": "1"}})
    handler.upsert({"metadata": {"namespace": "ns", "name": "other", "resourceVersion": "2"}})
    assert changed == []
    handler.upsert({"metadata": {"namespace": "ns", "name": "used", "resourceVersion": "2"}})
    handler.delete({"metadata": {"namespace": "ns", "name": "used", "resourceVersion": "3"}})
    handler.upsert({"metadata": {"namespace": "ns", "name": "used", "resourceVersion": "4"}})  # re-created
    assert changed == [("ns", "used")] * 3

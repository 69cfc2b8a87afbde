"""The benchmark's world: which resources exist, which provider target each names, which Secret.

Resource `i` is spread over the four providers round-robin and names its own target. Resources
live in namespaces of 1,000 (`bench-00`, `bench-01`, ...), one team each, and every team keeps
four shared Secrets (one account per provider). The simulator scenario is generated from the
same functions, so every resource's target exists and signs correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudmodel_operator.api.spec import GROUP, KIND, VERSION

PROVIDERS = ("alibaba-hologres", "alibaba-guardrail", "huawei-modelarts", "baidu-qianfan")
NAMESPACE_BLOCK = 1000  # resources per namespace
MODELARTS_PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"
GUARDRAIL_BASE_ID = 100_000


@dataclass(frozen=True)
class Account:
    secret: str
    data: dict[str, str]  # the Secret's keys
    scenario_key: str  # where it goes in the simulator scenario's `accounts`
    scenario_entry: dict[str, str]


# Fake keys, valid only against the benchmark's simulator.
ACCOUNTS: dict[str, Account] = {
    "alibaba-hologres": Account(
        "bench-hologres",
        {"accessKeyId": "LTAIbenchholo", "accessKeySecret": "bench-hologres-secret"},
        "alibaba",
        {"accessKeyId": "LTAIbenchholo", "accessKeySecret": "bench-hologres-secret"},
    ),
    "alibaba-guardrail": Account(
        "bench-guardrail",
        {"accessKeyId": "LTAIbenchguard", "accessKeySecret": "bench-guardrail-secret"},
        "alibaba",
        {"accessKeyId": "LTAIbenchguard", "accessKeySecret": "bench-guardrail-secret"},
    ),
    "huawei-modelarts": Account(
        "bench-modelarts",
        {"accessKey": "HWBENCHAK", "secretKey": "bench-huawei-secret"},
        "huawei",
        {"accessKey": "HWBENCHAK", "secretKey": "bench-huawei-secret"},
    ),
    "baidu-qianfan": Account(
        "bench-qianfan",
        {"accessKey": "bce-bench-ak", "secretKey": "bench-baidu-secret"},
        "baidu",
        {"accessKey": "bce-bench-ak", "secretKey": "bench-baidu-secret"},
    ),
}

# What a churn round does to a target: a change the status shows (phase or an attribute).
_CHURN: dict[str, dict[str, Any]] = {
    "alibaba-hologres": {"state": "InstanceWaiting"},
    "alibaba-guardrail": {"response": {"Description": "changed by the benchmark"}},
    "huawei-modelarts": {"state": "concerning"},
    "baidu-qianfan": {"state": "Reconfiguring"},
}


@dataclass(frozen=True)
class Member:
    """Resource number `index`: its name, provider and target."""

    index: int
    name: str

    @property
    def namespace(self) -> str:
        return namespace_of(self.index)

    @property
    def provider(self) -> str:
        return PROVIDERS[self.index % len(PROVIDERS)]

    @property
    def target_id(self) -> str:
        """The id the simulator knows the target by (see `simulator.scenario.check_target_id`)."""
        i, provider = self.index, self.provider
        if provider == "alibaba-hologres":
            return f"hgpostcn-cn-bench{i:06d}"
        if provider == "alibaba-guardrail":
            return f"{GUARDRAIL_BASE_ID + i}/scene-2"
        if provider == "huawei-modelarts":
            return f"{MODELARTS_PROJECT}/{_service_id(i)}"
        return f"unit-bench{i:06d}"

    def spec(self, endpoint: str, interval_s: int) -> dict[str, Any]:
        i, provider = self.index, self.provider
        spec: dict[str, Any] = {
            "provider": provider,
            "credentialsSecretRef": {"name": ACCOUNTS[provider].secret},
            "endpoint": endpoint,
            "pollInterval": f"{interval_s}s",
        }
        if provider == "alibaba-hologres":
            spec.update(region="cn-hangzhou", instanceId=self.target_id)
        elif provider == "alibaba-guardrail":
            spec.update(region="cn-shanghai", modelInstanceId=GUARDRAIL_BASE_ID + i, sceneType=2)
        elif provider == "huawei-modelarts":
            spec.update(region="cn-north-4", projectId=MODELARTS_PROJECT, serviceId=_service_id(i))
        else:
            spec.update(region="bj", instanceId=self.target_id)
        return spec

    def manifest(self, endpoint: str, interval_s: int) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": self.spec(endpoint, interval_s),
        }

    def churn_change(self) -> dict[str, Any]:
        """The simulator bulk-change entry that makes this resource's status change."""
        return {"provider": self.provider, "id": self.target_id, **_CHURN[self.provider]}


def _service_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def member(index: int) -> Member:
    return Member(index, f"cms-{index:06d}")


def extra_member(index: int, label: str) -> Member:
    """A resource created during a run (responsiveness probes): its own name and target."""
    return Member(index, f"{label}-{index:06d}")


def scenario(target_count: int) -> dict[str, Any]:
    """The simulator scenario serving targets 0..target_count-1 with the benchmark's accounts."""
    accounts: dict[str, list[dict[str, str]]] = {}
    for account in ACCOUNTS.values():
        accounts.setdefault(account.scenario_key, []).append(account.scenario_entry)
    targets = [{"provider": m.provider, "id": m.target_id} for m in map(member, range(target_count))]
    return {"accounts": accounts, "targets": targets}


def namespace_of(index: int) -> str:
    return f"bench-{index // NAMESPACE_BLOCK:02d}"


def namespaces(n: int) -> list[str]:
    """The namespaces resources 0..n-1 live in."""
    return sorted({namespace_of(i) for i in range(0, n, NAMESPACE_BLOCK)} | {namespace_of(n - 1)})


def secret_manifests(namespace: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": account.secret, "namespace": namespace},
            "type": "Opaque",
            "stringData": account.data,
        }
        for account in ACCOUNTS.values()
    ]


def display_target(m: Member) -> str:
    """`status.target` as the operator writes it (used to make the limit's documents realistic)."""
    if m.provider == "alibaba-guardrail":
        return f"{GUARDRAIL_BASE_ID + m.index}/scene-2"
    return m.target_id

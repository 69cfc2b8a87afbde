"""Where signed requests may go: the provider's own https domain, or an explicit allow-list."""

from __future__ import annotations

import pytest

from cloudmodel_operator.reconciler.endpoints import EndpointNotAllowed, EndpointPolicy

HOLOGRES = "https://hologram.cn-hangzhou.aliyuncs.com"


def test_no_override_uses_the_provider_default() -> None:
    assert EndpointPolicy().resolve(None, HOLOGRES) == HOLOGRES


@pytest.mark.parametrize(
    "override",
    ["https://hologram-vpc.cn-hangzhou.aliyuncs.com", "https://hologram.cn-shanghai.aliyuncs.com/"],
)
def test_https_on_the_provider_domain_is_allowed(override: str) -> None:
    assert EndpointPolicy().resolve(override, HOLOGRES) == override.rstrip("/")


@pytest.mark.parametrize(
    "override",
    [
        "http://hologram.cn-hangzhou.aliyuncs.com",  # plain http
        "https://attacker.example.com",  # foreign host
        "https://aliyuncs.com.attacker.example.com",  # suffix trick
        "https://evilaliyuncs.com",  # not a subdomain
        "http://127.0.0.1:8787",
    ],
)
def test_anything_else_is_refused_with_the_flag_to_use(override: str) -> None:
    with pytest.raises(EndpointNotAllowed, match="--allow-endpoint"):
        EndpointPolicy().resolve(override, HOLOGRES)


def test_the_allow_list_admits_a_full_match_only() -> None:
    policy = EndpointPolicy([r"http://127\.0\.0\.1:\d+"])
    assert policy.resolve("http://127.0.0.1:8787", HOLOGRES) == "http://127.0.0.1:8787"
    with pytest.raises(EndpointNotAllowed):
        policy.resolve("http://127.0.0.1:8787.attacker.example.com", HOLOGRES)

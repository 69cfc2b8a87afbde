"""Where signed requests may go: the provider's own https domain, or an explicit allow-list."""

from __future__ import annotations

import pytest

from cloudmodel_operator.engine.endpoints import EndpointNotAllowed, EndpointPolicy
from cloudmodel_operator.providers import get_provider

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


# Each provider's own regional endpoint, as its SDK builds it (docs/providers.md).
REGION_HOSTS = [
    ("alibaba-hologres", "cn-hangzhou", "https://hologram.cn-hangzhou.aliyuncs.com"),
    ("alibaba-hologres", "cn-beijing", "https://hologram.cn-beijing.aliyuncs.com"),
    ("huawei-modelarts", "cn-north-4", "https://modelarts.cn-north-4.myhuaweicloud.com"),
    ("huawei-modelarts", "ap-southeast-1", "https://modelarts.ap-southeast-1.myhuaweicloud.cn"),
    ("baidu-qianfan", "bj", "https://qianfan.baidubce.com"),
    ("alibaba-guardrail", "cn-shanghai", "https://rai.aliyuncs.com"),
]


@pytest.mark.parametrize(("provider", "region", "host"), REGION_HOSTS)
def test_region_to_host(provider: str, region: str, host: str) -> None:
    default = get_provider(provider).default_base_url(region)
    assert default == host
    assert EndpointPolicy().resolve(None, default) == host


@pytest.mark.parametrize(
    ("override", "default"),
    [
        # Another region of the same provider domain is still the provider.
        ("https://modelarts.cn-east-3.myhuaweicloud.com", "https://modelarts.cn-north-4.myhuaweicloud.com"),
        ("https://qianfan.bj.baidubce.com", "https://qianfan.baidubce.com"),
        # Host names are case-insensitive.
        ("https://HOLOGRAM.cn-hangzhou.AliyunCS.com", HOLOGRES),
        # A port on the provider's own host is still that host.
        ("https://hologram.cn-hangzhou.aliyuncs.com:8443", HOLOGRES),
    ],
)
def test_overrides_on_the_provider_domain(override: str, default: str) -> None:
    assert EndpointPolicy().resolve(override, default) == override


@pytest.mark.parametrize(
    ("override", "default"),
    [
        # Another provider's domain: signed requests must not go to a different cloud.
        ("https://qianfan.baidubce.com", HOLOGRES),
        ("https://modelarts.cn-north-4.myhuaweicloud.com", "https://qianfan.baidubce.com"),
        # The .cn domain of the international Huawei region is not the .com one.
        (
            "https://modelarts.cn-north-4.myhuaweicloud.com",
            "https://modelarts.ap-southeast-1.myhuaweicloud.cn",
        ),
        # The provider domain as user info, query or fragment: the host is still the foreign one.
        ("https://hologram.cn-hangzhou.aliyuncs.com@collector.example.com", HOLOGRES),
        ("https://collector.example.com?.aliyuncs.com", HOLOGRES),
        ("https://collector.example.com#.aliyuncs.com", HOLOGRES),
        ("https://collector.example.com/hologram.aliyuncs.com", HOLOGRES),
        # Not a URL with a host at all.
        ("hologram.cn-hangzhou.aliyuncs.com", HOLOGRES),
        ("file:///etc/passwd", HOLOGRES),
    ],
)
def test_hosts_outside_the_provider_domain_are_refused(override: str, default: str) -> None:
    with pytest.raises(EndpointNotAllowed):
        EndpointPolicy().resolve(override, default)


def test_an_empty_override_means_none() -> None:
    assert EndpointPolicy().resolve("", HOLOGRES) == HOLOGRES


def test_any_of_several_allow_patterns_admits() -> None:
    policy = EndpointPolicy([r"http://127\.0\.0\.1:\d+", r"https://[a-z-]+\.internal\.example"])
    assert policy.resolve("https://gateway.internal.example/", HOLOGRES) == "https://gateway.internal.example"
    assert policy.resolve("http://127.0.0.1:9000", HOLOGRES) == "http://127.0.0.1:9000"
    with pytest.raises(EndpointNotAllowed):
        policy.resolve("http://gateway.internal.example", HOLOGRES)


def test_the_refusal_names_the_endpoint_and_the_expected_domain() -> None:
    with pytest.raises(EndpointNotAllowed) as info:
        EndpointPolicy().resolve("http://collector.example.com", HOLOGRES)
    assert "http://collector.example.com" in str(info.value)
    assert "aliyuncs.com" in str(info.value)

"""Where a resource's requests (and the credentials they carry) may go.

Only a provider's own published API base URLs, or what the operator was explicitly started to
allow. The official tables are compared with the providers' own SDK region tables (test-only
dependencies), so they are not a copy that agrees only with itself.
"""

from __future__ import annotations

import json

import httpx
import pytest
from huaweicloudsdkiam.v3.region.iam_region import IamRegion
from huaweicloudsdkmodelarts.v1.region.modelarts_region import ModelArtsRegion

from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, ErrorClass, ProviderError, Target
from cloudmodel_operator.providers.endpoints import EndpointNotAllowed, EndpointPolicy
from cloudmodel_operator.providers.huawei.modelarts import IAM_ENDPOINTS, MODELARTS_ENDPOINTS

HOLOGRES = get_provider("alibaba-hologres")
MODELARTS = get_provider("huawei-modelarts")
QIANFAN = get_provider("baidu-qianfan")
GUARDRAIL = get_provider("alibaba-guardrail")
LOOPBACK = r"http://127\.0\.0\.1:\d+"


@pytest.mark.parametrize(
    ("provider", "region", "url"),
    [
        (HOLOGRES, "cn-hangzhou", "https://hologram.cn-hangzhou.aliyuncs.com"),
        (HOLOGRES, "cn-beijing", "https://hologram.cn-beijing.aliyuncs.com"),
        (MODELARTS, "cn-north-4", "https://modelarts.cn-north-4.myhuaweicloud.com"),
        (MODELARTS, "ap-southeast-1", "https://modelarts.ap-southeast-1.myhuaweicloud.cn"),
        (QIANFAN, "bj", "https://qianfan.baidubce.com"),
        (GUARDRAIL, "cn-shanghai", "https://rai.aliyuncs.com"),
    ],
)
def test_no_override_means_the_providers_own_host(provider: object, region: str, url: str) -> None:
    assert EndpointPolicy().resolve(provider, region, None) == url  # type: ignore[arg-type]
    assert EndpointPolicy().resolve(provider, region, "") == url  # type: ignore[arg-type]


def test_a_region_the_provider_publishes_no_host_for_is_refused() -> None:
    with pytest.raises(EndpointNotAllowed, match="no API endpoint for region 'xx-nowhere-1'"):
        EndpointPolicy().resolve(HOLOGRES, "xx-nowhere-1", None)


# Each case: override, accepted as (None: refused), and why.
OFFICIAL_CASES = [
    ("https://hologram.cn-shanghai.aliyuncs.com", "https://hologram.cn-shanghai.aliyuncs.com",
     "another region's official host of the same provider"),
    ("https://hologram.cn-shanghai.aliyuncs.com/", "https://hologram.cn-shanghai.aliyuncs.com",
     "a trailing slash is the same base URL"),
    ("https://HOLOGRAM.cn-hangzhou.AliyunCS.com", "https://hologram.cn-hangzhou.aliyuncs.com",
     "host names are case-insensitive"),
    ("https://hologram.cn-hangzhou.aliyuncs.com:443", "https://hologram.cn-hangzhou.aliyuncs.com",
     "the default port is no port"),
    ("https://hologram-vpc.cn-hangzhou.aliyuncs.com", None, "not in the published list"),
    ("https://mybucket.oss-cn-hangzhou.aliyuncs.com", None, "a customer's bucket on the provider's domain"),
    ("https://hologram.xx-nowhere-1.aliyuncs.com", None, "the pattern, in a region nobody publishes"),
    ("http://hologram.cn-hangzhou.aliyuncs.com", None, "not https"),
    ("https://hologram.cn-hangzhou.aliyuncs.com:8443", None, "a port other than 443"),
    ("https://hologram.cn-hangzhou.aliyuncs.com/v2", None, "a path"),
    ("https://hologram.cn-hangzhou.aliyuncs.com?x=1", None, "a query"),
    ("https://hologram.cn-hangzhou.aliyuncs.com#x", None, "a fragment"),
    ("https://user:pw@hologram.cn-hangzhou.aliyuncs.com", None, "user information"),
    ("https://hologram.cn-hangzhou.aliyuncs.com@collector.example.com", None, "userinfo trick"),
    ("https://hologram.cn-hangzhou.aliyuncs.com.", None, "a trailing dot is another name"),
    ("https://hologram.cn-hangzhou.aliyuncs.com%2F@x", None, "escapes"),
    ("https://47.96.1.1", None, "an IP literal"),
    ("https://[::1]", None, "an IPv6 literal"),
    ("https://qianfan.baidubce.com", None, "another provider's official host"),
    ("https://attacker.example.com", None, "a foreign host"),
    ("hologram.cn-hangzhou.aliyuncs.com", None, "not a URL"),
    ("file:///etc/passwd", None, "not http(s)"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "accepted", "why"), OFFICIAL_CASES)
def test_official_hosts_only(override: str, accepted: str | None, why: str) -> None:
    policy = EndpointPolicy()
    if accepted is None:
        with pytest.raises(EndpointNotAllowed, match="--allow-endpoint"):
            policy.resolve(HOLOGRES, "cn-hangzhou", override)
    else:
        assert policy.resolve(HOLOGRES, "cn-hangzhou", override) == accepted, why


ALLOWED_CASES = [
    ("http://127.0.0.1:8787", "http://127.0.0.1:8787", "loopback, explicitly allowed"),
    ("http://127.0.0.1:8787/", "http://127.0.0.1:8787", "with a trailing slash"),
    ("http://127.0.0.1:8787.attacker.example.com", None, "the pattern must match the whole URL"),
    ("http://user:pw@127.0.0.1:8787", None, "user information is refused even when a pattern matches"),
    ("http://127.0.0.1:8787?next=x", None, "a query is refused even when a pattern matches"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "accepted", "why"), ALLOWED_CASES)
def test_allow_patterns(override: str, accepted: str | None, why: str) -> None:
    policy = EndpointPolicy(
        [LOOPBACK, r"http://user:pw@127\.0\.0\.1:\d+", r"http://127\.0\.0\.1:\d+\?next=x"]
    )
    if accepted is None:
        with pytest.raises(EndpointNotAllowed):
            policy.resolve(QIANFAN, "bj", override)
    else:
        assert policy.resolve(QIANFAN, "bj", override) == accepted, why


def test_the_refusal_says_why_and_never_echoes_user_information() -> None:
    with pytest.raises(EndpointNotAllowed) as info:
        EndpointPolicy().resolve(HOLOGRES, "cn-hangzhou", "https://admin:hunter2@collector.example.com")
    text = str(info.value)
    assert "hunter2" not in text
    assert "user information" in text
    assert "https://hologram." in text  # an example of what is accepted


def test_hologres_table_is_the_sdk_endpoint_map() -> None:
    from alibabacloud_hologram20220601.client import Client

    source = Client.__init__.__code__.co_consts
    published = {c for c in source if isinstance(c, str) and c.startswith("hologram.")}
    assert {url.removeprefix("https://") for url in HOLOGRES.official_base_urls()} == published


def test_modelarts_and_iam_tables_are_the_sdk_region_tables() -> None:
    assert {
        r: region.endpoints[0] for r, region in ModelArtsRegion.static_fields.items()
    } == MODELARTS_ENDPOINTS
    assert {r: region.endpoints[0] for r, region in IamRegion.static_fields.items()} == IAM_ENDPOINTS


# -- Huawei IAM: the password only goes to an official IAM host or an explicitly allowed one ---------

IAM_USER = Credentials({"domainName": "d", "username": "u", "password": "iam-unit-password"})
TARGET = Target("huawei-modelarts", "cn-north-4", project_id="0" * 32, service_id="s")


async def hosts_contacted(base_url: str) -> list[str]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.scheme}://{request.url.host}{request.url.path}")
        if request.url.path.endswith("/v3/auth/tokens"):
            return httpx.Response(201, json={"token": {}}, headers={"X-Subject-Token": "tok"})
        return httpx.Response(404, content=json.dumps({"error_code": "ModelArts.3502"}).encode())

    provider = type(MODELARTS)()  # a fresh token cache
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(ProviderError):
            await provider.observe(client, base_url, TARGET, IAM_USER)
    return seen


async def test_iam_of_an_official_modelarts_host_is_that_regions_official_iam() -> None:
    seen = await hosts_contacted("https://modelarts.ap-southeast-1.myhuaweicloud.cn")
    assert seen[0] == "https://iam.ap-southeast-1.myhuaweicloud.com/v3/auth/tokens"
    assert seen[1].startswith("https://modelarts.ap-southeast-1.myhuaweicloud.cn/v1/")


async def test_iam_of_an_allowed_gateway_is_that_gateway() -> None:
    seen = await hosts_contacted("http://127.0.0.1:8787")
    assert seen[0] == "http://127.0.0.1/v3/auth/tokens"


async def test_a_region_without_a_published_iam_host_gets_no_password() -> None:
    provider = type(MODELARTS)()
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client:
        with pytest.raises(ProviderError) as info:
            await provider.observe(client, MODELARTS_ENDPOINTS["af-north-1"], TARGET, IAM_USER)
    assert info.value.error_class is ErrorClass.PERMANENT
    assert "no IAM endpoint" in info.value.message

"""Property-based: whatever a provider answers, the result is data the status can hold, or a
classified `ProviderError`; never another exception, never a credential of the request.

Bodies are drawn shaped like the seed examples (the verbatim example with random parts replaced
by arbitrary JSON: wrong types, missing fields, NaN, huge and negative numbers, deep nesting,
unicode, echoed secrets) and unlike them (arbitrary JSON objects). Each goes through the
provider's whole `observe` path (bytes -> parse -> validate -> map -> scrub); each observation is
folded into a status document that is checked against the generated CRD's schema.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.engine.status_builder import Context, Observed, build_status
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.alibaba.mapping import map_instance_model, map_model_instance
from cloudmodel_operator.providers.alibaba.models import InstanceModel, ModelInstanceInfo
from cloudmodel_operator.providers.baidu.mapping import map_compute_unit
from cloudmodel_operator.providers.baidu.models import DescribeComputeUnitResponse
from cloudmodel_operator.providers.base import Credentials, ProviderError, Target
from cloudmodel_operator.providers.http import validate
from cloudmodel_operator.providers.huawei.mapping import map_service
from cloudmodel_operator.providers.huawei.models import ServiceDetails
from tests.conftest import REPO
from tests.seeds.examples import example_bytes

SECRET = "prop-secret-Key-0a1b2c3d"
TOKEN = "prop-iam-token-9z8y7x6w"
CREDENTIALS = {
    "alibaba": Credentials(
        {"accessKeyId": "LTAIpropAK01", "accessKeySecret": SECRET, "securityToken": TOKEN}
    ),
    "huawei": Credentials({"accessKey": "HWPROPAK0001", "secretKey": SECRET, "securityToken": TOKEN}),
    "huawei-token": Credentials({"token": TOKEN}),
    "baidu": Credentials({"accessKey": "bce-prop-ak-01", "secretKey": SECRET}),
}
PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"
CASES: dict[str, tuple[Target, str]] = {
    "alibaba-hologres": (Target("alibaba-hologres", "cn-hangzhou", instance_id="hgpostcn-cn-x"), "alibaba"),
    "alibaba-guardrail": (
        Target("alibaba-guardrail", "cn-shanghai", model_instance_id="1", scene_type=2),
        "alibaba",
    ),
    "huawei-modelarts": (
        Target(
            "huawei-modelarts",
            "cn-north-4",
            project_id=PROJECT,
            service_id="f76f20ba-78f5-44e8-893a-37c8c600c02f",
        ),
        "huawei",
    ),
    "baidu-qianfan": (Target("baidu-qianfan", "bj", instance_id="unit-xxx"), "baidu"),
}
MAPPERS: dict[str, Any] = {
    "alibaba-hologres": (InstanceModel, map_instance_model),
    "alibaba-guardrail": (ModelInstanceInfo, map_model_instance),
    "huawei-modelarts": (ServiceDetails, map_service),
    "baidu-qianfan": (DescribeComputeUnitResponse, map_compute_unit),
}

# Texts a hostile or careless provider might send back: our own credentials in every form.
ECHOES = [SECRET, TOKEN, f"Bearer {TOKEN}", f"token={SECRET}", f'"apiKey": "{SECRET}"', "sk-abcdefghijklmnop"]
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ECHOES),
    st.builds(
        lambda a, e, b: f"{a}{e}{b}", st.text(max_size=10), st.sampled_from(ECHOES), st.text(max_size=10)
    ),
    st.sampled_from(
        ["", "Running", "running", "notReady", "Serving", "New", "ResourceReady", "2026-01-28T07:44:27Z"]
    ),
    st.integers(1000, 6000).map(lambda n: "x" * n),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, 100, -5, 10**9 + 1, 1585809231902, 253402300800000]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["status", "message", "cpu"])), inner, max_size=4
        ),
    ),
    max_leaves=20,
)


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `document` (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: replaced(document[head], rest, value)}
    copy = list(document)
    copy[head] = replaced(copy[head], rest, value)
    return copy


@cache
def seed(provider: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(example_bytes(provider))
    return body


TIME = re.compile(r"\d{4}-\d{2}-\d{2}T")


def echoed(document: Any, echo: str) -> Any:
    """Every text with `echo` appended, as a provider quoting the request back would (times and
    the guardrail's result `Code` stay: a broken one would only ever exercise the error path)."""
    if isinstance(document, dict):
        return {key: value if key == "Code" else echoed(value, echo) for key, value in document.items()}
    if isinstance(document, list):
        return [echoed(value, echo) for value in document]
    if isinstance(document, str) and not TIME.match(document):
        return f"{document} {echo}"
    return document


@st.composite
def seed_like(draw: st.DrawFn, provider: str) -> Any:
    """The seed example, its texts possibly all echoing a credential, with up to four of its
    parts replaced (or removed, or deeply nested, or repeated hundreds of times)."""
    body: Any = seed(provider)
    if draw(st.booleans()):
        body = echoed(body, draw(st.sampled_from(ECHOES)))
    for _ in range(draw(st.integers(0, 4))):
        inside = paths(body)[1:]
        if not inside:
            break  # the body itself was replaced by a scalar
        where = draw(st.sampled_from(inside))
        how = draw(st.sampled_from(["value", "remove", "nest", "many"]))
        if how == "remove" and isinstance(body, dict) and len(where) == 1:
            body = {k: v for k, v in body.items() if k != where[0]}
        elif how == "nest":
            body = replaced(body, where, json.loads("[" * 500 + "]" * 500))
        elif how == "many":
            body = replaced(body, where, [draw(json_values)] * draw(st.integers(0, 300)))
        else:
            body = replaced(body, where, draw(json_values))
    return body


def bodies(provider: str) -> st.SearchStrategy[bytes]:
    shaped = seed_like(provider)
    unlike = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
    raw = st.one_of(st.binary(max_size=64), st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n))
    as_json = st.one_of(shaped, unlike).map(lambda body: json.dumps(body, allow_nan=True).encode())
    shaped_json = shaped.map(lambda body: json.dumps(body, allow_nan=True).encode())
    return st.one_of(shaped_json, as_json, raw)


@cache
def status_schema() -> dict[str, Any]:
    crd = yaml.safe_load((REPO / "crds" / "cloudmodel.io_cloudmodelservices.yaml").read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    return schema


def assert_fits_the_status(observation: Observation) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    ctx = Context(1, "target", "provider", now, timedelta(minutes=3))
    document = build_status(CloudModelServiceStatus(), Observed(observation), ctx).document()
    jsonschema.validate(document, status_schema())
    CloudModelServiceStatus.model_validate(document)  # and reads back


def assert_no_credential(text: str, credentials: Credentials) -> None:
    for value in credentials.masked_values():
        assert value not in text, value


async def observe_bytes(provider: str, body: bytes, credentials: Credentials) -> Observation:
    target, _ = CASES[provider]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    implementation = get_provider(provider)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        return await implementation.observe(
            client, implementation.default_base_url(target.region), target, credentials
        )


PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.mark.parametrize("provider", sorted(CASES))
def test_observe_ends_in_status_data_or_a_classified_error(provider: str) -> None:
    credentials = CREDENTIALS[CASES[provider][1]]

    @PROPERTY
    @given(body=bodies(provider))
    def check(body: bytes) -> None:
        outcome: Observation | ProviderError
        try:
            outcome = asyncio.run(observe_bytes(provider, body, credentials))
        except ProviderError as error:  # classified, by construction of the type
            outcome = error
        if isinstance(outcome, ProviderError):
            assert_no_credential(json.dumps([outcome.message, outcome.code, outcome.request_id]), credentials)
            return
        assert_fits_the_status(outcome)
        assert_no_credential(outcome.model_dump_json(), credentials)

    check()


def test_a_token_echoed_by_modelarts_never_comes_back() -> None:
    credentials = CREDENTIALS["huawei-token"]

    @PROPERTY
    @given(body=seed_like("huawei-modelarts").map(lambda b: json.dumps(b, allow_nan=True).encode()))
    def check(body: bytes) -> None:
        try:
            observation = asyncio.run(observe_bytes("huawei-modelarts", body, credentials))
        except ProviderError as error:
            assert_no_credential(str(error), credentials)
            return
        assert_no_credential(observation.model_dump_json(), credentials)

    check()


@pytest.mark.parametrize("provider", sorted(MAPPERS))
def test_a_mapper_never_raises_on_a_body_its_model_accepts(provider: str) -> None:
    model, mapper = MAPPERS[provider]

    @PROPERTY
    @given(
        body=st.one_of(seed_like(provider), st.dictionaries(st.text(max_size=10), json_values, max_size=6))
    )
    def check(body: Any) -> None:
        if not isinstance(body, dict):
            return
        try:
            parsed = validate(model, body, provider)
        except ProviderError:
            return  # refused at the boundary, naming the field
        observation = mapper(parsed)  # no catch-all here: the mapping itself must not raise
        assert isinstance(observation, Observation)
        assert_fits_the_status(observation)

    check()

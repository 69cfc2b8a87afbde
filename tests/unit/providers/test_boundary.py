"""The provider boundary, case by case: the one phase rule, impossible values, huge texts and lists,
and the one place where anything unexpected becomes `InvalidResponse`."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from cloudmodel_dev.simulator.bodies import hologres
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.alibaba import hologres as hologres_module
from cloudmodel_operator.providers.base import Credentials, ErrorClass, ProviderError, Target
from cloudmodel_operator.providers.phases import combine, of_parts
from cloudmodel_operator.providers.scrub import MAX_SERVICES, MESSAGE_LIMIT, SERVICE_MESSAGE_LIMIT
from cloudmodel_operator.redact import TRUNCATED

R, P, D, F, S, U = Phase.READY, Phase.PROGRESSING, Phase.DEGRADED, Phase.FAILED, Phase.STOPPED, Phase.UNKNOWN


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], None),
        ([F, F], F),  # all failed
        ([R, F], D),  # some failed
        ([R, D], D),
        ([R, P], P),  # any progressing
        ([R, U], U),  # any unknown
        ([S, S], S),  # all stopped
        ([R, S], R),  # one stopped on purpose among ready ones: named, not degrading
        ([R, R], R),
    ],
)
def test_what_parts_say_together(parts: list[Phase], expected: Phase | None) -> None:
    assert of_parts(parts) is expected


@pytest.mark.parametrize(
    ("own", "parts", "expected", "why"),
    [
        (R, [R, P], P, "a ready target takes its parts' reading"),
        (R, [F], F, "all parts failed"),
        (R, [S], S, "all parts stopped"),
        (P, [F], F, "parts only make it worse"),
        (P, [R], P, "parts never make it better"),
        (D, [P], D, "Progressing is not worse than Degraded"),
        (D, [F, F], F, "all failed is worse"),
        (S, [R], S, "a stopped target stays stopped"),
        (F, [R], F, "a failed target stays failed"),
        (U, [R], U, "an unknown state is not guessed at"),
        (None, [R, R], R, "no state of its own: the parts decide"),
        (None, [], U, "neither: unknown"),
        (R, [], R, "no parts: its own state"),
    ],
)
def test_the_one_rule(own: Phase | None, parts: list[Phase], expected: Phase, why: str) -> None:
    assert combine(own, parts) is expected, why


CREDENTIALS = Credentials({"accessKeyId": "LTAIboundary", "accessKeySecret": "boundary-secret-value"})
TARGET = Target("alibaba-hologres", "cn-hangzhou", instance_id="hgpostcn-cn-x")


async def observe(body: dict[str, Any] | bytes) -> Observation:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    provider = get_provider("alibaba-hologres")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    async with httpx.AsyncClient(transport=transport) as client:
        return await provider.observe(client, provider.default_base_url("cn-hangzhou"), TARGET, CREDENTIALS)


def seed_body(**changes: Any) -> dict[str, Any]:
    body = hologres.default_body("hgpostcn-cn-x", "ResourceReady")
    body.update(changes)
    return body


def service(**changes: Any) -> dict[str, Any]:
    return {**hologres.default_body("hgpostcn-cn-x", "ResourceReady")["modelServiceList"][0], **changes}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (seed_body(expirationTime=""), "expirationTime"),  # an empty timestamp is not a time
        (seed_body(expirationTime="next tuesday"), "expirationTime"),
        (seed_body(expirationTime="0001-01-01T00:00:00Z"), "expirationTime"),
        (seed_body(cpu=-1), "cpu"),
        (seed_body(memory=10**30), "memory"),
        (seed_body(modelServiceList=[service(serviceCount=-5)]), "modelServiceList.0.serviceCount"),
        (seed_body(modelServiceList=[service(serviceCount=2.5)]), "modelServiceList.0.serviceCount"),
        (seed_body(nodeCount=10**7), "nodeCount"),
    ],
)
async def test_impossible_values_are_invalid_responses_naming_the_field(
    body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ProviderError) as info:
        await observe(body)
    assert info.value.error_class is ErrorClass.INVALID_RESPONSE
    assert f"body at {field}:" in info.value.message


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"cpu": NaN}', "not valid JSON"),
        (b'{"cpu": Infinity}', "not valid JSON"),
        (b'{"cpu": 1e999}', "not valid JSON"),  # overflows to infinity
        (b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}", "JSON objects and arrays"),
        # What parsing builds is what costs memory, not the bytes: 400 KB of empty objects in a
        # list the models read became 100,000 models (267 MB); 4 MB of them, 2.3 GB.
        (b'{"modelServiceList":[' + b",".join([b"{}"] * 100_000) + b"]}", "JSON objects and arrays"),
        (b'{"padding":{' + b",".join(b'"k%d":0' % n for n in range(30_000)) + b"}}", "values"),
        (b'{"a":' + b"[" * 65 + b"]" * 65 + b"}", "nested deeper than 64 levels"),
        (b"[1, 2]", "expected an object"),
    ],
)
async def test_json_that_is_not_data(raw: bytes, says: str) -> None:
    with pytest.raises(ProviderError) as info:
        await observe(raw)
    assert info.value.error_class is ErrorClass.INVALID_RESPONSE
    assert says in info.value.message


async def test_a_huge_message_is_capped_with_a_visible_mark() -> None:
    body = seed_body(modelServiceList=[service(status="Failed", message="x" * 2_000_000)])
    observation = await observe(body)
    message = observation.services[0].message or ""
    assert len(message) == SERVICE_MESSAGE_LIMIT
    assert message.endswith(TRUNCATED)
    assert len(observation.message or "") <= MESSAGE_LIMIT


async def test_hundreds_of_services_are_counted_then_cut() -> None:
    body = seed_body(
        modelServiceList=[{"modelName": f"s{i}", "status": "Running", "serviceCount": 1} for i in range(600)]
    )
    observation = await observe(body)
    assert len(observation.services) == MAX_SERVICES
    assert observation.replicas.model_dump() == {"desired": 600, "ready": 600}  # over all of them
    assert observation.attributes["servicesOmitted"] == str(600 - MAX_SERVICES)
    assert (observation.message or "").startswith(f"{600 - MAX_SERVICES} more services not shown")
    assert observation.phase is Phase.READY


async def test_thirty_thousand_services_are_more_than_a_status_can_describe() -> None:
    # Mapped and then cut, they took the operator process from 100 to 190 MB.
    body = seed_body(
        modelServiceList=[
            {"modelName": f"s{i}", "status": "Running", "serviceCount": 1} for i in range(30_000)
        ]
    )
    with pytest.raises(ProviderError) as info:
        await observe(body)
    assert info.value.error_class is ErrorClass.INVALID_RESPONSE
    assert "holds 30002 JSON objects and arrays" in info.value.message


async def test_anything_unexpected_becomes_an_invalid_response_without_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(body: object) -> Observation:
        raise RuntimeError("quoted answer: boundary-secret-value")

    monkeypatch.setattr(hologres_module, "map_instance_model", broken)
    with pytest.raises(ProviderError) as info:
        await observe(seed_body())
    assert info.value.error_class is ErrorClass.INVALID_RESPONSE
    assert "RuntimeError at hologres.py:" in info.value.message  # the innermost frame of the operator
    assert "boundary-secret-value" not in str(info.value)
    assert info.value.__cause__ is None  # the original, with its text, is not chained


async def test_an_echoed_credential_in_a_provider_error_is_masked() -> None:
    provider = get_provider("alibaba-hologres")
    error_body = {"Code": "SignatureDoesNotMatch", "Message": "string to sign used boundary-secret-value"}
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json=error_body))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ProviderError) as info:
            await provider.observe(client, provider.default_base_url("cn-hangzhou"), TARGET, CREDENTIALS)
    assert info.value.error_class is ErrorClass.AUTH
    assert "boundary-secret-value" not in str(info.value)
    assert "***" in info.value.message


def _held_by(error: BaseException) -> list[str]:
    """Locals of every frame a raised error keeps alive (its traceback, causes and contexts) that
    hold more than a megabyte of bytes."""
    found, seen, errors = [], set(), [error]
    while errors:
        current = errors.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            for name, value in tb.tb_frame.f_locals.items():
                size = len(value) if isinstance(value, bytes | bytearray) else 0
                if isinstance(value, list):
                    size = sum(len(item) for item in value if isinstance(item, bytes | bytearray))
                if size > 2**20:
                    found.append(f"{tb.tb_frame.f_code.co_name}.{name} ({size} bytes)")
            tb = tb.tb_next
        errors += [e for e in (current.__cause__, current.__context__) if e is not None]
    return found


async def test_a_refused_body_is_not_kept_alive_by_the_error_that_refuses_it() -> None:
    # The error is kept (retries, the fetcher's cache) and its traceback, in reference cycles
    # with the retry machinery, until a full garbage collection: a gzip bomb's 4 MB of decoded
    # padding per attempt piled up in the operator process (to 174 MB after 25 targets).
    bomb = gzip.compress(b'{"padding": "' + b"x" * (8 * 2**20) + b'"}')
    provider = get_provider("alibaba-hologres")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})
    )
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ProviderError) as info:
            await provider.observe(client, provider.default_base_url("cn-hangzhou"), TARGET, CREDENTIALS)
    assert "decompressed body larger than" in info.value.message
    assert _held_by(info.value) == []

"""The provider simulator: all four provider APIs (plus Huawei IAM) on one loopback port.

Routes, each with the provider's own request shape, signature check, bodies and errors:

    GET  /api/v1/instances/{instanceId}/getInstanceModel       Hologres (x-acs-action GetInstanceModel)
    POST /?ModelInstanceId=..&SceneType=..                      AI guardrails (x-acs-action GetModelInstanceInfo)
    GET  /v1/{project_id}/services/{service_id}                 ModelArts
    POST /v3/auth/tokens                                        Huawei IAM (password identity)
    POST /v2/computeunit?Action=DescribeComputeUnit             Qianfan, body {"instanceId": ...}

and an admin API under /_admin/ (see `admin.py`). Target ids containing '/' go in the path as is:

    curl -X PUT http://127.0.0.1:8787/_admin/targets/baidu-qianfan/unit-sandbox-running -d '{"state":"Releasing"}'
    curl -X POST http://127.0.0.1:8787/_admin/targets/huawei-modelarts/PROJECT/SERVICE/faults \\
        -d '{"kind":"throttle","count":2,"retryAfter":1}'

Tests use `run_in_thread(scenario)`; `cloudmodel-dev simulate` runs `main()` in the foreground.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from cloudmodel_dev.simulator import admin, hostile
from cloudmodel_dev.simulator.apis import APIS, ProviderApi, Reply
from cloudmodel_dev.simulator.auth import Authenticator, IamError
from cloudmodel_dev.simulator.bodies import guardrail
from cloudmodel_dev.simulator.scenario import (
    Fault,
    Scenario,
    ScenarioError,
    TimelineStep,
    load_scenario,
    parse_fault,
)
from cloudmodel_dev.simulator.state import Store
from cloudmodel_dev.simulator.verifiers import AuthRejected
from cloudmodel_operator import logsetup
from cloudmodel_operator.providers.signing import RequestParts

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

HOLOGRES = ("GetInstanceModel", "2022-06-01")
GUARDRAIL = ("GetModelInstanceInfo", "2024-07-01")
QIANFAN_ACTION = "DescribeComputeUnit"
NO_API = Reply(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
IAM_PROVIDER = "huawei-iam"  # counter key for token requests, kept apart from the API calls
NO_TARGET = "-"


@dataclass
class _Note:
    """What the request log line reports about a request."""

    outcome: str = "-"
    target: str = "-"
    who: str = "-"


_NOTE = web.RequestKey("cloudmodel_simulator_note", _Note)


def _note(request: web.Request) -> _Note:
    if _NOTE not in request:
        request[_NOTE] = _Note()
    return request[_NOTE]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Simulator:
    """One simulated world built from a scenario; `app()` serves it."""

    def __init__(self, scenario: Scenario, *, clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self.scenario = scenario
        self.clock: Clock = clock or _utc_now
        self._sleep: Sleep = sleep or asyncio.sleep
        self.store = Store(scenario.targets, self.clock)
        self.auth = Authenticator(scenario, self.clock)

    # ---- control, callable from any thread -------------------------------------------------

    def set_target(
        self,
        provider: str,
        target_id: str,
        state: str | None = None,
        response: Mapping[str, Any] | None = None,
        timeline: list[TimelineStep] | None = None,
    ) -> bool:
        return self.store.set_target(provider, target_id, state, response, timeline)

    def add_fault(self, provider: str, target_id: str, fault: Fault | Mapping[str, Any]) -> None:
        self.store.add_fault(provider, target_id, fault if isinstance(fault, Fault) else parse_fault(fault))

    def clear_faults(self, provider: str | None = None, target_id: str | None = None) -> int:
        return self.store.clear_faults(provider, target_id)

    def request_count(
        self, provider: str | None = None, target: str | None = None, outcome: str | None = None
    ) -> int:
        return self.store.count(provider, target, outcome)

    def reset_counters(self) -> None:
        self.store.reset_counters()

    # ---- HTTP -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_log_requests])
        app.router.add_get("/api/v1/instances/{instance_id}/getInstanceModel", self._hologres)
        app.router.add_post("/", self._guardrail)
        app.router.add_get("/v1/{project_id}/services/{service_id}", self._modelarts)
        app.router.add_post("/v3/auth/tokens", self._iam_token)
        app.router.add_post("/v2/computeunit", self._qianfan)
        admin.add_routes(app, self)
        return app

    async def _hologres(self, request: web.Request) -> web.StreamResponse:
        problem = _check_action(request, HOLOGRES)
        return await self._serve(
            request, APIS["alibaba-hologres"], request.match_info["instance_id"], problem
        )

    async def _guardrail(self, request: web.Request) -> web.StreamResponse:
        problem = _check_action(request, GUARDRAIL)
        target_id = NO_TARGET
        if problem is None:
            instance, scene = request.query.get("ModelInstanceId"), request.query.get("SceneType")
            if not instance:
                problem = Reply(
                    400, "MissingModelInstanceId", "ModelInstanceId is mandatory for this action."
                )
            elif not scene:
                problem = Reply(400, "MissingSceneType", "SceneType is mandatory for this action.")
            elif not instance.isdigit() or scene not in ("0", "1", "2"):
                problem = Reply(
                    400, "InvalidParameter", "ModelInstanceId must be a number and SceneType 0, 1 or 2."
                )
            else:
                target_id = guardrail.target_id(instance, scene)
        return await self._serve(request, APIS["alibaba-guardrail"], target_id, problem)

    async def _modelarts(self, request: web.Request) -> web.StreamResponse:
        target_id = f"{request.match_info['project_id']}/{request.match_info['service_id']}"
        return await self._serve(request, APIS["huawei-modelarts"], target_id, None)

    async def _qianfan(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        problem: Reply | None = None
        target_id = NO_TARGET
        if request.query.get("Action") != QIANFAN_ACTION:
            problem = Reply(400, "InvalidURI", "Could not parse the specified URI.")
        else:
            try:
                document = json.loads(body or b"null")
            except ValueError:
                document = None
                problem = Reply(400, "MalformedJSON", "The JSON you provided was not well-formed.")
            instance = document.get("instanceId") if isinstance(document, dict) else None
            if problem is None and (not isinstance(instance, str) or not instance):
                problem = Reply(
                    400,
                    "InappropriateJSON",
                    "The JSON you provided was well-formed and valid, but not appropriate for this operation.",
                )
            elif isinstance(instance, str):
                target_id = instance
        return await self._serve(request, APIS["baidu-qianfan"], target_id, problem, body=body)

    async def _serve(
        self,
        request: web.Request,
        api: ProviderApi,
        target_id: str,
        problem: Reply | None,
        *,
        body: bytes | None = None,
    ) -> web.StreamResponse:
        if body is None:
            body = await request.read()
        request_id = api.new_request_id()
        parts = RequestParts.from_raw(request.method, request.raw_path, request.headers, body)
        try:
            principal = self.auth.check(api.cloud, parts)
        except AuthRejected as rejected:
            self._record(request, api.provider, target_id, "auth-rejected")
            return api.error(Reply(rejected.status, rejected.code, rejected.message), request_id, request)
        _note(request).who = principal
        if problem is not None:
            self._record(request, api.provider, target_id, "bad-request")
            return api.error(problem, request_id, request)
        fault = self.store.take_fault(api.provider, target_id)
        if fault is not None:
            self._record(request, api.provider, target_id, fault.kind)
            return await self._fault(fault, api, target_id, request, request_id, principal)
        return self._answer(request, api, target_id, request_id, record=True)

    def _answer(
        self, request: web.Request, api: ProviderApi, target_id: str, request_id: str, *, record: bool
    ) -> web.Response:
        verbatim = self.store.render_verbatim(api.provider, target_id)
        if verbatim is not None:
            if record:
                self._record(request, api.provider, target_id, "ok")
            return api.verbatim(verbatim, request_id)
        document = self.store.render(api.provider, target_id)
        if document is None:
            if record:
                self._record(request, api.provider, target_id, "not-found")
            return api.not_found(target_id, request_id, request)
        if record:
            self._record(request, api.provider, target_id, "ok")
        return api.success(document, request_id)

    async def _fault(
        self,
        fault: Fault,
        api: ProviderApi,
        target_id: str,
        request: web.Request,
        request_id: str,
        principal: str,
    ) -> web.StreamResponse:
        kind = fault.kind
        headers = {api.request_id_header: request_id}
        if kind in ("huge-body", "endless"):
            return await hostile.huge(request, fault.body_size, headers, chunked=kind == "endless")
        if kind == "gzip-bomb":
            return await hostile.bomb(request, fault.body_size or 0, headers)
        if kind == "deep-nesting":
            return web.Response(
                status=200, body=hostile.deep_payload(fault.depth or 200_000), content_type="application/json"
            )
        if kind == "latency":
            await self._sleep(fault.delay)
            return self._answer(request, api, target_id, request_id, record=False)
        if kind == "error":
            return api.fault_error(fault, request_id, request)
        if kind == "throttle":
            return api.throttle(fault, request_id, request)
        if kind == "not-found":
            return api.not_found(target_id, request_id, request)
        if kind == "timeout":
            await self._sleep(fault.delay)
            return _drop(request)
        if kind == "disconnect":
            return _drop(request)
        document = self.store.render(api.provider, target_id) or {}
        if kind == "unknown-state":
            api.set_unknown_state(document, fault.state)
            return api.success(document, request_id)
        if kind == "echo-credentials":
            return api.success(hostile.echo_into(document, self._echo(request, principal)), request_id)
        if api.request_id_field and api.request_id_field not in document:
            document[api.request_id_field] = request_id
        if kind == "bad-numbers":
            payload = hostile.bad_numbers_payload(document, fault.numbers or "nan")
            return web.Response(status=200, body=payload, content_type="application/json", headers=headers)
        payload = json.dumps(document, ensure_ascii=False).encode()
        if kind == "drip":
            return await hostile.drip(request, payload, fault.delay, self._sleep, headers)
        if kind == "bad-json":
            broken = payload[: max(1, len(payload) // 3)] + b",,}"
            return web.Response(status=200, body=broken, content_type="application/json")
        return await _truncated(request, payload, api.request_id_header, request_id)

    def _echo(self, request: web.Request, principal: str) -> str:
        """What a provider quoting the request back would say: its credentials, in every form."""
        quoted = [
            f"{name}: {request.headers[name]}"
            for name in ("Authorization", "X-Auth-Token", "X-Security-Token", "x-acs-security-token")
            if name in request.headers
        ]
        token = request.headers.get("X-Auth-Token")
        return " ".join(
            [
                "(echo)",
                *quoted,
                *([f"Bearer {token}"] if token else []),
                f"caller {principal}",
                *self.auth.secrets_of(principal),
            ]
        )

    async def _iam_token(self, request: web.Request) -> web.StreamResponse:
        request_id = APIS["huawei-modelarts"].new_request_id()
        try:
            document = json.loads(await request.read() or b"null")
        except ValueError:
            document = None
        try:
            token = self.auth.issue_token(document)
        except IamError as exc:
            self._record(request, IAM_PROVIDER, NO_TARGET, "auth-rejected")
            return web.json_response(exc.document(), status=exc.status, headers={"X-Request-Id": request_id})
        self._record(request, IAM_PROVIDER, token.username, "ok")
        issued = token.expires_at - self.auth.token_ttl
        body = {
            "token": {
                "methods": ["password"],
                "expires_at": _iam_time(token.expires_at),
                "issued_at": _iam_time(issued),
                "catalog": [],
                "project": {
                    "id": token.project or "",
                    "name": token.project or "",
                    "domain": {"name": "sandbox"},
                },
                "roles": [{"id": "0", "name": "op_service"}],
                "user": {
                    "name": token.username,
                    "id": f"sandbox-{token.username}",
                    "domain": {"name": "sandbox"},
                },
            }
        }
        return web.json_response(
            body, status=201, headers={"X-Subject-Token": token.value, "X-Request-Id": request_id}
        )

    def _record(self, request: web.Request, provider: str, target_id: str, outcome: str) -> None:
        note = _note(request)
        note.outcome, note.target = outcome, f"{provider} {target_id}"
        self.store.record(provider, target_id, outcome)


def _check_action(request: web.Request, expected: tuple[str, str]) -> Reply | None:
    action, version = expected
    if request.headers.get("x-acs-action") != action or request.headers.get("x-acs-version") != version:
        return NO_API
    return None


def _iam_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer; the returned response is never sent."""
    transport = request.transport
    if request.protocol is not None:
        request.protocol.force_close()
    if transport is not None:
        transport.abort()
    return web.Response(status=499)


async def _truncated(
    request: web.Request, payload: bytes, id_header: str, request_id: str
) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={id_header: request_id})
    response.content_type = "application/json"
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(payload[: len(payload) // 2])
    _drop(request)
    return response


@web.middleware
async def _log_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # One line per request: method, path, status, outcome, target and caller identity. Never
    # headers or bodies, which carry signatures, tokens and passwords.
    response = await handler(request)
    if not request.path.startswith("/_admin/"):
        note = _note(request)
        log.info(
            "%s %s -> %s %s [%s] by %s",
            request.method,
            request.path,
            response.status if response.status != 499 else "dropped",
            note.outcome,
            note.target,
            note.who,
        )
    return response


# ---- running it ------------------------------------------------------------------------------


class SimulatorHandle:
    """What `run_in_thread` yields: the base URL plus the simulator's control methods."""

    def __init__(self, simulator: Simulator, url: str) -> None:
        self.simulator = simulator
        self.url = url

    def set_target(
        self,
        provider: str,
        target_id: str,
        state: str | None = None,
        response: Mapping[str, Any] | None = None,
        timeline: list[TimelineStep] | None = None,
    ) -> bool:
        return self.simulator.set_target(provider, target_id, state, response, timeline)

    def add_fault(self, provider: str, target_id: str, fault: Fault | Mapping[str, Any]) -> None:
        self.simulator.add_fault(provider, target_id, fault)

    def clear_faults(self, provider: str | None = None, target_id: str | None = None) -> int:
        return self.simulator.clear_faults(provider, target_id)

    def request_count(
        self, provider: str | None = None, target: str | None = None, outcome: str | None = None
    ) -> int:
        return self.simulator.request_count(provider, target, outcome)

    def reset_counters(self) -> None:
        self.simulator.reset_counters()

    def request_times(
        self, provider: str | None = None, target: str | None = None, outcome: str | None = None
    ) -> list[tuple[float, str]]:
        """(time.monotonic() on arrival, outcome) of each matching request, oldest first."""
        return self.simulator.store.times(provider, target, outcome)

    def wait_requests(
        self,
        count: int,
        provider: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
        *,
        timeout: float = 60.0,
    ) -> int:
        """Block until `count` matching requests arrived; TimeoutError after `timeout` seconds."""
        return self.simulator.store.wait_count(count, provider, target, outcome, timeout=timeout)


def _as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


@contextlib.contextmanager
def run_in_thread(
    scenario: Scenario | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> Iterator[SimulatorHandle]:
    """Serve a simulator on a background thread for the duration of the `with` block."""
    simulator = Simulator(_as_scenario(scenario), clock=clock, sleep=sleep)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(simulator.app(), access_log=None, shutdown_timeout=0.5)
    ready = threading.Event()
    failure: list[BaseException] = []
    bound: list[int] = []

    async def stop() -> None:
        await runner.cleanup()
        # Handlers still sleeping out an injected delay would otherwise die with the loop.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound.append(runner.addresses[0][1])

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # reported to the caller's thread
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="cloudmodel-simulator", daemon=True)
    thread.start()
    ready.wait()
    try:
        if failure:
            raise failure[0]
        yield SimulatorHandle(simulator, f"http://{_url_host(host)}:{bound[0]}")
    finally:
        if not failure:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(scenario_path: str | None, host: str, port: int) -> int:
    """Serve in the foreground until interrupted; one log line per request."""
    if not logging.getLogger().handlers:
        logsetup.configure(logging.INFO)
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        log.error("%s", exc)
        return 2
    simulator = Simulator(scenario)
    log.info(
        "serving %d targets for %s on http://%s:%d (admin API under /_admin/)",
        len(scenario.targets),
        scenario_path or "the built-in sandbox scenario",
        host,
        port,
    )
    try:
        web.run_app(simulator.app(), host=host, port=port, print=None, access_log=None, shutdown_timeout=1.0)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        return 1
    log.info("stopped")
    return 0


__all__ = ["Simulator", "SimulatorHandle", "main", "run_in_thread"]

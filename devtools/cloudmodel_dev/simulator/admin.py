"""The admin API under /_admin/: inspect and change targets, script faults, read counters.

    GET    /_admin/targets                              every target with its state, overrides, faults
    PUT    /_admin/targets/{provider}/{id}              {"state":..., "response":{...}, "timeline":[...]}
    DELETE /_admin/targets/{provider}/{id}
    POST   /_admin/targets/{provider}/{id}/faults       one fault, e.g. {"kind":"throttle","count":2}
    DELETE /_admin/targets/{provider}/{id}/faults
    GET    /_admin/requests                             counters per provider and target, by outcome
    POST   /_admin/reset-counters

Bulk routes, for benchmarks that drive thousands of targets:

    POST   /_admin/bulk/targets     {"targets": [{"provider":..., "id":..., "state":..., "response":{...}}, ...]}
                                    create or change them all at once (all validated first)
    GET    /_admin/bulk/calls?since=EPOCH_SECONDS
                                    per target, the times of its calls since then, plus totals by outcome

Ids that contain '/' (ModelArts `project/service`, guardrail `1001/scene-2`) go in the path
verbatim; `%2F` works too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from cloudmodel_dev.simulator.scenario import ScenarioError, TimelineStep, format_validation_error
from cloudmodel_dev.simulator.state import UnknownTarget, validate_target_id

if TYPE_CHECKING:
    from cloudmodel_dev.simulator.server import Simulator

_TIMELINE = TypeAdapter(list[TimelineStep])
_TARGET = "/_admin/targets/{provider}/{target_id:.+}"


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not JSON: {exc}"}), content_type="application/json"
        ) from None


def _ids(request: web.Request) -> tuple[str, str]:
    return request.match_info["provider"], unquote(request.match_info["target_id"])


def add_routes(app: web.Application, simulator: Simulator) -> None:
    async def list_targets(request: web.Request) -> web.Response:
        return web.json_response({"targets": simulator.store.describe()})

    async def put_target(request: web.Request) -> web.Response:
        provider, target_id = _ids(request)
        body = await _json_body(request)
        if not isinstance(body, dict) or set(body) - {"state", "response", "timeline"}:
            return _problem(400, 'body must be an object with "state", "response" and/or "timeline"')
        state, response = body.get("state"), body.get("response")
        if state is not None and not isinstance(state, str):
            return _problem(400, '"state" must be a string')
        if response is not None and not isinstance(response, dict):
            return _problem(400, '"response" must be an object')
        try:
            timeline = _TIMELINE.validate_python(body["timeline"]) if "timeline" in body else None
            created = simulator.set_target(provider, target_id, state, response, timeline)
        except ValidationError as exc:
            return _problem(400, format_validation_error(exc, "timeline"))
        except ScenarioError as exc:
            return _problem(400, str(exc))
        row = next(t for t in simulator.store.describe() if (t["provider"], t["id"]) == (provider, target_id))
        return web.json_response(row, status=201 if created else 200)

    async def delete_target(request: web.Request) -> web.Response:
        provider, target_id = _ids(request)
        if not simulator.store.delete_target(provider, target_id):
            return _problem(404, f"no target {provider} {target_id}")
        return web.json_response({"deleted": f"{provider} {target_id}"})

    async def add_fault(request: web.Request) -> web.Response:
        provider, target_id = _ids(request)
        try:
            validate_target_id(provider, target_id)
            simulator.add_fault(provider, target_id, await _json_body(request))
        except ScenarioError as exc:
            return _problem(400, str(exc))
        except UnknownTarget:
            return _problem(404, f"no target {provider} {target_id}; create it with PUT first")
        return web.json_response({"added": True}, status=201)

    async def clear_faults(request: web.Request) -> web.Response:
        provider, target_id = _ids(request)
        return web.json_response({"cleared": simulator.clear_faults(provider, target_id)})

    async def requests(request: web.Request) -> web.Response:
        return web.json_response(simulator.store.counters())

    async def reset(request: web.Request) -> web.Response:
        simulator.reset_counters()
        return web.json_response({"reset": True})

    async def bulk_targets(request: web.Request) -> web.Response:
        body = await _json_body(request)
        changes = body.get("targets") if isinstance(body, dict) else None
        if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
            return _problem(400, 'body must be {"targets": [{"provider": ..., "id": ..., ...}, ...]}')
        try:
            created, updated = simulator.store.set_targets(changes)
        except ScenarioError as exc:
            return _problem(400, str(exc))
        return web.json_response(
            {"created": created, "updated": updated, "at": simulator.clock().timestamp()}
        )

    async def bulk_calls(request: web.Request) -> web.Response:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            return _problem(400, "since must be a number of seconds since the epoch")
        now = simulator.clock().timestamp()
        calls = [[p, t, times] for (p, t), times in simulator.store.calls_since(since).items()]
        return web.json_response({"now": now, "calls": calls, "outcomes": simulator.store.outcome_totals()})

    app.router.add_post("/_admin/bulk/targets", bulk_targets)
    app.router.add_get("/_admin/bulk/calls", bulk_calls)
    # The faults routes go first: `{target_id:.+}` would otherwise swallow the "/faults" suffix.
    app.router.add_post(_TARGET + "/faults", add_fault)
    app.router.add_delete(_TARGET + "/faults", clear_faults)
    app.router.add_get("/_admin/targets", list_targets)
    app.router.add_put(_TARGET, put_target)
    app.router.add_delete(_TARGET, delete_target)
    app.router.add_get("/_admin/requests", requests)
    app.router.add_post("/_admin/reset-counters", reset)

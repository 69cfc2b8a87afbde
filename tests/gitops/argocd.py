"""Runs the shipped Argo CD health check (manifests/argocd/health.lua) the way Argo CD does.

Argo CD evaluates the script with the live object bound to the global `obj` and reads the
returned table's `status` and `message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa

HEALTH_LUA = Path(__file__).resolve().parents[2] / "manifests" / "argocd" / "health.lua"


def _to_lua(runtime: lupa.LuaRuntime, value: Any) -> Any:
    if isinstance(value, dict):
        return runtime.table_from({k: _to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([_to_lua(runtime, v) for v in value])
    return value


def health(obj: dict[str, Any], script: str | None = None) -> tuple[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = _to_lua(runtime, obj)
    result = runtime.execute(script if script is not None else HEALTH_LUA.read_text())
    return str(result["status"]), str(result["message"])

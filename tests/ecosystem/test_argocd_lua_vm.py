"""The Argo CD health runner is Argo CD's VM, not a newer Lua with every library.

Argo CD runs argocd-cm health scripts in gopher-lua (Lua 5.1) with only the base, table and package
libraries. Each script below behaves differently there than in a stock Lua 5.4/5.5 with all
libraries; a health.lua relying on the stock behaviour would break health for every resource in
Argo CD. These cases pin the runner (hack/tools/gitops/argocd.go) to Argo CD's behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools import gitops_health

OBJ = {
    "apiVersion": "cloudmodel.io/v1alpha1",
    "kind": "CloudModelService",
    "metadata": {"name": "svc", "namespace": "ml", "generation": 3},
    "spec": {"replicas": 2.5},
    "status": {"replicas": {"ready": 2, "desired": 2}},
}

# (script, expected message) or (script, a fragment of the expected error)
CASES: list[tuple[str, str, str]] = [
    ("string library", 'return {status="Healthy", message=string.format("%d", 1)}', "error:'format'"),
    ("string methods", 'local s = "abc"; return {status="Healthy", message=s:sub(1, 1)}', "error:non-table"),
    ("math library", 'return {status="Healthy", message=tostring(math.floor(1.5))}', "error:'floor'"),
    ("os global", 'return {status="Healthy", message=tostring(os.time())}', "error:'time'"),
    ("floor division", 'return {status="Healthy", message=tostring(7 // 2)}', "error:"),
    ("integer division result", 'return {status="Healthy", message=tostring(2 / 2)}', "1"),
    ("integers from the object", 'return {status="Healthy", message=tostring(obj.metadata.generation)}', "3"),
    ("floats from the object", 'return {status="Healthy", message=tostring(obj.spec.replicas)}', "2.5"),
    (
        "concatenating numbers",
        'return {status="Healthy", message=obj.status.replicas.ready .. "/" .. 2}',
        "2/2",
    ),
    ("require os", 'local os = require("os"); return {status="Healthy", message=type(os.time())}', "number"),
    ("table library", 'local t = {}; table.insert(t, "a"); return {status="Healthy", message=t[1]}', "a"),
    ("io library", 'return {status="Healthy", message=tostring(io)}', "nil"),
    ("print goes nowhere near the result", 'print("noise"); return {status="Healthy", message="ok"}', "ok"),
]


@pytest.mark.parametrize(("name", "script", "expected"), CASES, ids=[c[0] for c in CASES])
def test_argocd_vm(tmp_path: Path, name: str, script: str, expected: str) -> None:
    path = tmp_path / "health.lua"
    path.write_text(script)
    decided = gitops_health("argocd", [OBJ], "--script", str(path))[0]
    if expected.startswith("error:"):
        assert "error" in decided, decided
        assert expected.removeprefix("error:") in decided["error"], decided
    else:
        assert decided == {"status": "Healthy", "message": expected}


def test_invalid_and_empty_results_are_read_like_argo_cd(tmp_path: Path) -> None:
    path = tmp_path / "health.lua"
    path.write_text('return {status="Fine"}')
    assert gitops_health("argocd", [OBJ], "--script", str(path))[0] == {
        "status": "Unknown",
        "message": "Lua returned an invalid health status",
    }
    path.write_text("return {}")
    assert gitops_health("argocd", [OBJ], "--script", str(path))[0] == {}
    path.write_text("return 5")
    assert "expect table output" in gitops_health("argocd", [OBJ], "--script", str(path))[0]["error"]


def test_a_runaway_script_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "health.lua"
    path.write_text("while true do end")
    assert "context deadline exceeded" in gitops_health("argocd", [OBJ], "--script", str(path))[0]["error"]

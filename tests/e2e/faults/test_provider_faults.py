"""Every provider fault we know of, through signed requests to the simulator, against the real API server.

One run serves all cases at once (they are independent resources, each with its own target and
Secret), because each needs the same minute of poll intervals: healthy for two polls, faulty for
about forty seconds, then healed. Each case is then its own test over what that run recorded:
the condition reasons, the provider calls the simulator counted (retries included), the Events,
how long `Ready` kept saying True, and the recovery without a restart.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.e2e.faults.support import CREDENTIALS, StatusRecorder, Version, condition, qianfan, ready_is
from tests.e2e.kube_helpers import install_crd, secret, wait_events
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e

INTERVAL = 10.0  # every resource's pollInterval (the CRD's minimum)
STALE_AFTER_POLLS = 2
STALE_WINDOW = INTERVAL * STALE_AFTER_POLLS  # Ready must leave True within this of the last success
DEADLINE = INTERVAL / 2  # one fetch's deadline, retries included
TERMINAL_RECHECK = 15.0
CREDENTIALS_RECHECK = 3.0
HEALTHY_POLLS = 2  # successful polls before the faults start
FAULTY_FOR = 40.0  # seconds: beyond the stale window plus one interval and a deadline
SAME_PASS = 4.5  # seconds: calls closer than this belong to one pass (retries wait at most 3s)
ALLOW_LOOPBACK = r"http://127\.0\.0\.1:\d+/?"


@dataclass(frozen=True)
class Case:
    name: str
    reason: str  # Synced's reason while the fault lasts
    calls_per_pass: int  # provider calls per failing pass (retries included)
    terminal: bool = False  # Ready leaves True at once, and the target is rechecked only on schedule
    fault: dict[str, Any] | None = None  # served by the simulator until the fault is healed
    synced: bool = False  # the fault is in the answer, not the fetch: Synced stays True
    ready_during: str | None = None  # Ready's status while the fault lasts, when it is immediate


CASES = [
    Case("5xx-streak", "ProviderUnreachable", 3, fault={"kind": "error", "status": 503}),
    Case("throttled", "Throttled", 3, fault={"kind": "throttle", "retryAfter": 1}),
    Case("timeout", "ProviderUnreachable", 1, fault={"kind": "timeout", "seconds": 60}),
    Case("slow-drip", "ProviderUnreachable", 1, fault={"kind": "drip", "seconds": 3}),
    Case("disconnect", "ProviderUnreachable", 3, fault={"kind": "disconnect"}),
    Case("bad-json", "InvalidResponse", 3, fault={"kind": "bad-json"}),
    Case("truncated", "ProviderUnreachable", 3, fault={"kind": "truncated"}),
    Case("unknown-state", "ObservationSucceeded", 1, fault={"kind": "unknown-state"}, synced=True,
         ready_during="Unknown"),
    Case("not-found", "NotFound", 1, terminal=True, fault={"kind": "not-found"}, ready_during="False"),
    Case("wrong-credentials", "AuthenticationFailed", 1, terminal=True, ready_during="Unknown"),
    Case("secret-deleted", "CredentialsMissing", 0, terminal=True, ready_during="Unknown"),
    Case("secret-key-missing", "CredentialsMissing", 0, terminal=True, ready_during="Unknown"),
]  # fmt: skip


@dataclass
class Run:
    cluster: Cluster
    namespace: str
    sim: SimulatorHandle
    recorder: StatusRecorder
    started: dict[str, float] = field(default_factory=dict)  # case -> when its fault began
    healed: dict[str, float] = field(default_factory=dict)  # case -> when its fault ended
    events: dict[str, list[Any]] = field(default_factory=dict)

    def unit(self, case: Case) -> str:
        return f"unit-{self.namespace}-{case.name}"

    def calls(self, case: Case, since: float = 0.0, until: float = float("inf")) -> list[tuple[float, str]]:
        return [
            (at, o)
            for at, o in self.sim.request_times("baidu-qianfan", self.unit(case))
            if since <= at < until
        ]


def passes(calls: list[tuple[float, str]]) -> list[list[tuple[float, str]]]:
    """Calls grouped into passes: retries follow within seconds, the next poll an interval later."""
    grouped: list[list[tuple[float, str]]] = []
    for call in calls:
        if grouped and call[0] - grouped[-1][-1][0] < SAME_PASS:
            grouped[-1].append(call)
        else:
            grouped.append([call])
    return grouped


def _break(run: Run, case: Case) -> None:
    ns, creds = run.namespace, f"creds-{case.name}"
    if case.fault is not None:
        run.sim.add_fault("baidu-qianfan", run.unit(case), {**case.fault, "count": -1})
    elif case.name == "wrong-credentials":
        secret(run.cluster, ns, creds, {**CREDENTIALS["baidu"], "secretKey": "not-the-baidu-secret"})
    elif case.name == "secret-deleted":
        run.cluster.kubectl("delete", "secret", creds, "-n", ns)
    elif case.name == "secret-key-missing":
        replaced = run.cluster.kubectl(
            "create", "secret", "generic", creds, "-n", ns, "--from-literal=accessKey=bce-sandbox-ak",
            "--dry-run=client", "-o", "yaml",
        ).stdout  # fmt: skip
        run.cluster.kubectl("replace", "-f", "-", stdin=replaced)


def _heal(run: Run, case: Case) -> None:
    if case.fault is not None:
        run.sim.clear_faults("baidu-qianfan", run.unit(case))
    else:
        secret(run.cluster, run.namespace, f"creds-{case.name}", CREDENTIALS["baidu"])


@pytest.fixture(scope="module")
def run(cluster: Cluster) -> Iterator[Run]:
    install_crd(cluster)
    ns = "provider-faults"
    cluster.kubectl("create", "namespace", ns)
    settings = Settings(
        namespaces=(ns,),
        stale_after_polls=STALE_AFTER_POLLS,
        terminal_recheck=timedelta(seconds=TERMINAL_RECHECK),
        credentials_ttl=timedelta(seconds=2),  # a changed Secret is used within two seconds
        credentials_recheck=timedelta(seconds=CREDENTIALS_RECHECK),  # a fixed Secret is noticed within
        metrics_port=0,
        allow_endpoints=(ALLOW_LOOPBACK,),
    )
    with run_in_thread(None) as sim, operator_in_thread(str(cluster.kubeconfig), settings):
        recorder = StatusRecorder(cluster, ns)
        world = Run(cluster, ns, sim, recorder)
        try:
            for case in CASES:
                sim.set_target("baidu-qianfan", world.unit(case), state="Running")
                secret(cluster, ns, f"creds-{case.name}", CREDENTIALS["baidu"])
                cluster.apply(qianfan(ns, case.name, sim.url, world.unit(case), secret=f"creds-{case.name}"))
            recorder.wait_all([c.name for c in CASES], ready_is("True"), timeout=30)
            for case in CASES:
                sim.wait_requests(
                    HEALTHY_POLLS, "baidu-qianfan", world.unit(case), "ok", timeout=3 * INTERVAL
                )
            for case in CASES:
                _break(world, case)
                world.started[case.name] = time.monotonic()
            # The faults last this long: the test is about what happens meanwhile.
            time.sleep(FAULTY_FOR)
            for case in CASES:
                _heal(world, case)
                world.healed[case.name] = time.monotonic()
            recovered = time.monotonic() + TERMINAL_RECHECK + INTERVAL + 5  # a terminal recheck, a pass
            for case in CASES:
                # Each from its own healing: the first healed may be Ready again before the last is.
                recorder.wait(case.name, ready_is("True"), since=world.healed[case.name],
                              timeout=max(recovered - time.monotonic(), 0.0))  # fmt: skip
            for case in CASES:
                # An Event is posted just after the write it is about: wait for the last ones.
                def complete(found: list[Any], case: Case = case) -> bool:
                    reasons = [e.reason for e in found]
                    return reasons.count("PhaseChanged") >= 2 and (case.synced or "Recovered" in reasons)

                mine = wait_events(cluster, ns, case.name, complete)
                world.events[case.name] = sorted(
                    mine, key=lambda e: (e.first_timestamp, e.metadata.creation_timestamp)
                )
            yield world
        finally:
            recorder.stop()


def _during(run: Run, case: Case) -> list[Version]:
    start, end = run.started[case.name], run.healed[case.name]
    return [v for v in run.recorder.history(case.name) if start <= v.at <= end and v.kind == "MODIFIED"]


def _first(versions: list[Version], predicate: Callable[[dict[str, Any]], bool]) -> Version | None:
    return next((v for v in versions if predicate(v.status)), None)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_status_says_what_failed(run: Run, case: Case) -> None:
    versions = _during(run, case)
    failing = _first(versions, lambda s: condition(s, "Synced").get("reason") == case.reason)
    assert failing is not None, (
        f"Synced never said {case.reason}: {[v.status.get('conditions') for v in versions]}"
    )
    status = failing.status
    if case.synced:
        assert condition(status, "Synced")["status"] == "True"
        assert "failure" not in status
    else:
        assert condition(status, "Synced")["status"] == "False"
        assert status["failure"]["reason"] == case.reason
        assert status["failure"]["retrying"] is not case.terminal
        assert condition(status, "Stalled")["status"] == ("True" if case.terminal else "False")
        if case.reason == "CredentialsMissing":
            assert status["failure"]["secret"] == f"creds-{case.name}"
        if case.name == "secret-key-missing":
            assert "secretKey" in status["failure"]["message"]
    # A failure never wipes the last observation.
    assert status["providerState"] in ("Running", "SandboxUnknownState")
    assert status["summary"]["computeUnits"] == "2/4"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ready_stops_saying_true_in_time(run: Run, case: Case) -> None:
    versions = _during(run, case)
    left = _first(versions, lambda s: condition(s, "Ready").get("status") != "True")
    assert left is not None, f"Ready stayed True through {FAULTY_FOR:.0f}s of {case.name}"
    ok = run.calls(case, until=run.started[case.name])
    last_success = ok[-1][0] if ok else run.started[case.name]
    first_failure = min((at for at, _ in run.calls(case, since=run.started[case.name])), default=None)
    blind = left.at - last_success
    print(f"\n{case.name}: Ready {condition(left.status, 'Ready')['status']} "
          f"({condition(left.status, 'Ready')['reason']}) {left.at - run.started[case.name]:.1f}s after the fault, "
          f"{blind:.1f}s after the last successful fetch")  # fmt: skip
    if case.ready_during is not None:
        # Terminal errors and answers the operator cannot map leave Ready at the first pass that sees them.
        assert condition(left.status, "Ready")["status"] == case.ready_during
        seen_at = first_failure if first_failure is not None else run.started[case.name]
        immediate = INTERVAL * 1.1 + DEADLINE + 3 if case.reason == "CredentialsMissing" else 3
        assert left.at - seen_at < immediate, f"{left.at - seen_at:.1f}s after the failing pass"
    else:
        assert condition(left.status, "Ready") == {**condition(left.status, "Ready"), "status": "Unknown",
                                                   "reason": "StaleObservation"}  # fmt: skip
        # Never True while blind beyond the window (one poll and one fetch deadline to notice) ...
        assert blind <= STALE_WINDOW + INTERVAL * 1.1 + DEADLINE + 2
        # ... and never Unknown before the window has passed since the last success.
        assert blind > STALE_WINDOW, (
            f"stale after {blind:.1f}s without success, the window is {STALE_WINDOW}s"
        )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_provider_is_called_as_documented(run: Run, case: Case) -> None:
    calls = run.calls(case, since=run.started[case.name], until=run.healed[case.name])
    grouped = passes(calls)
    print(f"\n{case.name}: {len(calls)} calls in {len(grouped)} passes over {FAULTY_FOR:.0f}s: "
          f"{[len(p) for p in grouped]}")  # fmt: skip
    if case.calls_per_pass == 0:
        assert calls == [], "the provider was called without usable credentials"
        return
    # The last pass may be cut off by the healing; every other pass made exactly its calls.
    assert all(len(p) == case.calls_per_pass for p in grouped[:-1]), [len(p) for p in grouped]
    assert 1 <= len(grouped[-1]) <= case.calls_per_pass
    starts = [p[0][0] for p in grouped]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if case.terminal:
        assert all(gap >= TERMINAL_RECHECK - 0.5 for gap in gaps), gaps  # never retried quickly
        assert len(grouped) <= FAULTY_FOR / TERMINAL_RECHECK + 1
    else:
        assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps  # one pass per poll interval
        assert len(grouped) >= 2
    if case.name == "throttled":
        waits = [b[0] - a[0] for p in grouped for a, b in itertools.pairwise(p)]
        assert all(wait >= 1.0 for wait in waits), f"retried before the provider's Retry-After: {waits}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_event_per_transition(run: Run, case: Case) -> None:
    events = run.events[case.name]
    described = [(e.reason, e.message, e.count) for e in events]
    print(f"\n{case.name}: {[(r, c) for r, _, c in described]}")
    assert all(count == 1 for _, _, count in described), described  # not one per poll
    reasons = [reason for reason, _, _ in described]
    if not case.synced:
        assert reasons.count(case.reason) == 1
        assert reasons.count("Recovered") == 1
    phases = [m for r, m, _ in described if r == "PhaseChanged"]
    assert len(phases) == 2, phases  # away from Ready, and back
    assert phases[0].startswith("phase Ready -> Unknown")
    assert phases[1].startswith("phase Unknown -> Ready")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_recovery_without_a_restart(run: Run, case: Case) -> None:
    after = [v for v in run.recorder.history(case.name) if v.at >= run.healed[case.name]]
    back = _first(after, lambda s: condition(s, "Ready").get("status") == "True")
    assert back is not None
    took = back.at - run.healed[case.name]
    print(f"\n{case.name}: Ready again {took:.1f}s after the fault ended")
    status = back.status
    assert "failure" not in status
    assert condition(status, "Synced")["reason"] == "ObservationSucceeded"
    assert condition(status, "Stalled")["status"] == "False"
    # A target back at the provider is seen at the next terminal recheck; a fixed Secret within
    # the credentials recheck; anything else at the next poll.
    if case.reason == "NotFound":
        bound = TERMINAL_RECHECK
    elif case.fault is None:
        bound = CREDENTIALS_RECHECK + 1
    else:
        bound = INTERVAL * 1.1
    assert took < bound + DEADLINE + 2

"""The simulator's mutable world: targets (state, overrides, timeline, faults) and counters.

Everything is guarded by one lock because the HTTP handlers run on the server's event loop while
tests change targets from their own thread.
"""

from __future__ import annotations

import bisect
import copy
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from cloudmodel_dev.simulator.apis import APIS
from cloudmodel_dev.simulator.bodies import seeds
from cloudmodel_dev.simulator.scenario import (
    PROVIDERS,
    Fault,
    ScenarioError,
    TargetSpec,
    TimelineStep,
    check_target_id,
    format_validation_error,
)

Clock = Callable[[], datetime]
REQUEST_LOG = 200_000  # requests whose arrival times are kept (tests measure retries and passes)


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`: dicts merge recursively, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class _LiveFault:
    fault: Fault
    remaining: int  # -1: forever


@dataclass
class LiveTarget:
    provider: str
    id: str
    state: str
    response: dict[str, Any]
    timeline: list[TimelineStep]
    defined_at: datetime
    faults: deque[_LiveFault] = field(default_factory=deque)

    def effective(self, now: datetime) -> tuple[str, dict[str, Any]]:
        """The state and response overrides in force at `now` (timeline steps applied in order)."""
        state, response = self.state, self.response
        elapsed = now - self.defined_at
        for step in self.timeline:
            if step.after > elapsed:
                break
            if step.state is not None:
                state = step.state
            if step.response is not None:
                response = deep_merge(response, step.response)
        return state, response


class UnknownTarget(KeyError):
    """No such target."""


class Store:
    def __init__(self, targets: Iterable[TargetSpec], clock: Clock) -> None:
        self._lock = threading.Condition()  # notified on every request, for tests that await one
        self._clock = clock
        self._targets: dict[tuple[str, str], LiveTarget] = {}
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._call_times: dict[tuple[str, str], list[float]] = {}  # for schedules; see calls_since()
        # (time.monotonic() on arrival, provider, target, outcome) of the latest requests.
        self._log: deque[tuple[float, str, str, str]] = deque(maxlen=REQUEST_LOG)
        for spec in targets:
            self._define(spec.provider, spec.id, spec.state, spec.response, spec.timeline, spec.faults)

    def _define(
        self,
        provider: str,
        target_id: str,
        state: str | None,
        response: Mapping[str, Any],
        timeline: list[TimelineStep],
        faults: Iterable[Fault],
    ) -> LiveTarget:
        target = LiveTarget(
            provider=provider,
            id=target_id,
            state=state or APIS[provider].default_state(),
            response=dict(response),
            timeline=list(timeline),
            defined_at=self._clock(),
        )
        target.faults.extend(_LiveFault(fault, fault.count) for fault in faults)
        self._targets[(provider, target_id)] = target
        return target

    def set_target(
        self,
        provider: str,
        target_id: str,
        state: str | None = None,
        response: Mapping[str, Any] | None = None,
        timeline: list[TimelineStep] | None = None,
    ) -> bool:
        """Create or update a target; returns True when it was created.

        A new `state` replaces the timeline (explicit control wins over the script) unless a new
        timeline comes with it; a new `response` replaces the previous overrides.
        """
        if provider not in PROVIDERS:
            raise ScenarioError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
        # Validate through the scenario model so the rules and messages are the same as the file's.
        try:
            TargetSpec.model_validate({"provider": provider, "id": target_id, "state": state})
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc, f"target {provider} {target_id!r}")) from None
        with self._lock:
            existing = self._targets.get((provider, target_id))
            if existing is None:
                self._define(provider, target_id, state, response or {}, timeline or [], ())
                return True
            if state is not None:
                existing.state = state
                existing.timeline = []
            if response is not None:
                existing.response = dict(response)
            if timeline is not None:
                existing.timeline = list(timeline)
            if state is not None or timeline is not None:
                existing.defined_at = self._clock()
            return False

    def delete_target(self, provider: str, target_id: str) -> bool:
        with self._lock:
            return self._targets.pop((provider, target_id), None) is not None

    def add_fault(self, provider: str, target_id: str, fault: Fault) -> None:
        with self._lock:
            target = self._targets.get((provider, target_id))
            if target is None:
                raise UnknownTarget(f"{provider} {target_id}")
            target.faults.append(_LiveFault(fault, fault.count))

    def clear_faults(self, provider: str | None = None, target_id: str | None = None) -> int:
        with self._lock:
            cleared = 0
            for (p, t), target in self._targets.items():
                if (provider is None or p == provider) and (target_id is None or t == target_id):
                    cleared += len(target.faults)
                    target.faults.clear()
            return cleared

    def take_fault(self, provider: str, target_id: str) -> Fault | None:
        """The fault to serve for this request, consuming one use of it."""
        with self._lock:
            target = self._targets.get((provider, target_id))
            if target is None or not target.faults:
                return None
            live = target.faults[0]
            if live.remaining > 0:
                live.remaining -= 1
                if live.remaining == 0:
                    target.faults.popleft()
            return live.fault

    def render(self, provider: str, target_id: str) -> dict[str, Any] | None:
        """The response body the target serves now, or None when there is no such target."""
        with self._lock:
            target = self._targets.get((provider, target_id))
            if target is None:
                return None
            state, response = target.effective(self._clock())
        return deep_merge(APIS[provider].default_body(target_id, state), response)

    def render_verbatim(self, provider: str, target_id: str) -> bytes | None:
        """The seed example's own bytes, when the target is an example serving it unchanged."""
        if not seeds.is_example(provider, target_id):
            return None
        with self._lock:
            target = self._targets.get((provider, target_id))
            if target is None:
                return None
            state, response = target.effective(self._clock())
        if response or state != seeds.EXAMPLE_STATES[provider]:
            return None
        return seeds.example_bytes(provider)

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            now = self._clock()
            rows = []
            for target in self._targets.values():
                state, _ = target.effective(now)
                rows.append(
                    {
                        "provider": target.provider,
                        "id": target.id,
                        "state": state,
                        "baseState": target.state,
                        "response": copy.deepcopy(target.response),
                        "timeline": [step.model_dump(mode="json") for step in target.timeline],
                        "faults": [
                            {**live.fault.model_dump(exclude_none=True), "remaining": live.remaining}
                            for live in target.faults
                        ],
                    }
                )
            return rows

    def record(self, provider: str, target_id: str, outcome: str) -> None:
        with self._lock:
            self._counts[(provider, target_id, outcome)] += 1
            self._call_times.setdefault((provider, target_id), []).append(self._clock().timestamp())
            self._log.append((time.monotonic(), provider, target_id, outcome))
            self._lock.notify_all()

    def count(
        self, provider: str | None = None, target: str | None = None, outcome: str | None = None
    ) -> int:
        with self._lock:
            return self._count(provider, target, outcome)

    def _count(self, provider: str | None, target: str | None, outcome: str | None) -> int:
        return sum(
            n
            for (p, t, o), n in self._counts.items()
            if (provider is None or p == provider)
            and (target is None or t == target)
            and (outcome is None or o == outcome)
        )

    def times(
        self, provider: str | None = None, target: str | None = None, outcome: str | None = None
    ) -> list[tuple[float, str]]:
        """(time.monotonic() on arrival, outcome) of the logged requests that match, oldest first."""
        with self._lock:
            return [
                (at, o)
                for at, p, t, o in self._log
                if (provider is None or p == provider)
                and (target is None or t == target)
                and (outcome is None or o == outcome)
            ]

    def wait_count(
        self,
        count: int,
        provider: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
        *,
        timeout: float,
    ) -> int:
        """Block until at least `count` matching requests arrived (since the last reset); the count.

        Raises TimeoutError after `timeout` seconds.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: self._count(provider, target, outcome) >= count, timeout):
                have = self._count(provider, target, outcome)
                raise TimeoutError(f"{have} of {count} requests to {provider} {target} ({outcome or 'any'})")
            return self._count(provider, target, outcome)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            providers: dict[str, Counter[str]] = {}
            targets: dict[str, dict[str, Counter[str]]] = {}
            for (p, t, o), n in self._counts.items():
                providers.setdefault(p, Counter())[o] += n
                targets.setdefault(p, {}).setdefault(t, Counter())[o] += n
            return {
                "total": sum(self._counts.values()),
                "providers": {p: dict(c) for p, c in providers.items()},
                "targets": {p: {t: dict(c) for t, c in ts.items()} for p, ts in targets.items()},
            }

    def reset_counters(self) -> None:
        with self._lock:
            self._counts.clear()
            self._call_times.clear()
            self._log.clear()

    # ---- bulk operations (benchmarks drive thousands of targets) ----------------------------

    def set_targets(self, changes: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
        """Apply many `set_target` changes at one instant; returns (created, updated).

        Each change is `{"provider", "id", "state"?, "response"?}`; all are validated before any
        is applied, so a bad one changes nothing.
        """
        parsed: list[tuple[str, str, str | None, Mapping[str, Any] | None]] = []
        for index, change in enumerate(changes):
            provider, target_id = change.get("provider"), change.get("id")
            state, response = change.get("state"), change.get("response")
            if not isinstance(provider, str) or not isinstance(target_id, str):
                raise ScenarioError(f"targets[{index}]: 'provider' and 'id' must be strings")
            if state is not None and not isinstance(state, str):
                raise ScenarioError(f"targets[{index}]: 'state' must be a string")
            if response is not None and not isinstance(response, Mapping):
                raise ScenarioError(f"targets[{index}]: 'response' must be an object")
            try:
                TargetSpec.model_validate({"provider": provider, "id": target_id, "state": state})
            except ValidationError as exc:
                raise ScenarioError(format_validation_error(exc, f"targets[{index}]")) from None
            parsed.append((provider, target_id, state, response))
        created = 0
        for provider, target_id, state, response in parsed:
            created += self.set_target(provider, target_id, state, response)
        return created, len(parsed) - created

    def calls_since(self, since: float) -> dict[tuple[str, str], list[float]]:
        """Per target, the times (epoch seconds, the simulator's clock) of calls at or after `since`."""
        with self._lock:
            result: dict[tuple[str, str], list[float]] = {}
            for key, times in self._call_times.items():
                if times and times[-1] >= since:
                    result[key] = times[bisect.bisect_left(times, since) :]
            return result

    def outcome_totals(self) -> dict[str, dict[str, int]]:
        """Calls per provider and outcome, without the per-target breakdown of `counters()`."""
        with self._lock:
            totals: dict[str, Counter[str]] = {}
            for (p, _, o), n in self._counts.items():
                totals.setdefault(p, Counter())[o] += n
            return {p: dict(c) for p, c in totals.items()}


def validate_target_id(provider: str, target_id: str) -> None:
    if provider not in PROVIDERS:
        raise ScenarioError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    try:
        check_target_id(provider, target_id)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None

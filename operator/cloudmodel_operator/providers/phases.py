"""The one rule that turns a provider's documented states into a phase, for every provider.

A target has a state of its own (Hologres AI node `status`, ModelArts service `status`, Qianfan
compute unit `status`) and parts with states of their own (model services, model configs, edge
nodes; a part may have parts too). The rule, applied at every level:

1. Only documented state fields decide. Free text (`message`, `error_msg`) is shown in the status
   but never read: a service that is `Running` with the message "Failed" is running.
2. The target's own state comes first. Stopped, Failed and Unknown stand as they are: parts
   cannot make a stopped or failed target better, and an unknown state is not guessed at.
3. Parts can only make a Ready, Progressing or Degraded target worse, never better. The parts
   together read: all Failed -> Failed; some Failed or Degraded -> Degraded; any Progressing ->
   Progressing; any Unknown -> Unknown; all Stopped -> Stopped; else Ready (a part stopped
   among ready ones does not degrade the target: it was stopped on purpose, and is named in
   the message). A Ready target takes that reading; a Progressing or Degraded one takes it only
   when it is worse (Progressing < Degraded < Failed).
4. A target without a state of its own (the field is absent) takes its parts' reading; with
   neither, Unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cloudmodel_operator.api.observation import Phase

# How bad a phase is, for "only worse" (rule 3). Ready, Stopped and Unknown never worsen anything.
SEVERITY: Mapping[Phase, int] = {Phase.PROGRESSING: 1, Phase.DEGRADED: 2, Phase.FAILED: 3}


def of_parts(parts: Iterable[Phase]) -> Phase | None:
    """What the parts say together (rule 3), or None when there are none."""
    phases = list(parts)
    if not phases:
        return None
    if all(p is Phase.FAILED for p in phases):
        return Phase.FAILED
    if any(p in (Phase.FAILED, Phase.DEGRADED) for p in phases):
        return Phase.DEGRADED
    if Phase.PROGRESSING in phases:
        return Phase.PROGRESSING
    if Phase.UNKNOWN in phases:
        return Phase.UNKNOWN
    if all(p is Phase.STOPPED for p in phases):
        return Phase.STOPPED
    return Phase.READY


def combine(own: Phase | None, parts: Iterable[Phase] = ()) -> Phase:
    """The phase of a target whose own state reads `own` (None: absent) and whose parts read `parts`."""
    together = of_parts(parts)
    if own is None:
        return together or Phase.UNKNOWN
    if together is None or own in (Phase.STOPPED, Phase.FAILED, Phase.UNKNOWN):
        return own
    if own is Phase.READY:
        return together
    return together if SEVERITY.get(together, 0) > SEVERITY[own] else own


def lookup(table: Mapping[str, Phase], state: str | None) -> Phase | None:
    """A documented state's phase; None when the field is absent, Unknown when the value is new."""
    if state is None:
        return None
    return table.get(state, Phase.UNKNOWN)

"""The status as written to the API server: no nulls, no empty lists or maps, Kubernetes timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Phase,
    Replicas,
    Resources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.api.status import CloudModelServiceStatus, Condition, Failure, Summary

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_an_empty_status_writes_only_its_phase() -> None:
    assert CloudModelServiceStatus().document() == {"phase": "Unknown"}


def test_none_fields_are_left_out() -> None:
    status = CloudModelServiceStatus(
        phase=Phase.READY, providerState=None, billing=Billing(chargeType="PostPaid", autoRenew=None)
    )
    assert status.document() == {"phase": "Ready", "billing": {"chargeType": "PostPaid"}}


def test_empty_lists_and_maps_are_pruned_at_every_depth() -> None:
    status = CloudModelServiceStatus(
        phase=Phase.READY,
        services=[],
        endpoints=[],
        attributes={},
        conditions=[],
        summary=Summary(),  # every field None: an empty map once the nulls are gone
        resources=Resources(gpu=Usage()),  # {"gpu": {}} -> {} -> gone
        replicas=Replicas(desired=2, ready=2),
    )
    assert status.document() == {"phase": "Ready", "replicas": {"desired": 2, "ready": 2}}


def test_empty_values_inside_list_items_are_pruned_too() -> None:
    status = CloudModelServiceStatus(services=[ServiceStatus(name="m", attributes={})])
    assert status.document()["services"] == [{"name": "m", "phase": "Unknown"}]


def test_zero_false_and_empty_strings_are_values_not_absence() -> None:
    status = CloudModelServiceStatus(
        replicas=Replicas(desired=0, ready=0),
        billing=Billing(autoRenew=False),
        conditions=[
            Condition(type="Ready", status="False", reason="Stopped", message="", lastTransitionTime=T0)
        ],
    )
    document = status.document()
    assert document["replicas"] == {"desired": 0, "ready": 0}
    assert document["billing"] == {"autoRenew": False}
    assert document["conditions"][0]["message"] == ""


def test_timestamps_are_rfc3339_utc_seconds() -> None:
    beijing = timezone(timedelta(hours=8))
    status = CloudModelServiceStatus(
        lastSyncTime=datetime(2026, 11, 20, 16, 0, 5, 123456, tzinfo=beijing),
        conditions=[
            Condition(type="Ready", status="True", reason="Available", lastTransitionTime=T0),
        ],
    )
    document = status.document()
    assert document["lastSyncTime"] == "2026-11-20T08:00:05Z"
    assert document["conditions"][0]["lastTransitionTime"] == "2026-11-20T08:00:00Z"


def test_a_written_status_reads_back_the_same() -> None:
    status = CloudModelServiceStatus(
        observedGeneration=3,
        phase=Phase.DEGRADED,
        providerState="ResourceReady",
        target="inst-1",
        summary=Summary(replicas="1/2"),
        replicas=Replicas(desired=2, ready=1),
        endpoints=[Endpoint(type="public", url="https://example.invalid/api")],
        lastSyncTime=T0,
        failure=Failure(
            reason="Throttled", message="slow down", since=T0, consecutiveFailures=2, retrying=True
        ),
        conditions=[Condition(type="Ready", status="False", reason="Degraded", lastTransitionTime=T0)],
    )
    assert CloudModelServiceStatus.from_object(status.document()) == status


def test_unreadable_or_missing_status_counts_as_none() -> None:
    assert CloudModelServiceStatus.from_object(None) == CloudModelServiceStatus()
    assert CloudModelServiceStatus.from_object({}) == CloudModelServiceStatus()
    assert CloudModelServiceStatus.from_object({"phase": "Exploded"}) == CloudModelServiceStatus()
    assert CloudModelServiceStatus.from_object({"unknownField": 1}) == CloudModelServiceStatus()

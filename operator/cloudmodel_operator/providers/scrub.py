"""Every provider-sourced string and list, scrubbed and capped before it becomes status data.

One function for every text (`redact`: registered secrets, the request's own credentials and
secret-shaped text masked, then a length cap with a visible mark) and one cap for every list,
applied to the whole `Observation` and to every `ProviderError` by `Provider.observe`. Totals
(replicas, phase) are computed by the mappings over the full lists before anything is cut.
"""

from __future__ import annotations

from collections.abc import Collection

from cloudmodel_operator.api.observation import Billing, Endpoint, Observation, ServiceStatus
from cloudmodel_operator.providers.base import ProviderError
from cloudmodel_operator.redact import redact

MESSAGE_LIMIT = 1024  # the resource's message and error messages
SERVICE_MESSAGE_LIMIT = 512
TEXT_LIMIT = 256  # names, ids, states, versions
KEY_LIMIT = 63
ATTRIBUTE_LIMIT = 512
SERVICE_ATTRIBUTE_LIMIT = 256
URL_LIMIT = 2048  # a longer URL is dropped, not cut: half a URL is not an address
MAX_SERVICES = 50
MAX_ENDPOINTS = 20
MAX_ATTRIBUTES = 64
MAX_SERVICE_ATTRIBUTES = 16


def _text(value: str | None, secrets: Collection[str], limit: int = TEXT_LIMIT) -> str | None:
    return None if value is None else redact(value, limit=limit, secrets=secrets)


def _attributes(values: dict[str, str], secrets: Collection[str], most: int, limit: int) -> dict[str, str]:
    kept = dict(list(values.items())[:most])
    cleaned = {
        redact(key, limit=KEY_LIMIT, secrets=secrets): redact(value, limit=limit, secrets=secrets)
        for key, value in kept.items()
    }
    if len(values) > most:
        cleaned["attributesOmitted"] = str(len(values) - most)
    return cleaned


def _service(service: ServiceStatus, secrets: Collection[str]) -> ServiceStatus:
    return service.model_copy(
        update={
            "name": _text(service.name, secrets) or "(unnamed)",
            "id": _text(service.id, secrets),
            "model": _text(service.model, secrets),
            "version": _text(service.version, secrets),
            "taskType": _text(service.taskType, secrets),
            "state": _text(service.state, secrets),
            "specification": _text(service.specification, secrets),
            "message": _text(service.message, secrets, SERVICE_MESSAGE_LIMIT),
            "attributes": _attributes(
                service.attributes, secrets, MAX_SERVICE_ATTRIBUTES, SERVICE_ATTRIBUTE_LIMIT
            ),
        }
    )


def _endpoints(endpoints: list[Endpoint], secrets: Collection[str]) -> tuple[list[Endpoint], int]:
    usable = [e for e in endpoints if len(e.url) <= URL_LIMIT]
    kept = [
        e.model_copy(update={"url": redact(e.url, limit=URL_LIMIT, secrets=secrets)})
        for e in usable[:MAX_ENDPOINTS]
    ]
    return kept, len(endpoints) - len(kept)


def _billing(billing: Billing | None, secrets: Collection[str]) -> Billing | None:
    if billing is None:
        return None
    return billing.model_copy(
        update={
            "chargeType": _text(billing.chargeType, secrets),
            "autoRenewPeriod": _text(billing.autoRenewPeriod, secrets),
        }
    )


def scrub_observation(observation: Observation, secrets: Collection[str]) -> Observation:
    """A copy with every provider-sourced string scrubbed and capped and every list capped."""
    services = observation.services
    omitted_services = max(0, len(services) - MAX_SERVICES)
    endpoints, omitted_endpoints = _endpoints(observation.endpoints, secrets)
    attributes = _attributes(observation.attributes, secrets, MAX_ATTRIBUTES, ATTRIBUTE_LIMIT)
    notes = []
    if omitted_services:
        attributes["servicesOmitted"] = str(omitted_services)
        notes.append(f"{omitted_services} more services not shown")
    if omitted_endpoints:
        attributes["endpointsOmitted"] = str(omitted_endpoints)
    # Notes first, so the length cap cannot cut them off a long message.
    message = "; ".join(part for part in (*notes, observation.message) if part) or None
    return observation.model_copy(
        update={
            "providerState": _text(observation.providerState, secrets),
            "message": _text(message, secrets, MESSAGE_LIMIT),
            "services": [_service(s, secrets) for s in services[:MAX_SERVICES]],
            "endpoints": endpoints,
            "billing": _billing(observation.billing, secrets),
            "requestId": _text(observation.requestId, secrets),
            "attributes": attributes,
        }
    )


def scrub_error(error: ProviderError, secrets: Collection[str]) -> ProviderError:
    """The same error with its provider-sourced texts scrubbed and capped (changed in place)."""
    error.message = redact(error.message, limit=MESSAGE_LIMIT, secrets=secrets)
    error.args = (error.message,)
    error.code = _text(error.code, secrets)
    error.request_id = _text(error.request_id, secrets)
    return error

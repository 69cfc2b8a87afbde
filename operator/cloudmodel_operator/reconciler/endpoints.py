"""Moved to `cloudmodel_operator.providers.endpoints`; this re-export keeps old imports working."""

from cloudmodel_operator.providers.endpoints import EndpointNotAllowed, EndpointPolicy

__all__ = ["EndpointNotAllowed", "EndpointPolicy"]

"""Default response bodies, one module per provider API, built from each seed document's example.

Every credential-like field carries a recognisable fake secret from `SECRET_VALUES` so tests can
sweep statuses, events and logs for any of them. The request id field is left out: each answer
gets a fresh one (in the body and the provider's request-id header) unless an override sets it.
"""

from __future__ import annotations

from cloudmodel_dev.simulator.bodies import guardrail, hologres, modelarts, qianfan

HOLOGRES_API_KEY = hologres.API_KEY
GUARDRAIL_MODEL_TOKEN = guardrail.MODEL_TOKEN
MODELARTS_ENV_SECRET = modelarts.ENV_SECRET
MODELARTS_DEW_SECRET = modelarts.DEW_SECRET

SECRET_MARKER = "sandbox-SECRET"  # noqa: S105 - every fake secret below contains it
SECRET_VALUES: tuple[str, ...] = (
    HOLOGRES_API_KEY,
    GUARDRAIL_MODEL_TOKEN,
    MODELARTS_ENV_SECRET,
    MODELARTS_DEW_SECRET,
)

__all__ = [
    "GUARDRAIL_MODEL_TOKEN",
    "HOLOGRES_API_KEY",
    "MODELARTS_DEW_SECRET",
    "MODELARTS_ENV_SECRET",
    "SECRET_MARKER",
    "SECRET_VALUES",
    "guardrail",
    "hologres",
    "modelarts",
    "qianfan",
]

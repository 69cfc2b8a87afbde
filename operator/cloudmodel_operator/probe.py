"""`cloudmodel probe`: fetch one provider target from a workstation and print its status as YAML.

The fetch goes through the operator's own path (endpoint policy, rate limiter, retry policy,
provider client and mapping), so what it prints is what the operator would write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cloudmodel_operator import logsetup
from cloudmodel_operator.api.spec import CloudModelServiceSpec
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.engine.fetcher import Fetcher
from cloudmodel_operator.engine.status_builder import Context, Observed, build_status
from cloudmodel_operator.providers.base import Credentials, CredentialsError, ProviderError
from cloudmodel_operator.providers.endpoints import EndpointNotAllowed, EndpointPolicy
from cloudmodel_operator.providers.http import make_client
from cloudmodel_operator.redact import install_log_redaction, redact, register_secret

# Which spec field `--id` fills, per provider.
ID_FIELD = {
    "alibaba-hologres": "instanceId",
    "baidu-qianfan": "instanceId",
    "huawei-modelarts": "serviceId",
    "alibaba-guardrail": "modelInstanceId",
}


PROBE_DEADLINE = 60.0


class ProbeError(Exception):
    """A one-line, user-facing reason the probe could not print a status."""


def load_credentials(path: str) -> Credentials:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ProbeError(f"cannot read credentials file {path}: {exc.strerror}") from exc
    try:
        data: Any = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ProbeError(f"credentials file {path} is not valid YAML or JSON") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
        raise ProbeError(f"credentials file {path} must be a mapping of key: value strings")
    credentials = Credentials({str(key): str(value) for key, value in data.items()})
    for secret in credentials.secret_values():
        register_secret(secret)
    return credentials


def build_spec(args: argparse.Namespace) -> CloudModelServiceSpec:
    fields: dict[str, Any] = {
        "provider": args.provider,
        "region": args.region,
        ID_FIELD[args.provider]: args.id,
        "credentialsSecretRef": {"name": "probe"},
    }
    if args.project_id:
        fields["projectId"] = args.project_id
    if args.scene_type is not None:
        fields["sceneType"] = args.scene_type
    if args.endpoint:
        fields["endpoint"] = args.endpoint
    if args.provider == "huawei-modelarts" and not args.project_id:
        raise ProbeError("--project-id is required for huawei-modelarts")
    if args.provider == "alibaba-guardrail" and args.scene_type is None:
        raise ProbeError("--scene-type is required for alibaba-guardrail")
    try:
        return CloudModelServiceSpec.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProbeError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


async def probe(args: argparse.Namespace) -> CloudModelServiceStatus:
    spec = build_spec(args)
    credentials = load_credentials(args.credentials_file)
    target = spec.target()
    async with make_client() as client:
        fetcher = Fetcher(client=client, policy=EndpointPolicy(args.allow_endpoint))
        try:
            observation = await fetcher.fetch(
                fetcher.key(target, credentials), credentials, within=PROBE_DEADLINE
            )
        except TimeoutError:
            raise ProbeError(f"no complete answer from the provider within {PROBE_DEADLINE:g}s") from None
    context = Context(
        generation=None,
        target=target.display,
        provider=spec.provider,
        now=datetime.now(UTC),
        stale_after=timedelta(days=1),
    )
    return build_status(CloudModelServiceStatus(), Observed(observation), context)


def main(args: argparse.Namespace) -> int:
    logsetup.configure(logging.WARNING, "%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    try:
        status = asyncio.run(probe(args))
    except ProviderError as exc:
        print(f"cloudmodel probe: {args.provider}: {redact(str(exc))}", file=sys.stderr)
        return 1
    except (CredentialsError, EndpointNotAllowed, ProbeError) as exc:
        print(f"cloudmodel probe: {redact(str(exc))}", file=sys.stderr)
        return 2
    document = status.document()
    yaml.safe_dump(document, sys.stdout, sort_keys=False, allow_unicode=True)
    return 0

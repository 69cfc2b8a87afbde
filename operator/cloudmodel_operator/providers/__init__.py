"""Provider registry: the `spec.provider` value -> its implementation."""

from __future__ import annotations

import importlib
from functools import cache

from cloudmodel_operator.providers.base import Provider

# spec.provider value -> "module:Class"; imported lazily so one provider's import cost is not all's.
PROVIDERS: dict[str, str] = {
    "alibaba-hologres": "cloudmodel_operator.providers.alibaba.hologres:HologresProvider",
    "alibaba-guardrail": "cloudmodel_operator.providers.alibaba.guardrail:GuardrailProvider",
    "huawei-modelarts": "cloudmodel_operator.providers.huawei.modelarts:ModelArtsProvider",
    "baidu-qianfan": "cloudmodel_operator.providers.baidu.qianfan:QianfanProvider",
}


@cache
def get_provider(name: str) -> Provider:
    """The provider implementation for a `spec.provider` value (KeyError when unknown)."""
    module_name, _, class_name = PROVIDERS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: Provider = cls()
    return provider

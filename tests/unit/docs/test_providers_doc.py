"""docs/providers.md must account for every field and state the providers answer with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cloudmodel_dev.simulator.bodies import guardrail, hologres, modelarts, qianfan
from cloudmodel_operator.providers.alibaba import mapping as alibaba
from cloudmodel_operator.providers.baidu import mapping as baidu
from cloudmodel_operator.providers.huawei import mapping as huawei

DOC = Path(__file__).parents[3] / "docs" / "providers.md"
# Free-form maps whose keys are the user's, not the API's.
OPAQUE = {"envs", "additional_properties"}

BODIES = {
    "alibaba-hologres": hologres.default_body("hgpostcn-cn-x", "ResourceReady"),
    "alibaba-guardrail": guardrail.default_body("1/2", "ok"),
    "huawei-modelarts": modelarts.default_body("p/s", "running"),
    "baidu-qianfan": qianfan.default_body("unit-x", "Running"),
}
STATES = {
    "alibaba-hologres": [*alibaba.NODE_PHASES, *alibaba.SERVICE_PHASES],
    "huawei-modelarts": [*huawei.CONFIG_PHASES],
    "baidu-qianfan": [*baidu.UNIT_PHASES, *baidu.RUN_PHASES, *baidu.SCALE_PHASES],
}


def section(provider: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## `{re.escape(provider)}`.*?(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/providers.md has no section for {provider}"
    return match.group(0)


def field_paths(value: Any, prefix: str = "") -> list[str]:
    paths: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if key in OPAQUE or not isinstance(child, dict):  # an object is covered by its fields
                paths.append(path)
            if key not in OPAQUE:
                paths.extend(field_paths(child, path))
    elif isinstance(value, list) and value:
        paths.extend(field_paths(value[0], f"{prefix}[]"))
    return paths


@pytest.mark.parametrize("provider", sorted(BODIES))
def test_every_response_field_has_a_mapping_row(provider: str) -> None:
    text = section(provider)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    missing = []
    for path in field_paths(BODIES[provider]):
        leaf = path.rsplit(".", 1)[-1].removesuffix("[]")
        # A row names the field by its full path, or by its leaf inside a grouped row.
        names = (f"`{path}`", f"`{path}[]`", f"`{leaf}`", f".{leaf}`", f"`{leaf}[]`")
        if not any(name in row for row in rows for name in names):
            missing.append(path)
    assert missing == [], f"{provider}: fields without a row in docs/providers.md: {missing}"


@pytest.mark.parametrize("provider", sorted(STATES))
def test_every_known_state_is_in_the_phase_tables(provider: str) -> None:
    text = section(provider)
    missing = [state for state in STATES[provider] if f"`{state}`" not in text]
    assert missing == [], f"{provider}: states missing from docs/providers.md: {missing}"


@pytest.mark.parametrize("secret_field", ["apiKey", "ModelToken", "config[].envs"])
def test_secret_fields_are_documented_as_dropped(secret_field: str) -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if f"{secret_field}`" in line]
    assert rows
    assert all("dropped" in row for row in rows)


def test_the_phase_rule_is_written_once_and_used_by_every_provider() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count("### The phase rule") == 1
    for provider in ("alibaba-hologres", "huawei-modelarts", "baidu-qianfan"):
        assert "the rule above" in section(provider), provider


def test_every_official_host_is_listed() -> None:
    from cloudmodel_operator.providers import get_provider
    from cloudmodel_operator.providers.huawei.modelarts import IAM_ENDPOINTS

    for provider in ("alibaba-hologres", "alibaba-guardrail", "huawei-modelarts", "baidu-qianfan"):
        text = section(provider)
        implementation = get_provider(provider)
        for region, url in {
            **implementation.official_endpoints,
            **{"": implementation.global_endpoint or ""},
        }.items():
            if region == "":
                assert url in text or not url, (provider, url)
            elif region not in text and url not in text:
                raise AssertionError(f"{provider}: region {region} ({url}) is not in docs/providers.md")
    modelarts = section("huawei-modelarts")
    assert all(region in modelarts for region in IAM_ENDPOINTS), "an IAM region is missing"


def test_guardrail_enums_the_seed_documents_are_mapped_not_dropped() -> None:
    rows = [line for line in section("alibaba-guardrail").splitlines() if line.startswith("| `")]
    category = next(row for row in rows if "CategoryType" in row)
    assert "dropped" not in category
    assert "`text`" in category
    assert "`image`" in category
    level = next(row for row in rows if "HarmfulCategoryConfigInfoList[].SecurityLevel" in row)
    assert all(word in level for word in ("`low`", "`medium`", "`high`"))

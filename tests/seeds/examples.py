"""The example responses printed in the seed documents, cut out of the documents verbatim."""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).resolve().parent
# provider -> (seed document, the heading its example response follows; the first `{` after it)
EXAMPLES = {
    "alibaba-hologres": ("000_7ac0981e73427111.txt", "正常返回示例"),
    "huawei-modelarts": ("002_c4d4b44bea50a99e.txt", "响应示例"),
    "baidu-qianfan": ("003_c070ef5ee2083637.txt", "返回示例"),
    "alibaba-guardrail": ("004_2417c27baa7664ba.txt", "正常返回示例"),
}


def _balanced(text: str, start: int) -> str:
    """The JSON object starting at `start`, through its matching closing brace."""
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(text)):
        char = text[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : position + 1]
    raise ValueError("unbalanced example")


def example_bytes(provider: str) -> bytes:
    """The seed document's example response for `provider`, byte for byte as printed."""
    document, anchor = EXAMPLES[provider]
    text = (SEEDS / document).read_text(encoding="utf-8")
    return _balanced(text, text.index("{", text.index(anchor))).encode("utf-8")

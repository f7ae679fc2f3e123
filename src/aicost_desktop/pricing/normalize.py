"""Model id normalization: the catalog keys a provider's, router's or log's model name may stand for."""

from __future__ import annotations

import re

# Router / gateway prefixes whose remainder is the vendor's own model id (OpenRouter
# `openai/gpt-4.1`, `anthropic/claude-sonnet-4.5`, Google `models/gemini-...`).
_DROP_PREFIX = re.compile(r"^(?:models/|openrouter/)")
# When a prefix names a vendor, also try the catalog's own prefix for that vendor.
_PREFIX_ALIASES = {
    "google": ("gemini", "vertex_ai"), "gemini": ("gemini", "vertex_ai"), "vertex_ai": ("vertex_ai", "gemini"),
    "x-ai": ("xai",), "xai": ("xai",), "mistralai": ("mistral",), "mistral": ("mistral",),
    "deepseek": ("deepseek",), "moonshotai": ("moonshot",), "moonshot": ("moonshot",),
}
# Bare names whose catalog entry only exists under a vendor prefix (e.g. `gemini/gemini-1.5-...`).
_NAME_PREFIXES = (
    (re.compile(r"^(gemini|gemma|learnlm)-"), ("gemini", "vertex_ai")),
    (re.compile(r"^grok-"), ("xai",)),
    (re.compile(r"^(mistral|codestral|magistral|devstral|ministral|pixtral|open-mistral)"), ("mistral",)),
    (re.compile(r"^deepseek-"), ("deepseek",)),
    (re.compile(r"^(kimi|moonshot)-"), ("moonshot",)),
)
# Bedrock: optional cross-region prefix, vendor, id, version suffix (`us.anthropic.claude-...-v1:0`).
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|ap|jp|au|ca|global|us-gov)\.")
_BEDROCK_VENDOR = re.compile(r"^(?:anthropic|meta|amazon|mistral|cohere|ai21|deepseek|openai|qwen|writer)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
# OpenRouter variants that bill like the base model; `:free` and `:extended` do not, so stay unknown.
_SAME_PRICE_VARIANT = re.compile(r":(?:thinking|beta)$")
# Dated snapshots: Anthropic `-20250929`, OpenAI `-2024-08-06`, Vertex `@20250929`.
DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
_CLAUDE_DOTTED = re.compile(r"(?<=\d)\.(?=\d)")


def clean(model: str) -> str:
    """Lower-case, trimmed, inner whitespace as '-': the form every catalog index uses."""
    return re.sub(r"\s+", "-", model.strip().lower())


def _strip_date(name: str) -> str | None:
    m = DATE_SUFFIX.search(name)
    return name[: m.start()] if m else None


def _name_variants(name: str) -> list[str]:
    """Spellings of one vendor model id, most specific first."""
    out = [name]
    if "@" in name:  # Vertex `claude-sonnet-4-5@20250929` / `@default`
        base, _, ver = name.partition("@")
        out += [f"{base}-{ver}", base] if ver.isdigit() else [base]
    out += [_SAME_PRICE_VARIANT.sub("", n) for n in list(out) if _SAME_PRICE_VARIANT.search(n)]
    if _BEDROCK_REGION.match(name) or _BEDROCK_VENDOR.match(name):
        regionless = _BEDROCK_REGION.sub("", name)
        bare = _BEDROCK_VERSION.sub("", _BEDROCK_VENDOR.sub("", regionless))
        out += [regionless, bare]
    for n in list(out):
        if n.startswith("claude-") and _CLAUDE_DOTTED.search(n):  # OpenRouter `claude-3.5-sonnet`
            out.append(_CLAUDE_DOTTED.sub("-", n))
    for n in list(out):
        undated = _strip_date(n)
        if undated:
            out.append(undated)
        if n.endswith("-latest"):
            out.append(n.removesuffix("-latest"))
    return out


def candidates(model: str) -> list[str]:
    """Catalog keys (cleaned) that `model` may refer to, best first, without duplicates.

    Exact spelling comes first so a key that exists as written (e.g. a regional Bedrock id
    with its own price) always wins over a looser match.
    """
    c = _DROP_PREFIX.sub("", clean(model))
    if not c:
        return []
    out: list[str] = [c]
    prefix, name = "", c
    if "/" in c:
        prefix, name = c.split("/", 1)[0], c.rsplit("/", 1)[-1]
    variants = _name_variants(name)
    out += variants
    hints = list(_PREFIX_ALIASES.get(prefix, ()))
    for pattern, prefixes in _NAME_PREFIXES:
        if pattern.match(name):
            hints += prefixes
    for hint in hints:
        out += [f"{hint}/{v}" for v in variants]
    return list(dict.fromkeys(out))


def undated(key: str) -> str | None:
    """`claude-opus-4-1-20250805` -> `claude-opus-4-1`; None when the key carries no date."""
    return _strip_date(clean(key))

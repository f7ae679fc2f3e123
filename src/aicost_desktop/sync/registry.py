"""Which sync job serves which provider, and each provider's default base URL as its SDK writes it."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from aicost_desktop.sync.base import ProviderSync
from aicost_desktop.sync.http import HttpPolicy


@dataclass(frozen=True)
class ProviderSpec:
    """A provider the app can sync: its module, class, default base URL and the key it needs."""

    name: str
    label: str
    module: str
    cls: str
    base_url: str
    key_hint: str


PROVIDERS: dict[str, ProviderSpec] = {p.name: p for p in [
    ProviderSpec("openai", "OpenAI", "aicost_desktop.sync.openai", "OpenAISync", "https://api.openai.com/v1",
                 "an OpenAI Admin key (sk-admin-...)"),
    ProviderSpec("anthropic", "Anthropic", "aicost_desktop.sync.anthropic", "AnthropicSync",
                 "https://api.anthropic.com", "an Anthropic Admin key (sk-ant-admin...)"),
    ProviderSpec("openrouter", "OpenRouter", "aicost_desktop.sync.openrouter", "OpenRouterSync",
                 "https://openrouter.ai/api/v1", "an OpenRouter key (a management key for per-model history)"),
    ProviderSpec("deepseek", "DeepSeek", "aicost_desktop.sync.deepseek", "DeepSeekSync", "https://api.deepseek.com",
                 "a DeepSeek API key"),
    ProviderSpec("moonshot", "Moonshot", "aicost_desktop.sync.moonshot", "MoonshotSync", "https://api.moonshot.ai/v1",
                 "a Moonshot API key"),
]}


def make_sync(provider: str, policy: HttpPolicy | None = None,
              clock: Callable[[], datetime] | None = None) -> ProviderSync:
    """Instantiate the sync job for a provider (imported lazily: the CLI starts fast).

    `clock` reaches jobs that ask for one (their idea of "today" decides which windows exist).
    """
    spec = PROVIDERS[provider]
    cls = getattr(importlib.import_module(spec.module), spec.cls)
    kwargs: dict[str, object] = {"policy": policy}
    if clock is not None and "clock" in inspect.signature(cls).parameters:
        kwargs["clock"] = clock
    job: ProviderSync = cls(**kwargs)  # a class found by name: typed by what the registry promises
    return job

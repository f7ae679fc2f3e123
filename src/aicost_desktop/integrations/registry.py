"""The registry: every integration spec, in the order the marketplace lists them."""

from __future__ import annotations

import importlib
from functools import cache

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations.spec import IntegrationSpec

# One module per service, each exposing SPEC.
MODULES = ("slack", "discord", "smtp", "sendgrid", "twilio", "github", "notion", "sheets", "airtable", "trello",
           "stripe", "webhook")


@cache
def specs() -> tuple[IntegrationSpec, ...]:
    out = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"aicost_desktop.integrations.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"aicost_desktop.integrations.{name}":
                raise
            continue  # not built yet
        out.append(module.SPEC)
    return tuple(out)


def get(kind: str) -> IntegrationSpec:
    for spec in specs():
        if spec.id == kind:
            return spec
    raise InputError("integration", kind, f"use one of {', '.join(s.id for s in specs())}")

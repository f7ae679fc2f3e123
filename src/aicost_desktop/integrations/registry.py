"""The registry: every integration spec, in the order the marketplace lists them."""

from __future__ import annotations

import importlib
from functools import cache

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations.spec import IntegrationSpec

# One module per service, each exposing SPEC.
MODULES = ("slack", "discord", "smtp", "sendgrid", "twilio", "github", "trello", "notion", "google_sheets", "airtable",
           "stripe", "webhook")


@cache
def specs() -> tuple[IntegrationSpec, ...]:
    return tuple(importlib.import_module(f"aicost_desktop.integrations.{name}").SPEC for name in MODULES)


def get(kind: str) -> IntegrationSpec:
    for spec in specs():
        if spec.id == kind:
            return spec
    raise InputError("integration", kind, f"use one of {', '.join(s.id for s in specs())}")

"""The gateway tests' fixtures (tests/unit/gateway/fixtures.py)."""

from tests.unit.gateway.fixtures import catalog, gateway, ledger, make_gateway, secrets, upstream  # noqa: F401

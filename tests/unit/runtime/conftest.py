"""Runtime tests: plain threads, no Qt; waits are on threading.Event / conditions, never sleeps."""

from tests.unit.runtime.sync_fixtures import openrouter, runtime  # noqa: F401 - fixtures

"""Typed integration errors: each says what went wrong at the service and what the user should do."""

from __future__ import annotations

from aicost_desktop.domain.errors import OperationError
from aicost_desktop.domain.redact import redact


class IntegrationError(OperationError):
    """A service call failed. `hint` is the user's next step; `retryable` tells the outbox whether to try later."""

    retryable = False
    default_hint = "see the integration's setup guide"
    interval: float | None = None  # a device-flow slow_down's new polling interval

    def __init__(self, service: str, message: str, *, hint: str | None = None, status: int | None = None,
                 code: str | None = None, retry_after: float | None = None) -> None:
        self.service = service
        self.message = redact(message)  # a service echoing a token back must not put it in our text
        self.hint = hint or self.default_hint
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(f"{service}: {self.message}; {self.hint}")


class AuthFailed(IntegrationError):
    default_hint = "the credential was refused: paste a new one (or reconnect) in Integrations"


class PermissionDenied(IntegrationError):
    default_hint = "the credential lacks a permission or scope this action needs: grant it and reconnect"


class NotFound(IntegrationError):
    default_hint = "check the channel, repository, list or id, and that the integration can see it"


class InvalidRequest(IntegrationError):
    default_hint = "the service refused the parameters: check the action's fields"


class RateLimited(IntegrationError):
    retryable = True
    default_hint = "the service asked us to slow down: delivery is retried later"


class ServiceUnavailable(IntegrationError):
    retryable = True
    default_hint = "the service is having trouble: delivery is retried later"


class NetworkError(IntegrationError):
    retryable = True
    default_hint = "check the network connection and the base URL"


class NotConnected(IntegrationError):
    default_hint = "connect it first (Integrations > Connect, or aicost integrations connect)"


class CredentialMissing(IntegrationError):
    default_hint = "its secret is not in the keychain any more: connect it again"


class OAuthError(IntegrationError):
    default_hint = "start the sign-in again"

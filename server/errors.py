"""The one error family of the domain, and the one table that says what each error is on the wire.

Domain code raises these and knows nothing of HTTP or WebSockets. `KINDS` maps each class to its machine
code (the `error` field of the envelope and of a WebSocket error frame), its HTTP status
(server/api/envelope.py) and the code a WebSocket is closed with (server/channels/websocket.py).
A subclass without its own row takes its nearest ancestor's.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(DomainError):
    """Input the rules refuse, with a message per field."""

    def __init__(
        self, errors: dict[str, str], message: str = "Validation failed", codes: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, errors)
        # A machine code per field (`required`, `too_long`, ...) for the /v1 `details`; `invalid` if absent.
        self.codes = codes or {}


class BadRequest(DomainError):
    pass


class Unauthenticated(DomainError):
    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    pass


class CsrfRejected(Forbidden):
    pass


class SubscriptionRequired(Forbidden):
    """The caller's plan does not allow this (a campaign or storage quota); a larger plan would."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class TooLarge(DomainError):
    pass


class EventTooLarge(TooLarge):
    """A change whose event would exceed the event log's bound (server.event_log.MAX_EVENT_BYTES);
    the change is rolled back."""


class UnsupportedMediaType(DomainError):
    pass


class RateLimited(DomainError):
    def __init__(self, retry_after: int, message: str = "Too many attempts. Please try again later.") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyConnections(RateLimited):
    """The user already holds MAX_USER_CONNECTIONS open sockets and parked polls in this process."""


class Unavailable(DomainError):
    pass


class SnapshotRequired(DomainError):
    """The client resumes from an event that retention has pruned: it must load the snapshot again."""


@dataclass(frozen=True)
class Kind:
    code: str  # machine code, as the API documents it
    http_status: int
    # WebSocket close code: an RFC 6455 one, or 4000 + the HTTP status where that is not one of the
    # codes that end a socket without an error (server/wire.py: 4408, 4409, 4410).
    close_code: int


KINDS: dict[type[DomainError], Kind] = {
    DomainError: Kind("bad_request", 400, 4400),
    Invalid: Kind("validation_failed", 400, 4400),
    BadRequest: Kind("bad_request", 400, 4400),
    Unauthenticated: Kind("authentication_required", 401, 4401),
    Forbidden: Kind("insufficient_permissions", 403, 4403),
    CsrfRejected: Kind("csrf_token_invalid", 403, 4403),
    SubscriptionRequired: Kind("subscription_required", 403, 4403),
    NotFound: Kind("resource_not_found", 404, 4404),
    Conflict: Kind("conflict", 409, 4400),
    TooLarge: Kind("payload_too_large", 413, 1009),
    UnsupportedMediaType: Kind("unsupported_media_type", 415, 4415),
    RateLimited: Kind("rate_limit_exceeded", 429, 4429),
    TooManyConnections: Kind("too_many_connections", 429, 4429),
    Unavailable: Kind("service_unavailable", 503, 1013),
    SnapshotRequired: Kind("snapshot_required", 412, 4412),
}


def kind(error: DomainError) -> Kind:
    """The row of `KINDS` for this error (its class's, or its nearest ancestor's)."""
    for cls in type(error).__mro__:
        if cls in KINDS:
            return KINDS[cls]
    raise TypeError(f"{type(error).__name__} is not a DomainError")  # pragma: no cover - DomainError has a row

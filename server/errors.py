"""The one error family of the domain. `server/api/envelope.py` maps each to a status and envelope."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(DomainError):
    status = 400
    code = "validation_failed"

    def __init__(self, errors: dict[str, str], message: str = "Validation failed") -> None:
        super().__init__(message, errors)


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthenticated(DomainError):
    status = 401
    code = "authentication_required"

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    status = 403
    code = "insufficient_permissions"


class CsrfRejected(Forbidden):
    code = "csrf_token_invalid"


class NotFound(DomainError):
    status = 404
    code = "resource_not_found"


class MethodNotAllowed(DomainError):
    status = 405
    code = "method_not_allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limit_exceeded"

    def __init__(self, retry_after: int, message: str = "Too many attempts. Please try again later.") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status = 503
    code = "service_unavailable"

"""Who a client is and how it reached us, as seen through a trusted reverse proxy (TRUST_X_FORWARDED_FOR).
Both HTTP routes and the WebSocket ask here: the login rate limit and the connection rate count by the
address, the cookie's Secure flag and the Origin check follow the scheme."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from server.settings import Settings


def client_address(connection: HTTPConnection, settings: Settings) -> str:
    if settings.trust_forwarded_for:
        forwarded = [p.strip() for p in connection.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if forwarded:
            # The right-most entry is the one our own proxy appended: the only one it vouches for.
            return forwarded[-1]
    return connection.client.host if connection.client else "unknown"


def is_https(connection: HTTPConnection, settings: Settings) -> bool:
    """Whether the browser reached us over HTTPS or WSS (directly, or through a trusted proxy that says so)."""
    if settings.trust_forwarded_for and connection.headers.get("x-forwarded-proto", "").lower() in ("https", "wss"):
        return True
    return connection.url.scheme in ("https", "wss")

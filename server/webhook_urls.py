"""Which URLs a webhook may be sent to: https on a host that resolves only to public addresses, so that
nobody can make the server call into its own network (SSRF). The host's operator may allow hosts
(WEBHOOK_ALLOWED_HOSTS) that are then reachable over http too and at any address, such as 127.0.0.1 in
tests or an internal receiver.

The check runs when an endpoint is saved and again before every attempt, since a name's addresses can
change in between (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2048


class RefusedUrl(Exception):
    """The URL may not receive webhooks; the message says why, for the user."""


def _host(url: str, allowed_hosts: tuple[str, ...]) -> tuple[str, int, bool]:
    """The URL's host, port, and whether the operator allows that host; RefusedUrl for a bad URL."""
    if len(url) > MAX_URL:
        raise RefusedUrl(f"URL must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("URL is not a valid URL") from None
    host = (parts.hostname or "").lower()
    allowed = host in allowed_hosts
    if parts.scheme not in ("https", "http") or not host or (parts.scheme == "http" and not allowed):
        raise RefusedUrl("URL must be an https:// URL")
    if parts.username or parts.password:
        raise RefusedUrl("URL must not contain a user name or password")
    return host, port or (443 if parts.scheme == "https" else 80), allowed


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Raise RefusedUrl unless `url` may receive webhooks now (see the module's docstring)."""
    host, port, allowed = _host(url, allowed_hosts)
    if allowed:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # ValueError: a NUL byte in the name
        raise RefusedUrl(f"The host {host} cannot be resolved") from None
    if not infos or not all(_public(str(info[4][0])) for info in infos):
        raise RefusedUrl(f"The host {host} resolves to a private, loopback or link-local address")

"""Configuration from environment variables.

Every variable is documented in README.md. A bad value raises ConfigError whose message names the
variable; the command line prints it on one line and exits.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from server.plans import DEFAULT_PLANS, PLAN_NAMES, Plan
from server.send_rate import valid_rate


class ConfigError(Exception):
    """A configuration value that cannot be used. The message names the variable."""


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server mail goes through (server/mail.py)."""

    host: str
    port: int = 587
    sender: str = "becmi-vtt@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = True


@dataclass(frozen=True)
class WebhookPolicy:
    """How webhooks are delivered (README, "Webhooks"). Times in seconds."""

    # Hosts (names or IP addresses) a webhook URL may name although they resolve to private, loopback or
    # link-local addresses, and may reach over plain http.
    allowed_hosts: tuple[str, ...] = ()
    retry_base: float = 30.0  # the first retry's delay; each next one doubles, with jitter
    retry_max_delay: float = 3600.0
    retry_for: float = 24 * 3600.0  # retries stop this long after the first attempt was due
    timeout: float = 10.0
    lease: float = 60.0  # a claimed delivery another process may take over after this long
    poll_interval: float = 1.0
    keep_days: int = 30  # finished deliveries, their attempts and events are deleted after this many days


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///becmi-vtt.db"
    broadcast_url: str = "memory://"
    secret_key: str | None = None
    allowed_origins: tuple[str, ...] = ()
    upload_dir: Path = Path("uploads")
    rate_limit_attempts: int = 15
    rate_limit_window: int = 300
    trust_forwarded_for: bool = False
    session_lifetime: int = 14 * 24 * 3600
    max_connections: int = 10_000
    send_queue_limit: int = 1024
    send_queue_bytes: int = 8 * 1024 * 1024
    send_stall_seconds: int = 30
    max_user_connections: int = 20
    connection_rate: str = "60/minute"
    max_body_size: int = 1024 * 1024
    chat_per_second: int = 5
    chat_per_minute: int = 60
    event_retention_days: int = 0  # 0: keep every event
    log_format: str = "text"  # or "json": one object per line
    access_log: bool = False  # a log line per HTTP request (the latency histogram counts them regardless)
    # The plan table (server/plans.py); the first is the plan of accounts without one. Tests shrink quotas.
    plans: tuple[Plan, ...] = DEFAULT_PLANS
    webhooks: WebhookPolicy = WebhookPolicy()
    # Stripe (server/stripe_billing.py): without the webhook secret, billing through Stripe is off.
    stripe_webhook_secret: str | None = None
    stripe_prices: tuple[tuple[str, str], ...] = ()  # (Stripe price id, plan name)
    # Without the secret key, Checkout Sessions cannot be created (upgrades answer 503).
    stripe_secret_key: str | None = None
    stripe_api_base: str | None = None  # Stripe's API address, if not Stripe's own (a stand-in in tests)
    mail: MailSettings | None = None  # None: no mail is sent
    # Where users reach the server, for links in mail (password reset).
    public_url: str = "http://localhost:8000"
    # Web Push (server/web_push.py): the VAPID private key (raw, base64url); None: generated once and kept
    # in the database. The subject (mailto: or https:) tells push services whom to contact.
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:becmi-vtt@localhost"
    reminder_poll_interval: float = 30.0  # seconds between two looks for game sessions starting within the hour


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _boolean(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _database_url(raw: str) -> str:
    scheme = urlparse(raw).scheme
    if scheme == "sqlite" and raw.startswith("sqlite:///") and len(raw) > len("sqlite:///"):
        return raw
    if scheme in ("postgresql", "postgres") and urlparse(raw).hostname:
        return raw
    raise ConfigError(
        "DATABASE_URL must be sqlite:///relative.db, sqlite:////absolute/path.db or "
        f"postgresql://user@host:port/db, got {raw!r}"
    )


def _broadcast_url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme == "memory" or (parsed.scheme in ("redis", "rediss") and parsed.hostname):
        return raw
    raise ConfigError(f"BROADCAST_URL must be memory:// or redis://host:port/0, got {raw!r}")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
            raise ConfigError(f"ALLOWED_ORIGINS must list origins like https://vtt.example.com, got {origin!r}")
    return origins


def _rate(raw: str) -> str:
    if not valid_rate(raw):
        raise ConfigError(f"CONNECTION_RATE must be like 60/minute or 10/second, got {raw!r}")
    return raw


def _log_format(raw: str) -> str:
    if raw in ("", "text", "json"):
        return raw or "text"
    raise ConfigError(f"LOG_FORMAT must be text or json, got {raw!r}")


def _webhooks(env: Mapping[str, str]) -> WebhookPolicy:
    hosts = tuple(part.strip().lower() for part in env.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if part.strip())
    timeout = _integer(env, "WEBHOOK_TIMEOUT", 10, 1, 60)
    return WebhookPolicy(
        allowed_hosts=hosts,
        retry_base=_integer(env, "WEBHOOK_RETRY_BASE_MS", 30_000, 1, 3_600_000) / 1000,
        retry_max_delay=_integer(env, "WEBHOOK_RETRY_MAX_DELAY", 3600, 1, 24 * 3600),
        retry_for=_integer(env, "WEBHOOK_RETRY_FOR", 24 * 3600, 0, 30 * 24 * 3600),
        timeout=timeout,
        # Longer than a delivery can take, so a live process never loses its claim to another.
        lease=_integer(env, "WEBHOOK_LEASE", max(60, 3 * timeout), timeout + 1, 24 * 3600),
        poll_interval=_integer(env, "WEBHOOK_POLL_MS", 1000, 10, 60_000) / 1000,
        keep_days=_integer(env, "WEBHOOK_KEEP_DAYS", 30, 0, 3650),
    )


def _stripe_prices(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in (part.strip() for part in raw.split(",") if part.strip()):
        price, _, plan = item.partition("=")
        if not price.strip() or plan.strip() not in PLAN_NAMES:
            raise ConfigError(f"STRIPE_PRICES must list price_id=plan with plans of {', '.join(PLAN_NAMES)}")
        pairs.append((price.strip(), plan.strip()))
    return tuple(pairs)


def _api_base(raw: str) -> str | None:
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"STRIPE_API_BASE must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _vapid_key(raw: str) -> str | None:
    if not raw:
        return None
    try:
        size = len(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        size = 0
    if size != 32:
        raise ConfigError("VAPID_PRIVATE_KEY must be a raw P-256 private key, base64url (32 bytes)")
    return raw


def _vapid_subject(raw: str, mail: MailSettings | None) -> str:
    if not raw:
        return f"mailto:{mail.sender}" if mail is not None else Settings.vapid_subject
    if not (raw.startswith("mailto:") or raw.startswith("https://")):
        raise ConfigError(f"VAPID_SUBJECT must be a mailto: or https:// URL, got {raw!r}")
    return raw


def _mail(env: Mapping[str, str]) -> MailSettings | None:
    host = env.get("SMTP_HOST", "").strip()
    if not host:
        return None
    return MailSettings(
        host=host,
        port=_integer(env, "SMTP_PORT", 587, 1, 65535),
        sender=env.get("MAIL_FROM", "").strip() or MailSettings.sender,
        username=env.get("SMTP_USERNAME", "").strip() or None,
        password=env.get("SMTP_PASSWORD") or None,
        starttls=not env.get("SMTP_STARTTLS", "").strip() or _boolean(env, "SMTP_STARTTLS"),
    )


def from_environment(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    secret = env.get("SECRET_KEY") or None
    if secret is not None and len(secret) < 16:
        raise ConfigError("SECRET_KEY must be at least 16 characters long")
    upload_dir = env.get("UPLOAD_DIR", "").strip() or "uploads"
    mail = _mail(env)
    return Settings(
        database_url=_database_url(env.get("DATABASE_URL", "").strip() or Settings.database_url),
        broadcast_url=_broadcast_url(env.get("BROADCAST_URL", "").strip() or Settings.broadcast_url),
        secret_key=secret,
        allowed_origins=_origins(env.get("ALLOWED_ORIGINS", "")),
        upload_dir=Path(upload_dir),
        rate_limit_attempts=_integer(env, "RATE_LIMIT_ATTEMPTS", 15, 1, 1_000_000),
        rate_limit_window=_integer(env, "RATE_LIMIT_WINDOW", 300, 1, 7 * 24 * 3600),
        trust_forwarded_for=_boolean(env, "TRUST_X_FORWARDED_FOR"),
        session_lifetime=_integer(env, "SESSION_LIFETIME", 14 * 24 * 3600, 60, 365 * 24 * 3600),
        max_connections=_integer(env, "MAX_CONNECTIONS", 10_000, 1, 1_000_000),
        send_queue_limit=_integer(env, "SEND_QUEUE_LIMIT", 1024, 8, 100_000),
        chat_per_second=_integer(env, "CHAT_RATE_PER_SECOND", 5, 1, 10_000),
        chat_per_minute=_integer(env, "CHAT_RATE_PER_MINUTE", 60, 1, 1_000_000),
        send_queue_bytes=_integer(env, "SEND_QUEUE_BYTES", 8 * 1024 * 1024, 1024, 1024**3),
        send_stall_seconds=_integer(env, "SEND_STALL_SECONDS", 30, 1, 3600),
        max_user_connections=_integer(env, "MAX_USER_CONNECTIONS", 20, 1, 1_000_000),
        connection_rate=_rate(env.get("CONNECTION_RATE", "").strip() or Settings.connection_rate),
        event_retention_days=_integer(env, "EVENT_RETENTION_DAYS", 0, 0, 36_500),
        log_format=_log_format(env.get("LOG_FORMAT", "").strip().lower()),
        access_log=_boolean(env, "ACCESS_LOG"),
        webhooks=_webhooks(env),
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", "").strip() or None,
        stripe_prices=_stripe_prices(env.get("STRIPE_PRICES", "")),
        stripe_secret_key=env.get("STRIPE_SECRET_KEY", "").strip() or None,
        stripe_api_base=_api_base(env.get("STRIPE_API_BASE", "").strip()),
        mail=mail,
        vapid_private_key=_vapid_key(env.get("VAPID_PRIVATE_KEY", "").strip()),
        vapid_subject=_vapid_subject(env.get("VAPID_SUBJECT", "").strip(), mail),
        public_url=(env.get("PUBLIC_URL", "").strip() or Settings.public_url).rstrip("/"),
        reminder_poll_interval=_integer(env, "REMINDER_POLL_MS", 30_000, 10, 600_000) / 1000,
    )

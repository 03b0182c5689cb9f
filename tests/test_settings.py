from __future__ import annotations

import pytest

from server.settings import ConfigError, from_environment


def test_defaults_work_out_of_the_box():
    settings = from_environment({})
    assert settings.database_url == "sqlite:///becmi-vtt.db"
    assert settings.broadcast_url == "memory://"
    assert (settings.rate_limit_attempts, settings.rate_limit_window) == (15, 300)
    assert settings.trust_forwarded_for is False


def test_values_are_read():
    settings = from_environment(
        {
            "DATABASE_URL": "postgresql://root@127.0.0.1:5432/test",
            "BROADCAST_URL": "redis://127.0.0.1:6379/0",
            "ALLOWED_ORIGINS": "https://vtt.example.com, http://localhost:3000/",
            "RATE_LIMIT_ATTEMPTS": "5",
            "RATE_LIMIT_WINDOW": "60",
            "TRUST_X_FORWARDED_FOR": "yes",
            "UPLOAD_DIR": "/var/lib/vtt/uploads",
            "SECRET_KEY": "s" * 32,
        }
    )
    assert settings.allowed_origins == ("https://vtt.example.com", "http://localhost:3000")
    assert settings.rate_limit_attempts == 5 and settings.trust_forwarded_for is True
    assert str(settings.upload_dir) == "/var/lib/vtt/uploads"


def test_connection_limits_are_read():
    settings = from_environment(
        {
            "MAX_USER_CONNECTIONS": "5",
            "SEND_QUEUE_BYTES": "1048576",
            "SEND_STALL_SECONDS": "10",
            "CONNECTION_RATE": "10/second",
        }
    )
    assert (settings.max_user_connections, settings.send_queue_bytes, settings.send_stall_seconds) == (5, 2**20, 10)
    assert settings.connection_rate == "10/second"
    defaults = from_environment({})
    assert (defaults.max_user_connections, defaults.send_queue_bytes, defaults.send_stall_seconds) == (20, 8 << 20, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "sqlite://relative.db"),
        ("BROADCAST_URL", "kafka://x"),
        ("RATE_LIMIT_ATTEMPTS", "many"),
        ("RATE_LIMIT_ATTEMPTS", "0"),
        ("RATE_LIMIT_WINDOW", "-5"),
        ("TRUST_X_FORWARDED_FOR", "perhaps"),
        ("ALLOWED_ORIGINS", "vtt.example.com"),
        ("SECRET_KEY", "short"),
        ("MAX_CONNECTIONS", "lots"),
        ("MAX_USER_CONNECTIONS", "0"),
        ("SEND_QUEUE_BYTES", "12"),
        ("SEND_STALL_SECONDS", "0"),
        ("CONNECTION_RATE", "fast"),
        ("CONNECTION_RATE", "0/minute"),
    ],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(ConfigError) as caught:
        from_environment({name: value})
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)

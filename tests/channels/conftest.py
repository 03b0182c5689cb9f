from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from tests.live import RedisProcess, missing_service


@pytest.fixture
async def redis_process() -> AsyncIterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        missing_service("redis", "redis-server", FileNotFoundError("redis-server is not installed"))
    redis = await RedisProcess().start()
    yield redis
    redis.stop()

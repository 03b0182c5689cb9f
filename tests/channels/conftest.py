from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from tests.conftest import _missing
from tests.live import RedisProcess


@pytest.fixture
async def redis_process() -> AsyncIterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        _missing("redis", "redis-server", FileNotFoundError("redis-server is not installed"))
    redis = await RedisProcess().start()
    yield redis
    redis.stop()

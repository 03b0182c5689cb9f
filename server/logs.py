"""Log output: plain text lines, or with LOG_FORMAT=json one JSON object per line (time, level, logger,
message and the record's extra fields, such as a request's route, status, duration_ms and user_id)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from server import codec

# Attributes every LogRecord has (and uvicorn's coloured copy of the message); anything else on a record
# was passed in `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return codec.dumps_text(entry)


def configure(log_format: str) -> None:
    """Send every logger (uvicorn's too) to standard error in the chosen format, at INFO."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)

"""JSON-lines logs. Patient identifiers never go in a log line: ids in URLs are masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NHS = re.compile(r"\b\d{10}\b")
# A telephone number as people write it (07700 900123, +44 7700 900123, (01332) 123456): the
# patient's, from a message that quotes one. Ten or eleven digits with separators between.
_PHONE = re.compile(r"(?<![\w.:/-])\+?\(?\d(?:[\s()-]{0,2}\d){9,11}(?![\w.:/-])")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _NHS.sub("[nhs]", _UUID.sub("[id]", text)))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


_URL = re.compile(r"\b(https?)://[^\s\"'<>]+", re.IGNORECASE)


def redact_urls(text: str) -> str:
    """URLs reduced to scheme, host and port: credentials, paths and queries are where
    receivers keep their tokens (``https://user:pass@hooks.example/services/T0/B0/XYZ``)."""
    return _URL.sub(_redacted, text)


def _redacted(match: re.Match[str]) -> str:
    rest = match.group(0)[len(match.group(1)) + 3 :]
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = authority.rsplit("@", 1)[-1]
    return f"{match.group(1)}://{host}/…"


class RedactUrls(logging.Filter):
    """For loggers of HTTP clients (httpx logs each request's full URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_urls(record.getMessage())
        record.args = None
        return True


def install_url_redaction() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrls) for f in logger.filters):
            logger.addFilter(RedactUrls())


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Access logs are written by our own middleware, with ids masked.
    logging.getLogger("uvicorn.access").disabled = True
    install_url_redaction()

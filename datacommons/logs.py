"""Structured logs: one JSON object per line on standard error, each carrying the request id.

Every record of the process (ours, uvicorn's, SQLAlchemy's) goes through one handler with a
python-json-logger formatter and two filters: asgi-correlation-id's filter adds the id of the request
being served (``request_id``, also sent back in the ``X-Request-ID`` header), and :class:`Redact` masks
anything shaped like an API token or a bearer header, in case a message ever carries one.
What is logged is chosen so that it never needs redaction: the access log names the method, the path
and the status, never the query string, the client address or a header.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

#: Shapes of secrets that must never reach a log line, whatever code wrote it.
SECRET_PATTERNS = (
    re.compile(r"dc_[A-Za-z0-9_\-]{20,}"),  # API tokens (auth.TOKEN_PREFIX)
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=\-]{8,}"),  # Authorization headers
)
MASK = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every secret-shaped substring masked."""
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class Redact(logging.Filter):
    """Mask secret-shaped substrings in the rendered message and the traceback of every record."""

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # An exception's text may quote the value that failed (a header, a form field): the
            # traceback is rendered here, masked, and handed to the formatter as text.
            record.exc_text = redact(self._traceback.formatException(record.exc_info))
            record.exc_info = None
        return True


def log_config(level: str = "INFO") -> dict[str, Any]:
    """The :func:`logging.config.dictConfig` of the process (also handed to uvicorn's workers)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"},
            "redact": {"()": "datacommons.logs.Redact"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s %(correlation_id)s",
                "timestamp": "time",  # ISO 8601, UTC
                "rename_fields": {"levelname": "level", "name": "logger", "correlation_id": "request_id"},
                # uvicorn adds a copy of its messages with terminal colour codes: not for files.
                "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
            },
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_id", "redact"],
            },
        },
        "loggers": {
            # Our own access log replaces uvicorn's, which prints client addresses and query strings.
            "uvicorn.access": {"handlers": [], "propagate": False},
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            # Chatty at INFO (one line per migration step, per GE expectation class): heard at DEBUG.
            **{
                name: {"level": "DEBUG" if level == "DEBUG" else "WARNING"}
                for name in ("alembic", "great_expectations")
            },
        },
        "root": {"handlers": ["stderr"], "level": level},
    }


def configure_logging(level: str = "INFO") -> None:
    """Send every log record of this process to standard error as JSON lines."""
    logging.config.dictConfig(log_config(level))

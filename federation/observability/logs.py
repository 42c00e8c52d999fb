"""Log setup and the structured events an operator reads.

Every line carries the instance name, the process role, an event name and the ids it concerns
(activity id, job id, remote host), as text (`log_format = "text"`, the instance first so that a
shared terminal shows who wrote each line) or as one JSON object per line (`"json"`).

Secrets never reach a line: callers log ids, hosts and reasons, never headers or bodies, and a
filter on the handler scrubs what slips through anyway (bearer tokens, Signature parameters,
PEM blocks, and the instance's own configured tokens).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

# Record attributes set through `extra=`: the event name and its fields.
EVENT_ATTR = "event"
FIELDS_ATTR = "fields"

_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_SIGNATURE = re.compile(r'(?i)\b(signature)\s*=\s*("[^"]*"|:[^:]*:|[^\s,;]+)')
# An RFC 8941 byte sequence, as RFC 9421 carries signatures (`sig1=:base64:`).
_SF_BYTES = re.compile(r":[A-Za-z0-9+/]{12,}={0,2}:")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL)
REDACTED = "[redacted]"


def event(
    logger: logging.Logger, name: str, message: str = "", level: int = logging.INFO, **fields: Any
) -> None:
    """Log one event: `name` says what happened, `fields` the ids and values it concerns."""
    if logger.isEnabledFor(level):
        present = {k: v for k, v in fields.items() if v is not None and v != ""}
        logger.log(level, message or name, extra={EVENT_ATTR: name, FIELDS_ATTR: present})


class Redactor(logging.Filter):
    """Scrubs secrets from a record's message before any formatter sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Short values would redact ordinary words; configured tokens are long.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _PEM.sub(REDACTED, text)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = _SF_BYTES.sub(f":{REDACTED}:", text)
        return _SIGNATURE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        record.msg, record.args = self.scrub(message), None
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, dict):
            setattr(record, FIELDS_ATTR, {k: self._value(v) for k, v in fields.items()})
        return True

    def _value(self, value: Any) -> Any:
        return self.scrub(value) if isinstance(value, str) else value


class _Base(logging.Formatter):
    def __init__(self, instance: str, role: str) -> None:
        super().__init__()
        self.instance = instance
        self.role = role

    @staticmethod
    def parts(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
        name = getattr(record, EVENT_ATTR, None) or record.name
        fields = getattr(record, FIELDS_ATTR, None)
        return str(name), dict(fields) if isinstance(fields, dict) else {}

    @staticmethod
    def timestamp(record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class JsonFormatter(_Base):
    """One JSON object per line: ts, level, instance, role, logger, event, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        name, fields = self.parts(record)
        line: dict[str, Any] = {
            "ts": self.timestamp(record),
            "level": record.levelname.lower(),
            "instance": self.instance,
            "role": self.role,
            "logger": record.name,
            "event": name,
            "message": record.getMessage(),
            **{k: v for k, v in fields.items() if k not in _RESERVED},
        }
        if record.exc_text or record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(line, default=str, separators=(",", ":"))


_RESERVED = frozenset({"ts", "level", "instance", "role", "logger", "event", "message"})


class TextFormatter(_Base):
    """`alpha/gateway 2026-01-01T00:00:00.000Z INFO delivery.retry host=... | message`."""

    def format(self, record: logging.LogRecord) -> str:
        name, fields = self.parts(record)
        pairs = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        message = record.getMessage()
        line = f"{self.instance}/{self.role} {self.timestamp(record)} {record.levelname} {name}"
        if pairs:
            line += f" {pairs}"
        if message and message != name:
            line += f" | {message}"
        exc = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
        return f"{line}\n{exc}" if exc else line


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=|\n') else text


def configure(
    instance: str,
    role: str,
    log_format: str = "text",
    level: str = "INFO",
    secrets: Iterable[str] = (),
) -> logging.Handler:
    """Route every logger of the process to stderr in `log_format`, tagged with `instance`."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler.setFormatter(formatter(instance, role))
    handler.addFilter(Redactor(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler

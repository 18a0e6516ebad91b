"""Log records: context (request id, camera id), masking of secrets, and the formats.

``LOG_FORMAT=json`` writes one JSON object a line (python-json-logger), the default is a
line for people; both carry the same context. Context lives in context variables, so a
value bound where work starts (the request-id middleware, a camera's threads) reaches
every record logged below it, whichever logger writes it, without being passed around.
Threads start with an empty context: a camera thread binds its camera itself.

Every record goes through ``MaskSecretsFilter`` on the handler, which masks URL
credentials, secret query values and bearer tokens in the message, the traceback and any
string passed in ``extra``: the cameras app masks what it writes, and this is the
backstop for what a library (FFmpeg's messages, an HTTP client's exception) quotes.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from pythonjsonlogger.json import JsonFormatter

from config.redaction import mask_secrets

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "presence_request_id", default=None
)
camera_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "presence_camera_id", default=None
)

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "camera_id",
}


@contextlib.contextmanager
def bound_camera(camera_id: int | None) -> Iterator[None]:
    """Tag every record logged inside with ``camera_id`` (a camera's threads use it)."""
    token = camera_id_var.set(camera_id)
    try:
        yield
    finally:
        camera_id_var.reset(token)


class ContextFilter(logging.Filter):
    """Puts ``request_id`` and ``camera_id`` on every record ("-" where there is none), so
    either format can show them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the context; never drops a record."""
        if getattr(record, "request_id", None) is None:
            # django.request logs 4xx/5xx after the middleware has returned, with the
            # request in ``extra``: its id is on it.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None) or "-"
        if getattr(record, "camera_id", None) is None:
            camera_id = camera_id_var.get()
            record.camera_id = "-" if camera_id is None else camera_id
        return True


class MaskSecretsFilter(logging.Filter):
    """Masks secrets in the rendered message, traceback, stack and ``extra`` strings.

    The message is rendered here (``msg % args``) and stored back without args, so what
    any formatter prints is the masked text. A traceback is rendered into ``exc_text``
    and ``exc_info`` dropped: formatters print ``exc_text`` then, never a fresh, unmasked
    rendering of the exception.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = mask_secrets(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, mask_secrets(value))
        return True


class PresenceJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request and camera ids, and
    whatever ``extra`` gave."""

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message", "request_id", "camera_id"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )


def logging_config(log_format: str, level: str) -> dict[str, object]:
    """The ``LOGGING`` setting for ``log_format`` ("plain" or "json") at ``level``."""
    if log_format not in ("plain", "json"):
        raise ValueError(f'LOG_FORMAT must be "plain" or "json", not {log_format!r}')
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "config.logs.ContextFilter"},
            "mask_secrets": {"()": "config.logs.MaskSecretsFilter"},
        },
        "formatters": {
            "plain": {
                "format": "%(asctime)s %(levelname)s %(name)s "
                "[request=%(request_id)s camera=%(camera_id)s] %(message)s"
            },
            "json": {"()": "config.logs.PresenceJsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "mask_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
            # Django gives these handlers of its own (DEBUG-only console, mail to admins)
            # that would bypass the filters above: they go through the root's instead.
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": [], "propagate": True},
        },
    }

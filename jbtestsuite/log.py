"""structlog configuration shared by web, worker and beat processes."""

from __future__ import annotations

import re

import structlog

# Keys whose values never reach a log line, whatever logged them.
_SECRET_KEY_PATTERN = re.compile(r"pass(word)?|secret|token|authorization|api[_-]?key|cookie", re.IGNORECASE)
MASK = "***"


def secrets_redact(logger, method_name, event_dict):
    for key in list(event_dict):
        if _SECRET_KEY_PATTERN.search(key):
            event_dict[key] = MASK
    return event_dict


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        secrets_redact,
    ]


def logging_config(*, level: str, fmt: str) -> dict:
    """Configure structlog and return the stdlib `LOGGING` dict routing everything through it."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    final = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == "json":
        final.append(structlog.processors.format_exc_info)
    final.append(renderer)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": final,
                "foreign_pre_chain": _shared_processors(),
            },
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "structlog"},
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # Per-query SQL at DEBUG would drown everything else and may carry parameter values.
            "django.db.backends": {"level": "INFO"},
            "django.server": {"level": "WARNING"},
            "selenium": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
            "openai": {"level": "WARNING"},
            "kombu": {"level": "WARNING"},
            "celery": {"level": "INFO" if level == "DEBUG" else level},
        },
    }

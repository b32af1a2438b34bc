"""Configuration read from the environment (and an optional `.env` file).

Every variable goes through `Config`, which records its name in `VARIABLES` so tests can
prove that `.env.example`, the README and docker-compose.yml describe exactly what the
settings read. A malformed value raises `ConfigError` with one line naming the variable and
what was expected; the entry points (manage.py, wsgi, asgi, celery) print that line and exit
instead of showing a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from jbtestsuite.log import MASK

ENVIRONMENTS = ("development", "testing", "staging", "production")

#: Every variable the settings read, in the order they are read.
VARIABLES: dict[str, str] = {}


class ConfigError(ImproperlyConfigured):
    """A variable is missing or malformed; the message is one line meant for humans."""


class Config:
    """Typed accessors over the process environment that fail with a one-line message."""

    def __init__(self, env_file: Path | None = None):
        if env_file is not None and env_file.is_file():
            # Values already in the environment win over the file, as in every 12-factor tool.
            environ.Env.read_env(str(env_file), overwrite=False)
        self._env = environ.Env()

    def _raw(self, name: str, expected: str) -> str | None:
        VARIABLES[name] = expected
        value = os.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: str, default: str = "", *, choices: tuple[str, ...] | None = None) -> str:
        expected = f"one of {', '.join(choices)}" if choices else "a string"
        value = self._raw(name, expected)
        if value is None:
            return default
        if choices and value not in choices:
            raise ConfigError(f"{name}={value!r} is invalid: expected {expected}")
        return value

    def secret(self, name: str, default: str = "") -> str:
        value = self._raw(name, "a secret string")
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name, "true or false")
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={value!r} is invalid: expected true or false")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        value = self._raw(name, expected)
        if value is None:
            return default
        try:
            number = int(value.replace("_", ""))
        except ValueError:
            raise ConfigError(f"{name}={value!r} is invalid: expected {expected}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}={value!r} is invalid: expected {expected}")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name, "a comma-separated list")
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(self, name: str, default: str, *, schemes: tuple[str, ...]) -> str:
        expected = f"a URL starting with {' or '.join(s + '://' for s in schemes)}"
        value = self._raw(name, expected)
        if value is None:
            return default
        parts = urlsplit(value)
        if parts.scheme not in schemes or (parts.scheme not in ("sqlite", "filesystem") and not parts.hostname):
            raise ConfigError(f"{name}={_without_password(value)!r} is invalid: expected {expected}")
        return value

    def database(self, name: str, default: str) -> dict:
        schemes = ("postgres", "postgresql", "pgsql", "sqlite")
        url = self.url(name, default, schemes=schemes)
        return self._env.db_url_config(url)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", f":{MASK}@", 1)
    return url


def load_settings_or_exit() -> None:
    """Import the settings module; on a configuration error print one line and exit 2."""
    import importlib

    module = os.environ.get("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
    try:
        importlib.import_module(module)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from None

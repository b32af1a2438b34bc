"""Fixtures shared by every app's tests."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _local_cache(settings):
    # Throttle counters must not leak between tests (or test runs) through the shared Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `manage.py` in a fresh interpreter with exactly `env` (plus PATH) as its environment."""
    full_env = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=full_env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

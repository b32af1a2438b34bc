import json
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import BASE_DIR, free_port, manage

pytestmark = pytest.mark.slow


def _get_json(url: str, deadline: float):
    """GET `url`, retrying while the server is still starting, until `deadline`."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, json.loads(response.read())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_it_runs_with_no_configuration_on_sqlite_and_the_filesystem_broker(tmp_path):
    # Only DATA_DIR is set, so the test does not write into the checkout's own data folder.
    env = {"DATA_DIR": str(tmp_path)}
    migrated = manage("migrate", "--noinput", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "jbtestsuite.sqlite3").is_file()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        assert _get_json(f"http://127.0.0.1:{port}/health", deadline) == (200, {"status": "ok"})
        status, body = _get_json(f"http://127.0.0.1:{port}/health/ready", deadline)
        assert status == 200
        assert body["checks"] == {"database": {"status": "ok"}, "broker": {"status": "ok"}}
        assert (tmp_path / "broker" / "queue").is_dir()
    finally:
        server.terminate()
        server.wait(timeout=10)

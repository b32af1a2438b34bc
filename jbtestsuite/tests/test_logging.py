import json

import pytest

from conftest import manage

SCRIPT = """
import structlog
from django.test import Client
Client().get('/health', HTTP_X_REQUEST_ID='req-42')
structlog.get_logger('jbtestsuite.check').warning('login_attempt', password='hunter2', api_key='sk-live-1', user='ann')
"""


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """What SCRIPT logs, in JSON, from a process of its own (run once for every test here)."""
    data_dir = str(tmp_path_factory.mktemp("logging"))
    result = manage(
        "shell",
        "-c",
        SCRIPT,
        env={"ENVIRONMENT": "testing", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "DATA_DIR": data_dir},
    )
    assert result.returncode == 0, result.stderr
    return result


def test_it_writes_one_json_object_per_line_with_the_request_id(logged):
    result = logged
    records = _json_lines(result.stderr)
    finished = [r for r in records if r.get("event") == "request_finished"]
    assert finished
    assert finished[0]["request_id"] == "req-42"
    assert finished[0]["code"] == 200
    assert {"timestamp", "level", "logger"} <= finished[0].keys()


def test_it_never_logs_secret_values(logged):
    result = logged
    login = next(r for r in _json_lines(result.stderr) if r.get("event") == "login_attempt")
    assert login["user"] == "ann"
    assert login["password"] == "***"
    assert login["api_key"] == "***"
    assert "hunter2" not in result.stderr
    assert "sk-live-1" not in result.stderr


def test_it_renders_readable_console_lines_in_development(tmp_path):
    result = manage("shell", "-c", SCRIPT, env={"ENVIRONMENT": "development", "DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "request_finished" in result.stderr
    assert "request_id=req-42" in result.stderr
    assert not _json_lines(result.stderr)

"""Live progress over real WebSockets: a uvicorn server on 127.0.0.1, real Redis, a real worker.

The worker tests run real headless Chromium; the others emit events through the services the
worker calls, which is where every event is written.
"""

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from conftest import api_client, case_with_steps, free_port, wait_for
from executions import events, services, worker
from executions.models import EventKind, Execution, RunEvent, RunStatus, StepResult
from executions.tests.live import asgi_served, messages_until_closed, refusal, socket_open, token_for
from jbtestsuite.celery import app as celery_app
from tests_catalog.models import TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def live():
    with asgi_served() as url:
        yield url


@pytest.fixture
def worker_thread():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield
    worker.worker_browser_close()


@pytest.fixture
def queued(editor, case):
    return services.execution_create(case=case, trigger="api", triggered_by=editor)


def _events(messages):
    assert messages[0]["type"] == "hello", messages[0]
    return messages[1:]


@pytest.mark.browser
def test_it_pushes_every_step_of_a_run_on_a_real_worker_and_resumes_without_gaps(live, editor, shop_case,
                                                                                   worker_thread):  # fmt: skip
    response = api_client(editor).post(
        "/api/v1/executions/", {"test_case": str(shop_case.id), "variables": {"quantity": "2"}}, format="json"
    )
    url = f"{live}/ws/executions/{response.json()['id']}/"
    token = token_for(editor)
    with socket_open(url, token) as ws:
        first, close = messages_until_closed(ws, limit=4)
    assert close is None
    assert first[0]["mode"] == "redis"
    # Reconnect mid-run with the last seq seen, the token as a subprotocol this time.
    with socket_open(f"{url}?after={first[-1]['seq']}", token, subprotocol=True) as ws:
        assert ws.subprotocol == "jbtestsuite"
        rest, close = messages_until_closed(ws)
    assert (close.code, close.reason) == (1000, "execution finished")
    received = _events(first) + _events(rest)
    assert [event["seq"] for event in received] == list(range(1, len(received) + 1))
    assert [event["kind"] for event in received] == (
        ["execution.queued", "execution.started"] + ["step.started", "step.finished"] * 5 + ["execution.finished"]
    )
    steps = [event["data"] for event in received if event["kind"] == "step.finished"]
    stored = StepResult.objects.filter(execution_id=response.json()["id"]).order_by("order_index")
    assert [(s["index"], s["status"], s["duration_ms"], s["message"]) for s in steps] == [
        (r.order_index, r.status, r.duration_ms, r.message) for r in stored
    ]
    assert received[-1]["data"]["status"] == RunStatus.PASSED


@pytest.mark.browser
def test_it_follows_a_suite_run_with_counts_and_the_failing_screenshot(live, editor, project, shop_case,
                                                                       worker_thread):  # fmt: skip
    failing = case_with_steps(project, name="Wrong heading",
                              steps=(("open", "", "shop.html"), ("assert_text", "#heading", "Goodbye")))  # fmt: skip
    suite = TestSuite.objects.create(project=project, name="Shop smoke")
    suite.entries.create(case=shop_case, order_index=0)
    suite.entries.create(case=failing, order_index=1)
    response = api_client(editor).post("/api/v1/executions/", {"suite": str(suite.id), "variables": {"quantity": "1"}},
                                       format="json")  # fmt: skip
    with socket_open(f"{live}/ws/suite-runs/{response.json()['id']}/", token_for(editor)) as ws:
        messages, close = messages_until_closed(ws)
    assert (close.code, close.reason) == (1000, "suite run finished")
    received = _events(messages)
    assert [event["seq"] for event in received] == list(range(1, len(received) + 1))
    assert received[0]["kind"] == "suite_run.queued"
    assert received[-1]["kind"] == "suite_run.finished"
    assert {k: received[-1]["data"][k] for k in ("status", "total", "passed", "failed")} == {
        "status": "failed", "total": 2, "passed": 1, "failed": 1,
    }  # fmt: skip
    failed_step = next(e for e in received if e["kind"] == "step.finished" and e["data"]["status"] == "failed")
    result = StepResult.objects.get(execution_id=failed_step["execution"], order_index=failed_step["data"]["index"])
    screenshot = result.artifacts.get(kind="screenshot")
    assert {"id": str(screenshot.pk), "kind": "screenshot"} in failed_step["data"]["artifacts"]


def test_it_refuses_unknown_and_foreign_runs_alike_and_bad_credentials(live, queued, editor, outsider):
    url = f"{live}/ws/executions/{queued.pk}/"
    foreign = refusal(url, token_for(outsider))
    unknown = refusal(f"{live}/ws/executions/{uuid.uuid4()}/", token_for(editor))
    assert (foreign.code, foreign.reason) == (unknown.code, unknown.reason) == (4404, "execution not found")
    assert refusal(f"{live}/ws/projects/{queued.project_id}/activity/", token_for(outsider)).code == 4404
    assert (refusal(url).code, refusal(url).reason) == (4401, "authentication required: a JWT or the admin session")
    assert (refusal(url, "not-a-jwt").code, refusal(url, "not-a-jwt").reason) == (4401, "invalid or expired token")
    assert refusal(f"{url}?after=-1", token_for(editor)).code == 4400


def test_it_takes_the_admin_session_and_refuses_pages_of_other_sites(live, queued, editor):
    browser = Client()
    browser.force_login(editor)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    from websockets.sync.client import connect

    with connect(f"{live}/ws/executions/{queued.pk}/", additional_headers={"Cookie": cookie,
                 "Origin": "http://127.0.0.1"}) as ws:  # fmt: skip
        messages, _ = messages_until_closed(ws, limit=2, timeout=20)
    assert [m.get("kind") for m in messages] == [None, "execution.queued"]
    with pytest.raises(Exception, match="403"):
        connect(f"{live}/ws/executions/{queued.pk}/", additional_headers={"Cookie": cookie,
                "Origin": "http://evil.example"}, open_timeout=10)  # fmt: skip


def test_it_closes_a_stream_when_its_token_expires(live, queued, editor):
    with socket_open(f"{live}/ws/executions/{queued.pk}/", token_for(editor, seconds=2)) as ws:
        messages, close = messages_until_closed(ws, timeout=30)
    assert [m.get("kind") for m in messages] == [None, "execution.queued"]
    assert (close.code, close.reason) == (4401, "token expired")


def _step_outcome(index, status="passed", message=""):
    from executions.runner.outcomes import StepOutcome

    return StepOutcome(index, "open", "css", "", "login", status, 12, message)


def test_it_streams_from_the_database_without_redis(live, queued, editor, settings):
    settings.CHANNEL_LAYERS = {}
    settings.LIVE_POLL_INTERVAL_MS = 200
    with socket_open(f"{live}/ws/executions/{queued.pk}/", token_for(editor)) as ws:
        hello, queued_event = messages_until_closed(ws, limit=2, timeout=20)[0]
        assert hello["mode"] == "database"
        services.execution_claim(execution_id=queued.pk, worker_host="here")
        services.step_result_record(execution=queued, outcome=_step_outcome(0))
        services.execution_finish(execution_id=queued.pk, status=RunStatus.PASSED)
        rest, close = messages_until_closed(ws, timeout=20)
    assert [e["kind"] for e in [queued_event, *rest]] == [
        "execution.queued", "execution.started", "step.finished", "execution.finished",
    ]  # fmt: skip
    assert [e["seq"] for e in [queued_event, *rest]] == [1, 2, 3, 4]
    assert close.code == 1000


def test_it_replays_a_finished_run_after_any_seq_and_ends(live, queued, editor):
    services.execution_claim(execution_id=queued.pk, worker_host="here")
    for index in range(3):
        services.step_result_record(execution=queued, outcome=_step_outcome(index))
    services.execution_finish(execution_id=queued.pk, status=RunStatus.PASSED)
    url = f"{live}/ws/executions/{queued.pk}/"
    for after in (0, 2, 6):
        with socket_open(f"{url}?after={after}", token_for(editor)) as ws:
            messages, close = messages_until_closed(ws, timeout=20)
        assert [e["seq"] for e in _events(messages)] == list(range(after + 1, 7))
        assert close.code == 1000


def test_it_shows_a_projects_activity_snapshot_then_runs_as_they_move(live, queued, editor):
    with socket_open(f"{live}/ws/projects/{queued.project_id}/activity/", token_for(editor)) as ws:
        hello = messages_until_closed(ws, limit=1, timeout=20)[0][0]
        assert [e["id"] for e in hello["executions"]] == [str(queued.pk)]
        services.execution_claim(execution_id=queued.pk, worker_host="here")
        services.step_result_record(execution=queued, outcome=_step_outcome(0))
        services.execution_finish(execution_id=queued.pk, status=RunStatus.FAILED, error_message="boom")
        moved, _ = messages_until_closed(ws, limit=2, timeout=20)
    assert [(e["kind"], e["data"]["status"]) for e in moved] == [("execution.started", "running"),
                                                                ("execution.finished", "failed")]  # fmt: skip


def test_it_numbers_events_of_concurrent_writers_without_gaps_or_repeats(queued):
    import threading

    from django.db import connection

    def emit_many():
        try:
            for index in range(20):
                events.step_started(execution_id=queued.pk, step={"order_index": index, "action": "open"})
        finally:
            connection.close()

    threads = [threading.Thread(target=emit_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = list(RunEvent.objects.filter(execution=queued).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 82))
    assert Execution.objects.get(pk=queued.pk).event_seq == 81


# --- faults ----------------------------------------------------------------------------------


def _handshake_then_never_read(port: int, path: str, token: str) -> socket.socket:
    sock = socket.socket()
    # Set before connecting, so the window it announces stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
                  ).encode())  # fmt: skip
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def test_it_drops_a_client_that_never_reads(live, queued, editor, settings):
    settings.LIVE_MAX_UNSENT_MESSAGES = 20
    settings.LIVE_SEND_TIMEOUT_SECONDS = 2
    port = int(live.rsplit(":", 1)[1])
    sock = _handshake_then_never_read(port, f"/ws/executions/{queued.pk}/", token_for(editor))
    big = "x" * 64_000
    for index in range(80):  # ~5 MB: more than the kernel buffers on both sides hold
        events.event_emit(kind=EventKind.STEP_FINISHED, execution_id=queued.pk, data={"index": index, "message": big})
    received = 0
    sock.settimeout(60)
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += len(chunk)
    sock.close()
    # The server gave up on us (end of stream) long before sending everything.
    assert received < 80 * 64_000 * 0.9


@pytest.fixture
def private_redis():
    """A redis-server of this test's own on a free port, which the test may stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()

    def start():
        process = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for(lambda: _redis_answers(port), timeout=10, message="redis-server to start")
        return process

    state = {"process": start()}

    def restart_after(action):
        state["process"].terminate()
        state["process"].wait(timeout=10)
        action()
        state["process"] = start()

    yield port, restart_after
    state["process"].terminate()
    state["process"].wait(timeout=10)


def _redis_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def test_it_loses_nothing_when_redis_restarts_mid_run(queued, editor, settings, private_redis):
    port, restart_after = private_redis
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0", "socket_connect_timeout": 1}]},
        }
    }
    settings.LIVE_RESYNC_SECONDS = 1
    services.execution_claim(execution_id=queued.pk, worker_host="here")
    with asgi_served() as live, socket_open(f"{live}/ws/executions/{queued.pk}/", token_for(editor)) as ws:
        before, _ = messages_until_closed(ws, limit=3, timeout=20)
        assert before[0]["mode"] == "redis"

        def while_redis_is_down():
            for index in range(3):
                services.step_result_record(execution=queued, outcome=_step_outcome(index))

        restart_after(while_redis_is_down)
        services.step_result_record(execution=queued, outcome=_step_outcome(3))
        services.execution_finish(execution_id=queued.pk, status=RunStatus.PASSED)
        after, close = messages_until_closed(ws, timeout=30)
    received = _events(before) + after
    assert [e["seq"] for e in received] == list(range(1, 8))
    assert [e["kind"] for e in received] == ["execution.queued", "execution.started"] + ["step.finished"] * 4 + [
        "execution.finished"
    ]
    assert close.code == 1000


@pytest.mark.browser
def test_it_prints_each_step_from_the_push_and_one_line_per_case_when_quiet(shop_case, worker_thread, settings,
                                                                             capsys):  # fmt: skip
    from django.core.management import call_command

    # No quiet-time database reads during the run: every line after the first read comes from a push.
    settings.LIVE_RESYNC_SECONDS = 3600
    call_command("run_tests", "--case", str(shop_case.id), "--var", "quantity=3", "--timeout", "120")
    out = capsys.readouterr().out
    steps = [line for line in out.splitlines() if line.startswith("  passed  Add to cart: ")]
    assert [line.split(": ", 1)[1].split("  ")[0] for line in steps] == [
        "0. open", "1. assert_title", "2. type", "3. click", "4. assert_text",
    ]  # fmt: skip
    assert out.index(steps[-1]) < out.index("PASSED    Add to cart")
    call_command("run_tests", "--case", str(shop_case.id), "--var", "quantity=3", "--quiet", "--timeout", "120")
    quiet = capsys.readouterr().out
    assert "Add to cart: " not in quiet
    assert quiet.count("PASSED    Add to cart") == 1

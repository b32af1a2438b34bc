"""Executions through real Celery workers on Redis, including injected faults.

A worker thread (celery.contrib.testing) serves the end-to-end tests; the kill test needs a
worker *process* to kill. The outage test runs its own redis-server on its own port, never
touching the machine's shared one.
"""

import os
import shutil
import signal
import socket
import subprocess
from xml.etree import ElementTree

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command

from conftest import WORKER_ARGUMENTS, api_client, case_with_steps, free_port, wait_for
from executions import services, worker
from executions.models import FINAL_STATUSES, Execution, RunStatus, StepResult
from executions.runner.browser import child_process_ids
from jbtestsuite.celery import app as celery_app
from tests_catalog.models import TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def _finished(execution_id):
    execution = Execution.objects.get(pk=execution_id)
    return execution if execution.status in FINAL_STATUSES else None


@pytest.fixture
def worker_thread():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield
    worker.worker_browser_close()


def test_it_runs_a_case_queued_through_the_api_on_a_real_worker(editor, shop_case, worker_thread):
    response = api_client(editor).post(
        "/api/v1/executions/", {"test_case": str(shop_case.id), "variables": {"quantity": "4"}}, format="json"
    )
    assert response.status_code == 202
    execution = wait_for(lambda: _finished(response.json()["id"]), message="the execution to finish")
    assert execution.status == RunStatus.PASSED, execution.error_message
    assert execution.enqueued_at is not None
    assert execution.worker_host == socket.gethostname()
    detail = api_client(editor).get(f"/api/v1/executions/{execution.id}/").json()
    assert [r["status"] for r in detail["step_results"]] == ["passed"] * 5
    assert detail["step_results"][4]["value"] == "Cart: 4"


def test_it_runs_a_suite_and_serves_the_failed_steps_screenshot(editor, project, shop_case, worker_thread):
    failing = case_with_steps(project, name="Wrong heading",
                              steps=(("open", "", "shop.html"), ("assert_text", "#heading", "Goodbye")))  # fmt: skip
    suite = TestSuite.objects.create(project=project, name="Shop smoke")
    suite.entries.create(case=shop_case, order_index=0)
    suite.entries.create(case=failing, order_index=1)
    client = api_client(editor)
    response = client.post("/api/v1/executions/", {"suite": str(suite.id), "variables": {"quantity": "1"}},
                           format="json")  # fmt: skip
    assert response.status_code == 202
    run_id = response.json()["id"]
    run = wait_for(lambda: client.get(f"/api/v1/suite-runs/{run_id}/").json() if client.get(
        f"/api/v1/suite-runs/{run_id}/").json()["status"] not in ("queued", "running") else None,
        message="the suite run to finish")  # fmt: skip
    assert (run["status"], run["passed"], run["failed"]) == ("failed", 1, 1)
    failed_id = next(e["id"] for e in run["executions"] if e["status"] == "failed")
    failed_step = client.get(f"/api/v1/executions/{failed_id}/").json()["step_results"][1]
    screenshot = next(a for a in failed_step["artifacts"] if a["kind"] == "screenshot")
    download = client.get(screenshot["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content)[:4] == b"\x89PNG"


# --- A worker process killed mid-execution ---------------------------------------------------


def test_it_recovers_an_execution_whose_worker_was_killed(project, shop_url, settings, celery_process):
    settings.EXECUTION_HEARTBEAT_TIMEOUT_SECONDS = 2
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("pause", "", "3000"), ("assert_title", "", "Shop"))
    case = case_with_steps(project, name="Interrupted", steps=steps, retry_count=1)
    process = celery_process(*WORKER_ARGUMENTS, log="worker.log", EXECUTION_HEARTBEAT_TIMEOUT_SECONDS="2")
    first = services.execution_create(case=case, trigger="api")

    wait_for(lambda: StepResult.objects.filter(execution=first, order_index=0).exists(), timeout=90,
             message="the first step on the worker")  # fmt: skip
    pool_children = wait_for(lambda: child_process_ids(process.pid), message="the worker's pool process")
    for pid in pool_children:
        os.kill(pid, signal.SIGKILL)

    wait_for(lambda: services.executions_sweep()["lost"], timeout=30, interval=0.5, message="the sweeper")
    first.refresh_from_db()
    assert first.status == RunStatus.ERROR
    assert first.error_message.startswith("worker lost")
    retry = wait_for(lambda: _finished(Execution.objects.get(previous_attempt=first).pk), timeout=90,
                     message="the second attempt")  # fmt: skip
    assert (retry.attempt, retry.status) == (2, RunStatus.PASSED)
    assert not Execution.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()


# --- The broker down when the execution is created ------------------------------------------


@pytest.fixture
def private_broker(monkeypatch):
    """Point this process's Celery app at a Redis port of our own, not yet listening."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (make test installs it)")
    port = free_port()
    original = celery_app.conf.broker_url

    def use(url):
        celery_app.conf.broker_url = url
        # Drop pooled connections to the previous broker.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    use(f"redis://127.0.0.1:{port}/0")
    servers = []

    def start():
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL)  # fmt: skip
        servers.append(server)
        wait_for(lambda: _port_open(port), timeout=15, message="the private redis-server")

    yield start
    use(original)
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def _port_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_it_accepts_runs_while_the_broker_is_down_and_runs_them_once_it_is_back(
    editor, shop_case, private_broker, settings
):
    settings.EXECUTION_SWEEP_INTERVAL_SECONDS = 0
    response = api_client(editor).post(
        "/api/v1/executions/", {"test_case": str(shop_case.id), "variables": {"quantity": "5"}}, format="json"
    )
    assert response.status_code == 202
    execution = Execution.objects.get(pk=response.json()["id"])
    assert (execution.status, execution.enqueued_at) == (RunStatus.QUEUED, None)

    private_broker()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        assert services.executions_sweep()["resent"] == 1
        finished = wait_for(lambda: _finished(execution.id), message="the execution after the outage")
    worker.worker_browser_close()
    assert finished.status == RunStatus.PASSED, finished.error_message


# --- The CLI ---------------------------------------------------------------------------------


def test_it_exits_0_and_writes_junit_when_everything_passed_inline(shop_case, tmp_path, capsys):
    junit = tmp_path / "report.xml"
    call_command("run_tests", "--case", str(shop_case.id), "--var", "quantity=2", "--inline", "--junit", str(junit))
    out = capsys.readouterr().out
    assert "PASSED    Add to cart" in out
    assert "1 case(s): 1 passed, 0 failed, 0 error, 0 cancelled" in out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    worker.worker_browser_close()


def test_it_exits_1_with_failures_counted_in_junit(project, shop_case, tmp_path, capsys):
    failing = case_with_steps(project, name="Wrong heading",
                              steps=(("open", "", "shop.html"), ("assert_text", "#heading", "Goodbye")))  # fmt: skip
    broken = case_with_steps(project, name="Undefined variable", steps=(("open", "", "${nowhere}"),))
    suite = TestSuite.objects.create(project=project, name="Mixed")
    for index, case in enumerate([shop_case, failing, broken]):
        suite.entries.create(case=case, order_index=index)
    junit = tmp_path / "report.xml"
    with pytest.raises(SystemExit) as excinfo:
        call_command("run_tests", "--suite", "Mixed", "--project", project.slug, "--var", "quantity=1",
                     "--inline", "--junit", str(junit))  # fmt: skip
    assert excinfo.value.code == 1
    out = capsys.readouterr().out
    assert "3 case(s): 1 passed, 1 failed, 1 error, 0 cancelled" in out
    root = ElementTree.parse(junit).getroot()
    suite_element = root.find("testsuite")
    assert (suite_element.get("tests"), suite_element.get("failures"), suite_element.get("errors")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite_element.findall("testcase")}
    assert cases["Wrong heading"].find("failure") is not None
    assert "nowhere" in cases["Undefined variable"].find("error").get("message")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--suite", "No such suite"], "no suite named"),
        (["--case", "not-a-uuid"], "not a test case id"),
        (["--case", "00000000-0000-0000-0000-000000000000"], "no test case with id"),
        (["--suite", "Smoke", "--env", "nowhere"], "no environment named"),
        (["--suite", "Smoke", "--var", "novalue"], "expected NAME=VALUE"),
        (["--suite", "Smoke", "--project", "nope"], "no project with slug"),
    ],
)
def test_it_exits_2_on_bad_arguments(suite, arguments, message):
    with pytest.raises(CommandError) as excinfo:
        call_command("run_tests", *arguments)
    assert excinfo.value.returncode == 2
    assert message in str(excinfo.value)
    assert not Execution.objects.exists()


def test_it_enqueues_and_waits_for_a_worker_without_inline(shop_case, worker_thread, capsys):
    call_command("run_tests", "--case", str(shop_case.id), "--var", "quantity=3")
    out = capsys.readouterr().out
    assert "PASSED    Add to cart" in out
    assert Execution.objects.get().trigger == "cli"

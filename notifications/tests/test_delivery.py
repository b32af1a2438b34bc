"""Deliveries through a real Celery worker to an HTTP server on 127.0.0.1, and e-mail via locmem.

Suite runs finish through the engine's services (no browser needed): the finished-run hook fires
on commit, the worker decides who hears about it and delivers.
"""

import hashlib
import hmac

import pytest
from celery.contrib.testing.worker import start_worker

from conftest import case_with_steps, wait_for
from executions import services as run_services
from executions.models import RunStatus
from jbtestsuite.celery import app as celery_app
from notifications import services
from notifications.models import NotificationDelivery
from tests_catalog.models import Environment, TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRET = "webhook-secret-123"


@pytest.fixture
def worker_thread(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 0.2
    settings.PUBLIC_BASE_URL = "https://jb.example"
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield


@pytest.fixture
def login_suite(project):
    suite = TestSuite.objects.create(project=project, name="Login smoke")
    case = case_with_steps(project, name="Log in", steps=(("echo", "", "hi"), ("assert_title", "", "Login")))
    suite.entries.create(case=case, order_index=0)
    return suite


def _finish_run(suite, outcome, *, environment=None, message="expected 'Login', got 'Error'"):
    """Start a suite run and finish its execution as a worker would: step 0 passes, step 1 `outcome`."""
    from executions.runner.outcomes import StepOutcome

    run = run_services.suite_run_start(suite=suite, trigger="schedule", environment=environment, inline=True)
    execution = run.executions.get()
    run_services.execution_claim(execution_id=execution.pk, worker_host="test")
    for index, status in enumerate(["passed", outcome]):
        run_services.step_result_record(
            execution=execution,
            outcome=StepOutcome(order_index=index, action=["echo", "assert_title"][index], selector_type="",
                                selector="", value="", status=status, duration_ms=5,
                                message="" if status == "passed" else message),
        )  # fmt: skip
    failing = None if outcome == "passed" else 1
    run_services.execution_finish(execution_id=execution.pk, status=outcome, failing_step_index=failing,
                                  error_message="" if outcome == "passed" else message)  # fmt: skip
    return run


def _deliveries(**filters):
    return list(NotificationDelivery.objects.filter(**filters).order_by("created_at"))


def test_it_posts_a_signed_body_once_per_failure_streak_and_on_recovery(project, login_suite, receiver,
                                                                       worker_thread):  # fmt: skip
    staging = Environment.objects.create(project=project, name="staging")
    channel = services.notification_channel_create(project=project, name="hook", kind="webhook", url=receiver.url,
                                                   secret=SECRET, on="recovery")  # fmt: skip

    first = _finish_run(login_suite, RunStatus.FAILED, environment=staging)
    wait_for(lambda: len(receiver.requests) == 1, timeout=20, message="the failure notification")
    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-JBTestSuite-Signature"], expected)
    body = request.json()
    assert body["event"] == "failure"
    assert (body["suite"]["name"], body["environment"]["name"]) == ("Login smoke", "staging")
    assert body["counts"] == {"total": 1, "passed": 0, "failed": 1, "error": 0, "cancelled": 0}
    assert body["failures"] == [{"case": "Log in", "status": "failed", "message": "expected 'Login', got 'Error'",
                                 "step": {"index": 1, "action": "assert_title", "description": ""}}]  # fmt: skip
    assert body["run"]["url"] == f"https://jb.example/admin/executions/suiterun/{first.pk}/change/"
    assert body["run"]["duration_seconds"] is not None

    _finish_run(login_suite, RunStatus.FAILED, environment=staging)  # the same streak: quiet
    recovered = _finish_run(login_suite, RunStatus.PASSED, environment=staging)
    wait_for(lambda: len(receiver.requests) == 2, timeout=20, message="the recovery notification")
    body = receiver.requests[1].json()
    assert (body["event"], body["run"]["id"], body["failures"]) == ("recovery", str(recovered.pk), [])
    _finish_run(login_suite, RunStatus.PASSED, environment=staging)  # still passing: quiet
    # One worker thread takes tasks in order: a (wrong) notice of the quiet run would arrive
    # before the notice of a later failure, which starts a streak of its own (no environment).
    sentinel = _finish_run(login_suite, RunStatus.FAILED)
    wait_for(lambda: len(receiver.requests) == 3, timeout=20, message="the sentinel's failure notification")
    assert receiver.requests[2].json()["run"]["id"] == str(sentinel.pk)
    assert [(d.event, d.status_code, d.succeeded) for d in _deliveries(channel=channel)] == [
        ("failure", 200, True), ("recovery", 200, True), ("failure", 200, True)]  # fmt: skip


def test_it_retries_on_500_with_backoff_then_succeeds_and_records_every_attempt(project, login_suite, receiver,
                                                                                worker_thread):  # fmt: skip
    receiver.statuses = [500, 503]
    channel = services.notification_channel_create(project=project, name="hook", kind="webhook", url=receiver.url,
                                                   secret=SECRET)  # fmt: skip
    run = _finish_run(login_suite, RunStatus.ERROR)
    wait_for(lambda: NotificationDelivery.objects.filter(succeeded=True).exists(), timeout=20,
             message="the third attempt")  # fmt: skip
    attempts = _deliveries(channel=channel, suite_run=run)
    assert [(d.attempt, d.status_code, d.succeeded) for d in attempts] == [(1, 500, False), (2, 503, False),
                                                                          (3, 200, True)]  # fmt: skip
    assert attempts[0].error.startswith("HTTP 500")
    # Exponential backoff: 0.2 s, then 0.4 s.
    assert (attempts[2].created_at - attempts[1].created_at).total_seconds() >= 0.35
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same message each time


def test_it_gives_up_on_a_4xx_and_a_dead_channel_does_not_block_the_others(project, login_suite, receiver,
                                                                          worker_thread, settings):  # fmt: skip
    from conftest import free_port

    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    receiver.statuses = [404]
    rejected = services.notification_channel_create(project=project, name="a-rejected", kind="webhook",
                                                    url=receiver.url, secret=SECRET)  # fmt: skip
    dead = services.notification_channel_create(project=project, name="b-dead", kind="slack",
                                                url=f"http://127.0.0.1:{free_port()}/services/T0/B0/xyz")  # fmt: skip
    slack = services.notification_channel_create(project=project, name="c-slack", kind="slack", url=receiver.url)
    _finish_run(login_suite, RunStatus.FAILED)
    wait_for(lambda: len(_deliveries(channel=dead)) == 2 and _deliveries(channel=slack), timeout=20,
             message="every channel's attempts")  # fmt: skip
    assert [(d.status_code, d.succeeded) for d in _deliveries(channel=rejected)] == [(404, False)]
    dead_attempts = _deliveries(channel=dead)
    assert all(d.error.startswith("network error") for d in dead_attempts)
    assert "xyz" not in dead_attempts[0].error  # the Slack URL is a secret
    assert _deliveries(channel=slack)[0].succeeded
    text = next(r for r in receiver.requests if r.headers.get("X-JBTestSuite-Signature") is None).json()["text"]
    assert "*Login smoke is failing (failed)*" in text
    assert "0 passed, 1 failed, 0 error of 1" in text
    assert "- Log in: failed at step 2 (assert_title): expected 'Login', got 'Error'" in text
    assert "|Open the run>" in text


def test_it_sends_email_through_djangos_backend(project, login_suite, worker_thread, mailoutbox):
    services.notification_channel_create(project=project, name="mail", kind="email",
                                         email_to=["qa@example.com", "lead@example.com"], on="always")  # fmt: skip
    _finish_run(login_suite, RunStatus.FAILED)
    wait_for(lambda: len(mailoutbox) == 1, timeout=20, message="the e-mail")
    email = mailoutbox[0]
    assert email.to == ["qa@example.com", "lead@example.com"]
    assert email.subject == "[JBTestSuite] Login smoke is finished (failed)"
    assert "0 passed, 1 failed, 0 error of 1" in email.body
    assert "https://jb.example/admin/executions/suiterun/" in email.body
    wait_for(lambda: NotificationDelivery.objects.filter(succeeded=True).exists(), timeout=10, message="the record")


def test_it_sends_a_test_notification(project, receiver, worker_thread):
    channel = services.notification_channel_create(project=project, name="hook", kind="webhook", url=receiver.url,
                                                   secret=SECRET)  # fmt: skip
    services.notification_test_send(channel=channel)
    wait_for(lambda: receiver.requests, timeout=20, message="the test notification")
    assert receiver.requests[0].json()["event"] == "test"
    assert receiver.requests[0].headers["X-JBTestSuite-Event"] == "test"
    assert NotificationDelivery.objects.get().event == "test"

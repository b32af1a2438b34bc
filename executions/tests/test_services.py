import datetime

import pytest
from django.utils import timezone

from executions import services
from executions.models import Execution, RunStatus, SuiteRun
from jbtestsuite.celery import app as celery_app
from jbtestsuite.errors import Conflict, ValidationFailed
from tests_catalog.models import Environment, EnvironmentVariable

pytestmark = pytest.mark.django_db


def test_it_snapshots_steps_and_masks_secret_variables(case, project):
    environment = Environment.objects.create(project=project, name="staging", base_url="http://staging.test/")
    EnvironmentVariable.objects.create(environment=environment, name="user", value="ann")
    EnvironmentVariable.objects.create(environment=environment, name="password", value="s3cret", secret=True)
    execution = services.execution_create(
        case=case, trigger="api", environment=environment, variables={"password": "override-secret", "lang": "en"}
    )
    assert execution.status == RunStatus.QUEUED
    assert execution.snapshot["base_url"] == "http://staging.test/"
    assert [s["action"] for s in execution.snapshot["steps"]] == ["open", "assert_title"]
    assert execution.snapshot["variables"] == {"user": "ann", "password": "***", "lang": "en"}
    assert "s3cret" not in str(execution.snapshot)
    assert "override-secret" not in str(execution.snapshot)


def test_it_keeps_the_snapshot_when_the_case_changes_later(case):
    execution = services.execution_create(case=case, trigger="api")
    case.steps.filter(order_index=1).update(value="Changed")
    case.name = "Renamed"
    case.save()
    execution.refresh_from_db()
    assert execution.case_name == "Login"
    assert execution.snapshot["steps"][1]["value"] == "Login"
    case.delete()
    execution.refresh_from_db()
    assert execution.test_case is None
    assert execution.snapshot["case"]["name"] == "Login"


def test_it_refuses_an_environment_of_another_project(case):
    from model_bakery import baker

    foreign = baker.make(Environment)
    with pytest.raises(ValidationFailed) as excinfo:
        services.execution_create(case=case, trigger="api", environment=foreign)
    assert "environment" in excinfo.value.details


def test_it_refuses_bad_variable_names(case):
    with pytest.raises(ValidationFailed) as excinfo:
        services.execution_create(case=case, trigger="api", variables={"not valid": "x"})
    assert "variables" in excinfo.value.details
    assert Execution.objects.count() == 0


def test_it_lets_only_one_claim_win(case):
    execution = services.execution_create(case=case, trigger="api")
    assert services.execution_claim(execution_id=execution.id, worker_host="w1") is True
    assert services.execution_claim(execution_id=execution.id, worker_host="w2") is False
    execution.refresh_from_db()
    assert (execution.status, execution.worker_host) == (RunStatus.RUNNING, "w1")
    assert execution.heartbeat_at is not None


def test_it_cancels_a_queued_execution_at_once_and_it_can_no_longer_be_claimed(case):
    execution = services.execution_create(case=case, trigger="api")
    services.execution_cancel(execution=execution)
    execution.refresh_from_db()
    assert execution.status == RunStatus.CANCELLED
    assert execution.finished_at is not None
    assert services.execution_claim(execution_id=execution.id, worker_host="w1") is False


def test_it_asks_a_running_execution_to_stop_before_its_next_step(case):
    execution = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=execution.id, worker_host="w1")
    assert services.execution_heartbeat(execution_id=execution.id) is False
    services.execution_cancel(execution=execution)
    assert services.execution_heartbeat(execution_id=execution.id) is True
    execution.refresh_from_db()
    assert execution.status == RunStatus.RUNNING


def test_it_refuses_to_cancel_a_finished_execution(case):
    execution = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=execution.id, worker_host="w1")
    services.execution_finish(execution_id=execution.id, status=RunStatus.PASSED)
    with pytest.raises(Conflict):
        services.execution_cancel(execution=execution)


def test_it_retries_a_failed_case_as_new_attempts_and_keeps_every_attempt(case):
    case.retry_count = 2
    case.save()
    first = services.execution_create(case=case, trigger="api")
    for expected_attempt in (1, 2, 3):
        current = Execution.objects.get(test_case=case, status=RunStatus.QUEUED)
        assert current.attempt == expected_attempt
        services.execution_claim(execution_id=current.id, worker_host="w1")
        services.execution_finish(execution_id=current.id, status=RunStatus.FAILED, error_message="boom")
    attempts = list(Execution.objects.filter(test_case=case).order_by("attempt"))
    assert [(e.attempt, e.status) for e in attempts] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert attempts[1].previous_attempt_id == first.id
    assert not Execution.objects.filter(status=RunStatus.QUEUED).exists()


def test_it_does_not_retry_a_pass(case):
    case.retry_count = 3
    case.save()
    execution = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=execution.id, worker_host="w1")
    services.execution_finish(execution_id=execution.id, status=RunStatus.PASSED)
    assert Execution.objects.count() == 1


def test_it_derives_suite_run_status_and_counts_from_the_last_attempts(suite):
    suite_run = services.suite_run_start(suite=suite, trigger="api")
    assert suite_run.total == 3
    executions = list(suite_run.executions.order_by("queued_at"))
    assert [e.case_name for e in executions] == ["First", "Second", "Third"]
    for execution, outcome in zip(executions, ["passed", "failed", "passed"], strict=True):
        services.execution_claim(execution_id=execution.id, worker_host="w1")
        suite_run.refresh_from_db()
        assert suite_run.status == RunStatus.RUNNING
        services.execution_finish(execution_id=execution.id, status=outcome)
    suite_run.refresh_from_db()
    assert (suite_run.status, suite_run.passed, suite_run.failed, suite_run.errored) == ("failed", 2, 1, 0)
    assert suite_run.finished_at is not None


def test_it_refuses_to_run_an_empty_suite(project):
    from tests_catalog.models import TestSuite

    empty = TestSuite.objects.create(project=project, name="Empty")
    with pytest.raises(ValidationFailed):
        services.suite_run_start(suite=empty, trigger="api")
    assert not SuiteRun.objects.exists()


def test_it_sweeps_a_lost_worker_into_error_or_a_new_attempt(case, settings):
    settings.EXECUTION_HEARTBEAT_TIMEOUT_SECONDS = 30
    lone = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=lone.id, worker_host="w1")
    case.retry_count = 1
    case.save()
    retried = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=retried.id, worker_host="w1")
    fresh = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=fresh.id, worker_host="w2")
    stale = timezone.now() - datetime.timedelta(seconds=60)
    Execution.objects.filter(pk__in=[lone.id, retried.id]).update(heartbeat_at=stale)

    swept = services.executions_sweep()

    assert swept["lost"] == 2
    lone.refresh_from_db()
    assert lone.status == RunStatus.ERROR
    assert lone.error_message.startswith("worker lost")
    assert Execution.objects.get(previous_attempt=retried).status == RunStatus.QUEUED
    fresh.refresh_from_db()
    assert fresh.status == RunStatus.RUNNING


def _execution_run_tasks_sent() -> list[str]:
    """Empty this test run's broker queue (no worker reads it now); the executions sent to be run."""
    sent = []
    with celery_app.connection_for_read() as connection:
        queue = connection.SimpleQueue(celery_app.conf.task_default_queue)
        try:
            while True:
                try:
                    message = queue.get(timeout=1)
                except queue.Empty:
                    return sent
                if message.headers.get("task") == "executions.tasks.execution_run":
                    sent.append(message.decode()[0][0])
                message.ack()
        finally:
            queue.close()


def test_it_resends_queued_executions_whose_task_never_reached_the_broker(case, settings):
    # Not a transaction test: the on_commit sends never happen, as when the broker was down.
    _execution_run_tasks_sent()
    never_sent = services.execution_create(case=case, trigger="api")
    just_created = services.execution_create(case=case, trigger="api")
    old = timezone.now() - datetime.timedelta(seconds=settings.EXECUTION_SWEEP_INTERVAL_SECONDS + 5)
    Execution.objects.filter(pk=never_sent.pk).update(queued_at=old)

    assert services.executions_sweep() == {"lost": 0, "resent": 1}

    never_sent.refresh_from_db()
    just_created.refresh_from_db()
    assert never_sent.enqueued_at is not None
    assert just_created.enqueued_at is None
    assert _execution_run_tasks_sent() == [str(never_sent.id)]

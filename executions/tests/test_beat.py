"""A real `celery beat` (DatabaseScheduler) and a real worker, as separate processes, fire a
1-second schedule against the test database: runs appear, never overlap, and stop when disabled."""

import itertools

import pytest

from conftest import WORKER_ARGUMENTS, case_with_steps, wait_for
from executions import schedules
from executions.models import FINAL_STATUSES, SuiteRun
from tests_catalog.models import TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def _scheduled_runs(suite):
    return list(SuiteRun.objects.filter(suite=suite, trigger="schedule").order_by("created_at"))


def _echo_suite(project, name):
    suite = TestSuite.objects.create(project=project, name=name)
    suite.entries.create(
        case=case_with_steps(project, name=f"{name} echo", steps=(("echo", "", "tick"),)), order_index=0
    )
    return suite


def test_it_runs_a_one_second_schedule_through_real_beat_and_worker_processes(project, celery_process, tmp_path):
    suite = _echo_suite(project, "Heartbeat")
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=1)
    celery_process(*WORKER_ARGUMENTS, log="worker.log")
    beat = celery_process("beat", "--pidfile=", f"--schedule={tmp_path / 'beat-schedule'}", log="beat.log")

    wait_for(lambda: sum(run.status in FINAL_STATUSES for run in _scheduled_runs(suite)) >= 3, timeout=90,
             interval=0.25, message=f"three scheduled runs (beat log: {tmp_path / 'beat.log'})")  # fmt: skip
    schedules.schedules_set_enabled(schedule_ids=[schedule.pk], enabled=False)
    count = len(_scheduled_runs(suite))
    # Beat rereads its schedules only every few seconds: once it has started a schedule created
    # after the change, it has surely seen the change too.
    sentinel = _echo_suite(project, "Sentinel")
    schedules.schedule_create(project=project, suite=sentinel, interval_seconds=1)
    wait_for(lambda: _scheduled_runs(sentinel), timeout=60, interval=0.25, message="beat to start the sentinel")
    wait_for(lambda: all(run.status in FINAL_STATUSES for run in _scheduled_runs(suite)), timeout=30,
             message="the last run to finish")  # fmt: skip
    beat.terminate()

    runs = _scheduled_runs(suite)
    assert len(runs) == count, "a disabled schedule started a run"
    assert {run.status for run in runs} == {"passed"}
    assert {(run.suite_id, run.trigger) for run in runs} == {(suite.pk, "schedule")}
    # The skip policy: each run started only after the previous one had finished.
    for previous, following in itertools.pairwise(runs):
        assert following.created_at >= previous.finished_at
    schedule.refresh_from_db()
    assert schedule.last_run == runs[-1]

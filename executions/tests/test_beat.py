"""A real `celery beat` (DatabaseScheduler) and a real worker, as separate processes, fire a
1-second schedule against the test database: runs appear, never overlap, and stop when disabled."""

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import BASE_DIR
from executions import schedules
from executions.models import FINAL_STATUSES, SuiteRun
from executions.tests.conftest import case_with_steps, wait_for, worker_environment
from tests_catalog.models import TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def celery_processes(tmp_path):
    started = []

    def start(*arguments, log: str):
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jbtestsuite", *arguments, "--loglevel=WARNING"],
            cwd=BASE_DIR, env=worker_environment(tmp_path), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / log, "ab"),  # noqa: SIM115
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _scheduled_runs():
    return list(SuiteRun.objects.filter(trigger="schedule").order_by("created_at"))


def test_it_runs_a_one_second_schedule_through_real_beat_and_worker_processes(project, celery_processes, tmp_path):
    suite = TestSuite.objects.create(project=project, name="Heartbeat")
    suite.entries.create(case=case_with_steps(project, name="Echo", steps=(("echo", "", "tick"),)), order_index=0)
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=1)
    celery_processes("worker", "--pool=prefork", "--concurrency=1", "--without-heartbeat", "--without-gossip",
                     "--without-mingle", log="worker.log")  # fmt: skip
    beat = celery_processes("beat", "--pidfile=", f"--schedule={tmp_path / 'beat-schedule'}", log="beat.log")
    started = time.monotonic()

    wait_for(lambda: sum(run.status in FINAL_STATUSES for run in _scheduled_runs()) >= 3, timeout=90,
             interval=0.25, message=f"three scheduled runs (beat log: {tmp_path / 'beat.log'})")  # fmt: skip
    schedules.schedules_set_enabled(schedule_ids=[schedule.pk], enabled=False)
    elapsed = time.monotonic() - started
    count = len(_scheduled_runs())
    wait_for(lambda: all(run.status in FINAL_STATUSES for run in _scheduled_runs()), timeout=30,
             message="the last run to finish")  # fmt: skip
    time.sleep(3)  # beat keeps ticking for a while (it rereads the schedule every few seconds)
    beat.terminate()

    runs = _scheduled_runs()
    assert len(runs) == count, "a disabled schedule started a run"
    assert count <= elapsed + 1, "more runs than one-second ticks"
    assert {run.status for run in runs} == {"passed"}
    assert {(run.suite_id, run.trigger) for run in runs} == {(suite.pk, "schedule")}
    # The skip policy: each run started only after the previous one had finished.
    for previous, following in itertools.pairwise(runs):
        assert following.created_at >= previous.finished_at
    schedule.refresh_from_db()
    assert schedule.last_run == runs[-1]

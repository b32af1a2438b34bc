"""Schedules: cron rules and next runs across DST, the PeriodicTask kept in step, the overlap policy."""

import datetime
import json

import pytest
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from executions import cron, schedules, services
from executions.models import RunStatus, Schedule, SuiteRun
from jbtestsuite.errors import ValidationFailed
from tests_catalog.models import Environment

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


# --- Cron rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["", "* * * *", "* * * * * *", "61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 13 *", "*/0 * * * *",
     "x * * * *", "* * * * funday"],
)  # fmt: skip
def test_it_refuses_bad_cron_expressions(expression):
    with pytest.raises(cron.CronInvalid):
        cron.cron_parse(expression)


@pytest.mark.parametrize("expression", ["* * * * *", "0 6 * * 1-5", "*/15 8-18 * * mon-fri", "30 2 1,15 * *"])
def test_it_accepts_good_cron_expressions(expression):
    assert cron.cron_parse(expression).minute == expression.split()[0]


def test_it_keeps_the_local_wall_clock_time_across_the_spring_dst_change():
    # Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026.
    assert cron.cron_next_run("0 9 * * *", "Europe/Berlin", after=at(2026, 3, 28, 9, 0)) == at(2026, 3, 29, 7, 0)
    assert cron.cron_next_run("0 9 * * *", "Europe/Berlin", after=at(2026, 3, 27, 9, 0)) == at(2026, 3, 28, 8, 0)
    # 02:30 does not exist that night: it runs at the same instant just after the gap (03:30 CEST).
    assert cron.cron_next_run("30 2 * * *", "Europe/Berlin", after=at(2026, 3, 28, 12, 0)) == at(2026, 3, 29, 1, 30)


def test_it_keeps_the_local_wall_clock_time_across_the_autumn_dst_change():
    # Back from UTC+2 to UTC+1 at 01:00 UTC on 25 October 2026; 02:30 happens twice and runs once.
    assert cron.cron_next_run("0 9 * * *", "Europe/Berlin", after=at(2026, 10, 24, 9, 0)) == at(2026, 10, 25, 8, 0)
    assert cron.cron_next_run("30 2 * * *", "Europe/Berlin", after=at(2026, 10, 24, 12, 0)) == at(2026, 10, 25, 0, 30)
    assert cron.cron_next_run("30 2 * * *", "Europe/Berlin", after=at(2026, 10, 25, 0, 30)) == at(2026, 10, 26, 1, 30)


def test_it_counts_interval_ticks_from_the_last_fire():
    since = at(2026, 1, 1, 12, 0)
    assert cron.interval_next_run(60, since=since, after=at(2026, 1, 1, 12, 0, 30)) == at(2026, 1, 1, 12, 1)
    assert cron.interval_next_run(60, since=since, after=at(2026, 1, 1, 12, 1)) == at(2026, 1, 1, 12, 2)


# --- Schedule <-> PeriodicTask ---------------------------------------------------------------


def _task_of(schedule) -> PeriodicTask:
    return PeriodicTask.objects.get(name=schedule.periodic_task_name)


def test_it_creates_the_periodic_task_with_the_schedule_in_the_projects_time_zone(project, suite):
    project.timezone = "Europe/Berlin"
    project.save()
    schedule = schedules.schedule_create(project=project, suite=suite, cron="0 6 * * 1-5")
    assert schedule.timezone == "Europe/Berlin"
    task = _task_of(schedule)
    assert schedule.periodic_task == task
    assert (task.task, json.loads(task.args), task.enabled) == ("executions.tasks.schedule_fire", [str(schedule.pk)],
                                                                True)  # fmt: skip
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1-5")
    assert str(task.crontab.timezone) == "Europe/Berlin"
    assert task.interval is None
    next_run = schedule.next_run(now=at(2026, 3, 27, 12, 0))  # a Friday
    assert next_run == at(2026, 3, 30, 4, 0)  # Monday 06:00 CEST


def test_it_names_the_bad_field(project, suite):
    with pytest.raises(ValidationFailed) as excinfo:
        schedules.schedule_create(project=project, suite=suite, cron="0 25 * * *")
    assert "cron" in excinfo.value.details
    with pytest.raises(ValidationFailed) as excinfo:
        schedules.schedule_create(project=project, suite=suite, cron="0 6 * * *", timezone_name="Mars/Olympus")
    assert "timezone" in excinfo.value.details
    with pytest.raises(ValidationFailed) as excinfo:
        schedules.schedule_create(project=project, suite=suite, cron="0 6 * * *", interval_seconds=60)
    assert "cron" in excinfo.value.details
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=schedules.SCHEDULE_TASK).exists()


def test_it_updates_the_periodic_task_with_the_schedule(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=300)
    task = _task_of(schedule)
    assert (task.interval.every, task.interval.period, task.crontab) == (300, "seconds", None)
    before = PeriodicTasks.last_change()

    schedules.schedule_update(schedule=schedule, cron="15 3 * * *", timezone_name="America/New_York")

    task.refresh_from_db()
    assert task.interval is None
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("15", "3", "America/New_York")
    assert PeriodicTasks.last_change() > before
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.interval_seconds) == ("15 3 * * *", None)

    schedules.schedule_update(schedule=schedule, interval_seconds=30)
    task.refresh_from_db()
    assert (task.interval.every, task.crontab) == (30, None)


def test_it_disables_and_enables_in_bulk_and_tells_beat(project, suite):
    first = schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    second = schedules.schedule_create(project=project, suite=suite, cron="* * * * *")
    before = PeriodicTasks.last_change()

    assert schedules.schedules_set_enabled(schedule_ids=[first.pk, second.pk], enabled=False) == 2

    assert not PeriodicTask.objects.filter(task=schedules.SCHEDULE_TASK, enabled=True).exists()
    assert PeriodicTasks.last_change() > before
    first.refresh_from_db()
    assert first.next_run() is None
    schedules.schedules_set_enabled(schedule_ids=[first.pk], enabled=True)
    assert _task_of(first).enabled and not _task_of(second).enabled


def test_it_disables_one_schedule_through_update(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    schedules.schedule_update(schedule=schedule, enabled=False)
    assert _task_of(schedule).enabled is False


def test_it_deletes_the_periodic_task_with_the_schedule(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    before = PeriodicTasks.last_change()
    schedules.schedule_delete(schedule=schedule)
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=schedules.SCHEDULE_TASK).exists()
    assert PeriodicTasks.last_change() > before


def test_it_deletes_the_periodic_task_when_the_suite_goes(project, suite):
    schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    suite.delete()
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=schedules.SCHEDULE_TASK).exists()


# --- Firing and the overlap policy ----------------------------------------------------------


def test_it_fires_an_ordinary_suite_run_with_trigger_schedule(project, suite):
    environment = Environment.objects.create(project=project, name="staging")
    schedule = schedules.schedule_create(project=project, suite=suite, environment=environment, interval_seconds=60,
                                        variables={"lang": "de"})  # fmt: skip
    run = schedules.schedule_fire(schedule_id=schedule.pk)
    assert (run.trigger, run.environment, run.total) == ("schedule", environment, 3)
    assert run.executions.first().variable_overrides == {"lang": "de"}
    schedule.refresh_from_db()
    assert (schedule.last_run, schedule.skipped_runs) == (run, 0)
    assert schedule.last_fired_at is not None


def test_it_skips_while_the_previous_run_is_still_going_and_records_the_skip(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    first = schedules.schedule_fire(schedule_id=schedule.pk)
    assert schedules.schedule_fire(schedule_id=schedule.pk) is None
    schedule.refresh_from_db()
    assert (schedule.skipped_runs, schedule.last_run) == (1, first)
    assert schedule.last_skipped_at is not None
    for execution in first.executions.all():
        services.execution_claim(execution_id=execution.pk, worker_host="w")
        services.execution_finish(execution_id=execution.pk, status=RunStatus.PASSED)
    second = schedules.schedule_fire(schedule_id=schedule.pk)
    assert second is not None and second != first
    assert SuiteRun.objects.count() == 2


def test_it_starts_anyway_with_the_queue_policy(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60, overlap="queue")
    runs = [schedules.schedule_fire(schedule_id=schedule.pk) for _ in range(3)]
    assert all(runs)
    assert SuiteRun.objects.filter(trigger="schedule", status=RunStatus.QUEUED).count() == 3


def test_it_ignores_ticks_of_disabled_or_deleted_schedules(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60, enabled=False)
    assert schedules.schedule_fire(schedule_id=schedule.pk) is None
    schedules.schedule_delete(schedule=schedule)
    assert schedules.schedule_fire(schedule_id=schedule.pk) is None
    assert not SuiteRun.objects.exists()


def test_it_counts_a_schedule_of_an_emptied_suite_as_skipped(project, suite):
    schedule = schedules.schedule_create(project=project, suite=suite, interval_seconds=60)
    suite.entries.all().delete()
    assert schedules.schedule_fire(schedule_id=schedule.pk) is None
    schedule.refresh_from_db()
    assert schedule.skipped_runs == 1

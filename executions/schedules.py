"""Schedules: every write to a Schedule and its django-celery-beat PeriodicTask, and firing one.

A Schedule and its PeriodicTask change together, in one transaction, only here. Beat notices a
`PeriodicTask.save()` by itself; anything else (queryset updates and deletes) must call
`PeriodicTasks.update_changed()` or beat keeps its old copy.
"""

from __future__ import annotations

import json

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from executions import cron as cron_rules
from executions import services
from executions.models import ACTIVE_STATUSES, OverlapPolicy, Schedule, SuiteRun, Trigger
from jbtestsuite.errors import ValidationFailed
from tests_catalog.models import Environment, TestSuite
from tests_catalog.services import environment_in_project_check

logger = structlog.get_logger(__name__)

SCHEDULE_TASK = "executions.tasks.schedule_fire"


def schedule_fields_clean(
    *, project, suite: TestSuite, environment: Environment | None, cron: str, interval_seconds: int | None,
    timezone_name: str, overlap: str, variables,
) -> dict:  # fmt: skip
    """The schedule fields as stored; the admin form and the API both validate through here.

    Raises ValidationFailed whose details name each bad field.
    """

    errors: dict[str, list[str]] = {}
    cron = (cron or "").strip()
    if bool(cron) == (interval_seconds is not None):
        errors["cron"] = ["Give exactly one of cron or interval_seconds."]
    elif cron:
        try:
            cron = " ".join(cron.split())
            cron_rules.cron_parse(cron)
        except cron_rules.CronInvalid as exc:
            errors["cron"] = [str(exc)]
    elif interval_seconds < 1:
        errors["interval_seconds"] = ["Must be at least 1 second."]
    if not cron_rules.timezone_valid(timezone_name):
        errors["timezone"] = [f"Unknown time zone {timezone_name!r}; use an IANA name such as Europe/Berlin."]
    if overlap not in OverlapPolicy.values:
        errors["overlap"] = [f"Expected one of {', '.join(OverlapPolicy.values)}."]
    if suite.project_id != project.pk:
        errors["suite"] = ["The suite belongs to another project."]
    try:
        environment_in_project_check(environment=environment, project_id=project.pk)
    except ValidationFailed as exc:
        errors.update(exc.details)
    if errors:
        raise ValidationFailed(f"Invalid schedule: {', '.join(errors)}.", errors)
    return {
        "cron": cron,
        "interval_seconds": None if cron else interval_seconds,
        "timezone": timezone_name,
        "overlap": overlap,
        "variables": services.variable_overrides_clean(variables),
    }


def _periodic_task_sync(schedule) -> None:
    """Create or update the schedule's PeriodicTask so beat fires exactly what the row says."""

    crontab = interval = None
    if schedule.cron:
        spec = {**cron_rules.cron_parse(schedule.cron).as_dict(), "timezone": schedule.timezone}
        crontab = CrontabSchedule.objects.filter(**spec).first() or CrontabSchedule.objects.create(**spec)
    else:
        spec = {"every": schedule.interval_seconds, "period": IntervalSchedule.SECONDS}
        interval = IntervalSchedule.objects.filter(**spec).first() or IntervalSchedule.objects.create(**spec)
    task = schedule.periodic_task or PeriodicTask(name=schedule.periodic_task_name)
    task.task = SCHEDULE_TASK
    task.args = json.dumps([str(schedule.pk)])
    task.kwargs = "{}"
    task.crontab, task.interval = crontab, interval
    task.enabled = schedule.enabled
    task.description = f"Runs suite {schedule.suite.name!r} (JBTestSuite schedule {schedule.pk})."
    task.save()  # its pre_save signal tells beat
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        type(schedule).objects.filter(pk=schedule.pk).update(periodic_task=task)


@transaction.atomic
def schedule_create(
    *,
    project,
    suite: TestSuite,
    environment: Environment | None = None,
    cron: str = "",
    interval_seconds: int | None = None,
    timezone_name: str | None = None,
    enabled: bool = True,
    overlap: str = "skip",
    variables: dict | None = None,
    created_by=None,
):
    """Create a schedule and its PeriodicTask.

    Raises ValidationFailed naming the field: `cron` (bad expression, or both/neither of cron and
    interval_seconds), `timezone`, `suite`/`environment` of another project, `variables`.
    """

    fields = schedule_fields_clean(
        project=project, suite=suite, environment=environment, cron=cron, interval_seconds=interval_seconds,
        timezone_name=timezone_name or project.timezone or "UTC", overlap=overlap, variables=variables,
    )  # fmt: skip
    schedule = Schedule.objects.create(
        project=project, suite=suite, environment=environment, enabled=enabled, created_by=created_by, **fields
    )
    _periodic_task_sync(schedule)
    logger.info("schedule_created", schedule_id=str(schedule.pk), suite=suite.name, enabled=enabled)
    return schedule


_UNSET = object()


@transaction.atomic
def schedule_update(
    *,
    schedule,
    suite: TestSuite | None = None,
    environment=_UNSET,
    cron: str | None = None,
    interval_seconds=_UNSET,
    timezone_name: str | None = None,
    enabled: bool | None = None,
    overlap: str | None = None,
    variables: dict | None = None,
):
    """Change a schedule and its PeriodicTask together; omitted arguments keep their value.

    Giving `cron` drops the interval and giving `interval_seconds` drops the cron expression.
    Raises ValidationFailed as schedule_create does.
    """

    schedule = Schedule.objects.select_for_update().select_related("project", "suite").get(pk=schedule.pk)
    if variables is not None:
        # Clients (and the admin form) only ever saw secret overrides as the mask.
        secret_names = services.secret_variable_names(schedule.environment if environment is _UNSET else environment)
        variables = services.variable_overrides_unmask(
            services.variable_overrides_clean(variables), schedule.variables, secret_names
        )
    if cron is not None and interval_seconds is _UNSET:
        interval_seconds = None
    elif interval_seconds is not _UNSET and interval_seconds is not None and cron is None:
        cron = ""
    fields = schedule_fields_clean(
        project=schedule.project,
        suite=suite or schedule.suite,
        environment=schedule.environment if environment is _UNSET else environment,
        cron=schedule.cron if cron is None else cron,
        interval_seconds=schedule.interval_seconds if interval_seconds is _UNSET else interval_seconds,
        timezone_name=timezone_name or schedule.timezone,
        overlap=overlap or schedule.overlap,
        variables=schedule.variables if variables is None else variables,
    )
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.suite = suite or schedule.suite
    if environment is not _UNSET:
        schedule.environment = environment
    if enabled is not None:
        schedule.enabled = enabled
    schedule.save()
    _periodic_task_sync(schedule)
    logger.info("schedule_updated", schedule_id=str(schedule.pk), enabled=schedule.enabled)
    return schedule


@transaction.atomic
def schedules_set_enabled(*, schedule_ids, enabled: bool) -> int:
    """Enable or disable many schedules at once; returns how many rows changed."""

    changed = Schedule.objects.filter(pk__in=schedule_ids).update(enabled=enabled, updated_at=timezone.now())
    PeriodicTask.objects.filter(jb_schedule__pk__in=schedule_ids).update(enabled=enabled)
    # A queryset update sends no signal: without this beat would keep firing disabled schedules.
    PeriodicTasks.update_changed()
    logger.info("schedules_enabled" if enabled else "schedules_disabled", count=changed)
    return changed


@transaction.atomic
def schedules_delete(*, schedule_ids) -> int:
    """Delete schedules and their PeriodicTasks; returns how many schedules went."""

    task_ids = list(
        Schedule.objects.filter(pk__in=schedule_ids, periodic_task__isnull=False).values_list(
            "periodic_task_id", flat=True
        )
    )
    deleted, _ = Schedule.objects.filter(pk__in=schedule_ids).delete()
    PeriodicTask.objects.filter(pk__in=task_ids).delete()
    PeriodicTasks.update_changed()
    logger.info("schedules_deleted", count=deleted)
    return deleted


def schedule_delete(*, schedule) -> None:
    schedules_delete(schedule_ids=[schedule.pk])


def periodic_tasks_orphaned_delete(*, schedule_ids) -> None:
    """Remove the PeriodicTasks of schedules deleted by a cascade (a suite, environment or project
    deleted elsewhere), which never passes through schedules_delete."""

    names = [f"jbtestsuite schedule {pk}" for pk in schedule_ids]
    if PeriodicTask.objects.filter(name__in=names).delete()[0]:
        PeriodicTasks.update_changed()


def schedule_fire(*, schedule_id, triggered_by=None, respect_overlap: bool = True) -> SuiteRun | None:
    """Start the scheduled suite run; None when disabled, gone, or skipped by the overlap policy.

    The schedule's row lock makes the overlap check a claim: two ticks delivered at once (beat
    restarted, a duplicate delivery) queue on the lock, and the second sees the first one's run.
    A run that cannot start (an empty suite) is logged and counted as a skip, never raised:
    beat will simply try again at the next tick.
    """

    now = timezone.now()
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",))
            .select_related("suite", "environment")
            .filter(pk=schedule_id)
            .first()
        )
        if schedule is None:
            periodic_tasks_orphaned_delete(schedule_ids=[schedule_id])
            logger.info("schedule_gone", schedule_id=str(schedule_id))
            return None
        if respect_overlap and not schedule.enabled:
            logger.info("schedule_disabled_tick_ignored", schedule_id=str(schedule_id))
            return None
        busy = SuiteRun.objects.filter(pk=schedule.last_run_id, status__in=ACTIVE_STATUSES).exists()
        if respect_overlap and busy and schedule.overlap == OverlapPolicy.SKIP:
            _schedule_skip(schedule, now, reason="the previous run is still going")
            return None
        try:
            with transaction.atomic():
                suite_run = services.suite_run_start(
                    suite=schedule.suite,
                    trigger=Trigger.SCHEDULE,
                    environment=schedule.environment,
                    variables=schedule.variables,
                    triggered_by=triggered_by,
                )
        except ValidationFailed as exc:
            _schedule_skip(schedule, now, reason=exc.message)
            return None
        Schedule.objects.filter(pk=schedule.pk).update(last_run=suite_run, last_fired_at=now)
    logger.info("schedule_fired", schedule_id=str(schedule_id), suite_run_id=str(suite_run.pk))
    return suite_run


def _schedule_skip(schedule, now, *, reason: str) -> None:

    type(schedule).objects.filter(pk=schedule.pk).update(
        skipped_runs=F("skipped_runs") + 1, last_skipped_at=now, last_fired_at=now
    )
    logger.info("schedule_skipped", schedule_id=str(schedule.pk), reason=reason)

"""Runs: one Execution per attempt of one test case, StepResults per step, SuiteRuns grouping them.

An execution freezes what it ran (`snapshot`) so editing or deleting the case later never
rewrites a past result; foreign keys to the catalog are SET_NULL for the same reason.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Trigger(models.TextChoices):
    API = "api"
    ADMIN = "admin"
    SCHEDULE = "schedule"
    CLI = "cli"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
FINAL_STATUSES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED)


class SuiteRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="suite_runs")
    suite = models.ForeignKey(
        "tests_catalog.TestSuite", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    suite_name = models.CharField(max_length=255)
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.SET_NULL, null=True, blank=True, related_name="suite_runs"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The `suite_seq` of its newest RunEvent: bumped by one conditional UPDATE per event.
    event_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="suiterun_project_created"),
            models.Index(fields=["status"], name="suiterun_status"),
        ]

    def __str__(self):
        return f"{self.suite_name} ({self.status})"


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="executions")
    test_case = models.ForeignKey(
        "tests_catalog.TestCase", on_delete=models.SET_NULL, null=True, blank=True, related_name="executions"
    )
    case_name = models.CharField(max_length=255)
    # The case version this run executed (its steps are also in `snapshot`); set at creation.
    case_version = models.ForeignKey(
        "tests_catalog.CaseVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="executions"
    )
    suite_run = models.ForeignKey(SuiteRun, on_delete=models.CASCADE, null=True, blank=True, related_name="executions")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.SET_NULL, null=True, blank=True, related_name="executions"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    attempt = models.PositiveSmallIntegerField(default=1)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    previous_attempt = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_attempt"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When its task reached the broker.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    browser_name = models.CharField(max_length=50, blank=True)
    browser_version = models.CharField(max_length=50, blank=True)
    failing_step_index = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Run by the `run_tests --inline` process itself rather than sent to a worker.
    runs_inline = models.BooleanField(default=False)
    # What ran, frozen at creation: {"case": {...}, "steps": [...], "base_url": ..., "variables": {...masked}}.
    snapshot = models.JSONField(default=dict)
    # Run-time `${name}` overrides given by the caller; needed by the worker, masked in the API.
    variable_overrides = models.JSONField(default=dict, blank=True)
    # The `seq` of its newest RunEvent: bumped by one conditional UPDATE per event.
    event_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(attempt__gte=1), name="execution_attempt_positive"),
        ]
        indexes = [
            models.Index(fields=["project", "-queued_at"], name="execution_project_queued"),
            models.Index(fields=["test_case", "-queued_at"], name="execution_case_queued"),
            models.Index(fields=["status", "heartbeat_at"], name="execution_status_heartbeat"),
            # The list's order across every visible project: pages read it instead of sorting.
            models.Index(fields=["queued_at", "id"], name="execution_queued_id"),
        ]

    def __str__(self):
        return f"{self.case_name} #{self.attempt} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class StepStatus(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class StepResult(models.Model):
    Status = StepStatus

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="step_results")
    order_index = models.PositiveIntegerField()
    action = models.CharField(max_length=40)
    selector_type = models.CharField(max_length=20, blank=True)
    selector = models.TextField(blank=True)
    value = models.TextField(blank=True)
    description = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    duration_ms = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Control flow runs a step several times (loops) or not at all (branches), and `run` steps
    # bring another case's steps in: `sequence` is the result's place in the run (0, 1, 2…),
    # `order_index` the step's place in its case. Rows written without one (older code, bulk
    # loads) sort after the numbered ones, by order_index.
    sequence = models.PositiveIntegerField(null=True, blank=True)
    depth = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Nesting: blocks and sub-flows it runs inside."
    )
    iteration = models.PositiveIntegerField(null=True, blank=True, help_text="Innermost loop's iteration, from 1.")
    branch = models.CharField(
        max_length=40, blank=True, db_default="", help_text="For if/else_if/loops: the outcome of the test."
    )
    flow = models.CharField(
        max_length=255, blank=True, db_default="", help_text="The called case, for a step run by `run`."
    )
    # The alternate locator (type=selector) that found the element when the main one did not;
    # reports count heals by this field.
    healed_by = models.TextField(blank=True, db_default="")

    class Meta:
        ordering = ["execution", "sequence", "order_index"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "sequence"], name="stepresult_unique_sequence"),
        ]

    def __str__(self):
        return f"{self.order_index}: {self.action} ({self.status})"


class EventKind(models.TextChoices):
    EXECUTION_QUEUED = "execution.queued"
    EXECUTION_RETRIED = "execution.retried"
    EXECUTION_STARTED = "execution.started"
    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"
    EXECUTION_FINISHED = "execution.finished"
    SUITE_RUN_QUEUED = "suite_run.queued"
    SUITE_RUN_STARTED = "suite_run.started"
    SUITE_RUN_PROGRESS = "suite_run.progress"
    SUITE_RUN_FINISHED = "suite_run.finished"


# What a project's activity feed carries: runs coming and going, not every step.
ACTIVITY_KINDS = (
    EventKind.EXECUTION_QUEUED,
    EventKind.EXECUTION_RETRIED,
    EventKind.EXECUTION_STARTED,
    EventKind.EXECUTION_FINISHED,
    EventKind.SUITE_RUN_QUEUED,
    EventKind.SUITE_RUN_STARTED,
    EventKind.SUITE_RUN_PROGRESS,
    EventKind.SUITE_RUN_FINISHED,
)


class RunEvent(models.Model):
    """One change of state of a run, as the live streams replay it.

    Rows first, push second: the row is written in the transaction that makes the change, and
    the WebSocket push after it commits, so a lost push only delays what a client sees. `seq`
    numbers an execution's events 1, 2, 3…; `suite_seq` numbers a suite run's events (its own and
    those of its executions) the same way, so a client that reconnects asks for what follows the
    last number it saw.
    """

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    suite_run = models.ForeignKey(SuiteRun, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    seq = models.PositiveIntegerField(null=True, blank=True)
    suite_seq = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="runevent_unique_execution_seq"),
            models.UniqueConstraint(fields=["suite_run", "suite_seq"], name="runevent_unique_suite_seq"),
        ]
        indexes = [models.Index(fields=["project", "id"], name="runevent_project_id")]

    def __str__(self):
        return f"{self.kind} #{self.seq or self.suite_seq}"


# --- Schedules -----------------------------------------------------------------------------


class OverlapPolicy(models.TextChoices):
    SKIP = "skip", "skip while the previous run is still going"
    QUEUE = "queue", "start anyway"


class Schedule(models.Model):
    """Runs a suite by itself, on a cron expression or a fixed interval.

    Beat reads `periodic_task` (django-celery-beat's DatabaseScheduler), never this row: the
    schedule services keep the two in step, so change schedules only through them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="schedules")
    suite = models.ForeignKey("tests_catalog.TestSuite", on_delete=models.CASCADE, related_name="schedules")
    # Deleting the environment deletes its schedules: running against another base URL instead
    # would be a silent change of meaning.
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    cron = models.CharField(
        max_length=100, blank=True, help_text="minute hour day-of-month month day-of-week, e.g. `0 6 * * 1-5`."
    )
    interval_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Instead of `cron`.")
    timezone = models.CharField(max_length=64, help_text="IANA time zone the cron expression is read in.")
    enabled = models.BooleanField(default=True)
    variables = models.JSONField(default=dict, blank=True, help_text="Run-time `${name}` overrides.")
    overlap = models.CharField(max_length=10, choices=OverlapPolicy.choices, default=OverlapPolicy.SKIP)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="jb_schedule",
    )  # fmt: skip
    last_run = models.ForeignKey(
        SuiteRun, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    last_fired_at = models.DateTimeField(null=True, blank=True, editable=False)
    skipped_runs = models.PositiveIntegerField(default=0, editable=False)
    last_skipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(cron="") & Q(interval_seconds__gte=1)) | (~Q(cron="") & Q(interval_seconds__isnull=True)),
                name="schedule_cron_xor_interval",
            ),
            models.CheckConstraint(condition=Q(overlap__in=OverlapPolicy.values), name="schedule_overlap_valid"),
        ]

    def __str__(self):
        return f"{self.suite} ({self.cron or f'every {self.interval_seconds} s'})"

    @property
    def periodic_task_name(self) -> str:
        return f"jbtestsuite schedule {self.pk}"

    def next_run(self, now=None):
        """When beat will next start this schedule (aware, UTC); None while disabled."""
        from django.utils import timezone

        from executions import cron

        if not self.enabled:
            return None
        now = now or timezone.now()
        if self.cron:
            return cron.cron_next_run(self.cron, self.timezone, after=now)
        since = self.last_fired_at or self.updated_at or now
        return cron.interval_next_run(self.interval_seconds, since=since, after=now)

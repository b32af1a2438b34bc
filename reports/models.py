"""What the reports keep, derived from executions and rebuilt from them at will.

Nothing here is a record of its own: `manage.py reports_rebuild` recomputes every row from the
executions and step results, and gives the same rows as the incremental updates made when the
executions finished. Foreign keys to executions and the catalog cascade for that reason: when
the raw rows go, their summaries go too.
"""

from django.db import models
from django.db.models import Q


class Label(models.TextChoices):
    NEW_FAILURE = "new_failure", "new failure"
    KNOWN_FAILURE = "known_failure", "known failure"
    FIXED = "fixed", "fixed"
    PASSED_ON_RETRY = "passed_on_retry", "passed on retry"
    PASSED = "passed", "passed"


class CaseRun(models.Model):
    """One case's outcome in one run: its last attempt, with what the earlier attempts did."""

    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    test_case = models.ForeignKey("tests_catalog.TestCase", on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    suite_run = models.ForeignKey(
        "executions.SuiteRun", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    execution = models.OneToOneField("executions.Execution", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    attempts = models.PositiveSmallIntegerField(default=1)
    label = models.CharField(max_length=20, choices=Label.choices)
    # Which steps ran: a case version when executions record one, else a hash of the snapshot.
    steps_key = models.CharField(max_length=80)
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    failing_step_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-finished_at", "-id"]
        indexes = [
            models.Index(fields=["test_case", "environment", "-finished_at", "-id"], name="caserun_case_env_finished"),
            models.Index(fields=["suite_run"], name="caserun_suite_run"),
            models.Index(fields=["project", "-finished_at"], name="caserun_project_finished"),
        ]

    def __str__(self):
        return f"{self.test_case_id} {self.status} ({self.label})"

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class CaseHealth(models.Model):
    """A case's standing in one environment, updated as each of its runs finishes."""

    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    test_case = models.ForeignKey("tests_catalog.TestCase", on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    case_name = models.CharField(max_length=255)
    label = models.CharField(max_length=20, choices=Label.choices)
    flaky = models.BooleanField(default=False)
    # Evidence behind `flaky`: pass/fail flips and passes on retry in the window.
    flips = models.PositiveSmallIntegerField(default=0)
    retry_passes = models.PositiveSmallIntegerField(default=0)
    # The newest runs first (at most reports.history.RECENT_KEPT): what labels and the strip need.
    recent = models.JSONField(default=list)
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(CaseRun, on_delete=models.CASCADE, related_name="+")
    last_run_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_run_at", "-id"]
        verbose_name = "case label"
        # Two partial constraints rather than NULLS NOT DISTINCT, which SQLite and PostgreSQL < 15 lack.
        constraints = [
            models.UniqueConstraint(
                fields=["test_case", "environment"], condition=Q(environment__isnull=False),
                name="casehealth_unique_case_env",
            ),
            models.UniqueConstraint(
                fields=["test_case"], condition=Q(environment__isnull=True), name="casehealth_unique_case_no_env"
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["project", "label", "-last_run_at", "-id"], name="casehealth_project_label"),
            models.Index(
                fields=["project", "-last_run_at", "-id"], condition=Q(flaky=True), name="casehealth_project_flaky"
            ),
        ]

    def __str__(self):
        return f"{self.case_name}: {self.display_label}"

    @property
    def display_label(self) -> str:
        return "flaky" if self.flaky else Label(self.label).label


class FailureGroup(models.Model):
    """Failures with the same cause across cases: same action, selector and normalised message."""

    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    action = models.CharField(max_length=40, blank=True)
    selector = models.TextField(blank=True)
    message = models.TextField(blank=True, help_text="The message with numbers, ids, URLs and quoted values replaced.")
    sample_message = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-failures", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "fingerprint"], name="failuregroup_unique_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["project", "-failures", "-id"], name="failuregroup_project_failures"),
            models.Index(fields=["project", "-last_seen_at", "-id"], name="failuregroup_project_seen"),
        ]

    def __str__(self):
        return f"{self.action}: {self.message[:80]} ({self.failures})"


class Failure(models.Model):
    """One failed or errored attempt, filed under its group."""

    group = models.ForeignKey(FailureGroup, on_delete=models.CASCADE, related_name="members")
    execution = models.OneToOneField("executions.Execution", on_delete=models.CASCADE, related_name="+")
    test_case = models.ForeignKey("tests_catalog.TestCase", on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    suite_run = models.ForeignKey(
        "executions.SuiteRun", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    step_index = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["group", "-at", "-id"], name="failure_group_at"),
            models.Index(fields=["group", "test_case"], name="failure_group_case"),
            models.Index(fields=["test_case", "step_index"], name="failure_case_step"),
        ]

    def __str__(self):
        return f"{self.execution_id} in group {self.group_id}"


class SuiteRunSummary(models.Model):
    """A finished suite run's counts and duration, indexed by suite for its history."""

    suite_run = models.OneToOneField("executions.SuiteRun", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    suite = models.ForeignKey("tests_catalog.TestSuite", on_delete=models.CASCADE, related_name="+")
    suite_name = models.CharField(max_length=255)
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20)
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    new_failures = models.PositiveIntegerField(default=0)
    retry_passes = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0, help_text="Sum of its cases' durations.")
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-finished_at", "-id"]
        indexes = [
            models.Index(fields=["suite", "-finished_at", "-id"], name="suiterunsummary_suite"),
            models.Index(fields=["project", "suite", "-finished_at"], name="suiterunsummary_project_suite"),
        ]

    def __str__(self):
        return f"{self.suite_name} {self.finished_at:%Y-%m-%d %H:%M} ({self.status})"


class ProjectDay(models.Model):
    """A project's case outcomes per day (UTC) and environment: the trend charts read these."""

    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField()
    runs = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    retry_passes = models.PositiveIntegerField(default=0)
    duration_ms = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "environment", "day"], condition=Q(environment__isnull=False),
                name="projectday_unique_env",
            ),
            models.UniqueConstraint(
                fields=["project", "day"], condition=Q(environment__isnull=True), name="projectday_unique_no_env"
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.day} ({self.passed}/{self.runs} passed)"

"""The authoring side: projects and their members, environments, test cases, steps and suites."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When

from jbtestsuite.crypto import EncryptedTextField
from tests_catalog import step_actions


class TimestampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Project(TimestampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    base_url = models.URLField(max_length=500, blank=True, help_text="Default base URL for relative `open` steps.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone for schedules.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TokenGeneration(models.Model):
    """Which of a user's API tokens still count: those carrying the current generation.

    Logout, a password change and deactivation raise the generation, so every access and
    refresh token issued before stops working at once, not when it expires.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="token_generation"
    )
    generation = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user} (tokens of generation {self.generation})"


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"
    MAINTAINER = "maintainer"


# Each role can do everything the roles before it can.
ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.MAINTAINER: 3}


class Membership(TimestampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user_per_project"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} in {self.project} ({self.role})"


class Environment(TimestampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="environment_unique_name_per_project"),
        ]

    def __str__(self):
        return f"{self.project} / {self.name}"


class EnvironmentVariable(TimestampedModel):
    """A `${name}` value for runs in an environment. Secret values are write-only everywhere."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=100)
    # Every value is encrypted at rest (a Fernet token in the column), secret or not: a variable
    # may be switched to secret later, and one rule for the column is easier to trust.
    value = EncryptedTextField(blank=True)
    secret = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="variable_unique_name_per_environment"),
            models.CheckConstraint(condition=Q(name__regex=r"^[A-Za-z_][A-Za-z0-9_]*$"), name="variable_name_valid"),
        ]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# Ascending priority runs from low to critical, so `order=desc` puts critical cases first.
PRIORITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def priority_rank() -> Case:
    """The priority as a number to sort by; the list sorts by exactly this expression, which
    the `testcase_priority_rank` index holds, so PostgreSQL reads the sort from the index."""
    return Case(
        *(When(priority=name, then=Value(rank)) for name, rank in PRIORITY_RANK.items()),
        output_field=IntegerField(),
    )


class TestCase(TimestampedModel):
    __test__ = False  # not a pytest class

    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        ARCHIVED = "archived"
        DEPRECATED = "deprecated"

    class Priority(models.TextChoices):
        CRITICAL = "critical"
        HIGH = "high"
        MEDIUM = "medium"
        LOW = "low"

    MAX_RETRIES = 10

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="test_cases")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    priority = models.CharField(max_length=20, choices=Priority.choices, default=Priority.MEDIUM)
    category = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="test_cases")
    metadata = models.JSONField(default=dict, blank=True)
    # The validators repeat the check constraints so that forms report a field error, not a 500.
    expected_duration_seconds = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    retry_count = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_RETRIES)])
    is_automated = models.BooleanField(default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_cases"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "active", "archived", "deprecated"]),
                                   name="testcase_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=["critical", "high", "medium", "low"]),
                                   name="testcase_priority_valid"),
            models.CheckConstraint(condition=Q(retry_count__gte=0, retry_count__lte=10),
                                   name="testcase_retry_count_range"),
            models.CheckConstraint(
                condition=Q(expected_duration_seconds__isnull=True) | Q(expected_duration_seconds__gt=0),
                name="testcase_expected_duration_positive",
            ),
            # Archived cases keep their names so that a replacement can reuse them.
            models.UniqueConstraint(
                fields=["project", "category", "name"],
                condition=~Q(status="archived"),
                name="testcase_unique_name_per_category",
                violation_error_message="A case with this name already exists in this project and category.",
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["status", "priority"], name="testcase_status_priority"),
            models.Index(fields=["category", "status"], name="testcase_category_status"),
            models.Index(fields=["created_at"], name="testcase_created_at"),
            models.Index(fields=["project", "-created_at"], name="testcase_project_created"),
            # One per sort of the list (ending in the id, as the list's order does), so a sorted
            # page reads an index instead of sorting every case.
            models.Index(fields=["name", "id"], name="testcase_name_id"),
            models.Index(fields=["updated_at", "id"], name="testcase_updated_id"),
            models.Index(fields=["status", "id"], name="testcase_status_id"),
            models.Index(priority_rank(), "id", name="testcase_priority_rank"),
        ]

    def __str__(self):
        return self.name


ACTION_CHOICES = [(name, name) for name in step_actions.ACTIONS]
SELECTOR_TYPE_CHOICES = [(name, name) for name in step_actions.SELECTOR_TYPES]


class TestStep(TimestampedModel):
    __test__ = False

    MAX_TIMEOUT_MS = 600_000

    case = models.ForeignKey(TestCase, on_delete=models.CASCADE, related_name="steps")
    order_index = models.PositiveIntegerField()
    action = models.CharField(max_length=40, choices=ACTION_CHOICES)
    selector_type = models.CharField(
        max_length=20, choices=SELECTOR_TYPE_CHOICES, default=step_actions.DEFAULT_SELECTOR_TYPE
    )
    selector = models.TextField(blank=True)
    value = models.TextField(blank=True)
    timeout_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_MS)],
        help_text="Empty: the default step timeout.",
    )
    description = models.CharField(max_length=500, blank=True)
    continue_on_failure = models.BooleanField(default=False)
    # Alternate locators tried in order when the main one finds nothing: [[selector_type, selector], …].
    # The database defaults let rows written by older code (or an older migration state) in.
    targets = models.JSONField(default=list, blank=True, db_default=[])
    # A disabled step is kept (an imported command we cannot run, a step switched off) but never runs.
    enabled = models.BooleanField(default=True, db_default=True)
    # Small per-step settings: loop_limit, opens_window (variable for the new window's handle),
    # window_timeout_ms, and what an importer needs to give the step back (side_command, side_id, reason).
    options = models.JSONField(default=dict, blank=True, db_default={})

    class Meta:
        ordering = ["case", "order_index"]
        constraints = [
            models.UniqueConstraint(fields=["case", "order_index"], name="teststep_unique_order_per_case"),
            models.CheckConstraint(condition=Q(action__in=list(step_actions.ACTIONS)), name="teststep_action_known"),
            models.CheckConstraint(
                condition=Q(selector_type__in=list(step_actions.SELECTOR_TYPES)), name="teststep_selector_type_known"
            ),
            models.CheckConstraint(
                condition=Q(timeout_ms__isnull=True) | Q(timeout_ms__gt=0, timeout_ms__lte=600_000),
                name="teststep_timeout_range",
            ),
        ]

    def __str__(self):
        return f"{self.order_index}: {self.action} {self.selector}".strip()

    def as_spec(self) -> dict:
        """The step as the runner and execution snapshots see it."""
        return {
            "order_index": self.order_index,
            "action": self.action,
            "selector_type": self.selector_type,
            "selector": self.selector,
            "value": self.value,
            "timeout_ms": self.timeout_ms,
            "description": self.description,
            "continue_on_failure": self.continue_on_failure,
            "targets": self.targets,
            "enabled": self.enabled,
            "options": self.options,
        }


class CaseVersion(models.Model):
    """The steps of a case as they were after one save that changed them (Kiwi TCMS's case versions).

    Number 1 is the case as created; each later save that changes the steps adds the next number.
    Executions point at the version they ran, so "did the test change between these two runs?"
    is one comparison, and an old result can always be read against the steps that produced it.
    """

    class Source(models.TextChoices):
        # Known writers; other apps may pass their own short word (e.g. "side_import").
        ADMIN = "admin"
        API = "api"
        ASSISTANT = "assistant"
        IMPORT = "import"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(TestCase, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # Each step as TestStep.as_spec() gives it, in order.
    steps = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=40, default=Source.SYSTEM)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="caseversion_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="caseversion_number_positive"),
        ]

    def __str__(self):
        return f"{self.case} v{self.number}"


class TestSuite(TimestampedModel):
    __test__ = False

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="suites")
    cases = models.ManyToManyField(TestCase, through="SuiteCase", related_name="suites")
    # Where the suite came from when imported (e.g. {"side": {"id": …}}), so a re-import updates it.
    metadata = models.JSONField(default=dict, blank=True, db_default={})

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="testsuite_unique_name_per_project"),
        ]

    def __str__(self):
        return self.name


class SuiteCase(models.Model):
    suite = models.ForeignKey(TestSuite, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey(TestCase, on_delete=models.CASCADE, related_name="suite_entries")
    order_index = models.PositiveIntegerField()

    class Meta:
        ordering = ["suite", "order_index"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "order_index"], name="suitecase_unique_order"),
            models.UniqueConstraint(fields=["suite", "case"], name="suitecase_unique_case"),
        ]

    def __str__(self):
        return f"{self.suite} #{self.order_index}: {self.case}"


# Module-level names for the API schema's enum naming (drf-spectacular imports them by path).
CaseStatus = TestCase.Status
CasePriority = TestCase.Priority

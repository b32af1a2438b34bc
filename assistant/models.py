"""The AI assistant's records: per-project settings, generation jobs, failure explanations with
their proposed patches, and the audit log of every request and answer exchanged with a model.

The assistant writes and explains; it never runs a saved case. What it writes becomes ordinary
steps of the registry, stored through the catalog's services.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class AssistantSettings(models.Model):
    """A project's choices about the assistant. Off until a maintainer turns it on: page content
    goes to the model provider, which is a decision for the project, not a default."""

    project = models.OneToOneField("tests_catalog.Project", on_delete=models.CASCADE, related_name="assistant_settings")
    enabled = models.BooleanField(default=False, help_text="Let the assistant read this project's pages and runs.")
    daily_token_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tokens per UTC day; empty: ASSISTANT_DAILY_TOKEN_BUDGET."
    )
    withhold_screenshots = models.BooleanField(default=False, help_text="Never send screenshots to the model.")
    explain_failures = models.BooleanField(default=False, help_text="Explain every failed or errored execution.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "assistant settings"

    def __str__(self):
        return f"Assistant settings of {self.project}"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class UsageFields(models.Model):
    """What a job cost: counted from the model's usage reports, summed over every call."""

    model = models.CharField(max_length=100, blank=True)
    model_calls = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_estimate_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    model_ms = models.PositiveIntegerField(default=0)
    browser_ms = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class GenerationJob(UsageFields):
    """One request to write a case from a plain-language description, and how it went."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="generation_jobs")
    environment = models.ForeignKey(
        "tests_catalog.Environment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start_url = models.CharField(max_length=1000)
    # Secret values the requester typed are replaced by ${name} before this is stored.
    description = models.TextField()
    case_name = models.CharField(max_length=255, blank=True)
    variable_names = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Short lines a person can follow while the job runs (polled until live push exists).
    progress = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="Why the job failed, or a note on success.")
    # The steps that ran green so far; kept when the job fails so a person can continue by hand.
    steps = models.JSONField(default=list, blank=True)
    test_case = models.ForeignKey(
        "tests_catalog.TestCase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dry_run_execution = models.ForeignKey(
        "executions.Execution", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="generationjob_project_created")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="generationjob_status_valid"),
        ]

    def __str__(self):
        return f"Generate: {self.description[:60]} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Category(models.TextChoices):
    PRODUCT_BUG = "product bug"
    TEST_NEEDS_UPDATE = "test needs update"
    ENVIRONMENT = "environment"
    FLAKY = "flaky"
    UNKNOWN = "unknown"


class ProposalStatus(models.TextChoices):
    NONE = "none", "no change proposed"
    PENDING = "pending", "waiting for a person"
    APPROVED = "approved"
    REJECTED = "rejected"
    OUTDATED = "outdated", "the case changed since"


class FailureExplanation(UsageFields):
    """The model's reading of one failed execution; may propose a patch a person approves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="failure_explanations")
    execution = models.ForeignKey("executions.Execution", on_delete=models.CASCADE, related_name="explanations")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    automatic = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    message = models.TextField(blank=True)
    category = models.CharField(max_length=30, choices=Category.choices, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    explanation = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    # [{"op": "replace"|"insert"|"delete", "index": n, "step": {...}}] against the execution's steps.
    patch = models.JSONField(default=list, blank=True)
    steps_before = models.JSONField(default=list, blank=True)
    steps_after = models.JSONField(default=list, blank=True)
    # The patched steps tried in a browser on a copy: {"status", "message", "steps": [...]}.
    patch_dry_run = models.JSONField(default=dict, blank=True)
    proposal = models.CharField(max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.NONE)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["execution", "-created_at"], name="explanation_execution_created")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="explanation_status_valid"),
            models.CheckConstraint(condition=Q(proposal__in=ProposalStatus.values), name="explanation_proposal_valid"),
        ]

    def __str__(self):
        return f"Explanation of {self.execution_id} ({self.category or self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class ModelExchange(models.Model):
    """One HTTP request to the model and its answer (or error), redacted, for audit.

    Secret values are masked and screenshots replaced by their size and hash before storing.
    """

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="model_exchanges")
    generation_job = models.ForeignKey(
        GenerationJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="exchanges"
    )
    explanation = models.ForeignKey(
        FailureExplanation, on_delete=models.SET_NULL, null=True, blank=True, related_name="exchanges"
    )
    purpose = models.CharField(max_length=20)  # generate | explain
    model = models.CharField(max_length=100)
    response_format = models.CharField(max_length=20)  # structured | tools | json
    attempt = models.PositiveSmallIntegerField(default=1)
    request = models.JSONField()
    answer = models.TextField(blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "created_at"], name="modelexchange_project_created")]

    def __str__(self):
        return f"{self.purpose} #{self.pk} ({'ok' if self.ok else 'error'})"

"""Notification channels (where a project's run results go) and the record of every delivery.

The tables were created by the executions app and kept their rows when they moved here
(see migrations/0001_initial.py).
"""

import uuid

from django.db import models
from django.db.models import Q


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"


class NotifyOn(models.TextChoices):
    FAILURE = "failure", "the first failure of a streak"
    RECOVERY = "recovery", "the first pass after a failure"
    ALWAYS = "always", "every finished run"


class RunSource(models.TextChoices):
    ALL = "all", "all runs"
    SCHEDULED = "scheduled", "scheduled runs"
    MANUAL = "manual", "runs started through the API, the admin or the CLI"


class NotificationChannel(models.Model):
    """Where a project's run results go. `secret` and a Slack `url` are credentials: write-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="notification_channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    url = models.URLField(max_length=1000, blank=True)
    secret = models.CharField(max_length=200, blank=True, help_text="Signs webhook bodies (HMAC-SHA256).")
    email_to = models.JSONField(default=list, blank=True)
    on = models.CharField(max_length=10, choices=NotifyOn.choices, default=NotifyOn.FAILURE)
    runs = models.CharField(max_length=10, choices=RunSource.choices, default=RunSource.ALL)
    suites = models.ManyToManyField(
        "tests_catalog.TestSuite", blank=True, related_name="notification_channels",
        help_text="None chosen: every suite of the project.",
    )  # fmt: skip
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="notificationchannel_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=ChannelKind.values), name="notificationchannel_kind_valid"),
            models.CheckConstraint(condition=Q(on__in=NotifyOn.values), name="notificationchannel_on_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.kind})"


class NotificationEvent(models.TextChoices):
    FAILURE = "failure"
    RECOVERY = "recovery"
    FINISHED = "finished"
    TEST = "test"


class Notification(models.Model):
    """A notification a channel is owed for a finished suite run: the outbox.

    Written in the same transaction that finishes the run, so a broker that is down at that
    moment cannot lose it: `enqueued_at` stays empty and the sweeper sends it later.
    `done_at` is set once it was delivered or its last attempt failed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="notifications")
    suite_run = models.ForeignKey("executions.SuiteRun", on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=10, choices=NotificationEvent.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "suite_run"], name="notification_once_per_channel_and_run")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(enqueued_at__isnull=True), name="notification_never_enqueued"
            )
        ]

    def __str__(self):
        return f"{self.event} of {self.suite_run_id} to {self.channel}"


class NotificationDelivery(models.Model):
    """One attempt to deliver one notification: a retry is a new row with `attempt` + 1."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    suite_run = models.ForeignKey(
        "executions.SuiteRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="notification_deliveries"
    )
    event = models.CharField(max_length=10, choices=NotificationEvent.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "notification deliveries"
        indexes = [models.Index(fields=["channel", "-created_at"], name="delivery_channel_created")]

    def __str__(self):
        return f"{self.channel} #{self.attempt} ({'ok' if self.succeeded else 'failed'})"

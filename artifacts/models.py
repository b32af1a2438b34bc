"""Stored evidence: screenshots, page sources, console logs and uploaded attachments.

The bytes live in Django's default storage (the filesystem under UPLOAD_DIR, or any
django-storages backend); the row holds what the file is and whom it belongs to.
"""

import uuid

import structlog
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver

logger = structlog.get_logger(__name__)


class ArtifactKind(models.TextChoices):
    SCREENSHOT = "screenshot"
    PAGE_SOURCE = "page_source"
    CONSOLE_LOG = "console_log"
    ATTACHMENT = "attachment"


class Artifact(models.Model):
    Kind = ArtifactKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Copied from the owner so that access checks are one indexed filter whatever the owner is.
    project = models.ForeignKey("tests_catalog.Project", on_delete=models.CASCADE, related_name="artifacts")
    execution = models.ForeignKey(
        "executions.Execution", on_delete=models.CASCADE, null=True, blank=True, related_name="artifacts"
    )
    step_result = models.ForeignKey(
        "executions.StepResult", on_delete=models.CASCADE, null=True, blank=True, related_name="artifacts"
    )
    test_case = models.ForeignKey(
        "tests_catalog.TestCase", on_delete=models.CASCADE, null=True, blank=True, related_name="artifacts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A generated storage name; the client's name is only ever data (original_filename).
    file = models.FileField(max_length=255)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(execution__isnull=False) | Q(test_case__isnull=False), name="artifact_has_owner"
            ),
            models.CheckConstraint(
                condition=Q(step_result__isnull=True) | Q(execution__isnull=False),
                name="artifact_step_result_has_execution",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["screenshot", "page_source", "console_log", "attachment"]),
                name="artifact_kind_valid",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="artifact_size_positive"),
        ]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="artifact_project_created"),
            models.Index(fields=["execution", "kind"], name="artifact_execution_kind"),
            models.Index(fields=["created_at"], name="artifact_created_at"),
        ]

    def __str__(self):
        return f"{self.kind}: {self.original_filename}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_text(self) -> bool:
        return self.content_type in ("text/plain", "text/html", "application/json")

    @property
    def owner(self):
        return self.step_result or self.execution or self.test_case


@receiver(post_delete, sender=Artifact, dispatch_uid="artifact_file_delete")
def _artifact_file_delete(sender, instance: Artifact, using, **kwargs):
    # Every way a row goes (service, admin, cascade from a project or execution, queryset
    # delete) sends this signal. The file goes only once the deletion is committed, so a
    # rolled-back delete never leaves a row pointing at a missing file.
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: artifact_file_remove(storage, name), using=using)


def artifact_file_remove(storage, name: str) -> bool:
    """Delete a stored file; failures are logged (an orphan file is harmless, a lost row is not)."""
    try:
        storage.delete(name)
    except Exception:
        logger.exception("artifact_file_delete_failed", file=name)
        return False
    return True

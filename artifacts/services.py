"""Writes to artifacts: store bytes as an Artifact, delete one, delete the expired ones."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from artifacts import detection
from artifacts.models import Artifact
from jbtestsuite.errors import PayloadTooLarge, ValidationFailed

logger = structlog.get_logger(__name__)

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class Inspection:
    content_type: str
    size: int
    sha256: str
    file: File


def _inspect(content: bytes | str | IO[bytes], *, max_size: int) -> Inspection:
    """Hash, measure and type the content in one pass, without keeping more than its head."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    file = ContentFile(content) if isinstance(content, bytes) else content
    if not isinstance(file, File):
        file = File(file)
    file.seek(0)

    digest = hashlib.sha256()
    sniffer = detection.TextSniffer()
    head = b""
    size = 0
    for chunk in file.chunks(CHUNK_SIZE):
        size += len(chunk)
        if size > max_size:
            raise payload_too_large(max_size)
        digest.update(chunk)
        sniffer.feed(chunk)
        if len(head) < detection.HEAD_SIZE:
            head += chunk[: detection.HEAD_SIZE - len(head)]
    sniffer.feed(b"", final=True)
    if size == 0:
        raise ValidationFailed("The file is empty.", {"file": ["The file is empty."]})

    def read_all() -> bytes:
        file.seek(0)
        return file.read()

    content_type = detection.detect_binary(head) or detection.detect_text(head, sniffer, read_all)
    file.seek(0)
    return Inspection(content_type=content_type, size=size, sha256=digest.hexdigest(), file=file)


def payload_too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than the limit of {limit} bytes.", {"file": [f"At most {limit} bytes."]}
    )


def _refuse_type(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"file": [message]})


@transaction.atomic
def artifact_store(
    *,
    content: bytes | str | IO[bytes],
    kind: str,
    filename: str,
    execution=None,
    step_result=None,
    test_case=None,
    content_type: str | None = None,
    uploaded_by=None,
    allowed_types: tuple[str, ...] | None = None,
) -> Artifact:
    """Store `content` (bytes, text or a binary file) as an artifact of an execution, a step or a case.

    The type is detected from the bytes; `content_type`, when given, is the caller's claim and
    must agree with it (plain text may be declared for any text). Raises ValidationFailed for a
    missing or inconsistent owner, an unknown kind, an empty file, a type outside
    ALLOWED_FILE_TYPES or one the filename's extension contradicts, and PayloadTooLarge above
    MAX_UPLOAD_SIZE. Nothing stays in storage when it raises. `allowed_types` replaces
    ALLOWED_FILE_TYPES for evidence the engine itself captured (it is not an upload).
    """
    if kind not in Artifact.Kind.values:
        raise ValidationFailed(f"Unknown artifact kind {kind!r}.", {"kind": [f"One of {', '.join(Artifact.Kind)}."]})
    if step_result is not None:
        if execution is None:
            execution = step_result.execution
        elif step_result.execution_id != execution.pk:
            raise ValidationFailed(
                "The step result belongs to another execution.", {"step_result": ["Not a step of this execution."]}
            )
    if (execution is None) == (test_case is None):
        raise ValidationFailed(
            "An artifact belongs to exactly one execution or test case.",
            {"non_field_errors": ["Give either an execution or a test case."]},
        )
    project_id = execution.project_id if execution is not None else test_case.project_id

    inspection = _inspect(content, max_size=settings.MAX_UPLOAD_SIZE)
    detected = inspection.content_type
    if content_type is not None:
        declared = content_type.split(";")[0].strip().lower()
        if declared != detected and not (declared == "text/plain" and detected in detection.TEXT_TYPES):
            raise _refuse_type(f"The content is {detected}, not {declared}.")
        detected = declared
    if detected not in (settings.ALLOWED_FILE_TYPES if allowed_types is None else allowed_types):
        raise _refuse_type(f"Files of type {detected} are not accepted.")
    extension = detection.EXTENSION_FOR_TYPE.get(detected, "")
    original = detection.filename_clean(filename, fallback=f"{kind}{extension}")
    if not detection.extension_agrees(original, detected):
        raise _refuse_type(f"The content is {detected}, which the name {original!r} does not match.")

    storage = Artifact._meta.get_field("file").storage
    wanted = f"artifacts/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}{extension}"
    try:
        stored = storage.save(wanted, inspection.file)
    except BaseException:
        # A backend may leave a partial file behind when writing fails half-way.
        _remove_quietly(storage, wanted)
        raise
    try:
        with transaction.atomic():
            return Artifact.objects.create(
                project_id=project_id,
                execution=execution,
                step_result=step_result,
                test_case=test_case,
                kind=kind,
                file=stored,
                original_filename=original,
                content_type=detected,
                size=inspection.size,
                sha256=inspection.sha256,
                uploaded_by=uploaded_by,
            )
    except BaseException:
        _remove_quietly(storage, stored)
        raise


def _remove_quietly(storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except Exception:
        logger.exception("artifact_partial_file_delete_failed", file=name)


@transaction.atomic
def artifact_delete(*, artifact: Artifact) -> None:
    """Delete the artifact; its file goes once the deletion is committed. Raises nothing."""
    artifact.delete()


@dataclass(frozen=True)
class CleanupResult:
    count: int
    bytes: int
    dry_run: bool


def artifacts_expired_delete(*, older_than: datetime, dry_run: bool = False, batch_size: int = 500) -> CleanupResult:
    """Delete artifacts created before `older_than`, rows and files, in committed batches.

    Each batch's files are deleted right after its rows are committed, so a failure midway leaves
    neither a row without its file nor (short of a storage error, which is logged) the reverse.
    Raises nothing of its own.
    """
    expired = Artifact.objects.filter(created_at__lt=older_than)
    if dry_run:
        totals = expired.aggregate(total=Sum("size"))
        result = CleanupResult(count=expired.count(), bytes=totals["total"] or 0, dry_run=True)
    else:
        count = freed = 0
        seen: set = set()
        while True:
            ids = list(expired.exclude(pk__in=seen).order_by("created_at").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            seen.update(ids)
            with transaction.atomic():
                # Rows another process is deleting right now are left to it.
                locked = list(
                    Artifact.objects.select_for_update(skip_locked=True)
                    .filter(pk__in=ids, created_at__lt=older_than)
                    .values_list("pk", "size")
                )
                Artifact.objects.filter(pk__in=[pk for pk, _ in locked]).delete()
            count += len(locked)
            freed += sum(size for _, size in locked)
        result = CleanupResult(count=count, bytes=freed, dry_run=False)
    logger.info(
        "artifacts_expired_deleted" if not dry_run else "artifacts_expired_found",
        count=result.count,
        bytes_freed=result.bytes,
        older_than=older_than.isoformat(),
        dry_run=dry_run,
    )
    return result


def artifacts_retention_cutoff() -> datetime:
    return timezone.now() - timedelta(days=settings.ARTIFACT_RETENTION_DAYS)


# Files younger than this are left alone: artifact_store saves the file before its row commits.
ORPHAN_GRACE = timedelta(hours=1)
STORAGE_PREFIX = "artifacts"


def _stored_names(storage, directory: str):
    directories, files = storage.listdir(directory)
    for name in files:
        yield f"{directory}/{name}"
    for child in directories:
        yield from _stored_names(storage, f"{directory}/{child}")


def artifact_files_orphaned_delete(*, dry_run: bool = False, grace: timedelta = ORPHAN_GRACE) -> CleanupResult:
    """Delete stored files no artifact row points at (a row rolled back after its file was saved).

    Only files under `artifacts/` older than `grace` are considered. Raises nothing of its own.
    """
    storage = Artifact._meta.get_field("file").storage
    if not storage.exists(STORAGE_PREFIX):
        return CleanupResult(count=0, bytes=0, dry_run=dry_run)
    cutoff = timezone.now() - grace
    count = freed = 0
    for name in _stored_names(storage, STORAGE_PREFIX):
        try:
            if storage.get_modified_time(name) >= cutoff or Artifact.objects.filter(file=name).exists():
                continue
            size = storage.size(name)
            if not dry_run:
                storage.delete(name)
        except FileNotFoundError:
            continue  # deleted meanwhile
        count += 1
        freed += size
    logger.info("artifact_files_orphaned", count=count, bytes=freed, dry_run=dry_run)
    return CleanupResult(count=count, bytes=freed, dry_run=dry_run)

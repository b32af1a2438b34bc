"""Results in other tools' formats. JUnit lives with the CLI (executions/junit.py); this is Allure.

Allure 2 reads a directory of `<uuid>-result.json` files (and the attachments they name). Every
attempt becomes a result with the same `historyId`, which is how Allure shows retries; a case
that passed on retry therefore shows as passed with its failed attempt under "Retries".
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import uuid
import zipfile

import structlog
from django.db.models import Prefetch

from artifacts.models import Artifact
from executions.models import Execution, StepResult

logger = structlog.get_logger(__name__)

ALLURE_STATUS = {"passed": "passed", "failed": "failed", "error": "broken", "cancelled": "skipped",
                 "skipped": "skipped", "queued": "unknown", "running": "unknown"}  # fmt: skip


def _ms(moment) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def _step_name(result: StepResult) -> str:
    target = f" {result.selector}" if result.selector else ""
    value = f" = {result.value}" if result.value else ""
    return (result.description or f"{result.action}{target}{value}")[:500]


def allure_result(execution: Execution, *, suite_name: str, attachments: list[dict]) -> dict:
    """One Allure result for one attempt; step times are laid end to end from the start."""
    start = _ms(execution.started_at) or _ms(execution.queued_at)
    steps, clock = [], start
    for result in execution.step_results.all():
        step = {"name": _step_name(result), "status": ALLURE_STATUS.get(result.status, "unknown"),
                "stage": "finished", "start": clock, "stop": clock + result.duration_ms}  # fmt: skip
        if result.message:
            step["statusDetails"] = {"message": result.message}
        steps.append(step)
        clock += result.duration_ms
    environment = (execution.snapshot.get("environment") or {}).get("name")
    history_key = f"{execution.test_case_id or execution.case_name}|{environment or ''}"
    result = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"jbtestsuite:execution:{execution.id}")),
        "historyId": hashlib.md5(history_key.encode()).hexdigest(),  # noqa: S324 (an id, not security)
        "testCaseId": str(execution.test_case_id or ""),
        "name": execution.case_name,
        "fullName": f"{suite_name}.{execution.case_name}",
        "status": ALLURE_STATUS.get(execution.status, "unknown"),
        "stage": "finished" if execution.is_final else "running",
        "start": start,
        "stop": _ms(execution.finished_at) or clock,
        "steps": steps,
        "attachments": attachments,
        "labels": [
            {"name": "suite", "value": suite_name},
            {"name": "framework", "value": "JBTestSuite"},
            {"name": "host", "value": execution.worker_host or "unknown"},
        ],
        "parameters": [
            {"name": "environment", "value": environment or "(none)"},
            {"name": "attempt", "value": str(execution.attempt), "excluded": True},
        ],
    }
    if execution.error_message:
        result["statusDetails"] = {"message": execution.error_message}
    return result


def allure_results_zip(*, suite_run) -> bytes:
    """Every attempt of the suite run as Allure results, with screenshots and logs attached."""
    executions = (
        Execution.objects.filter(suite_run=suite_run)
        .order_by("queued_at", "id")
        .prefetch_related(
            Prefetch("step_results", queryset=StepResult.objects.order_by("order_index")),
            Prefetch("artifacts", queryset=Artifact.objects.order_by("created_at")),
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for execution in executions:
            attachments = []
            for artifact in execution.artifacts.all():
                extension = mimetypes.guess_extension(artifact.content_type) or ".bin"
                source = f"{artifact.pk}-attachment{extension}"
                try:
                    with artifact.file.open("rb") as handle:
                        archive.writestr(source, handle.read())
                except OSError as exc:  # a file removed by retention: the result still goes out
                    logger.warning("allure_attachment_missing", artifact_id=str(artifact.pk), error=type(exc).__name__)
                    continue
                attachments.append({"name": artifact.kind, "source": source, "type": artifact.content_type})
            result = allure_result(execution, suite_name=suite_run.suite_name, attachments=attachments)
            archive.writestr(f"{result['uuid']}-result.json", json.dumps(result, indent=1))
        archive.writestr("environment.properties", f"suite={suite_run.suite_name}\nsuite_run={suite_run.pk}\n")
    return buffer.getvalue()

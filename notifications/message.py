"""What a notification says, built once as plain data and rendered per channel kind."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from executions.models import Execution, RunStatus, StepStatus, SuiteRun
from notifications.models import NotificationEvent

MAX_FAILURES = 20
MAX_MESSAGE_LENGTH = 500


def _admin_url(suite_run: SuiteRun) -> str:
    return settings.PUBLIC_BASE_URL + reverse("admin:executions_suiterun_change", args=[suite_run.pk])


def _failures(suite_run: SuiteRun) -> list[dict]:
    """The failing cases (their last attempt), each with its first failing step and message."""
    failing = (
        Execution.objects.filter(
            suite_run=suite_run, next_attempt__isnull=True, status__in=(RunStatus.FAILED, RunStatus.ERROR)
        )
        .order_by("queued_at")
        .prefetch_related("step_results")[:MAX_FAILURES]
    )
    failures = []
    for execution in failing:
        results = sorted(execution.step_results.all(), key=lambda result: result.order_index)
        step = next((r for r in results if r.status in (StepStatus.FAILED, StepStatus.ERROR)), None)
        failures.append(
            {
                "case": execution.case_name,
                "status": execution.status,
                "step": None
                if step is None
                else {"index": step.order_index, "action": step.action, "description": step.description},
                "message": ((step.message if step else "") or execution.error_message)[:MAX_MESSAGE_LENGTH],
            }
        )
    return failures


def suite_run_message(suite_run: SuiteRun, event: str) -> dict:
    duration = None
    if suite_run.started_at and suite_run.finished_at:
        duration = round((suite_run.finished_at - suite_run.started_at).total_seconds(), 1)
    environment = suite_run.environment
    return {
        "event": event,
        "project": {"id": str(suite_run.project_id), "name": suite_run.project.name},
        "suite": {"id": str(suite_run.suite_id) if suite_run.suite_id else None, "name": suite_run.suite_name},
        "environment": {"id": str(environment.pk), "name": environment.name} if environment else None,
        "run": {
            "id": str(suite_run.pk),
            "status": suite_run.status,
            "trigger": suite_run.trigger,
            "started_at": suite_run.started_at.isoformat() if suite_run.started_at else None,
            "finished_at": suite_run.finished_at.isoformat() if suite_run.finished_at else None,
            "duration_seconds": duration,
            "url": _admin_url(suite_run),
        },
        "counts": {
            "total": suite_run.total,
            "passed": suite_run.passed,
            "failed": suite_run.failed,
            "error": suite_run.errored,
            "cancelled": suite_run.cancelled,
        },
        "failures": _failures(suite_run),
    }


def test_message(channel) -> dict:
    return {
        "event": NotificationEvent.TEST,
        "project": {"id": str(channel.project_id), "name": channel.project.name},
        "channel": {"id": str(channel.pk), "name": channel.name},
        "text": f"A test notification from JBTestSuite for the channel {channel.name!r}.",
    }


_HEADLINES = {
    NotificationEvent.FAILURE: "failing",
    NotificationEvent.RECOVERY: "passing again",
    NotificationEvent.FINISHED: "finished",
}


def headline(message: dict) -> str:
    if message["event"] == NotificationEvent.TEST:
        return message["text"]
    where = f" on {message['environment']['name']}" if message["environment"] else ""
    state = _HEADLINES.get(message["event"], message["event"])
    return f"{message['suite']['name']}{where} is {state} ({message['run']['status']})"


def summary_lines(message: dict) -> list[str]:
    if message["event"] == NotificationEvent.TEST:
        return []
    counts, run = message["counts"], message["run"]
    duration = f" in {run['duration_seconds']} s" if run["duration_seconds"] is not None else ""
    lines = [
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} error"
        f" of {counts['total']}{duration} ({message['project']['name']}, {run['trigger']} run)"
    ]
    for failure in message["failures"]:
        step = failure["step"]
        where = f" at step {step['index'] + 1} ({step['action']})" if step else ""
        lines.append(f"- {failure['case']}: {failure['status']}{where}: {failure['message']}")
    return lines


def slack_payload(message: dict) -> dict:
    lines = [f"*{headline(message)}*", *summary_lines(message)]
    if message["event"] != NotificationEvent.TEST:
        lines.append(f"<{message['run']['url']}|Open the run>")
    return {"text": "\n".join(lines)}


def email_subject(message: dict) -> str:
    return f"[JBTestSuite] {headline(message)}"


def email_body(message: dict) -> str:
    lines = [headline(message), "", *summary_lines(message)]
    if message["event"] != NotificationEvent.TEST:
        lines += ["", f"Open the run: {message['run']['url']}"]
    return "\n".join(lines) + "\n"

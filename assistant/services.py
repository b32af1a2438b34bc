"""Every write of the assistant, with its rules: requesting a generation or an explanation,
deciding on a proposed patch, and the per-project settings."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant import context
from assistant.client import assistant_configured, budget_require, how_to_enable
from assistant.errors import AssistantUnavailable
from assistant.models import AssistantSettings, FailureExplanation, GenerationJob, JobStatus, ProposalStatus
from jbtestsuite.errors import Conflict, ValidationFailed
from tests_catalog import services as catalog_services
from tests_catalog import step_actions
from tests_catalog.models import Environment, Role

logger = structlog.get_logger(__name__)

DESCRIPTION_MAX = 4000


def assistant_available_require(project_id) -> None:
    """Raise AssistantUnavailable unless a model is configured and the project has the assistant on."""
    if not assistant_configured():
        raise AssistantUnavailable(how_to_enable())
    if not context.project_settings(project_id).enabled:
        raise AssistantUnavailable(
            "The AI assistant is off for this project: a maintainer can turn it on in the project's "
            "assistant settings (admin: AI assistant → Assistant settings).",
            {"project": ["The assistant is off for this project."]},
        )


@transaction.atomic
def assistant_settings_update(*, project, **fields) -> AssistantSettings:
    """Change a project's assistant settings (enabled, daily_token_budget, withhold_screenshots, explain_failures)."""
    allowed = {"enabled", "daily_token_budget", "withhold_screenshots", "explain_failures"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"assistant_settings_update does not change {sorted(unknown)}")
    row, _ = AssistantSettings.objects.select_for_update().get_or_create(project=project)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def _task_send(task, object_id, model, label: str) -> None:
    limit = settings.ASSISTANT_TIME_LIMIT_SECONDS
    try:
        task.apply_async(args=[str(object_id)], retry=False, soft_time_limit=limit + 10, time_limit=limit + 40)
    except Exception as exc:
        logger.warning("assistant_enqueue_failed", job=label, error=type(exc).__name__)
        model.objects.filter(pk=object_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, finished_at=timezone.now(),
            message="The job could not be queued (the task broker is unreachable); try again.",
        )  # fmt: skip


@transaction.atomic
def generation_request(
    *,
    user,
    project_id,
    description: str,
    start_url: str,
    environment: Environment | None = None,
    variable_names=(),
    case_name: str = "",
) -> GenerationJob:
    """Queue the writing of a draft case from a description; the job row shows its progress.

    Raises NotFound/Forbidden (project access, editor role), AssistantUnavailable, BudgetSpent,
    ValidationFailed for a bad start URL, environment or variable name.
    """
    project = catalog_services.project_for_write(user=user, project_id=project_id, role=Role.EDITOR)
    assistant_available_require(project.pk)
    budget_require(project.pk)
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("Describe what the case should do.", {"description": ["This field is required."]})
    if len(description) > DESCRIPTION_MAX:
        message = f"At most {DESCRIPTION_MAX} characters."
        raise ValidationFailed(message, {"description": [message]})
    start_url = (start_url or "").strip()
    problems = step_actions.step_errors("open", "css", "", start_url)
    if problems:
        raise ValidationFailed("The start URL is invalid.", {"start_url": problems.get("value", ["Invalid URL."])})
    if environment is not None and environment.project_id != project.pk:
        message = "The environment belongs to another project."
        raise ValidationFailed(message, {"environment": [message]})
    if not start_url.startswith(("http://", "https://")) and not context.base_url(project, environment):
        message = "A relative start URL needs a base URL on the environment or the project."
        raise ValidationFailed(message, {"start_url": [message]})
    names = [
        str(name).strip().removeprefix("${").removesuffix("}") for name in variable_names or () if str(name).strip()
    ]
    values, _secrets, secret_names = context.environment_values(environment)
    bad = [name for name in names if not step_actions.VARIABLE_NAME.fullmatch(name)]
    missing = [name for name in names if name not in values]
    if bad or missing:
        message = (f"Not variable names: {', '.join(bad)}." if bad else
                   f"The environment has no variable {', '.join(missing)}.")  # fmt: skip
        raise ValidationFailed(message, {"variables": [message]})
    # A secret typed into the description is stored and sent as its reference, never as is.
    for secret, name in sorted(secret_names.items(), key=lambda item: -len(item[0])):
        description = description.replace(secret, f"${{{name}}}")
    job = GenerationJob.objects.create(
        project=project, environment=environment, requested_by=user, start_url=start_url,
        description=description, variable_names=names, case_name=(case_name or "").strip()[:255],
    )  # fmt: skip
    from assistant import tasks

    transaction.on_commit(lambda: _task_send(tasks.generation_run, job.pk, GenerationJob, "generation"))
    logger.info("generation_queued", job_id=str(job.pk), project=project.slug)
    return job


@transaction.atomic
def explanation_request(*, execution, user=None, automatic: bool = False) -> FailureExplanation:
    """Queue an explanation of a failed or errored execution.

    Raises Forbidden (editor role, when a user asks), Conflict for an execution that did not
    fail, AssistantUnavailable, BudgetSpent.
    """
    if user is not None:
        catalog_services.project_role_require(
            user=user, project=execution.project_id, role=Role.EDITOR, doing="Explaining failures"
        )
    if execution.status not in ("failed", "error"):
        message = f"Only failed or errored executions can be explained; this one is {execution.status}."
        raise Conflict(message, {"execution": [message]})
    assistant_available_require(execution.project_id)
    budget_require(execution.project_id)
    explanation = FailureExplanation.objects.create(
        project_id=execution.project_id, execution=execution, requested_by=user, automatic=automatic
    )
    from assistant import tasks

    transaction.on_commit(lambda: _task_send(tasks.explanation_run, explanation.pk, FailureExplanation, "explain"))
    return explanation


def _case_steps(case) -> list[dict]:
    keys = ("action", "selector_type", "selector", "value", "timeout_ms", "description", "continue_on_failure")
    return [{key: step[key] for key in keys} for step in (s.as_spec() for s in case.steps.order_by("order_index"))]


def explanation_approve(*, explanation: FailureExplanation, user) -> FailureExplanation:
    """Apply the proposed patch to the case: a person's decision, credited to the assistant.

    Raises Forbidden (editor role), Conflict when nothing is pending, the case is gone, or its
    steps changed since the proposal (it is then marked outdated).
    """
    from tests_catalog.models import TestCase

    catalog_services.project_role_require(
        user=user, project=explanation.project_id, role=Role.EDITOR, doing="Approving changes"
    )
    with transaction.atomic():
        row = FailureExplanation.objects.select_for_update().select_related("execution").get(pk=explanation.pk)
        if row.proposal != ProposalStatus.PENDING:
            raise Conflict(
                f"There is no pending proposal ({row.get_proposal_display()}).", {"proposal": [row.proposal]}
            )
        case = TestCase.objects.select_for_update().filter(pk=row.execution.test_case_id).first()
        if case is None:
            raise Conflict("The case this execution ran no longer exists.", {"test_case": ["Deleted."]})
        # Marked outdated in this same transaction, which must commit: the refusal comes after it.
        outdated = _case_steps(case) != _comparable(row.steps_before)
        if outdated:
            FailureExplanation.objects.filter(pk=row.pk).update(proposal=ProposalStatus.OUTDATED)
        else:
            credit = {
                "explanation": str(row.pk),
                "approved_by": user.get_username(),
                "approved_at": timezone.now().isoformat(),
                "model": row.model,
                "summary": row.explanation[:300],
            }
            metadata = dict(case.metadata or {})
            metadata["assistant_changes"] = [*metadata.get("assistant_changes", []), credit][-20:]
            note = f"Proposed by the AI assistant ({row.model}); approved by {user.get_username()}"
            case_version_record(case=case, steps=row.steps_after, user=user, metadata=metadata, note=note)
            row.proposal = ProposalStatus.APPROVED
            row.decided_by, row.decided_at = user, timezone.now()
            row.save(update_fields=["proposal", "decided_by", "decided_at"])
    if outdated:
        raise Conflict(
            "The case's steps changed since the proposal was made; explain the failure again.",
            {"steps": ["Changed since the proposal."]},
        )
    logger.info("explanation_patch_approved", explanation_id=str(row.pk), case_id=str(case.pk))
    return row


def case_version_record(*, case, steps, user, metadata, note: str) -> None:
    """Write the patched steps through the catalog's service (its one place for step rules); the
    change becomes a new case version by `user`, source "assistant", with `note`."""
    catalog_services.test_case_update(
        case=case, steps=steps, metadata=metadata, user=user, source="assistant", note=note
    )


def _comparable(steps: list[dict]) -> list[dict]:
    keys = ("action", "selector_type", "selector", "value", "timeout_ms", "description", "continue_on_failure")
    return [{key: step.get(key, _STEP_DEFAULTS[key]) for key in keys} for step in steps]


_STEP_DEFAULTS = {"action": "", "selector_type": "css", "selector": "", "value": "", "timeout_ms": None,
                  "description": "", "continue_on_failure": False}  # fmt: skip


def explanation_reject(*, explanation: FailureExplanation, user) -> FailureExplanation:
    """Refuse the proposed patch; the case is not touched. Raises Forbidden, Conflict when nothing is pending."""
    catalog_services.project_role_require(
        user=user, project=explanation.project_id, role=Role.EDITOR, doing="Rejecting changes"
    )
    changed = FailureExplanation.objects.filter(pk=explanation.pk, proposal=ProposalStatus.PENDING).update(
        proposal=ProposalStatus.REJECTED, decided_by=user, decided_at=timezone.now()
    )
    explanation.refresh_from_db()
    if not changed:
        raise Conflict(
            f"There is no pending proposal ({explanation.get_proposal_display()}).",
            {"proposal": [explanation.proposal]},
        )
    return explanation


def jobs_sweep(*, now=None) -> dict[str, int]:
    """End jobs whose worker died: still queued or running well past the task's hard time limit.

    The task is acknowledged late and redelivered when its worker is lost, but a redelivered
    task finds the job no longer queued; without this, the job would show "running" forever.
    """
    import datetime

    now = now or timezone.now()
    seconds = settings.ASSISTANT_TIME_LIMIT_SECONDS + 120
    cutoff = now - datetime.timedelta(seconds=seconds)
    message = f"The job was lost with its worker (no result {seconds} s after it was asked for)."
    active = (JobStatus.QUEUED, JobStatus.RUNNING)
    generations = GenerationJob.objects.filter(status__in=active, created_at__lt=cutoff).update(
        status=JobStatus.FAILED, message=message, finished_at=now
    )
    explanations = FailureExplanation.objects.filter(status__in=active, created_at__lt=cutoff).update(
        status=JobStatus.FAILED, message=message, finished_at=now
    )
    if generations or explanations:
        logger.warning("assistant_jobs_swept", generations=generations, explanations=explanations)
    return {"generations": generations, "explanations": explanations}

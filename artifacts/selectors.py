"""Reads of artifacts and of what they may be attached to, always through project membership."""

from __future__ import annotations

from django.db.models import QuerySet

from artifacts.models import Artifact
from executions.models import Execution, StepResult
from tests_catalog.models import Role, TestCase
from tests_catalog.selectors import project_ids_with_role


def artifacts_visible_to(user) -> QuerySet[Artifact]:
    """Artifacts of the projects where the user is at least a viewer, newest first."""
    return Artifact.objects.filter(project_id__in=project_ids_with_role(user, Role.VIEWER)).order_by("-created_at")


def execution_visible_to(user, execution_id) -> Execution | None:
    return Execution.objects.filter(pk=execution_id, project_id__in=project_ids_with_role(user, Role.VIEWER)).first()


def step_result_visible_to(user, step_result_id) -> StepResult | None:
    return (
        StepResult.objects.select_related("execution")
        .filter(pk=step_result_id, execution__project_id__in=project_ids_with_role(user, Role.VIEWER))
        .first()
    )


def case_visible_to(user, test_case_id) -> TestCase | None:
    return TestCase.objects.filter(pk=test_case_id, project_id__in=project_ids_with_role(user, Role.VIEWER)).first()

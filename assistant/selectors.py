"""Reads of the assistant's records, scoped to the user's projects."""

from django.db.models import QuerySet

from assistant.models import FailureExplanation, GenerationJob, ModelExchange
from tests_catalog.models import Role
from tests_catalog.selectors import project_ids_with_role


def generation_jobs_visible_to(user) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(project_id__in=project_ids_with_role(user)).select_related("requested_by")


def explanations_visible_to(user) -> QuerySet[FailureExplanation]:
    return FailureExplanation.objects.filter(project_id__in=project_ids_with_role(user)).select_related(
        "requested_by", "decided_by"
    )


def exchanges_visible_to(user) -> QuerySet[ModelExchange]:
    """The audit log: maintainers only, since it holds the pages and runs that were sent."""
    return ModelExchange.objects.filter(project_id__in=project_ids_with_role(user, Role.MAINTAINER))


def latest_explanation(execution_id) -> FailureExplanation | None:
    return FailureExplanation.objects.filter(execution_id=execution_id).order_by("-created_at").first()

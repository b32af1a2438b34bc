"""Reads of runs, with a constant number of queries whatever the page size."""

from django.db.models import Prefetch, QuerySet

from executions.models import Execution, Schedule, StepResult, SuiteRun
from tests_catalog.selectors import project_ids_with_role


def executions_visible_to(user) -> QuerySet[Execution]:
    return Execution.objects.filter(project_id__in=project_ids_with_role(user)).select_related(
        "environment", "triggered_by"
    )


def execution_with_results(user) -> QuerySet[Execution]:
    """Executions with their ordered step results and each result's artifacts prefetched."""
    results = StepResult.objects.order_by("order_index").prefetch_related("artifacts")
    return executions_visible_to(user).prefetch_related(Prefetch("step_results", queryset=results))


def suite_run_executions() -> Prefetch:
    """A suite run's executions in the order they were queued: the suite's order, retries last."""
    return Prefetch(
        "executions",
        queryset=Execution.objects.select_related("environment", "triggered_by").order_by("queued_at"),
    )


def suite_runs_visible_to(user) -> QuerySet[SuiteRun]:
    return SuiteRun.objects.filter(project_id__in=project_ids_with_role(user)).select_related(
        "environment", "triggered_by"
    )


def schedules_visible_to(user) -> QuerySet[Schedule]:
    return Schedule.objects.filter(project_id__in=project_ids_with_role(user)).select_related(
        "project", "suite", "environment", "last_run"
    )

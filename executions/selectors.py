"""Reads of runs, with a constant number of queries whatever the page size."""

import statistics
from collections.abc import Callable, Iterable

from django.db.models import Count, F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from executions.models import Execution, RunStatus, Schedule, StepResult, SuiteRun
from tests_catalog.selectors import project_ids_with_role

RECENT_RUNS = 10


def executions_visible_to(user) -> QuerySet[Execution]:
    return Execution.objects.filter(project_id__in=project_ids_with_role(user)).select_related(
        "environment", "triggered_by"
    )


def execution_with_results(user) -> QuerySet[Execution]:
    """Executions with their ordered step results and each result's artifacts prefetched."""
    results = StepResult.objects.order_by("sequence", "order_index").prefetch_related("artifacts")
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
    return (
        Schedule.objects.filter(project_id__in=project_ids_with_role(user))
        .select_related("project", "suite", "environment", "last_run")
        # Which overrides are secrets (shown masked) is read from the environment's variables.
        .prefetch_related("environment__variables")
    )


def _case_durations_from_executions(case_ids: list, environment_id=None, *, runs: int = RECENT_RUNS) -> dict:
    ranked = (
        Execution.objects.filter(test_case_id__in=case_ids, environment_id=environment_id, status=RunStatus.PASSED,
                                 duration_ms__isnull=False)
        .annotate(recency=Window(RowNumber(), partition_by=[F("test_case_id")], order_by=F("queued_at").desc()))
        .filter(recency__lte=runs)
        .values_list("test_case_id", "duration_ms")
    )  # fmt: skip
    by_case: dict = {}
    for case_id, duration_ms in ranked:
        by_case.setdefault(case_id, []).append(duration_ms)
    return {case_id: statistics.median(values) for case_id, values in by_case.items()}


# An app above us (reports keeps per-case history) may offer a better source; executions never
# imports it, so it registers itself here (case_durations_source_register) when it is installed.
_case_durations_source: Callable[..., dict] = _case_durations_from_executions


def case_durations_source_register(source: Callable[..., dict] | None) -> None:
    """Use source(case_ids, environment_id) for `case_durations_recent`; None restores ours."""
    global _case_durations_source
    _case_durations_source = source or _case_durations_from_executions


def case_durations_recent(case_ids: Iterable, *, environment_id=None) -> dict:
    """{case id: median duration in ms of its last RECENT_RUNS passing runs} in one environment
    (None: runs without one). Cases that never passed there are left out. One query."""
    case_ids = [case_id for case_id in case_ids if case_id is not None]
    if not case_ids:
        return {}
    return _case_durations_source(case_ids, environment_id)


def heals_per_case(*, project_id, since=None) -> dict:
    """{case id: how many steps passed only thanks to a fallback locator}, over the project's runs.

    One query. A heal is a step result with `healed_by` set (a healed step that then failed
    its check is recorded as a failure, without `healed_by`).
    """
    results = StepResult.objects.filter(execution__project_id=project_id, execution__test_case__isnull=False)
    if since is not None:
        results = results.filter(execution__queued_at__gte=since)
    rows = results.exclude(healed_by="").values("execution__test_case_id").annotate(heals=Count("id"))
    return {row["execution__test_case_id"]: row["heals"] for row in rows}

"""Reads of the reports: each page costs a fixed number of queries on indexed summary rows."""

from __future__ import annotations

import datetime
import math
import statistics
from collections import Counter

from django.db.models import Avg, Count, Max, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from executions import selectors as run_selectors
from executions.models import Execution, RunStatus
from reports.models import CaseHealth, CaseRun, Failure, FailureGroup, Label, ProjectDay, SuiteRunSummary
from tests_catalog.models import TestSuite
from tests_catalog.selectors import project_ids_with_role

DASHBOARD_LIST_SIZE = 10
SUITE_HISTORY_SIZE = 30
SLOWEST_OVER_RUNS = 10


def percentile(values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _rate(passed: int, runs: int) -> float | None:
    return round(passed / runs, 4) if runs else None


# --- Visible rows ---------------------------------------------------------------------------


def case_health_visible_to(user) -> QuerySet[CaseHealth]:
    return CaseHealth.objects.filter(project_id__in=project_ids_with_role(user)).select_related("environment")


def case_runs_visible_to(user) -> QuerySet[CaseRun]:
    return CaseRun.objects.filter(project_id__in=project_ids_with_role(user))


def failure_groups_visible_to(user) -> QuerySet[FailureGroup]:
    return FailureGroup.objects.filter(project_id__in=project_ids_with_role(user))


def suite_run_summaries_visible_to(user) -> QuerySet[SuiteRunSummary]:
    return SuiteRunSummary.objects.filter(project_id__in=project_ids_with_role(user))


def failures_of_group(group: FailureGroup) -> QuerySet[Failure]:
    return Failure.objects.filter(group=group).select_related("test_case", "environment")


# --- One case -------------------------------------------------------------------------------


def case_report(*, case, environment_id=None, now: datetime.datetime | None = None) -> dict:
    """A case's history in one environment (by default the one it ran in last). Four queries."""
    now = now or timezone.now()
    healths = list(CaseHealth.objects.filter(test_case=case).select_related("environment").order_by("-last_run_at"))
    if environment_id is not None:
        health = next((h for h in healths if str(h.environment_id) == str(environment_id)), None)
    else:
        health = healths[0] if healths else None
    environments = [{"id": h.environment_id, "name": h.environment.name if h.environment else None} for h in healths]
    report = {
        "case": {"id": case.id, "name": case.name, "project": case.project_id},
        "environment": (
            {"id": health.environment_id, "name": health.environment.name if health.environment else None}
            if health
            else None
        ),
        "environments": environments,
        "label": None, "flaky": False, "flips": 0, "retry_passes": 0, "runs": 0, "failures": 0,
        "first_failure_at": None, "last_failure_at": None, "strip": [],
        "pass_rate_7d": None, "pass_rate_30d": None, "runs_7d": 0, "runs_30d": 0,
        "duration_p50_ms": None, "duration_p95_ms": None, "duration_trend": None, "durations_by_day": [],
        "most_failing_step": None,
    }  # fmt: skip
    if health is None:
        return report
    report.update(
        label="flaky" if health.flaky else health.label,
        outcome_label=health.label,
        flaky=health.flaky,
        flips=health.flips,
        retry_passes=health.retry_passes,
        runs=health.runs,
        failures=health.failures,
        first_failure_at=health.first_failure_at,
        last_failure_at=health.last_failure_at,
        strip=[
            {
                "execution": e["e"],
                "status": e["s"],
                "passed_on_retry": e["r"],
                "finished_at": e["t"],
                "duration_ms": e["d"],
            }
            for e in health.recent
        ],
    )
    since_30 = now - datetime.timedelta(days=30)
    since_7 = now - datetime.timedelta(days=7)
    rows = list(
        CaseRun.objects.filter(test_case=case, environment_id=health.environment_id, finished_at__gte=since_30)
        .order_by()
        .values_list("finished_at", "status", "duration_ms")
    )
    recent_week = [row for row in rows if row[0] >= since_7]
    report["runs_30d"], report["runs_7d"] = len(rows), len(recent_week)
    report["pass_rate_30d"] = _rate(sum(1 for r in rows if r[1] == RunStatus.PASSED), len(rows))
    report["pass_rate_7d"] = _rate(sum(1 for r in recent_week if r[1] == RunStatus.PASSED), len(recent_week))
    durations = [r[2] for r in rows if r[1] == RunStatus.PASSED] or [r[2] for r in rows]
    report["duration_p50_ms"] = percentile(durations, 0.5)
    report["duration_p95_ms"] = percentile(durations, 0.95)
    # Trend: the median of the last 7 days against the median of the 23 days before them.
    this_week = percentile([r[2] for r in recent_week if r[1] == RunStatus.PASSED], 0.5)
    before = percentile([r[2] for r in rows if r[0] < since_7 and r[1] == RunStatus.PASSED], 0.5)
    if this_week is not None and before:
        change = (this_week - before) / before
        report["duration_trend"] = {
            "p50_last_7d_ms": this_week, "p50_before_ms": before, "change": round(change, 4),
            "direction": "slower" if change > 0.1 else "faster" if change < -0.1 else "steady",
        }  # fmt: skip
    by_day: dict = {}
    for finished_at, status, duration in rows:
        if status == RunStatus.PASSED:
            by_day.setdefault(finished_at.date(), []).append(duration)
    report["durations_by_day"] = [
        {"day": day, "p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95)}
        for day, values in sorted(by_day.items())
    ]
    step = (
        Failure.objects.filter(test_case=case, environment_id=health.environment_id, step_index__isnull=False)
        .values("step_index", "group__action")
        .annotate(failures=Count("id"))
        .order_by("-failures", "step_index")
        .first()
    )
    if step:
        report["most_failing_step"] = {"order_index": step["step_index"], "action": step["group__action"],
                                       "failures": step["failures"]}  # fmt: skip
    return report


def case_duration_recent(case_ids, environment_id=None, *, runs: int = 10) -> dict:
    """{case_id: median duration in ms of its last `runs` passing runs} in one environment.

    For sending a suite's longest cases first (executions asks through the source it lets us
    register, see apps.py). Read from the cases' filed history, one query; cases with no
    history here yet (runs from before the reports were installed and rebuilt) are asked of
    executions' own query. Cases that never passed there are left out.
    """
    case_ids = [case_id for case_id in case_ids if case_id is not None]
    if not case_ids:
        return {}
    recent = CaseHealth.objects.filter(test_case_id__in=case_ids, environment_id=environment_id).values_list(
        "test_case_id", "recent"
    )
    durations, filed = {}, set()
    for case_id, entries in recent:
        filed.add(case_id)
        values = [entry["d"] for entry in entries if entry["s"] == RunStatus.PASSED][:runs]
        if values:
            durations[case_id] = statistics.median(values)
    unfiled = [case_id for case_id in case_ids if case_id not in filed]
    if unfiled:
        durations.update(run_selectors._case_durations_from_executions(unfiled, environment_id, runs=runs))
    return durations


# --- One suite ------------------------------------------------------------------------------


def suite_report(*, suite, environment_id=None) -> dict:
    """A suite's recent runs, its slowest cases and what broke in its latest run. Three queries."""
    summaries_qs = SuiteRunSummary.objects.filter(suite=suite)
    if environment_id is not None:
        summaries_qs = summaries_qs.filter(environment_id=environment_id)
    summaries = list(summaries_qs.order_by("-finished_at", "-id")[:SUITE_HISTORY_SIZE])
    report = {
        "suite": {"id": suite.id, "name": suite.name, "project": suite.project_id},
        "runs": [suite_run_summary_as_dict(s) for s in summaries],
        "slowest_cases": [],
        "broke_in_latest": [],
        "fixed_in_latest": [],
    }
    if not summaries:
        return report
    recent_ids = [s.suite_run_id for s in summaries[:SLOWEST_OVER_RUNS]]
    report["slowest_cases"] = [
        {"case": row["test_case_id"], "name": row["test_case__name"], "mean_duration_ms": round(row["mean"]),
         "max_duration_ms": row["longest"], "runs": row["runs"]}
        for row in CaseRun.objects.filter(suite_run_id__in=recent_ids)
        .values("test_case_id", "test_case__name")
        .annotate(mean=Avg("duration_ms"), longest=Max("duration_ms"), runs=Count("id"))
        .order_by("-mean", "test_case_id")[:DASHBOARD_LIST_SIZE]
    ]  # fmt: skip
    latest = summaries[0]
    previous = next((s for s in summaries[1:] if s.environment_id == latest.environment_id), None)
    if previous is not None:
        outcomes: dict = {latest.suite_run_id: {}, previous.suite_run_id: {}}
        for suite_run_id, case_id, name, status, execution_id in CaseRun.objects.filter(
            suite_run_id__in=list(outcomes)
        ).values_list("suite_run_id", "test_case_id", "test_case__name", "status", "execution_id"):
            outcomes[suite_run_id][case_id] = (name, status, execution_id)
        now_runs, before = outcomes[latest.suite_run_id], outcomes[previous.suite_run_id]
        for case_id, (name, status, execution_id) in sorted(now_runs.items(), key=lambda item: item[1][0]):
            if case_id not in before:
                continue
            was_passing = before[case_id][1] == RunStatus.PASSED
            entry = {"case": case_id, "name": name, "status": status, "execution": execution_id,
                     "previous_status": before[case_id][1]}  # fmt: skip
            if was_passing and status != RunStatus.PASSED:
                report["broke_in_latest"].append(entry)
            elif not was_passing and status == RunStatus.PASSED:
                report["fixed_in_latest"].append(entry)
    return report


def suite_run_summary_as_dict(summary: SuiteRunSummary) -> dict:
    return {
        "suite_run": summary.suite_run_id, "suite": summary.suite_id, "suite_name": summary.suite_name,
        "environment": summary.environment_id, "status": summary.status, "total": summary.total,
        "passed": summary.passed, "failed": summary.failed, "errored": summary.errored,
        "new_failures": summary.new_failures, "passed_on_retry": summary.retry_passes,
        "duration_ms": summary.duration_ms, "finished_at": summary.finished_at,
    }  # fmt: skip


# --- A project's dashboard ------------------------------------------------------------------


def dashboard(*, project, now: datetime.datetime | None = None, days: int = 30) -> dict:
    """Everything the landing page shows for one project, in eight queries whatever its size."""
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).date()
    first_day = today - datetime.timedelta(days=days - 1)
    last_summary = SuiteRunSummary.objects.filter(suite_id=OuterRef("pk")).order_by("-finished_at", "-id")
    suites = list(
        TestSuite.objects.filter(project=project)
        .annotate(last_summary_id=Subquery(last_summary.values("id")[:1]))
        .order_by("name")
        .values("id", "name", "last_summary_id")
    )
    summaries = SuiteRunSummary.objects.in_bulk([s["last_summary_id"] for s in suites if s["last_summary_id"]])
    suite_rows = [
        {"id": s["id"], "name": s["name"],
         "last_run": suite_run_summary_as_dict(summaries[s["last_summary_id"]]) if s["last_summary_id"] else None}
        for s in suites
    ]  # fmt: skip
    totals = {
        row["day"]: row
        for row in ProjectDay.objects.filter(project=project, day__gte=first_day)
        .values("day")
        .annotate(runs=Sum("runs"), passed=Sum("passed"), retry_passes=Sum("retry_passes"), duration=Sum("duration_ms"))
    }
    trend = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        row = totals.get(day)
        runs = row["runs"] if row else 0
        trend.append({
            "day": day.isoformat(), "runs": runs, "passed": row["passed"] if row else 0,
            "pass_rate": _rate(row["passed"], runs) if row else None,
            "passed_on_retry": row["retry_passes"] if row else 0,
            "mean_duration_ms": round(row["duration"] / runs) if runs else None,
        })  # fmt: skip
    healths = CaseHealth.objects.filter(project=project).select_related("environment")
    new_failures = list(healths.filter(label=Label.NEW_FAILURE).order_by("-last_run_at", "-id")[:DASHBOARD_LIST_SIZE])
    flaky = list(healths.filter(flaky=True).order_by("-last_run_at", "-id")[:DASHBOARD_LIST_SIZE])
    groups = list(
        FailureGroup.objects.filter(project=project, last_seen_at__gte=now - datetime.timedelta(days=days)).order_by(
            "-failures", "-id"
        )[:DASHBOARD_LIST_SIZE]
    )
    running = list(
        Execution.objects.filter(project=project, status=RunStatus.RUNNING)
        .order_by("started_at")
        .values("id", "case_name", "suite_run_id", "started_at", "attempt")[:DASHBOARD_LIST_SIZE]
    )
    queued = Execution.objects.filter(project=project, status=RunStatus.QUEUED).count()
    return {
        "project": {"id": project.id, "name": project.name, "slug": project.slug},
        "suites": suite_rows,
        "trend": trend,
        "new_failures": [case_health_as_dict(h) for h in new_failures],
        "flaky": [case_health_as_dict(h) for h in flaky],
        "failure_groups": [failure_group_as_dict(g) for g in groups],
        "running": running,
        "queued": queued,
    }


def case_health_as_dict(health: CaseHealth) -> dict:
    return {
        "case": health.test_case_id, "name": health.case_name,
        "environment": {"id": health.environment_id, "name": health.environment.name} if health.environment else None,
        "label": "flaky" if health.flaky else health.label, "outcome_label": health.label, "flaky": health.flaky,
        "flips": health.flips, "passed_on_retry": health.retry_passes, "runs": health.runs,
        "failures": health.failures, "first_failure_at": health.first_failure_at,
        "last_failure_at": health.last_failure_at, "last_run_at": health.last_run_at,
        "last_execution": health.recent[0]["e"] if health.recent else None,
        "strip": "".join("P" if e["s"] == "passed" else "F" for e in health.recent[:10]),
    }  # fmt: skip


def failure_group_as_dict(group: FailureGroup) -> dict:
    return {
        "id": group.id, "project": group.project_id, "action": group.action, "selector": group.selector,
        "message": group.message, "sample_message": group.sample_message, "failures": group.failures,
        "cases": group.cases, "first_seen_at": group.first_seen_at, "last_seen_at": group.last_seen_at,
    }  # fmt: skip


def labels_count(project) -> Counter:
    return Counter(dict(CaseHealth.objects.filter(project=project).values_list("label").annotate(n=Count("id"))))

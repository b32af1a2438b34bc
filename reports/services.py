"""Every write of the reports: the incremental update when an execution finishes, and the rebuild.

Both go through `reports.history` for the rules, so `reports_rebuild` gives the rows the
incremental updates gave (tested). Writes per finished execution are a handful of small
statements on rows indexed by their key; the reads of the dashboard and the API then touch
only these summaries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

import structlog
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from executions.models import Execution, RunStatus, StepResult, SuiteRun
from reports import history
from reports.models import CaseHealth, CaseRun, Failure, FailureGroup, Label, ProjectDay, SuiteRunSummary

logger = structlog.get_logger(__name__)

RECORDED_STATUSES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)
_EXECUTION_FIELDS = (
    "id", "project_id", "test_case_id", "case_name", "environment_id", "suite_run_id", "status",
    "attempt", "finished_at", "duration_ms", "failing_step_index", "error_message", "snapshot",
)  # fmt: skip


def _case_version_id(execution) -> object | None:
    # Executions record the case version they ran once case versions exist; until then the
    # steps snapshot's hash stands in for it.
    return getattr(execution, "case_version_id", None)


def _run_of(execution) -> history.Run:
    return history.Run(
        execution_id=str(execution.id),
        status=execution.status,
        steps_key=history.steps_key(execution.snapshot or {}, _case_version_id(execution)),
        passed_on_retry=execution.status == RunStatus.PASSED and execution.attempt > 1,
        finished_at=execution.finished_at.isoformat(),
        duration_ms=execution.duration_ms or 0,
    )


def _failing_step(execution, step_results) -> tuple[str, str, str, int | None]:
    """(action, selector, message, step index) of what made the attempt fail."""
    failing = [r for r in step_results if r.status in ("failed", "error")]
    chosen = next((r for r in failing if r.order_index == execution.failing_step_index), None) or (
        failing[0] if failing else None
    )
    if chosen is None:
        # Nothing ran or nothing failed in a step: the browser, the worker or a time limit.
        return "", "", execution.error_message, execution.failing_step_index
    return chosen.action, chosen.selector, chosen.message or execution.error_message, chosen.order_index


def _day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(datetime.UTC).date()


# --- Incremental: one execution as it finishes -------------------------------------------------


def execution_record(*, execution_id) -> CaseRun | None:
    """File a finished execution: its failure under a group, and (its last attempt) the case's run.

    Returns the case run, or None for an attempt that is retried, a cancelled run or a run
    of a deleted case. Safe to call twice: an execution already filed is left alone.
    """
    execution = Execution.objects.filter(pk=execution_id).only(*_EXECUTION_FIELDS).first()
    if execution is None or execution.status not in RECORDED_STATUSES or execution.test_case_id is None:
        return None
    with transaction.atomic():
        if execution.status in history.FAILING:
            _failure_record(execution)
        if Execution.objects.filter(previous_attempt_id=execution.id).exists():
            return None  # the case's run goes on with the next attempt
        return _case_run_record(execution)


def _failure_record(execution) -> Failure | None:
    if Failure.objects.filter(execution_id=execution.id).exists():
        return None
    results = list(StepResult.objects.filter(execution_id=execution.id, status__in=("failed", "error")))
    action, selector, message, step_index = _failing_step(execution, results)
    fingerprint, normal_selector, normal_message = history.failure_fingerprint(action, selector, message)
    at = execution.finished_at
    group = _group_locked(execution.project_id, fingerprint, action, normal_selector, normal_message, message, at)
    new_case = not Failure.objects.filter(group=group, test_case_id=execution.test_case_id).exists()
    failure = Failure.objects.create(
        group=group, execution_id=execution.id, test_case_id=execution.test_case_id,
        environment_id=execution.environment_id, suite_run_id=execution.suite_run_id, step_index=step_index, at=at,
    )  # fmt: skip
    FailureGroup.objects.filter(pk=group.pk).update(
        failures=F("failures") + 1,
        cases=F("cases") + int(new_case),
        last_seen_at=at if at > group.last_seen_at else group.last_seen_at,
        first_seen_at=at if at < group.first_seen_at else group.first_seen_at,
    )
    return failure


def _group_locked(project_id, fingerprint, action, selector, message, sample, at) -> FailureGroup:
    lookup = {"project_id": project_id, "fingerprint": fingerprint}
    group = FailureGroup.objects.select_for_update().filter(**lookup).first()
    if group is not None:
        return group
    try:
        with transaction.atomic():
            return FailureGroup.objects.create(
                **lookup, action=action, selector=selector, message=message, sample_message=(sample or "")[:2000],
                first_seen_at=at, last_seen_at=at,
            )  # fmt: skip
    except IntegrityError:  # another worker created it a moment ago
        return FailureGroup.objects.select_for_update().get(**lookup)


def _health_locked(execution) -> CaseHealth | None:
    lookup = {"test_case_id": execution.test_case_id, "environment_id": execution.environment_id}
    return CaseHealth.objects.select_for_update().filter(**lookup).first()


def _case_run_record(execution) -> CaseRun | None:
    if CaseRun.objects.filter(execution_id=execution.id).exists():
        return None
    health = _health_locked(execution)
    if health is None:
        # Serialise the first runs of a case: whoever inserts second waits, then reads the row.
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"casehealth:{execution.test_case_id}"])
        health = _health_locked(execution)
    run = _run_of(execution)
    state = history.health_fold(health.recent if health else [], run)
    case_run = CaseRun.objects.create(
        project_id=execution.project_id, test_case_id=execution.test_case_id, environment_id=execution.environment_id,
        suite_run_id=execution.suite_run_id, execution_id=execution.id, status=execution.status,
        attempts=execution.attempt, label=state.label, steps_key=run.steps_key, finished_at=execution.finished_at,
        duration_ms=run.duration_ms, failing_step_index=execution.failing_step_index,
    )  # fmt: skip
    failed = execution.status in history.FAILING
    fields = {
        "case_name": execution.case_name, "label": state.label, "flaky": state.flaky, "flips": state.flips,
        "retry_passes": state.retry_passes, "recent": state.recent, "last_run": case_run,
        "last_run_at": execution.finished_at,
    }  # fmt: skip
    if health is None:
        at = execution.finished_at if failed else None
        CaseHealth.objects.create(
            project_id=execution.project_id, test_case_id=execution.test_case_id,
            environment_id=execution.environment_id, runs=1, failures=int(failed), first_failure_at=at,
            last_failure_at=at, **fields,
        )  # fmt: skip
    else:
        for name, value in fields.items():
            setattr(health, name, value)
        health.runs += 1
        if failed:
            health.failures += 1
            health.first_failure_at = health.first_failure_at or execution.finished_at
            health.last_failure_at = execution.finished_at
        health.save()
    _day_add(execution, run)
    if execution.suite_run_id:
        _suite_run_summary_update(execution.suite_run_id, state.label, run)
    return case_run


def _day_add(execution, run: history.Run) -> None:
    lookup = {"project_id": execution.project_id, "environment_id": execution.environment_id,
              "day": _day(execution.finished_at)}  # fmt: skip
    day, _ = ProjectDay.objects.get_or_create(**lookup)
    ProjectDay.objects.filter(pk=day.pk).update(
        runs=F("runs") + 1,
        passed=F("passed") + int(run.status == RunStatus.PASSED),
        failed=F("failed") + int(run.status != RunStatus.PASSED),
        retry_passes=F("retry_passes") + int(run.passed_on_retry),
        duration_ms=F("duration_ms") + run.duration_ms,
    )


def _suite_run_summary_update(suite_run_id, label: str, run: history.Run) -> None:
    suite_run = SuiteRun.objects.filter(pk=suite_run_id, suite_id__isnull=False).first()
    if suite_run is None:
        return
    counts = _suite_run_counts(suite_run, fallback_finished_at=datetime.datetime.fromisoformat(run.finished_at))
    summary, _ = SuiteRunSummary.objects.select_for_update().get_or_create(suite_run_id=suite_run_id, defaults=counts)
    SuiteRunSummary.objects.filter(pk=summary.pk).update(
        **counts,
        new_failures=F("new_failures") + int(label == Label.NEW_FAILURE),
        retry_passes=F("retry_passes") + int(run.passed_on_retry),
        duration_ms=F("duration_ms") + run.duration_ms,
    )


def _suite_run_counts(suite_run: SuiteRun, *, fallback_finished_at) -> dict:
    return {
        "project_id": suite_run.project_id, "suite_id": suite_run.suite_id, "suite_name": suite_run.suite_name,
        "environment_id": suite_run.environment_id, "status": suite_run.status, "total": suite_run.total,
        "passed": suite_run.passed, "failed": suite_run.failed, "errored": suite_run.errored,
        "finished_at": suite_run.finished_at or fallback_finished_at,
    }  # fmt: skip


# --- Rebuild: everything from the raw rows -----------------------------------------------------


@transaction.atomic
def reports_rebuild(*, batch_size: int = 5000) -> dict[str, int]:
    """Recompute every report row from executions and step results; returns row counts.

    Runs in one transaction: readers see the old reports until the new ones are complete.
    """
    for model in (SuiteRunSummary, ProjectDay, CaseHealth, CaseRun, Failure, FailureGroup):
        model.objects.all().delete()
    executions = (
        Execution.objects.filter(status__in=RECORDED_STATUSES, test_case_id__isnull=False, finished_at__isnull=False)
        .only(*_EXECUTION_FIELDS)
        .order_by("finished_at", "id")
    )
    retried = set(
        Execution.objects.filter(previous_attempt_id__isnull=False).values_list("previous_attempt_id", flat=True)
    )
    recent: dict = {}
    health_rows: dict = {}
    days: dict = defaultdict(lambda: defaultdict(int))
    suites: dict = defaultdict(lambda: defaultdict(int))
    failures: list = []
    case_runs: list[CaseRun] = []
    counts = {"case_runs": 0, "failures": 0}

    def flush():
        CaseRun.objects.bulk_create(case_runs, batch_size=batch_size)
        for case_run in case_runs:
            health_rows[(case_run.test_case_id, case_run.environment_id)]["last_run"] = case_run
        counts["case_runs"] += len(case_runs)
        case_runs.clear()

    for execution in executions.iterator(chunk_size=batch_size):
        if execution.status in history.FAILING:
            failures.append(execution)
        if execution.id in retried:
            continue
        key = (execution.test_case_id, execution.environment_id)
        run = _run_of(execution)
        state = history.health_fold(recent.get(key, []), run)
        recent[key] = state.recent
        case_runs.append(CaseRun(
            project_id=execution.project_id, test_case_id=execution.test_case_id,
            environment_id=execution.environment_id, suite_run_id=execution.suite_run_id, execution_id=execution.id,
            status=execution.status, attempts=execution.attempt, label=state.label, steps_key=run.steps_key,
            finished_at=execution.finished_at, duration_ms=run.duration_ms,
            failing_step_index=execution.failing_step_index,
        ))  # fmt: skip
        failed = execution.status in history.FAILING
        row = health_rows.setdefault(key, {"project_id": execution.project_id, "runs": 0, "failures": 0,
                                           "first_failure_at": None, "last_failure_at": None})  # fmt: skip
        row.update(case_name=execution.case_name, label=state.label, flaky=state.flaky, flips=state.flips,
                   retry_passes=state.retry_passes, last_run_at=execution.finished_at)  # fmt: skip
        row["runs"] += 1
        if failed:
            row["failures"] += 1
            row["first_failure_at"] = row["first_failure_at"] or execution.finished_at
            row["last_failure_at"] = execution.finished_at
        day = days[(execution.project_id, execution.environment_id, _day(execution.finished_at))]
        day["runs"] += 1
        day["passed"] += int(not failed)
        day["failed"] += int(failed)
        day["retry_passes"] += int(run.passed_on_retry)
        day["duration_ms"] += run.duration_ms
        if execution.suite_run_id:
            suite = suites[execution.suite_run_id]
            suite["new_failures"] += int(state.label == Label.NEW_FAILURE)
            suite["retry_passes"] += int(run.passed_on_retry)
            suite["duration_ms"] += run.duration_ms
            suite["last_finished_at"] = execution.finished_at
        if len(case_runs) >= batch_size:
            flush()
    flush()

    CaseHealth.objects.bulk_create(
        [CaseHealth(test_case_id=case_id, environment_id=env_id, recent=recent[(case_id, env_id)], **row)
         for (case_id, env_id), row in health_rows.items()],
        batch_size=batch_size,
    )  # fmt: skip
    ProjectDay.objects.bulk_create(
        [ProjectDay(project_id=project_id, environment_id=environment_id, day=day, **values)
         for (project_id, environment_id, day), values in days.items()],
        batch_size=batch_size,
    )  # fmt: skip
    summaries = []
    for suite_run in SuiteRun.objects.filter(pk__in=list(suites), suite_id__isnull=False).iterator(
        chunk_size=batch_size
    ):
        extra = suites[suite_run.id]
        summaries.append(SuiteRunSummary(
            suite_run_id=suite_run.id, new_failures=extra["new_failures"], retry_passes=extra["retry_passes"],
            duration_ms=extra["duration_ms"],
            **_suite_run_counts(suite_run, fallback_finished_at=extra["last_finished_at"]),
        ))  # fmt: skip
    SuiteRunSummary.objects.bulk_create(summaries, batch_size=batch_size)
    counts["failures"] = _failures_rebuild(failures, batch_size)
    counts.update(case_health=len(health_rows), suite_runs=len(summaries), days=len(days))
    logger.info("reports_rebuilt", **counts)
    return counts


def _failures_rebuild(executions: list, batch_size: int) -> int:
    groups: dict = {}
    members: list = []
    for start in range(0, len(executions), batch_size):
        chunk = executions[start : start + batch_size]
        results = defaultdict(list)
        for result in StepResult.objects.filter(
            execution_id__in=[e.id for e in chunk], status__in=("failed", "error")
        ).order_by("execution_id", "order_index"):
            results[result.execution_id].append(result)
        for execution in chunk:
            action, selector, message, step_index = _failing_step(execution, results[execution.id])
            fingerprint, normal_selector, normal_message = history.failure_fingerprint(action, selector, message)
            key = (execution.project_id, fingerprint)
            at = execution.finished_at
            group = groups.get(key)
            if group is None:
                group = groups[key] = {
                    "row": FailureGroup(project_id=execution.project_id, fingerprint=fingerprint, action=action,
                                        selector=normal_selector, message=normal_message,
                                        sample_message=(message or "")[:2000], first_seen_at=at, last_seen_at=at),
                    "cases": set(), "failures": 0,
                }  # fmt: skip
            group["failures"] += 1
            group["cases"].add(execution.test_case_id)
            group["row"].first_seen_at = min(group["row"].first_seen_at, at)
            group["row"].last_seen_at = max(group["row"].last_seen_at, at)
            failure = Failure(
                execution_id=execution.id, test_case_id=execution.test_case_id,
                environment_id=execution.environment_id, suite_run_id=execution.suite_run_id,
                step_index=step_index, at=at,
            )  # fmt: skip
            members.append((key, failure))
    for group in groups.values():
        group["row"].failures = group["failures"]
        group["row"].cases = len(group["cases"])
    FailureGroup.objects.bulk_create([group["row"] for group in groups.values()], batch_size=batch_size)
    for key, failure in members:
        failure.group = groups[key]["row"]
    Failure.objects.bulk_create([failure for _, failure in members], batch_size=batch_size)
    return len(members)

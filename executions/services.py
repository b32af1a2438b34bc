"""Every write to executions and suite runs, with its rules.

Status changes are claims: a conditional UPDATE that moves a row from the state we expect, and
acting only when exactly one row changed. Two workers, a sweeper and a cancel request can race
on the same execution; none of them ever reads, modifies and writes back a status.
"""

from __future__ import annotations

import contextlib
import datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from executions import events, selectors, signals
from executions.models import ACTIVE_STATUSES, FINAL_STATUSES, EventKind, Execution, RunStatus, StepResult, SuiteRun
from jbtestsuite.errors import Conflict, ValidationFailed
from jbtestsuite.log import MASK
from tests_catalog.models import Environment, TestCase, TestSuite
from tests_catalog.services import case_version_for_run, environment_in_project_check
from tests_catalog.step_actions import VARIABLE_NAME

logger = structlog.get_logger(__name__)

# What the runner captures; stored whatever ALLOWED_FILE_TYPES says about uploads.
EVIDENCE_TYPES = ("image/png", "text/html", "text/plain")


# --- Creating runs -------------------------------------------------------------------------


def _variables_snapshot(environment: Environment | None, overrides: dict[str, str]) -> dict[str, str]:
    """Variables as the record shows them: environment values, then overrides, secrets masked."""
    snapshot: dict[str, str] = {}
    secret_names: set[str] = set()
    if environment is not None:
        for variable in environment.variables.all():
            snapshot[variable.name] = MASK if variable.secret else variable.value
            if variable.secret:
                secret_names.add(variable.name)
    for name, value in overrides.items():
        snapshot[name] = MASK if name in secret_names else value
    return snapshot


def secret_variable_names(environment: Environment | None) -> set[str]:
    """Names whose values are secrets in this environment; an override of one is a secret too."""
    if environment is None:
        return set()
    # .all() rather than a filter, so a prefetched list serves every schedule of a page.
    return {variable.name for variable in environment.variables.all() if variable.secret}


def variable_overrides_masked(overrides: dict[str, str], secret_names: set[str]) -> dict[str, str]:
    """Overrides as anyone may see them: values of secret names shown as the mask."""
    return {name: MASK if name in secret_names else value for name, value in overrides.items()}


def variable_overrides_unmask(new: dict[str, str], old: dict[str, str], secret_names: set[str]) -> dict[str, str]:
    """An edited set of overrides in which a secret sent back as the mask keeps its stored value."""
    return {
        name: old[name] if name in secret_names and value == MASK and name in old else value
        for name, value in new.items()
    }


def variable_overrides_clean(variables) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise ValidationFailed(
            "'variables' must be an object of names to values.", {"variables": ["Expected an object."]}
        )
    bad = [name for name in variables if not isinstance(name, str) or not VARIABLE_NAME.fullmatch(name)]
    if bad:
        message = f"Invalid variable name(s): {', '.join(map(str, bad))}."
        raise ValidationFailed(message, {"variables": [message]})
    return {name: "" if value is None else str(value) for name, value in variables.items()}


def _case_snapshot(case: TestCase, environment: Environment | None, overrides: dict[str, str]) -> dict:
    base_url = (environment.base_url if environment and environment.base_url else "") or case.project.base_url
    return {
        "case": {
            "id": str(case.id),
            "name": case.name,
            "retry_count": case.retry_count,
            "priority": case.priority,
            "category": case.category,
        },
        "environment": {"id": str(environment.id), "name": environment.name} if environment else None,
        "base_url": base_url,
        "steps": [step.as_spec() for step in case.steps.order_by("order_index")],
        # The cases its `run` steps call (and those they call), as they are now: what ran.
        "flows": _flows_snapshot(case),
        "variables": _variables_snapshot(environment, overrides),
    }


def _flows_snapshot(case: TestCase) -> dict[str, list[dict]]:
    flows: dict[str, list[dict]] = {}
    pending = [step.value.strip() for step in case.steps.all() if step.action == "run" and step.enabled]
    while pending:
        name = pending.pop()
        if name in flows or name == case.name:
            continue
        called = (
            TestCase.objects.filter(project_id=case.project_id, name=name)
            .exclude(status=TestCase.Status.ARCHIVED)
            .first()
        )
        if called is None:
            continue  # the run step errors at run time, naming the missing case
        flows[name] = [step.as_spec() for step in called.steps.order_by("order_index")]
        pending += [s["value"].strip() for s in flows[name] if s["action"] == "run" and s["enabled"]]
    return flows


@transaction.atomic
def execution_create(
    *,
    case: TestCase,
    trigger: str,
    environment: Environment | None = None,
    variables: dict | None = None,
    triggered_by=None,
    suite_run: SuiteRun | None = None,
    inline: bool = False,
    enqueue: bool = True,
) -> Execution:
    """Queue a run of one case; its task is sent once the transaction commits (unless `inline`:
    then the caller runs it in its own process; or `enqueue=False`: then the caller sends it).

    Raises ValidationFailed for an environment of another project or bad variables.
    """
    environment_in_project_check(environment=environment, project_id=case.project_id)
    overrides = variable_overrides_clean(variables)
    snapshot = _case_snapshot(case, environment, overrides)
    version = case_version_for_run(case=case, steps=snapshot["steps"])
    snapshot["case"]["version"] = version.number
    execution = Execution.objects.create(
        project_id=case.project_id,
        test_case=case,
        case_name=case.name,
        case_version=version,
        suite_run=suite_run,
        environment=environment,
        trigger=trigger,
        triggered_by=triggered_by,
        max_attempts=case.retry_count + 1,
        snapshot=snapshot,
        variable_overrides=overrides,
        runs_inline=inline,
    )
    events.execution_queued(execution)
    if enqueue and not inline:
        transaction.on_commit(lambda: execution_enqueue(execution_id=execution.id))
    logger.info("execution_queued", execution_id=str(execution.id), case=case.name, trigger=trigger)
    return execution


@transaction.atomic
def suite_run_start(
    *,
    suite: TestSuite,
    trigger: str,
    environment: Environment | None = None,
    variables: dict | None = None,
    triggered_by=None,
    inline: bool = False,
) -> SuiteRun:
    """Queue one execution per case of the suite, in the suite's order, and send their tasks
    longest first (see `executions_longest_first`).

    Raises ValidationFailed for an empty suite or an environment of another project.
    """
    environment_in_project_check(environment=environment, project_id=suite.project_id)
    cases = [entry.case for entry in suite.entries.select_related("case__project").order_by("order_index")]
    if not cases:
        message = "The suite has no test cases to run."
        raise ValidationFailed(message, {"suite": [message]})
    suite_run = SuiteRun.objects.create(
        project_id=suite.project_id,
        suite=suite,
        suite_name=suite.name,
        environment=environment,
        trigger=trigger,
        triggered_by=triggered_by,
        total=len(cases),
    )
    events.suite_run_changed(suite_run, EventKind.SUITE_RUN_QUEUED)
    executions = [
        execution_create(
            case=case,
            trigger=trigger,
            environment=environment,
            variables=variables,
            triggered_by=triggered_by,
            suite_run=suite_run,
            inline=inline,
            enqueue=False,
        )
        for case in cases
    ]
    if not inline:
        ordered = executions_longest_first(executions, environment_id=environment.pk if environment else None)
        transaction.on_commit(lambda: [execution_enqueue(execution_id=execution.id) for execution in ordered])
    logger.info("suite_run_queued", suite_run_id=str(suite_run.id), suite=suite.name, cases=len(cases))
    return suite_run


def executions_longest_first(executions: list[Execution], *, environment_id=None) -> list[Execution]:
    """The order in which to hand a suite run's executions to the workers: longest first.

    Workers take tasks one at a time in the order they were sent (prefetch 1, late acks), so this
    is longest-processing-time-first list scheduling: the long cases start at once, and the short
    ones fill the gaps at the end, which keeps a suite's wall time on N workers close to the
    ideal (total work / N, or its longest case). Durations are each case's recent median (one
    query, `selectors.case_durations_recent`). A case with no passing run yet goes first, in the
    suite's order: it may be long, and guessing it short is what would make it finish last.
    """
    durations = selectors.case_durations_recent(
        [execution.test_case_id for execution in executions], environment_id=environment_id
    )
    unknown = [execution for execution in executions if execution.test_case_id not in durations]
    known = [execution for execution in executions if execution.test_case_id in durations]
    # sorted() is stable: cases of equal duration keep the suite's order.
    return unknown + sorted(known, key=lambda execution: -durations[execution.test_case_id])


def execution_enqueue(*, execution_id) -> bool:
    """Send the execution's task to the broker; False (and logged) when the broker is down.

    Never raises: creating a run must succeed even while the broker is unreachable. The sweeper
    sends again what never reached the broker.
    """
    from executions.tasks import execution_run

    try:
        limit = settings.EXECUTION_TIME_LIMIT_SECONDS
        # The engine stops at the limit between steps; the soft limit interrupts a stuck step,
        # the hard one kills a process that ignores even that (the sweeper then cleans up).
        execution_run.apply_async(
            args=[str(execution_id)], retry=False, soft_time_limit=limit + 10, time_limit=limit + 30
        )
    except Exception as exc:
        logger.warning("execution_enqueue_failed", execution_id=str(execution_id), error=type(exc).__name__)
        return False
    Execution.objects.filter(pk=execution_id).update(enqueued_at=timezone.now())
    return True


# --- Running -------------------------------------------------------------------------------


def execution_claim(*, execution_id, worker_host: str) -> bool:
    """Move a queued execution to running for this worker; False if someone else got it first."""
    now = timezone.now()
    claimed = Execution.objects.filter(pk=execution_id, status=RunStatus.QUEUED, cancel_requested=False).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker_host=worker_host
    )
    if claimed:
        events.execution_started(execution_id=execution_id, worker_host=worker_host)
        _suite_run_started(execution_id)
    return bool(claimed)


def _suite_run_started(execution_id) -> None:
    suite_runs = SuiteRun.objects.filter(executions__id=execution_id, status=RunStatus.QUEUED)
    suite_run = suite_runs.first()
    if suite_run is not None and suite_runs.filter(pk=suite_run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    ):
        suite_run.status = RunStatus.RUNNING
        events.suite_run_changed(suite_run, EventKind.SUITE_RUN_STARTED)


def execution_heartbeat(*, execution_id) -> bool:
    """Record between steps that the run goes on; True when it must stop (cancel requested).

    One conditional UPDATE does both: it matches only a running, uncancelled execution.
    """
    beating = Execution.objects.filter(pk=execution_id, status=RunStatus.RUNNING, cancel_requested=False).update(
        heartbeat_at=timezone.now()
    )
    return not beating


def execution_alive(*, execution_id) -> None:
    """Record that the worker process is alive (from its heartbeat thread, even mid-step)."""
    Execution.objects.filter(pk=execution_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())


def step_result_record(*, execution: Execution, outcome, description: str = "") -> StepResult:
    """Store one step's outcome and its evidence files."""
    from artifacts.services import artifact_store

    stored = []
    result = StepResult.objects.create(
        execution=execution,
        order_index=outcome.order_index,
        action=outcome.action,
        selector_type=outcome.selector_type,
        selector=outcome.selector,
        value=outcome.value,
        description=description,
        status=outcome.status,
        duration_ms=outcome.duration_ms,
        message=outcome.message,
        sequence=outcome.sequence,
        depth=outcome.depth,
        iteration=outcome.iteration,
        branch=outcome.branch,
        flow=outcome.flow,
        healed_by=outcome.healed_by,
    )
    for evidence in outcome.evidence:
        try:
            artifact = artifact_store(
                content=evidence.content,
                kind=evidence.kind,
                filename=evidence.filename,
                content_type=evidence.content_type,
                execution=execution,
                step_result=result,
                allowed_types=EVIDENCE_TYPES,
            )
            stored.append(artifact)
        except Exception as exc:
            # Losing a screenshot must not lose the result it belongs to.
            logger.warning("evidence_store_failed", kind=evidence.kind, error=type(exc).__name__)
    events.step_finished(execution_id=execution.pk, result=result, artifacts=stored)
    return result


def execution_finish(
    *,
    execution_id,
    status: str,
    error_message: str = "",
    failing_step_index: int | None = None,
) -> bool:
    """Move a running execution to its final status; retry it when attempts remain.

    Returns False when the execution was no longer running (the sweeper or a cancel got there).
    """
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        if execution.status != RunStatus.RUNNING:
            return False
        now = timezone.now()
        if execution.cancel_requested and status not in (RunStatus.PASSED, RunStatus.FAILED):
            status = RunStatus.CANCELLED
        execution.status = status
        execution.finished_at = now
        execution.duration_ms = int((now - (execution.started_at or now)).total_seconds() * 1000)
        execution.error_message = error_message
        execution.failing_step_index = failing_step_index
        execution.save(update_fields=["status", "finished_at", "duration_ms", "error_message", "failing_step_index"])
        logger.info("execution_finished", execution_id=str(execution.id), status=status)
        retry = None
        retried = status in (RunStatus.FAILED, RunStatus.ERROR) and execution.attempt < execution.max_attempts
        if retried:
            retry = _attempt_next(execution)
        events.execution_finished(execution, next_attempt_id=retry.pk if retry else None)
        if retry is not None:
            events.execution_queued(retry)
        elif execution.suite_run_id:
            suite_run_refresh(suite_run_id=execution.suite_run_id)
        transaction.on_commit(
            lambda: execution_finished_announce(execution_id=execution.id, status=status, final_attempt=not retried)
        )
    return True


def execution_finished_announce(*, execution_id, status: str, final_attempt: bool) -> None:
    """Tell the apps above (the assistant's automatic explanations...) that a run ended; never raises."""
    for receiver, outcome in signals.execution_finished.send_robust(
        sender=Execution, execution_id=execution_id, status=status, final_attempt=final_attempt
    ):
        if isinstance(outcome, Exception):
            logger.warning(
                "execution_finished_receiver_failed",
                execution_id=str(execution_id),
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=type(outcome).__name__,
            )


# What every attempt of an execution shares with the first.
ATTEMPT_COPIES = (
    "project_id", "test_case_id", "case_name", "case_version_id", "suite_run_id", "environment_id", "trigger",
    "triggered_by_id",
    "max_attempts", "snapshot", "variable_overrides", "runs_inline",
)  # fmt: skip


def _attempt_next(execution: Execution) -> Execution:
    """Queue the next attempt: same snapshot, attempt + 1; the failed attempt stays as it was."""
    retry = Execution.objects.create(
        attempt=execution.attempt + 1,
        previous_attempt=execution,
        **{field: getattr(execution, field) for field in ATTEMPT_COPIES},
    )
    if not retry.runs_inline:
        transaction.on_commit(lambda: execution_enqueue(execution_id=retry.id))
    logger.info("execution_retry_queued", execution_id=str(retry.id), attempt=retry.attempt)
    return retry


def execution_cancel(*, execution: Execution) -> Execution:
    """Cancel at once when queued; a running one stops before its next step.

    Raises Conflict when the execution has already finished.
    """
    now = timezone.now()
    if Execution.objects.filter(pk=execution.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now, error_message="cancelled before it started"
    ):
        execution.refresh_from_db()
        events.execution_finished(execution)
        if execution.suite_run_id:
            suite_run_refresh(suite_run_id=execution.suite_run_id)
    elif not Execution.objects.filter(pk=execution.pk, status=RunStatus.RUNNING).update(cancel_requested=True):
        execution.refresh_from_db()
        raise Conflict(f"The execution has already finished ({execution.status}).", {"status": [execution.status]})
    execution.refresh_from_db()
    return execution


def suite_run_cancel(*, suite_run: SuiteRun) -> SuiteRun:
    for execution in suite_run.executions.filter(status__in=ACTIVE_STATUSES):
        with contextlib.suppress(Conflict):  # it finished meanwhile
            execution_cancel(execution=execution)
    suite_run.refresh_from_db()
    return suite_run


def suite_run_refresh(*, suite_run_id) -> None:
    """Recount a suite run from the last attempt of each of its cases and derive its status."""
    with transaction.atomic():
        suite_run = SuiteRun.objects.select_for_update().get(pk=suite_run_id)
        was_final = suite_run.status in FINAL_STATUSES
        latest = list(
            Execution.objects.filter(suite_run_id=suite_run_id, next_attempt__isnull=True).values_list(
                "status", flat=True
            )
        )
        counts = {status: latest.count(status) for status in RunStatus.values}
        suite_run.passed = counts[RunStatus.PASSED]
        suite_run.failed = counts[RunStatus.FAILED]
        suite_run.errored = counts[RunStatus.ERROR]
        suite_run.cancelled = counts[RunStatus.CANCELLED]
        active = counts[RunStatus.QUEUED] + counts[RunStatus.RUNNING]
        if active:
            suite_run.status = RunStatus.RUNNING if suite_run.started_at else RunStatus.QUEUED
        else:
            if suite_run.failed:
                suite_run.status = RunStatus.FAILED
            elif suite_run.errored:
                suite_run.status = RunStatus.ERROR
            elif suite_run.cancelled:
                suite_run.status = RunStatus.CANCELLED
            else:
                suite_run.status = RunStatus.PASSED
            suite_run.finished_at = suite_run.finished_at or timezone.now()
        suite_run.save()
        finished = not active and not was_final
        events.suite_run_changed(suite_run, EventKind.SUITE_RUN_FINISHED if finished else EventKind.SUITE_RUN_PROGRESS)
        if finished:
            _suite_run_finishing_announce(suite_run_id=suite_run_id)
            transaction.on_commit(lambda: suite_run_finished_announce(suite_run_id=suite_run_id))
    if not active:
        logger.info("suite_run_finished", suite_run_id=str(suite_run_id), status=suite_run.status)


def _suite_run_finishing_announce(*, suite_run_id) -> None:
    """Inside the finishing transaction: let the apps above record what they owe the run.

    A savepoint around the receivers: whatever they break, the run itself still finishes.
    """
    try:
        with transaction.atomic():
            outcomes = signals.suite_run_finishing.send_robust(sender=SuiteRun, suite_run_id=suite_run_id)
            failed = [(receiver, outcome) for receiver, outcome in outcomes if isinstance(outcome, Exception)]
            if failed:
                raise failed[0][1]
    except Exception as exc:
        logger.warning("suite_run_finishing_receiver_failed", suite_run_id=str(suite_run_id), error=type(exc).__name__)


def suite_run_finished_announce(*, suite_run_id) -> None:
    """Tell the apps above (notifications, reports...) that a suite run finished; never raises."""
    for receiver, outcome in signals.suite_run_finished.send_robust(sender=SuiteRun, suite_run_id=suite_run_id):
        if isinstance(outcome, Exception):
            logger.warning(
                "suite_run_finished_receiver_failed",
                suite_run_id=str(suite_run_id),
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=type(outcome).__name__,
            )


# --- Recovering from crashes ----------------------------------------------------------------


def executions_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Put lost work right: nothing stays running or queued forever.

    - running with a stale heartbeat (its worker died): error "worker lost", and a new attempt
      while attempts remain;
    - queued but never sent (the broker was down at creation) or sent long ago and never
      started (the broker lost it): sent again — a duplicate delivery does nothing, since only
      one claim can succeed.
    """
    now = now or timezone.now()
    stale_before = now - datetime.timedelta(seconds=settings.EXECUTION_HEARTBEAT_TIMEOUT_SECONDS)
    lost = 0
    for execution_id in Execution.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before).values_list(
        "id", flat=True
    ):
        seconds = settings.EXECUTION_HEARTBEAT_TIMEOUT_SECONDS
        if execution_finish(
            execution_id=execution_id,
            status=RunStatus.ERROR,
            error_message=f"worker lost: no heartbeat for more than {seconds} s",
        ):
            lost += 1
            logger.warning("execution_worker_lost", execution_id=str(execution_id))

    resend_before = now - datetime.timedelta(seconds=settings.EXECUTION_SWEEP_INTERVAL_SECONDS)
    forgotten_before = now - datetime.timedelta(seconds=settings.EXECUTION_TIME_LIMIT_SECONDS)
    resent = 0
    # Inline executions belong to a CLI process; only once that process is surely gone do
    # they go to the workers.
    for execution_id in Execution.objects.filter(
        Q(enqueued_at__isnull=True, runs_inline=False, queued_at__lt=resend_before)
        | Q(enqueued_at__isnull=True, runs_inline=True, queued_at__lt=forgotten_before)
        | Q(enqueued_at__lt=forgotten_before),
        status=RunStatus.QUEUED,
    ).values_list("id", flat=True):
        if execution_enqueue(execution_id=execution_id):
            resent += 1
    if lost or resent:
        logger.info("executions_swept", lost=lost, resent=resent)
    return {"lost": lost, "resent": resent}

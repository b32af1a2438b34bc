"""A suite run's tasks reach the broker longest case first, by each case's recent durations."""

import datetime

import pytest
from django.utils import timezone

from conftest import case_with_steps
from executions import selectors, services
from executions.models import Execution, RunStatus
from jbtestsuite.celery import app as celery_app
from tests_catalog.models import Environment, TestSuite

pytestmark = pytest.mark.django_db


def _finished_runs(case, durations_ms, *, status=RunStatus.PASSED, environment=None, days_ago=0):
    now = timezone.now() - datetime.timedelta(days=days_ago)
    for index, duration_ms in enumerate(durations_ms):
        execution = Execution.objects.create(project_id=case.project_id, test_case=case, case_name=case.name,
                                             trigger="api", status=status, duration_ms=duration_ms,
                                             environment=environment)  # fmt: skip
        # queued_at is auto_now_add: set it afterwards, later runs more recent.
        Execution.objects.filter(pk=execution.pk).update(queued_at=now - datetime.timedelta(minutes=100 - index))


def _sent_execution_ids() -> list[str]:
    """Take every task off the default queue, in the order a worker would receive them."""
    sent = []
    with celery_app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery", no_ack=True)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return sent
                if message.headers.get("task") == "executions.tasks.execution_run":
                    sent.append(message.payload[0][0])
        finally:
            queue.close()


def test_it_sends_the_longest_cases_first_and_a_case_never_timed_before_them(
    project, django_capture_on_commit_callbacks
):
    short, long_, new, medium = (case_with_steps(project, name=name) for name in ("Short", "Long", "New", "Medium"))
    _finished_runs(short, [1000, 1200, 1100])
    _finished_runs(long_, [9000, 8000])
    _finished_runs(medium, [5000])
    _finished_runs(medium, [60_000], status=RunStatus.FAILED)  # a timeout says nothing of a passing run's length
    suite = TestSuite.objects.create(project=project, name="Mixed")
    for index, case in enumerate((short, long_, new, medium)):
        suite.entries.create(case=case, order_index=index)
    _sent_execution_ids()  # whatever earlier tests left behind

    with django_capture_on_commit_callbacks(execute=True):
        suite_run = services.suite_run_start(suite=suite, trigger="api")

    by_case = {execution.case_name: str(execution.id) for execution in suite_run.executions.all()}
    assert _sent_execution_ids() == [by_case[name] for name in ("New", "Long", "Medium", "Short")]
    # What people see keeps the suite's order.
    assert list(suite_run.executions.order_by("queued_at").values_list("case_name", flat=True)) == [
        "Short", "Long", "New", "Medium"
    ]  # fmt: skip


@pytest.fixture
def executions_own_source():
    # The reports app registers its own source when installed; this is about executions' query.
    registered = selectors._case_durations_source
    selectors.case_durations_source_register(None)
    yield
    selectors.case_durations_source_register(registered)


def test_it_takes_the_median_of_the_last_ten_passing_runs_in_the_environment_in_one_query(
    project, django_assert_num_queries, executions_own_source
):
    staging = Environment.objects.create(project=project, name="staging", base_url="http://staging.test/")
    case, other, never = (case_with_steps(project, name=name) for name in ("Case", "Other", "Never"))
    _finished_runs(case, [50_000] * 5, days_ago=30)  # older than the last ten: ignored
    _finished_runs(case, [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000])
    _finished_runs(case, [99_000], environment=staging)
    _finished_runs(other, [700, 300, 500])
    _finished_runs(never, [4000], status=RunStatus.ERROR)

    with django_assert_num_queries(1):
        durations = selectors.case_durations_recent([case.id, other.id, never.id])
    assert durations == {case.id: 5500, other.id: 500}
    assert selectors.case_durations_recent([case.id], environment_id=staging.id) == {case.id: 99_000}


def test_it_reads_durations_from_a_registered_source(project, executions_own_source):
    case = case_with_steps(project, name="Case")
    calls = []

    def source(case_ids, environment_id):
        calls.append((list(case_ids), environment_id))
        return {case.id: 42}

    selectors.case_durations_source_register(source)
    try:
        assert selectors.case_durations_recent([case.id, None]) == {case.id: 42}
    finally:
        selectors.case_durations_source_register(None)
    assert calls == [([case.id], None)]
    assert selectors.case_durations_recent([case.id]) == {}

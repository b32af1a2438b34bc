import datetime
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Case, F, Value, When
from model_bakery import baker

from executions.models import Execution, StepResult, SuiteRun
from executions.services import execution_finished_announce
from tests_catalog.models import Environment, Membership, Project, Role, TestCase, TestStep, TestSuite

T0 = datetime.datetime(2026, 11, 20, 8, 0, tzinfo=datetime.UTC)
_clock = itertools.count()


@pytest.fixture
def project(db):
    return baker.make(Project, name="Shop", slug="shop", base_url="http://127.0.0.1:9/")


@pytest.fixture
def environment(project):
    return Environment.objects.create(project=project, name="staging", base_url="http://127.0.0.1:9/")


@pytest.fixture
def viewer(project):
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    Membership.objects.create(project=project, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider(db):
    other = baker.make(Project, slug="other")
    user = get_user_model().objects.create_user("outsider", password="pw-outsider-123", is_staff=True)
    Membership.objects.create(project=other, user=user, role=Role.MAINTAINER)
    return user


def make_case(project, name="Checkout", steps=(("open", "", "/"), ("click", "#buy", ""))):
    case = TestCase.objects.create(project=project, name=name, status="active")
    for index, (action, selector, value) in enumerate(steps):
        TestStep.objects.create(case=case, order_index=index, action=action, selector=selector, value=value)
    return case


def make_suite(project, cases, name="Nightly"):
    suite = TestSuite.objects.create(project=project, name=name)
    for index, case in enumerate(cases):
        suite.entries.create(case=case, order_index=index)
    return suite


def snapshot_of(case) -> dict:
    return {"case": {"id": str(case.id), "name": case.name},
            "steps": [step.as_spec() for step in case.steps.order_by("order_index")]}  # fmt: skip


def finish(
    case,
    status,
    *,
    environment=None,
    suite_run=None,
    at=None,
    attempt=1,
    previous=None,
    duration_ms=1000,
    message="Element '#buy' not found after 2000 ms",
    action="click",
    selector="#buy",
    announce=True,
    snapshot=None,
):
    """An execution that ran and ended with `status`, as the worker leaves it; announced like a real finish."""
    at = at or T0 + datetime.timedelta(minutes=next(_clock))
    execution = Execution.objects.create(
        project_id=case.project_id, test_case=case, case_name=case.name, environment=environment,
        suite_run=suite_run, trigger="api", status=status, attempt=attempt, max_attempts=max(attempt, 1),
        previous_attempt=previous, started_at=at - datetime.timedelta(milliseconds=duration_ms), finished_at=at,
        duration_ms=duration_ms, snapshot=snapshot or snapshot_of(case),
        failing_step_index=1 if status != "passed" else None,
        error_message=message if status != "passed" else "",
    )  # fmt: skip
    StepResult.objects.create(execution=execution, order_index=0, action="open", status="passed", duration_ms=10)
    StepResult.objects.create(
        execution=execution, order_index=1, action=action, selector=selector,
        status="passed" if status == "passed" else status, message="" if status == "passed" else message,
    )  # fmt: skip
    if suite_run is not None and not Execution.objects.filter(previous_attempt=execution).exists():
        # What suite_run_refresh leaves before the announcement: counts so far, finished at this case.
        counted = "passed" if status == "passed" else "failed" if status == "failed" else "errored"
        SuiteRun.objects.filter(pk=suite_run.pk).update(
            **{counted: F(counted) + 1}, finished_at=at,
            status=Case(When(failed__gt=0, then=Value("failed")), default=Value(status)),
        )  # fmt: skip
    if announce:
        execution_finished_announce(execution_id=execution.id, status=status, final_attempt=True)
    return execution


def suite_run_of(suite, environment=None, at=None):
    return SuiteRun.objects.create(project_id=suite.project_id, suite=suite, suite_name=suite.name,
                                   environment=environment, trigger="api", status="running",
                                   total=suite.entries.count())  # fmt: skip

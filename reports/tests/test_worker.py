"""Runs finished by a real Celery worker (real Chromium, pages on 127.0.0.1) update the reports."""

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

from conftest import wait_for
from executions import worker
from executions.models import FINAL_STATUSES, Execution
from executions.tests.conftest import shop_url as shop_url  # a fixture, used by name
from jbtestsuite.celery import app as celery_app
from reports.models import CaseHealth, FailureGroup
from reports.tests.conftest import make_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

STEPS = (("open", "", "shop.html"), ("type", "#qty", "${quantity}"), ("click", "#add", ""),
         ("assert_text", "#cart", "Cart: ${expected}"))  # fmt: skip


@pytest.fixture
def worker_thread():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield
    worker.worker_browser_close()


def run(client, case, **variables):
    response = client.post("/api/v1/executions/", {"test_case": str(case.id), "variables": variables}, format="json")
    assert response.status_code == 202, response.content

    def finished():
        execution = Execution.objects.get(pk=response.json()["id"])
        # The reports file an execution once its final status is committed: wait for that too.
        return execution if execution.status in FINAL_STATUSES and _filed(execution) else None

    return wait_for(finished, message="the execution to finish and be filed")


def _filed(execution):
    return CaseHealth.objects.filter(test_case_id=execution.test_case_id, last_run__execution=execution).exists()


def test_it_labels_the_case_and_groups_its_failure_when_a_worker_finishes_a_run(
    project, viewer, shop_url, worker_thread, settings
):
    settings.STEP_TIMEOUT_MS = 2000
    project.base_url = shop_url
    project.save()
    from tests_catalog.models import Membership, Role

    Membership.objects.filter(user=viewer).update(role=Role.EDITOR)
    client = APIClient()
    client.force_authenticate(viewer)
    cart = make_case(project, name="Cart", steps=STEPS)
    other = make_case(project, name="Cart again", steps=STEPS)

    assert run(client, cart, quantity="2", expected="2").status == "passed"
    assert CaseHealth.objects.get(test_case=cart).label == "passed"

    failed = run(client, cart, quantity="3", expected="4")
    assert failed.status == "failed"
    health = CaseHealth.objects.get(test_case=cart)
    assert (health.label, health.runs, health.failures) == ("new_failure", 2, 1)
    group = FailureGroup.objects.get()
    assert (group.action, group.failures, group.cases) == ("assert_text", 1, 1)

    assert run(client, other, quantity="5", expected="7").status == "failed"
    group.refresh_from_db()
    assert (group.failures, group.cases) == (2, 2)  # another case, other numbers: the same cause
    body = client.get(f"/api/v1/reports/cases/{cart.id}/").json()
    assert body["label"] == "new_failure" and [cell["status"] for cell in body["strip"]] == ["failed", "passed"]

"""Secrets are masked in every name and label the engine stores, and in run-time overrides."""

import pytest

from artifacts.models import Artifact
from conftest import api_client, case_with_steps
from executions import services, worker
from executions.models import RunStatus
from executions.runner.browser import WorkerBrowser
from executions.runner.steps import names_mask
from tests_catalog.models import Environment, EnvironmentVariable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CANARY = "demo-pass-2026"
ODD_CANARY = "p@ss w0rd!x"


@pytest.fixture(scope="module")
def browsers():
    keeper = WorkerBrowser(worker.browser_config(), reuse=True)
    yield keeper
    keeper.close()


@pytest.fixture
def environment(project):
    environment = Environment.objects.create(project=project, name="staging")
    EnvironmentVariable.objects.create(environment=environment, name="password", value=CANARY, secret=True)
    EnvironmentVariable.objects.create(environment=environment, name="odd", value=ODD_CANARY, secret=True)
    return environment


def _run(case, browsers, **create):
    execution = services.execution_create(case=case, trigger="cli", inline=True, **create)
    worker.execution_run(execution_id=execution.id, browsers=browsers)
    execution.refresh_from_db()
    return execution


def test_it_masks_secrets_in_screenshot_names(project, shop_url, environment, browsers, editor):
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("screenshot", "", "${password}"), ("screenshot", "", "x ${odd}"))
    execution = _run(case_with_steps(project, name="Shots", steps=steps), browsers, environment=environment)
    assert execution.status == RunStatus.PASSED, execution.error_message
    names = list(Artifact.objects.values_list("original_filename", flat=True))
    assert len(names) == 2
    stored = " ".join([*names, *execution.step_results.values_list("message", flat=True)])
    assert CANARY not in stored
    assert "p-ss-w0rd-x" not in stored
    assert ODD_CANARY not in stored
    api = api_client(editor)
    listing = api.get("/api/v1/artifacts/", {"execution": str(execution.pk)})
    assert listing.status_code == 200
    assert CANARY not in listing.content.decode()
    for artifact in Artifact.objects.all():
        download = api.get(f"/api/v1/artifacts/{artifact.pk}/download/")
        assert CANARY not in download["Content-Disposition"]


def test_it_masks_a_run_time_override_of_a_secret(project, shop_url, environment, browsers):
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("echo", "", "pw=${password}"))
    case = case_with_steps(project, name="Echo", steps=steps)
    execution = _run(case, browsers, environment=environment, variables={"password": "override-pass-99"})
    assert execution.status == RunStatus.PASSED, execution.error_message
    echoed = execution.step_results.get(action="echo")
    assert "override-pass-99" not in echoed.message + echoed.value
    assert echoed.message == "pw=***"


def test_it_masks_the_file_name_form_of_a_secret():
    assert names_mask("step-3-x-p-ss-w0rd-x.png", [ODD_CANARY]) == "step-3-x-***.png"
    assert names_mask("step-3-demo-pass-2026.png", [CANARY]) == "step-3-***.png"

"""The assistant's tasks on a real Celery worker (Redis broker): a generation asked through the
API, and a failure explained by itself when the project asks for it."""

import pytest
from celery.contrib.testing.worker import start_worker

from assistant.models import AssistantSettings, FailureExplanation, GenerationJob
from assistant.tests.conftest import LOGIN_STEPS, answer
from conftest import api_client, case_with_steps, wait_for
from executions import worker
from jbtestsuite.celery import app as celery_app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def worker_thread():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield
    worker.worker_browser_close()


def test_it_writes_a_case_on_a_real_worker(model, editor, project, environment, worker_thread):
    model.queue(answer(*LOGIN_STEPS))
    response = api_client(editor).post("/api/v1/assistant/generate/", {
        "project": str(project.pk), "environment": str(environment.pk), "start_url": "login.html",
        "description": "log in as the demo user", "variables": ["username", "password"],
    }, format="json")  # fmt: skip
    assert response.status_code == 202, response.json()
    url = f"/api/v1/assistant/generations/{response.json()['id']}/"
    job = wait_for(lambda: (body := api_client(editor).get(url).json())["status"] in ("succeeded", "failed") and body,
                   message="the generation to end")  # fmt: skip
    assert job["status"] == "succeeded", job["message"]
    assert job["test_case"] and job["dry_run_execution"] and job["model_calls"] == 1
    assert GenerationJob.objects.get(pk=job["id"]).progress


def test_it_explains_a_failure_by_itself_when_the_project_asks(model, editor, project, worker_thread):
    AssistantSettings.objects.filter(project=project).update(explain_failures=True)
    model.queue({"category": "product bug", "confidence": 0.6, "explanation": "The page has no such heading.",
                 "evidence": ["no #missing in the DOM"], "patch": []})  # fmt: skip
    case = case_with_steps(project, name="Broken", steps=(("open", "", "login.html"), ("click", "#missing", "")))
    response = api_client(editor).post("/api/v1/executions/", {"test_case": str(case.pk)}, format="json")
    assert response.status_code == 202
    explanation = wait_for(
        lambda: FailureExplanation.objects.filter(execution_id=response.json()["id"], status="succeeded").first(),
        message="the automatic explanation",
    )
    assert explanation.automatic and explanation.category == "product bug"
    assert explanation.proposal == "none"

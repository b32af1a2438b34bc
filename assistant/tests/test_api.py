"""The assistant's REST API: access, the error envelope, and nothing stored on refusal."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from assistant.models import AssistantSettings, GenerationJob, ModelExchange
from conftest import api_client
from tests_catalog.models import Membership, Project, Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/assistant/generate/"


def _body(project, **extra):
    return {"project": str(project.pk), "start_url": "login.html", "description": "log in", **extra}


def test_it_queues_a_generation_and_shows_its_progress(model, editor, project, environment,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    client = api_client(editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(URL, _body(project, environment=str(environment.pk), variables=["username"]),
                               format="json")  # fmt: skip
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1  # the task is sent once the job is committed
    job = GenerationJob.objects.get()
    assert job.variable_names == ["username"]
    polled = client.get(f"/api/v1/assistant/generations/{job.pk}/")
    assert polled.status_code == 200 and polled.json()["id"] == str(job.pk)


def test_it_says_how_to_enable_it_without_a_key(editor, project, settings):
    settings.OPENAI_API_KEY = ""
    response = api_client(editor).post(URL, _body(project), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "AssistantUnavailable" and "OPENAI_API_KEY" in body["message"]
    assert not GenerationJob.objects.exists()


def test_it_refuses_a_project_that_has_it_off(model, editor, project):
    AssistantSettings.objects.filter(project=project).update(enabled=False)
    response = api_client(editor).post(URL, _body(project), format="json")
    assert response.status_code == 409
    assert response.json()["details"] == {"project": ["The assistant is off for this project."]}


def test_it_refuses_once_the_daily_budget_is_spent(model, editor, project):
    AssistantSettings.objects.filter(project=project).update(daily_token_budget=100)
    ModelExchange.objects.create(
        project=project, purpose="generate", model="m", response_format="structured", request={},
        prompt_tokens=90, completion_tokens=10, created_at=timezone.now(),
    )  # fmt: skip
    response = api_client(editor).post(URL, _body(project), format="json")
    assert response.status_code == 429
    assert response.json()["error"] == "BudgetSpent"
    assert "100 of 100 tokens" in response.json()["message"]
    assert not GenerationJob.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"start_url": "javascript:alert(1)"}, "start_url"), ({"description": ""}, "description"),
     ({"variables": ["no_such"]}, "variables")],
)  # fmt: skip
def test_it_names_the_field_of_bad_input(model, editor, project, environment, extra, field):
    body = {**_body(project, environment=str(environment.pk)), **extra}
    response = api_client(editor).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not GenerationJob.objects.exists()


def test_it_keeps_projects_apart(model, editor, project):
    other = Project.objects.create(name="Other", slug="other")
    outsider = get_user_model().objects.create_user("outsider", password="pw-outsider-123")
    Membership.objects.create(project=other, user=outsider, role=Role.MAINTAINER)
    assert api_client(outsider).post(URL, _body(project), format="json").status_code == 404
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    assert api_client(viewer).post(URL, _body(project), format="json").status_code == 403
    job = GenerationJob.objects.create(project=project, start_url="x", description="d")
    assert api_client(outsider).get(f"/api/v1/assistant/generations/{job.pk}/").status_code == 404


def test_it_shows_the_audit_log_to_maintainers_only(model, editor, project):
    ModelExchange.objects.create(project=project, purpose="generate", model="m", response_format="json", request={})
    assert api_client(editor).get("/api/v1/assistant/exchanges/").json()["total"] == 0
    Membership.objects.filter(user=editor).update(role=Role.MAINTAINER)
    assert api_client(editor).get("/api/v1/assistant/exchanges/").json()["total"] == 1


def test_it_ends_jobs_whose_worker_was_lost(project, settings):
    import datetime

    from assistant.models import FailureExplanation
    from assistant.services import jobs_sweep
    from executions.models import Execution

    lost = GenerationJob.objects.create(project=project, start_url="x", description="d", status="running")
    fresh = GenerationJob.objects.create(project=project, start_url="x", description="d", status="running")
    execution = Execution.objects.create(project=project, case_name="x", trigger="api", status="failed")
    stuck = FailureExplanation.objects.create(project=project, execution=execution, status="queued")
    old = timezone.now() - datetime.timedelta(seconds=settings.ASSISTANT_TIME_LIMIT_SECONDS + 600)
    GenerationJob.objects.filter(pk=lost.pk).update(created_at=old)
    FailureExplanation.objects.filter(pk=stuck.pk).update(created_at=old)
    assert jobs_sweep() == {"generations": 1, "explanations": 1}
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == "failed" and "lost with its worker" in lost.message
    assert fresh.status == "running"

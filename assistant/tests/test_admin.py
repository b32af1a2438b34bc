"""The assistant's admin screens: asking for a case, the execution page's panel, the proposal
page with its diff and buttons, and the audit log for maintainers only; one opened in Chromium."""

import os

import pytest
from django.urls import reverse

from assistant.models import FailureExplanation, GenerationJob, ModelExchange
from executions.models import Execution
from tests_catalog.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(editor):
    editor.is_staff = True
    editor.save()
    return editor


def _explanation(project):
    execution = Execution.objects.create(project=project, case_name="Log in", trigger="api", status="failed",
                                         error_message="step 3 (click) failed: no element #sign-in")  # fmt: skip
    before = [{"action": "open", "selector_type": "css", "selector": "", "value": "login.html"},
              {"action": "click", "selector_type": "id", "selector": "sign-in", "value": ""}]  # fmt: skip
    after = [before[0], {"action": "click", "selector_type": "id", "selector": "login-submit", "value": ""}]
    return FailureExplanation.objects.create(
        project=project, execution=execution, status="succeeded", category="test needs update", confidence=0.85,
        explanation="The sign-in button's id changed.", evidence=["the DOM has #login-submit"],
        patch=[{"op": "replace", "index": 1, "step": after[1]}], steps_before=before, steps_after=after,
        patch_dry_run={"status": "passed", "message": "", "steps": []}, proposal="pending", model="scripted-vision",
    )  # fmt: skip


def test_it_queues_a_generation_from_the_admin_form(model, client, staff, project, environment,
                                                    django_capture_on_commit_callbacks):  # fmt: skip
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("admin:assistant_generationjob_add"), {
            "project": project.pk, "environment": environment.pk, "start_url": "login.html",
            "description": "log in as the demo user", "variables": "username, password", "case_name": "",
        })  # fmt: skip
    job = GenerationJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:assistant_generationjob_change",
                                                                   args=[job.pk])  # fmt: skip
    assert job.variable_names == ["username", "password"] and len(callbacks) == 1
    page = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in page  # followed until it ends


def test_it_shows_field_errors_and_stores_nothing(model, client, staff, project):
    client.force_login(staff)
    response = client.post(reverse("admin:assistant_generationjob_add"), {
        "project": project.pk, "start_url": "javascript:alert(1)", "description": "x",
    })  # fmt: skip
    assert response.status_code == 200
    assert "javascript: is not allowed" in response.content.decode()
    assert not GenerationJob.objects.exists()


def test_it_says_how_to_enable_it_on_the_execution_page(client, staff, project, settings):
    settings.OPENAI_API_KEY = ""
    execution = Execution.objects.create(project=project, case_name="x", trigger="api", status="failed")
    client.force_login(staff)
    page = client.get(reverse("admin:executions_execution_change", args=[execution.pk])).content.decode()
    assert "set OPENAI_API_KEY" in page and "Explain this failure" not in page


def test_it_offers_the_explain_button_and_shows_the_latest_explanation(model, client, staff, project):
    explanation = _explanation(project)
    client.force_login(staff)
    page = client.get(reverse("admin:executions_execution_change", args=[explanation.execution_id])).content.decode()
    assert "Explain again" in page and "The sign-in button&#x27;s id changed." in page
    assert "the proposed change" in page


def test_it_lets_a_viewer_read_but_not_decide(model, client, staff, project):
    explanation = _explanation(project)
    Membership.objects.filter(user=staff).update(role=Role.VIEWER)
    client.force_login(staff)
    page = client.get(reverse("admin:assistant_failureexplanation_change", args=[explanation.pk])).content.decode()
    assert "login-submit" in page and "Approve the change" not in page
    client.post(reverse("admin:assistant_explanation_decide", args=[explanation.pk]), {"decision": "approve"})
    assert FailureExplanation.objects.get(pk=explanation.pk).proposal == "pending"


def test_it_shows_the_audit_log_to_maintainers_only(client, staff, project):
    ModelExchange.objects.create(project=project, purpose="generate", model="m", response_format="json", request={})
    client.force_login(staff)
    assert client.get(reverse("admin:assistant_modelexchange_changelist")).status_code == 403
    Membership.objects.filter(user=staff).update(role=Role.MAINTAINER)
    assert client.get(reverse("admin:assistant_modelexchange_changelist")).status_code == 200


@pytest.mark.browser
def test_it_shows_the_proposal_page_in_chromium(model, live_server, staff, project, browsers):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    explanation = _explanation(project)
    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(staff.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    session.save()
    browser = browsers.acquire()
    try:
        driver = browser.driver
        driver.get(f"{live_server.url}/admin/login/")
        driver.add_cookie({"name": "sessionid", "value": session.session_key, "path": "/"})
        driver.get(f"{live_server.url}{reverse('admin:assistant_failureexplanation_change', args=[explanation.pk])}")
        text = driver.find_element("tag name", "body").text
        assert "test needs update" in text and "Approve the change" in text
        assert "click id=login-submit" in text and "passed" in text
        shots = os.environ.get("JB_SCREENSHOT_DIR")  # set it to look at the pages
        if shots:
            driver.save_screenshot(os.path.join(shots, "explanation.png"))
        driver.get(f"{live_server.url}{reverse('admin:executions_execution_change', args=[explanation.execution_id])}")
        panel = driver.find_element("id", "assistant-panel").text
        assert "test needs update" in panel and "Explain again" in panel
        if shots:
            driver.execute_script("document.getElementById('assistant-panel').scrollIntoView()")
            driver.save_screenshot(os.path.join(shots, "execution.png"))
        driver.get(f"{live_server.url}{reverse('admin:assistant_generationjob_add')}")
        assert "Description" in driver.find_element("id", "generationjob_form").text
        if shots:
            driver.save_screenshot(os.path.join(shots, "generation_add.png"))
        job = GenerationJob.objects.create(
            project=project, requested_by=staff, start_url="login.html", description="log in as the demo user",
            status="failed", message="The model is looping: it sent a step that already failed twice (click #x).",
            progress=["08:00:01 turn 1: the model sent 2 step(s)", "08:00:02 step click #x failed: no element"],
            steps=[{"action": "open", "selector_type": "css", "selector": "", "value": "login.html"}],
            model="scripted-model", model_calls=3, prompt_tokens=3000, completion_tokens=120,
        )  # fmt: skip
        driver.get(f"{live_server.url}{reverse('admin:assistant_generationjob_change', args=[job.pk])}")
        text = driver.find_element("id", "content").text
        assert "The model is looping" in text and "open 'login.html'" in text
        if shots:
            driver.save_screenshot(os.path.join(shots, "generation_job.png"))
    finally:
        browsers.release(browser)

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from artifacts.services import artifact_store
from executions import services
from executions.models import Execution, RunStatus, StepResult, SuiteRun
from tests_catalog.models import Environment, Membership, Role

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def staff_editor(editor):
    editor.is_staff = True
    editor.save()
    return editor


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.MEDIA_ROOT = settings.UPLOAD_DIR = tmp_path


def _run_now(client, model, ids, **extra):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(url, {"action": "run_now", "_selected_action": [str(i) for i in ids], **extra})


def test_it_asks_for_an_environment_then_runs_a_case_from_the_admin(client, staff_editor, case, project):
    environment = Environment.objects.create(project=project, name="staging", base_url="http://staging.test/")
    client.force_login(staff_editor)
    page = _run_now(client, type(case), [case.pk])
    assert page.status_code == 200
    assert b"Run now" in page.content
    assert b"Shop / staging" in page.content
    assert not Execution.objects.exists()

    done = _run_now(client, type(case), [case.pk], run="yes", environment=str(environment.pk))
    assert done.status_code == 302
    execution = Execution.objects.get()
    assert (execution.trigger, execution.triggered_by, execution.environment) == ("admin", staff_editor, environment)
    assert execution.snapshot["base_url"] == "http://staging.test/"


def test_it_runs_a_suite_from_the_admin(client, staff_editor, suite):
    client.force_login(staff_editor)
    response = _run_now(client, type(suite), [suite.pk], run="yes", environment="")
    assert response.status_code == 302
    suite_run = SuiteRun.objects.get()
    assert (suite_run.trigger, suite_run.total) == ("admin", 3)


def test_it_does_not_let_a_viewer_run_from_the_admin(client, case, project):
    viewer = get_user_model().objects.create_user("staff-viewer", password="x-pass-123", is_staff=True)
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    response = _run_now(client, type(case), [case.pk], run="yes", environment="")
    assert response.status_code == 302
    assert not Execution.objects.exists()


def test_it_shows_the_step_timeline_with_screenshot_thumbnails(client, staff_editor, case):
    execution = services.execution_create(case=case, trigger="api")
    services.execution_claim(execution_id=execution.id, worker_host="w1")
    StepResult.objects.create(execution=execution, order_index=0, action="open", value="login", status="passed",
                              duration_ms=120, message="opened")  # fmt: skip
    failed = StepResult.objects.create(execution=execution, order_index=1, action="assert_title", value="Login",
                                       status="failed", duration_ms=30, message="title was 'Home'")  # fmt: skip
    screenshot = artifact_store(content=PNG, kind="screenshot", filename="step-1.png", step_result=failed)
    services.execution_finish(execution_id=execution.id, status=RunStatus.FAILED, failing_step_index=1)
    client.force_login(staff_editor)
    page = client.get(reverse("admin:executions_execution_change", args=[execution.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "title was &#x27;Home&#x27;" in html
    assert "#dc3545" in html  # the failed step's colour
    thumbnail_url = reverse("admin:artifacts_artifact_file", kwargs={"pk": screenshot.pk})
    assert f'<img src="{thumbnail_url}"' in html
    image = client.get(thumbnail_url)
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == PNG


def test_it_hides_other_projects_runs_in_the_admin(client, case, outsider):
    services.execution_create(case=case, trigger="api")
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    listing = client.get(reverse("admin:executions_execution_changelist"))
    assert listing.status_code == 200
    assert b"Login" not in listing.content
    execution = Execution.objects.get()
    assert client.get(reverse("admin:executions_execution_change", args=[execution.pk])).status_code == 302


def test_it_cancels_queued_executions_from_the_admin(client, staff_editor, case):
    execution = services.execution_create(case=case, trigger="api")
    client.force_login(staff_editor)
    response = client.post(reverse("admin:executions_execution_changelist"),
                           {"action": "cancel_selected", "_selected_action": [str(execution.pk)]})  # fmt: skip
    assert response.status_code == 302
    execution.refresh_from_db()
    assert execution.status == RunStatus.CANCELLED

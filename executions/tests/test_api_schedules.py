"""`/api/v1/schedules/`: CRUD, field errors, roles and project isolation; the admin form and actions."""

import pytest
from django.contrib.auth import get_user_model
from django_celery_beat.models import PeriodicTask

from conftest import api_client
from executions import schedules
from executions.models import Schedule, SuiteRun
from tests_catalog.models import Environment

pytestmark = pytest.mark.django_db


def _create(client, suite, **fields):
    body = {"project": str(suite.project_id), "suite": str(suite.pk), **fields}
    return client.post("/api/v1/schedules/", body, format="json")


def test_it_creates_reads_updates_and_deletes_a_schedule(editor, suite, project):
    project.timezone = "Europe/Berlin"
    project.save()
    environment = Environment.objects.create(project=project, name="staging")
    client = api_client(editor)

    response = _create(client, suite, environment=str(environment.pk), cron="0 6 * * 1-5", variables={"lang": "de"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["timezone"], body["enabled"], body["overlap"], body["interval_seconds"]) == (
        "Europe/Berlin", True, "skip", None)  # fmt: skip
    assert body["next_run"] is not None
    assert body["last_run"] is None
    schedule_id = body["id"]
    assert PeriodicTask.objects.get(jb_schedule__pk=schedule_id).crontab.hour == "6"

    response = client.patch(f"/api/v1/schedules/{schedule_id}/", {"interval_seconds": 120}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["cron"], response.json()["interval_seconds"]) == ("", 120)
    assert PeriodicTask.objects.get(jb_schedule__pk=schedule_id).interval.every == 120

    response = client.patch(f"/api/v1/schedules/{schedule_id}/", {"enabled": False}, format="json")
    assert (response.json()["enabled"], response.json()["next_run"]) == (False, None)
    assert PeriodicTask.objects.get(jb_schedule__pk=schedule_id).enabled is False

    response = client.put(f"/api/v1/schedules/{schedule_id}/", {"suite": str(suite.pk), "cron": "*/5 * * * *"},
                          format="json")  # fmt: skip
    assert response.status_code == 200, response.json()
    assert (response.json()["environment"], response.json()["variables"]) == (None, {})

    run = schedules.schedule_fire(schedule_id=schedule_id, respect_overlap=False)
    last_run = client.get(f"/api/v1/schedules/{schedule_id}/").json()["last_run"]
    assert (last_run["id"], last_run["status"]) == (str(run.pk), "queued")
    assert client.get("/api/v1/suite-runs/?trigger=schedule").json()["total"] == 1

    assert client.delete(f"/api/v1/schedules/{schedule_id}/").status_code == 204
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=schedules.SCHEDULE_TASK).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "0 6 * *"}, "cron"),
        ({"cron": "99 * * * *"}, "cron"),
        ({"cron": "0 6 * * *", "interval_seconds": 60}, "cron"),
        ({}, "cron"),
        ({"cron": "0 6 * * *", "timezone": "Europe/Atlantis"}, "timezone"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"interval_seconds": 60, "variables": {"not valid": "x"}}, "variables"),
        ({"interval_seconds": 60, "overlap": "sometimes"}, "overlap"),
    ],
)
def test_it_answers_400_naming_the_field(editor, suite, fields, field):
    response = _create(api_client(editor), suite, **fields)
    assert response.status_code == 400
    assert field in response.json()["details"], response.json()
    assert not Schedule.objects.exists()


def test_it_lets_viewers_read_but_not_write(viewer, editor, suite):
    schedule = schedules.schedule_create(project=suite.project, suite=suite, interval_seconds=60)
    client = api_client(viewer)
    assert client.get("/api/v1/schedules/").json()["total"] == 1
    assert _create(client, suite, interval_seconds=60).status_code == 403
    assert client.patch(f"/api/v1/schedules/{schedule.pk}/", {"enabled": False}, format="json").status_code == 403
    assert client.delete(f"/api/v1/schedules/{schedule.pk}/").status_code == 403


def test_it_hides_other_projects_schedules_and_suites(outsider, suite):
    schedule = schedules.schedule_create(project=suite.project, suite=suite, interval_seconds=60)
    client = api_client(outsider)
    assert client.get("/api/v1/schedules/").json()["total"] == 0
    assert client.get(f"/api/v1/schedules/{schedule.pk}/").status_code == 404
    assert client.delete(f"/api/v1/schedules/{schedule.pk}/").status_code == 404
    response = _create(client, suite, interval_seconds=60)
    assert response.status_code == 400
    assert "suite" in response.json()["details"]


# --- Admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(user)
    return client


def _admin_form(suite, **fields):
    return {"project": str(suite.project_id), "suite": str(suite.pk), "environment": "", "cron": "",
            "interval_seconds": "", "timezone": "", "enabled": "on", "overlap": "skip", "variables": "{}",
            **fields}  # fmt: skip


def test_it_shows_a_form_error_on_a_bad_cron_expression_in_the_admin(admin_client, suite):
    response = admin_client.post("/admin/executions/schedule/add/", _admin_form(suite, cron="0 6 * * * *"))
    assert response.status_code == 200
    assert "cron" in response.context["adminform"].form.errors
    assert not Schedule.objects.exists()


def test_it_creates_through_the_admin_and_shows_the_next_run_in_the_schedules_zone(admin_client, suite):
    response = admin_client.post(
        "/admin/executions/schedule/add/", _admin_form(suite, cron="30 7 * * *", timezone="Asia/Tokyo")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule = Schedule.objects.get()
    assert PeriodicTask.objects.get(jb_schedule=schedule).crontab.minute == "30"
    page = admin_client.get("/admin/executions/schedule/").content.decode()
    assert "07:30:00 JST" in page

    changelist = "/admin/executions/schedule/"
    response = admin_client.post(changelist, {"action": "run_now", "_selected_action": [schedule.pk]})
    assert response.status_code == 302
    assert SuiteRun.objects.get().trigger == "schedule"
    admin_client.post(changelist, {"action": "disable_selected", "_selected_action": [schedule.pk]})
    assert PeriodicTask.objects.get(jb_schedule=schedule).enabled is False

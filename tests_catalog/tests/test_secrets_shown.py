"""Once saved, a secret value is shown to no one: admin pages in every role, API responses."""

import pytest
from django.test import Client

from conftest import member
from executions import schedules
from executions.models import Schedule
from tests_catalog import services
from tests_catalog.models import EnvironmentVariable, Role

pytestmark = pytest.mark.django_db

CANARY = "canary-7Qz!secret"


def _staff_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def environment(project):
    return services.environment_create(
        project=project,
        name="staging",
        variables=[
            {"name": "password", "value": CANARY, "secret": True},
            {"name": "user", "value": "bob", "secret": False},
        ],
    )


@pytest.fixture
def schedule(project, environment, editor):
    case = services.test_case_create(project=project, author=editor, name="Login", steps=[{"action": "refresh"}])
    suite = services.suite_create(project=project, name="Nightly", case_ids=[case.pk])
    return schedules.schedule_create(
        project=project,
        suite=suite,
        environment=environment,
        interval_seconds=3600,
        variables={"password": CANARY + "-override", "user": "alice"},
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.MAINTAINER])
def test_it_never_shows_a_secret_on_the_environment_page(project, environment, role):
    client = _staff_client(member(project, role, f"someone-{role}"))
    page = client.get(f"/admin/tests_catalog/environment/{environment.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert CANARY not in content
    assert "bob" in content  # plain values stay visible
    assert 'data-state="set"' in content or ">set<" in content


def test_it_shows_superusers_only_that_a_secret_is_set(environment, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    content = client.get(f"/admin/tests_catalog/environment/{environment.pk}/change/").content.decode()
    assert CANARY not in content
    assert 'data-state="set"' in content


def test_it_keeps_a_secret_left_blank_and_replaces_one_typed(project, environment, editor):
    client = _staff_client(editor)
    url = f"/admin/tests_catalog/environment/{environment.pk}/change/"
    variables = list(environment.variables.order_by("name"))
    data = {
        "project": str(project.pk),
        "name": "staging",
        "base_url": "",
        "variables-TOTAL_FORMS": "2",
        "variables-INITIAL_FORMS": "2",
        "variables-MIN_NUM_FORMS": "0",
        "variables-MAX_NUM_FORMS": "1000",
    }
    for index, variable in enumerate(variables):
        data |= {
            f"variables-{index}-id": str(variable.pk),
            f"variables-{index}-environment": str(environment.pk),
            f"variables-{index}-name": variable.name,
            f"variables-{index}-value": "" if variable.secret else variable.value,
        }
        if variable.secret:
            data[f"variables-{index}-secret"] = "on"
    assert client.post(url, data).status_code == 302
    assert EnvironmentVariable.objects.get(name="password").value == CANARY

    data["variables-0-value"] = "a-new-secret"
    assert client.post(url, data).status_code == 302
    assert EnvironmentVariable.objects.get(name="password").value == "a-new-secret"


def test_it_masks_secret_overrides_of_a_schedule_in_the_api(schedule, viewer_api, editor_api):
    for client in (viewer_api, editor_api):
        listed = client.get("/api/v1/schedules/").json()["items"][0]
        assert listed["variables"] == {"password": "***", "user": "alice"}
        detail = client.get(f"/api/v1/schedules/{schedule.pk}/")
        assert CANARY not in detail.content.decode()


def test_it_keeps_a_secret_override_sent_back_as_the_mask(schedule, editor_api):
    response = editor_api.patch(
        f"/api/v1/schedules/{schedule.pk}/", {"variables": {"password": "***", "user": "carol"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Schedule.objects.get().variables == {"password": CANARY + "-override", "user": "carol"}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_it_masks_secret_overrides_on_the_schedule_admin_page(project, schedule, role):
    client = _staff_client(member(project, role, f"someone-{role}"))
    content = client.get(f"/admin/executions/schedule/{schedule.pk}/change/").content.decode()
    assert CANARY not in content
    assert "alice" in content


def test_it_keeps_secret_overrides_when_the_schedule_admin_form_is_saved_unchanged(project, schedule, editor):
    client = _staff_client(editor)
    url = f"/admin/executions/schedule/{schedule.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data["enabled"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Schedule.objects.get().variables["password"] == CANARY + "-override"

"""Every project-scoped resource answers the same way: 404 outside your projects, 403 below the role
it needs, and no object moves to another project. One base (`tests_catalog.api.scoping`) does it."""

import pytest
from django.urls import URLResolver, get_resolver
from model_bakery import baker
from rest_framework.viewsets import GenericViewSet

from artifacts.models import Artifact
from executions.models import Execution, Schedule
from notifications.models import NotificationChannel
from tests_catalog.api.scoping import ProjectScopedViewSet
from tests_catalog.models import Environment, TestCase, TestSuite

pytestmark = pytest.mark.django_db

# (URL prefix, how to make one object of the project, a valid partial update)
EDITABLE = {
    "tests": (lambda project: baker.make(TestCase, project=project), {"name": "Renamed"}),
    "environments": (lambda project: baker.make(Environment, project=project), {"name": "renamed"}),
    "suites": (lambda project: baker.make(TestSuite, project=project), {"name": "Renamed"}),
    "schedules": (
        lambda project: baker.make(
            Schedule, project=project, suite=baker.make(TestSuite, project=project), cron="0 6 * * *", timezone="UTC"
        ),
        {"enabled": False},
    ),
    "notification-channels": (
        lambda project: baker.make(NotificationChannel, project=project, kind="email", email_to=["qa@example.com"]),
        {"enabled": False},
    ),
}
READ_ONLY = {
    "executions": lambda project: baker.make(Execution, project=project, test_case=None, environment=None),
    "artifacts": lambda project: baker.make(
        Artifact, project=project, test_case=baker.make(TestCase, project=project), execution=None, step_result=None
    ),
}


def url(prefix, obj=None):
    return f"/api/v1/{prefix}/" + (f"{obj.pk}/" if obj else "")


@pytest.mark.parametrize("prefix", [*EDITABLE, *READ_ONLY])
def test_it_hides_other_projects_objects(prefix, project, outsider_api):
    make = EDITABLE[prefix][0] if prefix in EDITABLE else READ_ONLY[prefix]
    obj = make(project)
    assert outsider_api.get(url(prefix, obj)).status_code == 404
    assert outsider_api.delete(url(prefix, obj)).status_code in (404, 405)
    listed = outsider_api.get(url(prefix)).json()
    assert str(obj.pk) not in {item["id"] for item in listed["items"]}


@pytest.mark.parametrize("prefix", [*EDITABLE, *READ_ONLY])
def test_it_answers_a_malformed_id_in_the_error_envelope(prefix, viewer_api):
    response = viewer_api.get(url(prefix) + "not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


@pytest.mark.parametrize("prefix", EDITABLE)
def test_it_lets_a_viewer_read_but_not_write(prefix, project, viewer_api):
    make, change = EDITABLE[prefix]
    obj = make(project)
    assert viewer_api.get(url(prefix, obj)).status_code == 200
    assert viewer_api.patch(url(prefix, obj), change, format="json").status_code == 403
    assert viewer_api.delete(url(prefix, obj)).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("prefix", EDITABLE)
def test_it_never_moves_an_object_to_another_project(prefix, project, other_project, editor, editor_api):
    make, change = EDITABLE[prefix]
    obj = make(project)
    other_project.memberships.create(user=editor, role="editor")
    response = editor_api.patch(url(prefix, obj), {**change, "project": str(other_project.pk)}, format="json")
    assert response.status_code == 400
    assert "project" in response.json()["details"]
    assert type(obj).objects.get(pk=obj.pk).project_id == project.pk
    assert editor_api.patch(url(prefix, obj), change, format="json").status_code == 200


def test_it_lets_only_editors_cancel_an_execution_or_delete_an_artifact(project, viewer_api):
    execution = READ_ONLY["executions"](project)
    artifact = READ_ONLY["artifacts"](project)
    assert viewer_api.post(url("executions", execution) + "cancel/").status_code == 403
    assert viewer_api.delete(url("artifacts", artifact)).status_code == 403
    assert Artifact.objects.filter(pk=artifact.pk).exists()


def viewsets_routed(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from viewsets_routed(pattern.url_patterns)
        elif issubclass(getattr(pattern.callback, "cls", object), GenericViewSet):
            yield pattern.callback.cls


def test_it_builds_every_viewset_on_the_one_base():
    routed = set(viewsets_routed(get_resolver().url_patterns))
    assert {view.__name__ for view in routed} >= {
        "TestCaseViewSet", "ProjectViewSet", "EnvironmentViewSet", "SuiteViewSet", "ExecutionViewSet",
        "SuiteRunViewSet", "ScheduleViewSet", "NotificationChannelViewSet", "ArtifactViewSet",
    }  # fmt: skip
    # Reports are read-only aggregates over several tables, not one project-owned resource: they
    # scope each read through the caller's visible rows (reports/tests/test_api.py covers it).
    aggregates = {"ReportsViewSet"}
    assert [view.__name__ for view in routed
            if not issubclass(view, ProjectScopedViewSet) and view.__name__ not in aggregates] == []  # fmt: skip

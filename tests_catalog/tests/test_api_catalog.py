"""Projects, members, environments and suites over the API."""

import logging

import pytest
from model_bakery import baker

from tests_catalog.models import EnvironmentVariable, Membership, TestCase

pytestmark = pytest.mark.django_db


def test_it_creates_a_project_with_the_caller_as_maintainer(editor_api):
    response = editor_api.post(
        "/api/v1/projects/", {"name": "Web", "slug": "web", "timezone": "Europe/Berlin"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == "maintainer"
    assert editor_api.post("/api/v1/projects/", {"name": "W", "slug": "web"}, format="json").status_code == 409
    bad = editor_api.post("/api/v1/projects/", {"name": "W", "slug": "w2", "timezone": "Mars/Base"}, format="json")
    assert "timezone" in bad.json()["details"]


def test_it_lists_only_my_projects_in_the_envelope(editor_api, project, other_project):
    body = editor_api.get("/api/v1/projects/").json()
    assert [item["slug"] for item in body["items"]] == ["shop"]
    assert (body["total"], body["page"], body["pages"], body["items"][0]["role"]) == (1, 1, 1, "editor")


def test_it_lets_only_maintainers_change_a_project_and_its_members(editor_api, maintainer_api, project, viewer):
    assert editor_api.patch(f"/api/v1/projects/{project.pk}/", {"name": "X"}, format="json").status_code == 403
    assert maintainer_api.patch(f"/api/v1/projects/{project.pk}/", {"name": "X"}, format="json").status_code == 200
    members_url = f"/api/v1/projects/{project.pk}/members/"
    assert editor_api.post(members_url, {"username": "vera", "role": "editor"}, format="json").status_code == 403
    response = maintainer_api.post(members_url, {"username": "vera", "role": "editor"}, format="json")
    assert (response.status_code, response.json()["role"]) == (200, "editor")
    assert Membership.objects.get(user=viewer).role == "editor"
    unknown = maintainer_api.post(members_url, {"username": "nobody", "role": "editor"}, format="json")
    assert (unknown.status_code, list(unknown.json()["details"])) == (400, ["username"])
    bad_role = maintainer_api.post(members_url, {"username": "vera", "role": "owner"}, format="json")
    assert "role" in bad_role.json()["details"]
    newcomer = baker.make("auth.User", username="nina")
    assert maintainer_api.post(members_url, {"username": "nina", "role": "viewer"}, format="json").status_code == 201
    listed = editor_api.get(members_url).json()
    assert {m["username"]: m["role"] for m in listed["items"]}["nina"] == "viewer"
    assert maintainer_api.delete(f"{members_url}nina/").status_code == 204
    assert not Membership.objects.filter(user=newcomer).exists()
    assert maintainer_api.delete(f"{members_url}maya/").status_code == 409


def test_it_never_returns_secret_values_nor_logs_them(editor_api, project, caplog):
    caplog.set_level(logging.DEBUG)
    payload = {
        "project": str(project.pk),
        "name": "staging",
        "base_url": "https://staging.example",
        "variables": [
            {"name": "password", "value": "hunter2-secret", "secret": True},
            {"name": "user", "value": "bob"},
        ],
    }
    created = editor_api.post("/api/v1/environments/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["variables"] == [
        {"name": "password", "value": None, "secret": True},
        {"name": "user", "value": "bob", "secret": False},
    ]
    environment_id = created.json()["id"]
    variables = [{"name": "password", "secret": True}, {"name": "user", "value": "amy"}]
    updated = editor_api.patch(f"/api/v1/environments/{environment_id}/", {"variables": variables}, format="json")
    assert updated.status_code == 200
    assert EnvironmentVariable.objects.get(name="password").value == "hunter2-secret"
    for response in (
        created,
        updated,
        editor_api.get("/api/v1/environments/"),
        editor_api.get(f"/api/v1/environments/{environment_id}/"),
    ):
        assert b"hunter2" not in response.content
    assert "hunter2" not in caplog.text


def test_it_rejects_bad_variables_by_index(editor_api, project):
    payload = {"project": str(project.pk), "name": "s", "variables": [{"name": "ok", "value": ""}, {"name": "1bad"}]}
    response = editor_api.post("/api/v1/environments/", payload, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["details"]["variables"]["1"]


def test_it_filters_environments_by_project(editor_api, project, other_project):
    baker.make("tests_catalog.Environment", project=project, name="staging")
    baker.make("tests_catalog.Environment", project=other_project, name="prod")
    assert [e["name"] for e in editor_api.get(f"/api/v1/environments/?project={project.pk}").json()["items"]] == [
        "staging"
    ]
    assert editor_api.get("/api/v1/environments/?project=nope").status_code == 400


def test_it_orders_suite_cases_and_reorders_them_by_put(editor_api, project):
    a, b, c = (baker.make(TestCase, project=project, name=name) for name in "abc")
    payload = {"project": str(project.pk), "name": "Smoke", "tags": ["Nightly"], "cases": [str(c.pk), str(a.pk)]}
    created = editor_api.post("/api/v1/suites/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["cases"] == [str(c.pk), str(a.pk)]
    assert created.json()["tags"] == ["nightly"]
    suite_url = f"/api/v1/suites/{created.json()['id']}/"
    reordered = editor_api.put(suite_url, {"name": "Smoke", "cases": [str(a.pk), str(b.pk), str(c.pk)]}, format="json")
    assert reordered.json()["cases"] == [str(a.pk), str(b.pk), str(c.pk)]
    assert editor_api.post("/api/v1/suites/", payload, format="json").status_code == 409
    repeated = editor_api.patch(suite_url, {"cases": [str(a.pk), str(a.pk)]}, format="json")
    assert (repeated.status_code, list(repeated.json()["details"])) == (400, ["cases"])


def test_it_refuses_cases_of_another_project_in_a_suite(editor_api, project, other_project):
    foreign = baker.make(TestCase, project=other_project)
    payload = {"project": str(project.pk), "name": "S", "cases": [str(foreign.pk)]}
    response = editor_api.post("/api/v1/suites/", payload, format="json")
    assert (response.status_code, list(response.json()["details"])) == (400, ["cases"])


def test_it_lets_viewers_read_environments_and_suites_but_not_write(viewer_api, project):
    environment = baker.make("tests_catalog.Environment", project=project)
    suite = baker.make("tests_catalog.TestSuite", project=project)
    for url in (f"/api/v1/environments/{environment.pk}/", f"/api/v1/suites/{suite.pk}/"):
        assert viewer_api.get(url).status_code == 200
        assert viewer_api.patch(url, {"name": "x"}, format="json").status_code == 403
        assert viewer_api.delete(url).status_code == 403
    payload = {"project": str(project.pk), "name": "new"}
    assert viewer_api.post("/api/v1/environments/", payload, format="json").status_code == 403
    assert viewer_api.post("/api/v1/suites/", payload, format="json").status_code == 403

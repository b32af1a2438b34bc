"""POST /api/v1/imports/side/ and GET /api/v1/projects/{id}/side/."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from conftest import api_client_for, member
from tests_catalog.models import Role, TestCase
from tests_catalog.tests.side_files import side_bytes, side_project

pytestmark = pytest.mark.django_db

SIDE = side_project({"Search": [("open", "/"), ("type", "name=q", "shoes"), ("assertText", "id=hits", "3")]},
                    url="http://127.0.0.1:9/")  # fmt: skip


def _upload(client, project, content, name="search.side", **fields):
    return client.post("/api/v1/imports/side/", {"project": str(project.pk),
                       "file": SimpleUploadedFile(name, content), **fields}, format="multipart")  # fmt: skip


def test_it_imports_a_file_and_reports_per_test(project, editor):
    response = _upload(api_client_for(editor), project, side_bytes(SIDE))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["warnings"]) == (1, 0, 0)
    assert body["tests"][0]["name"] == "Search"
    case = TestCase.objects.get(pk=body["tests"][0]["case_id"])
    assert case.author == editor
    assert _upload(api_client_for(editor), project, side_bytes(SIDE)).json()["updated"] == 1


def test_it_answers_bad_files_in_the_error_envelope(project, editor):
    client = api_client_for(editor)
    response = _upload(client, project, b"<html>")
    assert response.status_code == 400
    assert response.json()["error"] == "ValidationError"
    assert "is not JSON" in response.json()["message"]
    assert "file" in response.json()["details"]
    assert not TestCase.objects.filter(project=project).exists()


def test_it_refuses_a_50_mib_file_before_reading_it(project, editor):
    response = _upload(api_client_for(editor), project, b" " * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert "MAX_UPLOAD_SIZE" in response.json()["message"]


def test_it_needs_a_token_and_the_editor_role(project, viewer, outsider):
    assert _upload(APIClient(), project, side_bytes(SIDE)).status_code == 401
    assert _upload(api_client_for(viewer), project, side_bytes(SIDE)).status_code == 403
    assert _upload(api_client_for(outsider), project, side_bytes(SIDE)).status_code == 404
    assert api_client_for(outsider).get(f"/api/v1/projects/{project.pk}/side/").status_code == 404


def test_it_exports_what_it_imported(project, editor):
    client = api_client_for(editor)
    _upload(client, project, side_bytes(SIDE))
    response = client.get(f"/api/v1/projects/{project.pk}/side/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="shop.side"'
    document = json.loads(response.content)
    assert document["tests"][0]["commands"] == SIDE["tests"][0]["commands"]
    viewer = member(project, Role.VIEWER, "val")
    assert api_client_for(viewer).get(f"/api/v1/projects/{project.pk}/side/").status_code == 200

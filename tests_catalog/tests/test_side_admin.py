"""The admin's .side upload page and export action."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import member
from tests_catalog.models import Role, TestCase
from tests_catalog.tests.side_files import side_bytes, side_project

pytestmark = pytest.mark.django_db

URL = "/admin/tests_catalog/project/import-side/"
SIDE = side_project({"Search": [("open", "/"), ("click", "id=go"), ("debugger",)]}, url="http://127.0.0.1:9/")


def _staff(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_it_imports_an_upload_and_shows_the_report(project, editor):
    client = _staff(editor)
    assert "Import a Selenium IDE project" in client.get("/admin/tests_catalog/project/").content.decode()
    response = client.post(URL, {"project": str(project.pk), "file": SimpleUploadedFile("s.side", side_bytes(SIDE))})
    assert response.status_code == 200
    html = response.content.decode()
    assert "s.side: 1 created, 0 updated, 1 warning(s)" in html
    assert "imported as a disabled step" in html
    case = TestCase.objects.get(project=project, name="Search")
    assert f"/admin/tests_catalog/testcase/{case.pk}/change/" in html


def test_it_shows_why_a_file_is_refused_and_imports_nothing(project, editor):
    response = _staff(editor).post(URL, {"project": str(project.pk), "file": SimpleUploadedFile("b.side", b"nope")})
    assert "b.side is not JSON" in response.content.decode()
    assert not TestCase.objects.exists()


def test_it_offers_only_projects_the_user_edits(project, other_project):
    viewer = member(project, Role.VIEWER, "vic")
    response = _staff(viewer).post(URL, {"project": str(project.pk), "file": SimpleUploadedFile("s.side", b"{}")})
    assert "Select a valid choice" in response.content.decode()
    assert not TestCase.objects.exists()


def test_it_exports_selected_cases_as_a_side_file(project, editor):
    client = _staff(editor)
    client.post(URL, {"project": str(project.pk), "file": SimpleUploadedFile("s.side", side_bytes(SIDE))})
    case = TestCase.objects.get(name="Search")
    response = client.post("/admin/tests_catalog/testcase/", {"action": "export_side", "_selected_action": [case.pk]})
    assert response["Content-Disposition"] == 'attachment; filename="shop.side"'
    assert json.loads(response.content)["tests"][0]["commands"] == SIDE["tests"][0]["commands"]

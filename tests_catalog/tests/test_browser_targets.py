"""Browser targets: private hosts allowed, other schemes and cloud metadata refused, a host list narrows."""

import pytest
from django.test import Client

from tests_catalog.browser_targets import browser_target_error
from tests_catalog.models import Project, TestCase

pytestmark = pytest.mark.django_db

REFUSED = [
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "data:text/html,<h1>x</h1>",
    "javascript:alert(1)",
    "ftp://files.example.com/a",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata.google.internal./computeMetadata/v1/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
    "https://example.com@169.254.169.254/",
    "http://100.100.100.200/latest/meta-data/",
]
ALLOWED = [
    "http://127.0.0.1:8000/",
    "http://localhost/",
    "http://10.1.2.3/app",
    "https://staging.internal.example/",
    "http://[::1]:8080/",
    "about:blank",
]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_other_schemes_and_metadata_addresses(url):
    assert browser_target_error(url) is not None


@pytest.mark.parametrize("url", ALLOWED)
def test_it_allows_private_and_public_http_targets(url):
    assert browser_target_error(url) is None


def test_it_narrows_targets_to_listed_hosts():
    listed = ["staging.example.com", "*.qa.example.com", "10.20.0.0/16"]
    assert browser_target_error("https://staging.example.com/x", allowed_hosts=listed) is None
    assert browser_target_error("https://app.qa.example.com/", allowed_hosts=listed) is None
    assert browser_target_error("http://10.20.3.4/", allowed_hosts=listed) is None
    assert "BROWSER_ALLOWED_HOSTS" in browser_target_error("https://evil.example.net/", allowed_hosts=listed)
    assert browser_target_error("http://10.21.0.1/", allowed_hosts=listed) is not None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://169.254.169.254/", "data:text/html,x"])
def test_it_refuses_such_open_steps_when_saving(editor_api, project, url):
    response = editor_api.post(
        "/api/v1/tests/",
        {"project": str(project.pk), "name": "Sneaky", "steps": [{"action": "open", "value": url}]},
        format="json",
    )
    assert response.status_code == 400
    assert "value" in response.json()["details"]["steps"]["0"]
    assert not TestCase.objects.exists()


@pytest.mark.parametrize("url", ["ftp://files.example.com/", "http://169.254.169.254/"])
def test_it_refuses_such_base_urls_in_the_api(editor_api, maintainer_api, project, url):
    original = project.base_url
    environment = editor_api.post(
        "/api/v1/environments/", {"project": str(project.pk), "name": "x", "base_url": url}, format="json"
    )
    assert environment.status_code == 400
    assert "base_url" in environment.json()["details"]
    patched = maintainer_api.patch(f"/api/v1/projects/{project.pk}/", {"base_url": url}, format="json")
    assert patched.status_code == 400
    assert Project.objects.get().base_url == original


def test_it_refuses_a_metadata_base_url_in_the_admin(project, maintainer):
    original = project.base_url
    maintainer.is_staff = True
    maintainer.save()
    client = Client()
    client.force_login(maintainer)
    response = client.post(
        f"/admin/tests_catalog/project/{project.pk}/change/",
        {
            "name": "Shop", "slug": "shop", "base_url": "http://169.254.169.254/", "timezone": "UTC",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "cloud metadata" in response.content.decode()
    assert Project.objects.get().base_url == original


def test_it_allows_private_base_urls(editor_api, project):
    response = editor_api.post(
        "/api/v1/environments/",
        {"project": str(project.pk), "name": "internal", "base_url": "http://10.0.0.5:8080/"},
        format="json",
    )
    assert response.status_code == 201, response.json()

"""Authentication, BOLA (other projects answer 404) and throttling."""

from datetime import timedelta

import pytest
from model_bakery import baker
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from conftest import PASSWORD
from tests_catalog.models import Environment, TestCase, TestSuite

pytestmark = pytest.mark.django_db


def _login(client, username="eddie", password=PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_it_issues_tokens_for_good_credentials_only(editor):
    client = APIClient()
    assert _login(client, password="wrong").status_code == 401
    response = _login(client)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    verify = client.post("/api/v1/auth/token/verify/", {"token": response.json()["access"]}, format="json")
    assert verify.status_code == 200
    assert client.post("/api/v1/auth/token/verify/", {"token": "garbage"}, format="json").status_code == 401


def test_it_needs_an_access_token_everywhere_but_health_and_docs(editor):
    client = APIClient()
    for url in ("/api/v1/tests/", "/api/v1/projects/", "/api/v1/environments/", "/api/v1/suites/"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json()["error"] == "NotAuthenticated"
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/v1/tests/").status_code == 401
    anonymous = APIClient()
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/api/schema/").status_code == 200


def test_it_rejects_an_expired_access_token(editor):
    token = AccessToken.for_user(editor)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/tests/").status_code == 401


def test_it_rotates_refresh_tokens_and_blacklists_the_old_one(editor):
    client = APIClient()
    first = _login(client).json()["refresh"]
    rotated = client.post("/api/v1/auth/token/refresh/", {"refresh": first}, format="json")
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": first}, format="json").status_code == 401


def test_it_blacklists_the_refresh_token_on_logout(editor, outsider):
    client = APIClient()
    tokens = _login(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    someone_else = _login(APIClient(), username="olga").json()["refresh"]
    assert client.post("/api/v1/auth/logout/", {"refresh": someone_else}, format="json").status_code == 400
    assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    refused = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401
    # The access token went with the logout too (see test_api_tokens.py).
    assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert APIClient().post("/api/v1/auth/logout/", {"refresh": someone_else}, format="json").status_code == 401


def test_it_answers_404_for_every_object_of_a_project_i_am_not_in(outsider_api, project, editor):
    case = baker.make(TestCase, project=project)
    environment = baker.make(Environment, project=project)
    suite = baker.make(TestSuite, project=project)
    objects = {
        f"/api/v1/tests/{case.pk}/": True,
        f"/api/v1/environments/{environment.pk}/": True,
        f"/api/v1/suites/{suite.pk}/": True,
        f"/api/v1/projects/{project.pk}/": True,
    }
    for url in objects:
        for method in ("get", "put", "patch", "delete"):
            response = getattr(outsider_api, method)(url, {"name": "stolen"}, format="json")
            assert response.status_code == 404, (method, url, response.status_code)
            assert response.json()["error"] == "NotFound"
            assert "stolen" not in response.content.decode()
    members = f"/api/v1/projects/{project.pk}/members/"
    assert outsider_api.get(members).status_code == 404
    assert outsider_api.post(members, {"username": "olga", "role": "maintainer"}, format="json").status_code == 404
    assert outsider_api.delete(f"{members}eddie/").status_code == 404
    assert outsider_api.post(f"/api/v1/tests/{case.pk}/duplicate/", {}, format="json").status_code == 404
    payload = {"project": str(project.pk), "name": "sneaky"}
    for url in ("/api/v1/tests/", "/api/v1/environments/", "/api/v1/suites/"):
        assert outsider_api.post(url, payload, format="json").status_code == 404
    bulk = outsider_api.post("/api/v1/tests/bulk/", {"cases": [payload]}, format="json").json()
    assert bulk["created"] == []
    for url in ("/api/v1/tests/", "/api/v1/environments/", "/api/v1/suites/"):
        assert outsider_api.get(url).json()["total"] == 0
    assert outsider_api.get(f"/api/v1/tests/?project={project.pk}").json()["total"] == 0
    assert [p["slug"] for p in outsider_api.get("/api/v1/projects/").json()["items"]] == ["bank"]
    assert TestCase.objects.count() == 1


def test_it_throttles_per_user_with_retry_after(editor_api, monkeypatch):
    # UserRateThrottle read its rates when DRF was imported; settings overrides come too late.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    assert editor_api.get("/api/v1/tests/").status_code == 200
    assert editor_api.get("/api/v1/tests/").status_code == 200
    response = editor_api.get("/api/v1/tests/")
    assert response.status_code == 429
    assert response.json()["error"] == "Throttled"
    assert int(response["Retry-After"]) > 0

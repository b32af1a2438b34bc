"""Logout, a new password and deactivation end every token; the token endpoint has its own limits."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from conftest import PASSWORD
from tests_catalog.api.auth import LoginAddressThrottle, LoginUsernameThrottle

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def _login(username: str, password: str = PASSWORD, address: str = "10.0.0.1") -> dict:
    response = APIClient().post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)
    assert response.status_code == 200, response.json()
    return response.json()


def _client(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_it_refuses_every_token_issued_before_logout(editor):
    first, second = _login(editor.username), _login(editor.username)  # two machines
    assert _client(first["access"]).get("/api/v1/projects/").status_code == 200

    assert _client(first["access"]).post("/api/v1/auth/logout/", {"refresh": first["refresh"]}).status_code == 204

    for tokens in (first, second):
        refused = _client(tokens["access"]).get("/api/v1/projects/")
        assert refused.status_code == 401
        assert refused.json()["error"] == "AuthenticationFailed"
        again = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert again.status_code == 401
        assert APIClient().post("/api/v1/auth/token/verify/", {"token": tokens["access"]}).status_code == 401
    fresh = _login(editor.username)
    assert _client(fresh["access"]).get("/api/v1/projects/").status_code == 200


def test_it_keeps_refreshed_tokens_of_the_current_generation_working(editor):
    tokens = _login(editor.username)
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert _client(refreshed.json()["access"]).get("/api/v1/projects/").status_code == 200


def test_it_revokes_tokens_when_the_password_changes(editor):
    tokens = _login(editor.username)
    editor.set_password("another horse battery")
    editor.save()
    assert _client(tokens["access"]).get("/api/v1/projects/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401


def test_it_revokes_tokens_on_deactivation_and_reactivation_does_not_restore_them(editor):
    tokens = _login(editor.username)
    editor.is_active = False
    editor.save()
    editor.is_active = True
    editor.save()
    assert _client(tokens["access"]).get("/api/v1/projects/").status_code == 401


def test_it_does_not_revoke_on_other_saves(editor):
    tokens = _login(editor.username)
    editor.first_name = "Eddie"
    editor.save()
    assert _client(tokens["access"]).get("/api/v1/projects/").status_code == 200


def test_it_costs_no_extra_query_to_authenticate(editor, django_assert_num_queries):
    client = _client(_login(editor.username)["access"])
    with django_assert_num_queries(1):
        # Refused by the pagination after authentication: the user (and generation) query alone ran.
        assert client.get("/api/v1/tests/?page=0").status_code == 400


@pytest.fixture
def strict_login_limits(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_address": "5/min", "login_username": "3/min"}
    monkeypatch.setattr(LoginAddressThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(LoginUsernameThrottle, "THROTTLE_RATES", rates)


def test_it_limits_attempts_per_username_from_any_address(editor, strict_login_limits):
    answers = [
        APIClient().post(TOKEN, {"username": editor.username, "password": "wrong"}, REMOTE_ADDR=f"10.0.1.{n}")
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    body = answers[-1].json()
    assert body["error"] == "Throttled"
    assert "login attempts" in body["message"]
    assert int(answers[-1]["Retry-After"]) > 0
    # Even the right password waits; another user is not affected.
    right = APIClient().post(TOKEN, {"username": editor.username, "password": PASSWORD}, REMOTE_ADDR="10.0.2.1")
    assert right.status_code == 429


def test_it_limits_attempts_per_address_across_usernames(editor, strict_login_limits):
    codes = [
        APIClient().post(TOKEN, {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="10.9.9.9").status_code
        for n in range(6)
    ]
    assert codes == [401] * 5 + [429]
    assert (
        APIClient().post(TOKEN, {"username": editor.username, "password": PASSWORD}, REMOTE_ADDR="10.9.9.8").status_code
        == 200
    )

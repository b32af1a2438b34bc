"""Catalog fixtures: people with roles in two projects, and API clients holding their tokens."""

import pytest
from model_bakery import baker
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests_catalog.models import Membership, Project, Role


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs about a second per user created here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


PASSWORD = "correct horse battery"


def member(project: Project, role: str, username: str | None = None):
    user = baker.make("auth.User", **({"username": username} if username else {}))
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(project=project, user=user, role=role)
    return user


@pytest.fixture
def project():
    return baker.make(Project, name="Shop", slug="shop", base_url="https://shop.example")


@pytest.fixture
def other_project():
    return baker.make(Project, name="Bank", slug="bank")


@pytest.fixture
def viewer(project):
    return member(project, Role.VIEWER, "vera")


@pytest.fixture
def editor(project):
    return member(project, Role.EDITOR, "eddie")


@pytest.fixture
def maintainer(project):
    return member(project, Role.MAINTAINER, "maya")


@pytest.fixture
def outsider(other_project):
    return member(other_project, Role.MAINTAINER, "olga")


@pytest.fixture
def editor_api(editor):
    return api_client_for(editor)


@pytest.fixture
def viewer_api(viewer):
    return api_client_for(viewer)


@pytest.fixture
def maintainer_api(maintainer):
    return api_client_for(maintainer)


@pytest.fixture
def outsider_api(outsider):
    return api_client_for(outsider)

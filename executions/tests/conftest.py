import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from model_bakery import baker
from rest_framework.test import APIClient

from executions.tests.page_server import pages_served
from tests_catalog.models import Membership, Project, Role, TestCase, TestStep, TestSuite


@pytest.fixture
def project(db):
    return baker.make(Project, name="Shop", slug="shop", base_url="http://127.0.0.1:9/")


@pytest.fixture
def editor(project):
    user = get_user_model().objects.create_user("editor", password="pw-editor-123")
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def viewer(project):
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    Membership.objects.create(project=project, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider(db):
    other = baker.make(Project, slug="other")
    user = get_user_model().objects.create_user("outsider", password="pw-outsider-123")
    Membership.objects.create(project=other, user=user, role=Role.MAINTAINER)
    return user


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def case_with_steps(project, name="Login", steps=(("open", "", "login"), ("assert_title", "", "Login")), **fields):
    case = TestCase.objects.create(project=project, name=name, status="active", **fields)
    for index, (action, selector, value) in enumerate(steps):
        TestStep.objects.create(case=case, order_index=index, action=action, selector=selector, value=value)
    return case


@pytest.fixture
def case(project):
    return case_with_steps(project)


@pytest.fixture
def suite(project):
    suite = TestSuite.objects.create(project=project, name="Smoke")
    for index, name in enumerate(["First", "Second", "Third"]):
        suite.entries.create(case=case_with_steps(project, name=name), order_index=index)
    return suite


PAGES_DIR = Path(__file__).parent / "pages"


@pytest.fixture(autouse=True)
def _short_step_timeout(settings):
    # Failing waits are part of many tests here; 2 s is plenty for pages served on 127.0.0.1.
    settings.STEP_TIMEOUT_MS = 2000


@pytest.fixture(scope="session")
def shop_url():
    """Test pages served on 127.0.0.1 for executions run by the engine."""
    with pages_served(PAGES_DIR) as url:
        yield f"{url}/"


SHOP_STEPS = (
    ("open", "", "shop.html"),
    ("assert_title", "", "Shop"),
    ("type", "#qty", "${quantity}"),
    ("click", "#add", ""),
    ("assert_text", "#cart", "Cart: ${quantity}"),
)


@pytest.fixture
def shop_case(project, shop_url):
    project.base_url = shop_url
    project.save()
    return case_with_steps(project, name="Add to cart", steps=SHOP_STEPS)


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.1, message: str = "condition"):
    """Poll until predicate() is truthy; the event we wait for happens in another process or thread."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def worker_environment(tmp_path, **extra) -> dict:
    """The whole environment of a worker or beat subprocess: this test's database and Redis."""
    db = connection.settings_dict
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "ENVIRONMENT": "testing",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": os.environ["REDIS_URL"],
        "DATA_DIR": str(tmp_path),
        "SE_OFFLINE": "true",
        **extra,
    }

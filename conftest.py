"""Fixtures shared by every app's tests: people with roles in two projects, API clients, pages
served on 127.0.0.1, waiting for an event, and Celery processes of their own.

Apps' conftests add only what is theirs (a shop case, an upload directory, a webhook receiver).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent
PASSWORD = "correct horse battery"  # noqa: S105 (the test users' password)


@pytest.fixture(autouse=True)
def _local_cache(settings):
    # Throttle counters must not leak between tests (or test runs) through the shared Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Local-memory caches of one name share their store across the process: start each test empty.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs about half a second per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `manage.py` in a fresh interpreter with exactly `env` (plus PATH) as its environment."""
    full_env = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=full_env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.1, message: str = "condition"):
    """Poll until predicate() is truthy; the event we wait for happens in another process or thread."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


# --- People and projects ----------------------------------------------------------------------


def member(project, role: str, username: str | None = None):
    """A user holding `role` in `project`, who can log in with PASSWORD."""
    from model_bakery import baker

    from tests_catalog.models import Membership

    user = baker.make("auth.User", is_active=True, **({"username": username} if username else {}))
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(project=project, user=user, role=role)
    return user


def api_client(user):
    """An API client signed in as the user without a token (one query less per request)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def api_client_for(user):
    """An API client holding the user's access token, as a CI job would."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def project(db):
    from model_bakery import baker

    from tests_catalog.models import Project

    # A closed port: a run that forgets to point the project at served pages fails at once.
    return baker.make(Project, name="Shop", slug="shop", base_url="http://127.0.0.1:9/")


@pytest.fixture
def other_project(db):
    from model_bakery import baker

    from tests_catalog.models import Project

    return baker.make(Project, name="Bank", slug="bank")


# name: (the project fixture, role, username); each also has a `<name>_api` client with its token.
PEOPLE = {
    "viewer": ("project", "viewer", "vera"),
    "editor": ("project", "editor", "eddie"),
    "maintainer": ("project", "maintainer", "maya"),
    "outsider": ("other_project", "maintainer", "olga"),  # a maintainer, but of the other project only
}


def _person_fixtures(name: str, project_fixture: str, role: str, username: str):
    @pytest.fixture(name=name)
    def person(request):
        return member(request.getfixturevalue(project_fixture), role, username)

    @pytest.fixture(name=f"{name}_api")
    def client(request):
        return api_client_for(request.getfixturevalue(name))

    return person, client


for _name, _spec in PEOPLE.items():
    globals()[_name], globals()[f"{_name}_api"] = _person_fixtures(_name, *_spec)


# --- Cases and suites -------------------------------------------------------------------------


def case_with_steps(project, name="Login", steps=(("open", "", "login"), ("assert_title", "", "Login")), **fields):
    """An active case with (action, selector, value) steps, in order."""
    from tests_catalog.models import TestCase, TestStep

    case = TestCase.objects.create(project=project, name=name, status="active", **fields)
    for index, (action, selector, value) in enumerate(steps):
        TestStep.objects.create(case=case, order_index=index, action=action, selector=selector, value=value)
    return case


@pytest.fixture
def case(project):
    return case_with_steps(project)


@pytest.fixture
def suite(project):
    """The suite "Smoke" of three cases, First, Second and Third."""
    from tests_catalog.models import TestSuite

    suite = TestSuite.objects.create(project=project, name="Smoke")
    for index, name in enumerate(["First", "Second", "Third"]):
        suite.entries.create(case=case_with_steps(project, name=name), order_index=index)
    return suite


# --- Pages served on 127.0.0.1 ----------------------------------------------------------------


@pytest.fixture(scope="session")
def serve_pages():
    """serve_pages(directory) -> the base URL of that directory, served until the session ends."""
    from executions.tests.page_server import pages_served

    with contextlib.ExitStack() as servers:
        served: dict[Path, str] = {}

        def serve(directory: Path) -> str:
            if directory not in served:
                served[directory] = servers.enter_context(pages_served(directory))
            return served[directory]

        yield serve


# --- Celery processes -------------------------------------------------------------------------


def worker_environment(tmp_path, **extra) -> dict:
    """The whole environment of a worker or beat subprocess: this test's database and Redis."""
    from django.db import connection

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


WORKER_ARGUMENTS = ("worker", "--pool=prefork", "--concurrency=1", "--without-heartbeat", "--without-gossip",
                    "--without-mingle")  # fmt: skip


@pytest.fixture
def celery_process(tmp_path):
    """celery_process(*arguments, log=..., **environment) starts `celery -A jbtestsuite <arguments>`
    (e.g. WORKER_ARGUMENTS, or beat) against the test database; every one is killed at the end,
    with its whole session (pool children, chromedriver, Chromium)."""
    started = []

    def start(*arguments: str, log: str = "celery.log", **environment: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jbtestsuite", *arguments, "--loglevel=WARNING"],
            cwd=BASE_DIR, env=worker_environment(tmp_path, **environment), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / log, "ab"),  # noqa: SIM115
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

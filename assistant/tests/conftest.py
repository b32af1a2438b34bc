"""The assistant against a scripted OpenAI-compatible server on 127.0.0.1 (through the real
openai client), real headless Chromium and test pages served on 127.0.0.1."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from assistant.models import AssistantSettings
from assistant.tests.fake_openai import scripted_model_served
from executions import worker
from executions.runner.browser import WorkerBrowser
from executions.tests.page_server import pages_served
from tests_catalog.models import Environment, EnvironmentVariable, Membership, Project, Role

PAGES_DIR = Path(__file__).parent / "pages"
SECRET = "s3cret-Pa55-word"


@pytest.fixture(scope="session")
def model_server():
    with scripted_model_served() as server:
        yield server


@pytest.fixture
def model(model_server, settings):
    model_server.reset()
    settings.OPENAI_API_KEY = "sk-test-key"
    settings.OPENAI_BASE_URL = model_server.url
    settings.OPENAI_MODEL = "scripted-model"
    settings.OPENAI_VISION_MODEL = "scripted-vision"
    settings.OPENAI_RETRY_BASE_MS = 0
    settings.OPENAI_TIMEOUT_SECONDS = 5
    settings.OPENAI_RESPONSE_FORMAT = "structured"
    settings.STEP_TIMEOUT_MS = 2000
    yield model_server
    model_server.reset()


@pytest.fixture(scope="session")
def pages_url():
    with pages_served(PAGES_DIR) as url:
        yield f"{url}/"


@pytest.fixture(scope="session")
def browsers():
    keeper = WorkerBrowser(worker.browser_config(), reuse=True)
    yield keeper
    keeper.close()


@pytest.fixture
def project(db, pages_url):
    project = Project.objects.create(name="Site", slug="site", base_url=pages_url)
    AssistantSettings.objects.create(project=project, enabled=True)
    return project


@pytest.fixture
def environment(project, pages_url):
    environment = Environment.objects.create(project=project, name="staging", base_url=pages_url)
    EnvironmentVariable.objects.create(environment=environment, name="username", value="demo")
    EnvironmentVariable.objects.create(environment=environment, name="password", value=SECRET, secret=True)
    return environment


@pytest.fixture
def editor(project):
    user = get_user_model().objects.create_user("editor", password="pw-editor-123")
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    return user


def step(action, selector="", value="", selector_type="css", description=""):
    """A step as the model writes it (only the fields the action uses matter)."""
    return {"action": action, "selector_type": selector_type, "selector": selector, "value": value,
            "description": description or action}  # fmt: skip


def answer(*steps, done=True, give_up="", thought="ok"):
    return {"thought": thought, "steps": list(steps), "done": done, "give_up": give_up}


LOGIN_STEPS = (
    step("type", "username", "${username}", selector_type="id"),
    step("type", "password", "${password}", selector_type="id"),
    step("click", '[data-test="login-submit"]'),
    step("wait_for_url", value="welcome.html"),
    step("assert_text", "welcome-message", "Welcome, demo", selector_type="id"),
)

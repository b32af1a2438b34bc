from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demo import catalog
from tests_catalog import models
from tests_catalog.step_actions import expectation_parse, step_errors

pytestmark = pytest.mark.django_db

PAGES = {
    "/demo/": ["demo-index", "demo-links", "link-login", "link-todo", "link-delayed", "link-iframe", "link-select",
               "link-dialogs"],
    "/demo/login/": ["login-form", "username", "password", "login-submit"],
    "/demo/todo/": ["todo-form", "todo-input", "todo-add", "todo-list", "todo-count", "todo-empty"],
    "/demo/delayed/": ["loading", "late-container", "load-result", "delayed-result"],
    "/demo/iframe/": ["outer-text", "demo-frame"],
    "/demo/iframe/inner/": ["frame-text", "frame-form", "frame-name", "frame-greet", "frame-greeting"],
    "/demo/select/": ["color-select", "color-choice"],
    "/demo/dialogs/": ["alert-button", "confirm-button", "dialog-result"],
}  # fmt: skip

MODELS = (
    models.Project,
    models.Environment,
    models.EnvironmentVariable,
    models.Membership,
    models.Tag,
    models.TestCase,
    models.TestStep,
    models.TestSuite,
    models.SuiteCase,
)


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.parametrize(("url", "ids"), PAGES.items())
def test_it_serves_each_demo_page_with_its_element_ids(client, url, ids):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for element_id in ids:
        assert f'id="{element_id}"' in html


def test_it_links_every_page_from_the_index(client):
    html = client.get("/demo/").content.decode()
    for url in PAGES:
        if url not in ("/demo/", "/demo/iframe/inner/"):
            assert f'href="{url}"' in html


def test_it_lets_only_the_inner_page_be_framed(client):
    assert client.get("/demo/iframe/inner/")["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/demo/iframe/")["X-Frame-Options"] == "DENY"


def test_it_welcomes_the_demo_user_with_the_right_credentials(client):
    client.handler.enforce_csrf_checks = True  # the form must work without a token
    response = client.post("/demo/login/", {"username": "demo", "password": "demo-pass-2026"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/demo/welcome/?token=")
    assert '<h1 id="welcome-message" data-test="welcome-message">Welcome, demo</h1>' in response.content.decode()


@pytest.mark.parametrize(("username", "password"), [("demo", "wrong"), ("admin", "demo"), ("", "")])
def test_it_rejects_wrong_credentials_and_keeps_the_username(client, username, password):
    response = client.post("/demo/login/", {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-error"' in html
    assert "Invalid username or password." in html
    assert f'id="username" name="username" data-test="username" value="{username}"' in html
    assert "welcome-message" not in html


def test_it_shows_no_error_before_the_form_is_sent(client):
    assert 'id="login-error"' not in client.get("/demo/login/").content.decode()


@pytest.mark.parametrize("query", ["", "?token=demo", "?token=forged:signature"])
def test_it_sends_the_welcome_page_back_to_login_without_a_valid_token(client, query):
    response = client.get(f"/demo/welcome/{query}")
    assert response.status_code == 302
    assert response["Location"] == "/demo/login/"


def test_it_serves_the_demo_without_logging_in_to_the_app(client):
    # No session, no JWT: the runner's browser is a stranger to the app.
    assert client.get("/demo/todo/").status_code == 200
    assert client.post("/demo/login/", {"username": "demo", "password": "demo-pass-2026"}).status_code == 302


def test_it_loads_the_demo_project_once():
    first = _load()
    assert "created project 'Demo'" in first
    counts = _counts()

    second = _load()
    assert "already loaded; nothing changed" in second
    assert _counts() == counts

    project = models.Project.objects.get(slug="demo")
    assert project.base_url == catalog.DEFAULT_BASE_URL
    environment = project.environments.get(name="local")
    assert environment.base_url == catalog.DEFAULT_BASE_URL
    variables = {v.name: (v.value, v.secret) for v in environment.variables.all()}
    assert variables == {"username": ("demo", False), "password": ("demo-pass-2026", True)}


def test_it_creates_active_cases_whose_steps_the_registry_accepts():
    _load()
    cases = models.TestCase.objects.filter(project__slug="demo")
    assert cases.count() == len(catalog.CASES) >= 7
    assert set(cases.values_list("status", flat=True)) == {models.TestCase.Status.ACTIVE}
    steps = models.TestStep.objects.filter(case__project__slug="demo")
    assert steps.count() == sum(len(case.steps) for case in catalog.CASES)
    for step in steps:
        assert step_errors(step.action, step.selector_type, step.selector, step.value) == {}, str(step)
    for case in cases:
        assert list(case.steps.values_list("order_index", flat=True)) == list(range(case.steps.count()))


def test_it_uses_the_environment_variables_in_steps():
    _load()
    steps = models.TestStep.objects.filter(case__project__slug="demo")
    assert steps.filter(value="${username}").exists()
    assert steps.filter(value="${password}").exists()
    # The secret never appears in clear in a step.
    assert not steps.filter(action="type", value="demo").exists()


def test_it_builds_the_suites_in_order():
    _load()
    smoke = models.TestSuite.objects.get(project__slug="demo", name="Demo smoke")
    smoke_names = [entry.case.name for entry in smoke.entries.order_by("order_index")]
    assert smoke_names == [case.name for case in catalog.PASSING_CASES]
    assert catalog.FAILING.name not in smoke_names

    with_failure = models.TestSuite.objects.get(project__slug="demo", name="Demo with a failure")
    assert catalog.FAILING.name in [entry.case.name for entry in with_failure.entries.all()]


def test_it_includes_a_case_whose_last_assertion_does_not_hold(client):
    *steps, last = catalog.FAILING.steps
    assert [step.action for step in steps] == ["open", "type", "type", "click", "wait_for_url"]
    assert (last.action, last.selector) == ("assert_text", "welcome-message")
    html = client.post("/demo/login/", {"username": "demo", "password": "demo-pass-2026"}, follow=True).content.decode()
    assert "Welcome, demo" in html
    assert not expectation_parse(last.value).matches("Welcome, demo")


def test_it_makes_the_admin_user_a_maintainer(settings):
    admin = get_user_model().objects.create_user(username=settings.ADMIN_USERNAME, password="x")
    output = _load()
    assert f"made '{admin.username}' a maintainer" in output
    membership = models.Membership.objects.get(project__slug="demo", user=admin)
    assert membership.role == models.Role.MAINTAINER
    assert models.TestCase.objects.filter(project__slug="demo", author=admin).count() == len(catalog.CASES)


def test_it_raises_an_existing_admin_membership_to_maintainer(settings):
    admin = get_user_model().objects.create_user(username=settings.ADMIN_USERNAME, password="x")
    _load()
    models.Membership.objects.filter(user=admin).update(role=models.Role.VIEWER)
    assert "raised" in _load()
    assert models.Membership.objects.get(user=admin).role == models.Role.MAINTAINER


def test_it_loads_without_an_admin_user():
    _load()
    assert not models.Membership.objects.filter(project__slug="demo").exists()


def test_it_points_the_project_at_a_new_base_url_and_keeps_everything_else():
    _load()
    counts = _counts()
    output = _load("--base-url", "http://127.0.0.1:9000/demo/")
    assert "base URL" in output
    assert _counts() == counts
    assert models.Project.objects.get(slug="demo").base_url == "http://127.0.0.1:9000/demo/"
    assert models.Environment.objects.get(project__slug="demo").base_url == "http://127.0.0.1:9000/demo/"


def test_it_keeps_a_case_the_user_edited():
    _load()
    case = models.TestCase.objects.get(project__slug="demo", name=catalog.SELECT.name)
    case.steps.filter(order_index=0).update(value="select/?edited=1")
    _load()
    assert case.steps.get(order_index=0).value == "select/?edited=1"


def test_it_refuses_a_base_url_that_is_not_http():
    with pytest.raises(CommandError, match="not an http"):
        _load("--base-url", "ftp://example.com/")
    assert not models.Project.objects.exists()


def test_it_refuses_to_load_an_invalid_demo_step(monkeypatch):
    broken = catalog.DemoCase("Broken", "", models.TestCase.Priority.LOW, (), (catalog.Step("click"),))
    monkeypatch.setattr(catalog, "CASES", (*catalog.CASES, broken))
    with pytest.raises(CommandError, match=r"Broken / step 0: selector: click needs a selector"):
        _load()
    assert not models.Project.objects.exists()

"""The demo project: an environment, cases that exercise every demo page, and two suites.

The cases select elements by the ids in `templates/demo/`; change both together. Loading is
idempotent and never rewrites what a user may have edited since: an existing case, suite or
variable is left as it is. Only the base URL follows the `--base-url` option, because it
describes where this copy of the app is served, not the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from jbtestsuite.errors import ValidationFailed
from tests_catalog import services
from tests_catalog.models import (
    Environment,
    EnvironmentVariable,
    Membership,
    Project,
    Role,
    TestCase,
    TestSuite,
)
from tests_catalog.step_actions import step_errors

PROJECT_SLUG = "demo"
PROJECT_NAME = "Demo"
ENVIRONMENT_NAME = "local"
CATEGORY = "Demo site"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/demo/"
# (name, value, secret)
VARIABLES = (("username", "demo", False), ("password", "demo-pass-2026", True))


@dataclass(frozen=True)
class Step:
    action: str
    selector: str = ""
    value: str = ""
    selector_type: str = "id"
    description: str = ""
    timeout_ms: int | None = None


@dataclass(frozen=True)
class DemoCase:
    name: str
    description: str
    priority: str
    tags: tuple[str, ...]
    steps: tuple[Step, ...]


_LOG_IN = (
    Step("open", value="login/", description="Open the login form"),
    Step("type", "username", "${username}"),
    Step("type", "password", "${password}", description="The password is a secret variable: results show ***"),
    Step("click", "login-submit"),
    Step("wait_for_url", value="/welcome/"),
)

LOG_IN = DemoCase(
    name="Log in with the demo account",
    description="Starts on the demo home page, follows the link to the login form and logs in.",
    priority=TestCase.Priority.CRITICAL,
    tags=("demo", "smoke", "login"),
    steps=(
        Step("open", value="/", description="The environment's base URL is the demo home page"),
        Step("assert_title", value="Home · JBTestSuite demo"),
        Step("click", "Login form", selector_type="link_text"),
        Step("wait_for_url", value="/login/"),
        *_LOG_IN[1:],
        Step("assert_text", "welcome-message", "Welcome, ${username}"),
        Step("assert_visible", "logout-link"),
    ),
)

WRONG_PASSWORD = DemoCase(
    name="Login rejects a wrong password",
    description="A wrong password keeps the user on the login form with an error and the username kept.",
    priority=TestCase.Priority.HIGH,
    tags=("demo", "smoke", "login"),
    steps=(
        Step("open", value="login/"),
        Step("type", "username", "${username}"),
        Step("type", "password", "not-the-password"),
        Step("press_key", "password", "ENTER", description="Enter submits the form like the button does"),
        Step("assert_text", "login-error", "Invalid username or password."),
        Step("assert_value", "username", "${username}"),
        Step("assert_url", value="contains:/login/"),
        Step("assert_element_absent", "welcome-message"),
    ),
)

TODO_LIST = DemoCase(
    name="To-do list: add, complete and delete items",
    description="Adds two items (Enter and the Add button), completes one, deletes the other.",
    priority=TestCase.Priority.HIGH,
    tags=("demo", "smoke"),
    steps=(
        Step("open", value="todo/"),
        Step("assert_text", "todo-empty", "Nothing to do."),
        Step("type", "todo-input", "Buy milk"),
        Step("press_key", "todo-input", "ENTER"),
        Step("type", "todo-input", "Write the demo tests"),
        Step("click", "todo-add"),
        Step("assert_count", "[data-test=todo-item]", "2", selector_type="css"),
        Step("assert_text", "todo-count", "2 items left"),
        Step("wait_for_hidden", "todo-empty"),
        Step("check", "todo-toggle-1", description="Mark 'Buy milk' done"),
        Step("assert_attribute", "todo-item-1", "class=contains:done"),
        Step("assert_text", "todo-count", "1 item left"),
        Step("click", "#todo-item-2 .todo-delete", selector_type="css", description="Delete 'Write the demo tests'"),
        Step("assert_count", "[data-test=todo-item]", "1", selector_type="css"),
        Step("assert_text", "#todo-item-1 .todo-text", "Buy milk", selector_type="css"),
        Step("assert_text", "todo-count", "0 items left"),
    ),
)

LATE_CONTENT = DemoCase(
    name="Late content appears without fixed pauses",
    description="Waits for a block that appears 1.5 s after load and for a result computed after a click.",
    priority=TestCase.Priority.MEDIUM,
    tags=("demo", "smoke", "waits"),
    steps=(
        Step("open", value="delayed/"),
        Step("wait_for_visible", "late-content", timeout_ms=5000, description="Appears about 1.5 s after load"),
        Step("assert_text", "late-content", "This text arrived late."),
        Step("wait_for_hidden", "loading"),
        Step("click", "load-result"),
        Step("wait_for_text", "delayed-result", "42", timeout_ms=5000),
        Step("assert_text", "delayed-result", r"regex:^The answer is \d+\.$"),
    ),
)

IFRAME = DemoCase(
    name="Fill a form inside an iframe",
    description="Switches into the iframe, types and submits there, then returns to the page.",
    priority=TestCase.Priority.MEDIUM,
    tags=("demo", "smoke", "frames"),
    steps=(
        Step("open", value="iframe/"),
        Step("assert_text", "outer-text", "This text is outside the frame."),
        Step("switch_frame", "demo-frame"),
        Step("assert_text", "frame-text", "This text is inside the frame."),
        Step("type", "frame-name", "${username}"),
        Step("click", "frame-greet"),
        Step("assert_text", "frame-greeting", "Hello, ${username}!"),
        Step("switch_frame", description="Back to the top-level page"),
        Step("assert_element_absent", "frame-greeting", description="The greeting lives only inside the frame"),
        Step("assert_text", "page-title", "A page with an iframe"),
    ),
)

SELECT = DemoCase(
    name="Choose an option from a drop-down",
    description="Chooses options by visible text and by value; the page echoes the choice.",
    priority=TestCase.Priority.LOW,
    tags=("demo", "smoke"),
    steps=(
        Step("open", value="select/"),
        Step("assert_text", "color-choice", "Nothing chosen yet."),
        Step("select", "color-select", "Green"),
        Step("assert_text", "color-choice", "You chose: Green"),
        Step("select", "color-select", "value=blue", description="By the option's value attribute"),
        Step("assert_value", "color-select", "blue"),
        Step("assert_text", "color-choice", "You chose: Blue"),
    ),
)

DIALOGS = DemoCase(
    name="Answer an alert and a confirmation",
    description="Accepts an alert, then accepts and dismisses a confirmation.",
    priority=TestCase.Priority.MEDIUM,
    tags=("demo", "smoke", "dialogs"),
    steps=(
        Step("open", value="dialogs/"),
        Step("click", "alert-button"),
        Step("accept_alert"),
        Step("assert_text", "dialog-result", "Alert closed."),
        Step("click", "confirm-button"),
        Step("accept_alert", description="OK"),
        Step("assert_text", "dialog-result", "You pressed OK."),
        Step("click", "confirm-button"),
        Step("dismiss_alert", description="Cancel"),
        Step("assert_text", "dialog-result", "You pressed Cancel."),
    ),
)

FAILING = DemoCase(
    name="Welcome text (fails on purpose)",
    description=(
        "Fails on purpose to show what a failure looks like: the page says 'Welcome, demo' but the "
        "last step expects another name. The failed step carries a screenshot and the page source."
    ),
    priority=TestCase.Priority.LOW,
    tags=("demo", "fails-on-purpose"),
    steps=(
        *_LOG_IN,
        Step(
            "assert_text",
            "welcome-message",
            "Welcome, administrator",
            timeout_ms=3000,
            description="Wrong on purpose: the page greets the username from the environment",
        ),
    ),
)

PASSING_CASES = (LOG_IN, WRONG_PASSWORD, TODO_LIST, LATE_CONTENT, IFRAME, SELECT, DIALOGS)
CASES = (*PASSING_CASES, FAILING)
# (name, description, cases in order)
SUITES = (
    ("Demo smoke", "Every demo page, all passing.", PASSING_CASES),
    ("Demo with a failure", "What a red run looks like.", (LOG_IN, FAILING, SELECT)),
)


def demo_steps_errors() -> list[str]:
    """Every problem step_errors finds in the demo cases, as `case / step <order_index>: field: message`."""
    problems = []
    for case in CASES:
        for index, step in enumerate(case.steps):
            for field_name, messages in step_errors(step.action, step.selector_type, step.selector, step.value).items():
                problems += [f"{case.name} / step {index}: {field_name}: {message}" for message in messages]
    return problems


@dataclass
class DemoLoadReport:
    project: Project
    changes: list[str] = field(default_factory=list)


@transaction.atomic
def demo_project_load(*, base_url: str = DEFAULT_BASE_URL) -> DemoLoadReport:
    """Create whatever of the demo project is missing and point it at base_url.

    Raises ValidationFailed for an invalid base_url or a demo step the registry rejects.
    """
    try:
        URLValidator(schemes=["http", "https"])(base_url)
    except ValidationError:
        raise ValidationFailed(f"{base_url!r} is not an http(s) URL.", {"base_url": ["Not an http(s) URL."]}) from None
    problems = demo_steps_errors()
    if problems:
        raise ValidationFailed("Demo steps are invalid:\n" + "\n".join(problems), {"steps": problems})

    admin = get_user_model().objects.filter(username=settings.ADMIN_USERNAME).first()
    project, created = Project.objects.get_or_create(
        slug=PROJECT_SLUG,
        defaults={
            "name": PROJECT_NAME,
            "base_url": base_url,
            "description": "Cases that exercise the demo site this app serves at /demo/.",
        },
    )
    report = DemoLoadReport(project)
    if created:
        report.changes.append(f"created project {project.name!r}")
    elif project.base_url != base_url:
        report.changes.append(f"project base URL {project.base_url!r} -> {base_url!r}")
        project.base_url = base_url
        project.save(update_fields=["base_url", "updated_at"])

    _environment_load(report, base_url)
    if admin is not None:
        _maintainer_ensure(report, admin)
    cases = {case.name: _case_load(report, case, admin) for case in CASES}
    for suite_name, description, suite_cases in SUITES:
        _suite_load(report, suite_name, description, [cases[case.name] for case in suite_cases])
    return report


def _environment_load(report: DemoLoadReport, base_url: str) -> None:
    environment, created = Environment.objects.get_or_create(
        project=report.project, name=ENVIRONMENT_NAME, defaults={"base_url": base_url}
    )
    if created:
        report.changes.append(f"created environment {environment.name!r}")
    elif environment.base_url != base_url:
        report.changes.append(f"environment {environment.name!r} base URL {environment.base_url!r} -> {base_url!r}")
        environment.base_url = base_url
        environment.save(update_fields=["base_url", "updated_at"])
    for name, value, secret in VARIABLES:
        _, created = EnvironmentVariable.objects.get_or_create(
            environment=environment, name=name, defaults={"value": value, "secret": secret}
        )
        if created:
            report.changes.append(f"created {'secret ' if secret else ''}variable {name!r}")


def _maintainer_ensure(report: DemoLoadReport, user) -> None:
    membership, created = Membership.objects.get_or_create(
        project=report.project, user=user, defaults={"role": Role.MAINTAINER}
    )
    if created:
        report.changes.append(f"made {user.username!r} a maintainer")
    elif membership.role != Role.MAINTAINER:
        report.changes.append(f"raised {user.username!r} from {membership.role} to maintainer")
        membership.role = Role.MAINTAINER
        membership.save(update_fields=["role", "updated_at"])


def _case_load(report: DemoLoadReport, demo: DemoCase, author) -> TestCase:
    # Archived cases free their name (see TestCase's constraints), so an archived demo case is
    # replaced rather than revived.
    existing = (
        TestCase.objects.filter(project=report.project, category=CATEGORY, name=demo.name)
        .exclude(status=TestCase.Status.ARCHIVED)
        .first()
    )
    if existing is not None:
        return existing
    case = services.test_case_create(
        project=report.project,
        author=author,
        name=demo.name,
        description=demo.description,
        status=TestCase.Status.ACTIVE,
        priority=demo.priority,
        category=CATEGORY,
        tags=demo.tags,
        steps=[
            {
                "action": step.action,
                "selector_type": step.selector_type,
                "selector": step.selector,
                "value": step.value,
                "timeout_ms": step.timeout_ms,
                "description": step.description,
            }
            for step in demo.steps
        ],
    )
    report.changes.append(f"created case {case.name!r} ({len(demo.steps)} steps)")
    return case


def _suite_load(report: DemoLoadReport, name: str, description: str, cases: list[TestCase]) -> None:
    suite, created = TestSuite.objects.get_or_create(
        project=report.project, name=name, defaults={"description": description}
    )
    if not created:
        return
    services.suite_cases_set(suite=suite, case_ids=[case.pk for case in cases])
    report.changes.append(f"created suite {name!r} ({len(cases)} cases)")

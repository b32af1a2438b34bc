"""Selenium IDE .side files in and out: mapping, re-import, reports, bad input, round trip."""

import json

import pytest
from django.core.management import call_command
from model_bakery import baker

from jbtestsuite.errors import ValidationFailed
from tests_catalog import side
from tests_catalog.models import Environment, Project, TestCase, TestSuite
from tests_catalog.tests.side_files import command, side_bytes, side_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return baker.make(Project, name="Shop", slug="shop")


def _login_project(**kwargs):
    return side_project(
        {
            "Log in": [
                ("open", "/login"),
                command(
                    "type",
                    "id=user",
                    "ann",
                    targets=[
                        ["id=user", "id"],
                        ["css=#user", "css:finder"],
                        ["xpath=//input[@id='user']", "xpath:attributes"],
                    ],
                    comment="the user field",
                ),
                ("click", "css=button.go"),
                ("assertText", "css=h1", "Welcome"),
                ("verifyTitle", "Home"),
                ("run", "Log out"),
            ],
            "Log out": [("click", "linkText=Log out"), ("//click", "id=never"), ("debugger",)],
        },
        suites={"Smoke": ["Log out", "Log in"]},
        url="http://127.0.0.1:9/app",
        **kwargs,
    )


def test_it_imports_tests_as_cases_with_alternates_descriptions_and_disabled_steps(project):
    report = side.side_import(project=project, author=None, content=side_bytes(_login_project()), filename="a.side")

    assert (report.created, report.updated) == (2, 0)
    login = TestCase.objects.get(project=project, name="Log in")
    steps = list(login.steps.order_by("order_index"))
    assert [s.action for s in steps] == ["open", "type", "click", "assert_text", "verify_title", "run"]
    typing = steps[1]
    assert (typing.selector_type, typing.selector, typing.value) == ("id", "user", "ann")
    assert typing.targets == [["css", "#user"], ["xpath", "//input[@id='user']"]]
    assert typing.description == "the user field"
    assert (steps[5].value, login.status, login.metadata["side"]["id"]) == ("Log out", "active", "test-0")
    logout = list(TestCase.objects.get(name="Log out").steps.order_by("order_index"))
    assert [(s.action, s.enabled) for s in logout] == [("click", True), ("click", False), ("unsupported", False)]
    assert "debugger" in logout[2].options["reason"]
    assert report.tests[1].warnings == [
        "step 2 ('debugger'): `debugger` pauses Selenium IDE's own player; unattended runs have no one "
        "to resume; imported as a disabled step"
    ]
    suite = TestSuite.objects.get(project=project, name="Smoke")
    assert [e.case.name for e in suite.entries.order_by("order_index")] == ["Log out", "Log in"]
    assert Environment.objects.get(project=project, name="Recorded").base_url == "http://127.0.0.1:9/app"


def test_it_updates_the_cases_it_created_when_the_same_file_comes_again(project):
    side.side_import(project=project, author=None, content=side_bytes(_login_project()))
    changed = _login_project()
    changed["tests"][0]["name"] = "Sign in"
    changed["tests"][0]["commands"][3]["value"] = "Hello"
    report = side.side_import(project=project, author=None, content=side_bytes(changed))

    assert (report.created, report.updated) == (0, 2)
    assert TestCase.objects.filter(project=project).count() == 2
    case = TestCase.objects.get(project=project, metadata__side__id="test-0")
    assert case.name == "Sign in"
    assert case.steps.get(order_index=3).value == "Hello"
    assert TestSuite.objects.filter(project=project).count() == 1


# Selenium IDE's command list (side-model's Commands.ts).
SELENIUM_IDE_COMMANDS = [
    "acceptAlert",
    "acceptConfirmation",
    "addSelection",
    "answerPrompt",
    "assert",
    "assertAlert",
    "assertChecked",
    "assertConfirmation",
    "assertEditable",
    "assertElementPresent",
    "assertElementNotPresent",
    "assertNotChecked",
    "assertNotEditable",
    "assertNotSelectedValue",
    "assertNotText",
    "assertPrompt",
    "assertSelectedValue",
    "assertSelectedLabel",
    "assertText",
    "assertTitle",
    "assertValue",
    "dismissConfirmation",
    "dismissPrompt",
    "check",
    "click",
    "clickAt",
    "close",
    "debugger",
    "do",
    "doubleClick",
    "doubleClickAt",
    "dragAndDropToObject",
    "echo",
    "editContent",
    "else",
    "elseIf",
    "end",
    "executeScript",
    "executeAsyncScript",
    "forEach",
    "if",
    "mouseDown",
    "mouseDownAt",
    "mouseMoveAt",
    "mouseOut",
    "mouseOver",
    "mouseUp",
    "mouseUpAt",
    "open",
    "pause",
    "removeSelection",
    "repeatIf",
    "run",
    "runScript",
    "select",
    "selectFrame",
    "selectWindow",
    "sendKeys",
    "setSpeed",
    "setWindowSize",
    "store",
    "storeAttribute",
    "storeElementCount",
    "storeJson",
    "storeText",
    "storeTitle",
    "storeValue",
    "storeWindowHandle",
    "times",
    "type",
    "uncheck",
    "verify",
    "verifyChecked",
    "verifyEditable",
    "verifyElementPresent",
    "verifyElementNotPresent",
    "verifyNotChecked",
    "verifyNotEditable",
    "verifyNotSelectedValue",
    "verifyNotText",
    "verifySelectedLabel",
    "verifySelectedValue",
    "verifyText",
    "verifyTitle",
    "verifyValue",
    "waitForElementEditable",
    "waitForElementNotEditable",
    "waitForElementNotPresent",
    "waitForElementNotVisible",
    "waitForElementPresent",
    "waitForElementVisible",
    "while",
]


def test_it_maps_every_selenium_ide_command():
    assert set(SELENIUM_IDE_COMMANDS) <= set(side.SIDE_COMMANDS)
    unsupported = sorted(name for name, spec in side.SIDE_COMMANDS.items() if spec.action is None)
    assert unsupported == ["debugger", "setSpeed", "submit"]
    # Each one is either mapped or kept with a reason.
    for name, spec in side.SIDE_COMMANDS.items():
        assert spec.action is None or spec.action in side.step_actions.ACTIONS, name
        assert spec.action is not None or spec.reason, name
    for name in (
        "answerPrompt",
        "assertConfirmation",
        "storeJson",
        "executeAsyncScript",
        "mouseDownAt",
        "dragAndDropToObject",
        "verifyNotSelectedValue",
        "assertNotChecked",
        "forEach",
        "repeatIf",
        "selectFrame",
        "selectWindow",
        "storeWindowHandle",
        "setWindowSize",
        "chooseOkOnNextConfirmation",
    ):
        assert side.SIDE_COMMANDS[name].action, name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (json.dumps({"name": "x"}).encode(), "not a Selenium IDE project"),
        (json.dumps({"version": "1.1", "tests": []}).encode(), "versions 2.0 and 3.0 can be imported"),
        (side_bytes(side_project({"A": [("run", "Nowhere")]})), "runs 'Nowhere', which is not in the file"),
        (
            side_bytes(side_project({"A": [("click", "id=a"), ("fly", "id=b")]})),
            "uses commands Selenium IDE does not have: test 'A' step 1 ('fly')",
        ),
        (side_bytes(side_project({"A": [("run", "B")], "B": [("run", "A")]})), "run would recurse: A → B → A"),
        (side_bytes(side_project({"A": [("if", "true"), ("click", "id=x")]})), "the if block is never closed"),
    ],
)
def test_it_refuses_bad_files_whole(project, content, message):
    baker.make(TestCase, project=project, name="Kept")
    with pytest.raises(ValidationFailed) as raised:
        side.side_import(project=project, author=None, content=content, filename="bad.side")
    assert message in raised.value.message
    assert list(TestCase.objects.filter(project=project).values_list("name", flat=True)) == ["Kept"]
    assert not Environment.objects.filter(project=project).exists()


def test_it_imports_unknown_commands_as_disabled_steps_when_allowed(project):
    content = side_bytes(side_project({"A": [("click", "id=a"), ("fly", "id=b", "high")]}))
    report = side.side_import(project=project, author=None, content=content, allow_unknown=True)
    step = TestCase.objects.get(name="A").steps.get(order_index=1)
    assert (step.action, step.enabled, step.selector, step.value) == ("unsupported", False, "id=b", "high")
    assert "'fly' is not a Selenium IDE command" in report.tests[0].warnings[0]


def test_it_round_trips_ids_names_order_targets_and_values(project):
    original = _login_project(version="3.0")
    original["tests"][0]["commands"].append(command("click", "id=pop", opensWindow=True, windowHandleName="win",
                                                    windowTimeout=2000))  # fmt: skip
    side.side_import(project=project, author=None, content=side_bytes(original))
    exported = side.side_export(project=project).document

    for test_in, test_out in zip(original["tests"], exported["tests"], strict=True):
        assert (test_in["id"], test_in["name"]) == (test_out["id"], test_out["name"])
        for cmd_in, cmd_out in zip(test_in["commands"], test_out["commands"], strict=True):
            for key in ("id", "command", "target", "targets", "value", "comment"):
                assert cmd_in[key] == cmd_out[key], (key, cmd_in)
    assert exported["tests"][0]["commands"][-1]["windowHandleName"] == "win"
    assert [s["tests"] for s in exported["suites"]] == [["test-1", "test-0"]]
    assert exported["url"] == "http://127.0.0.1:9/app"

    other = baker.make(Project, slug="again")
    side.side_import(project=other, author=None, content=side.side_export(project=project).content())
    again = side.side_export(project=other).document
    assert again["tests"] == exported["tests"]


def test_it_exports_own_actions_as_disabled_commands_it_reads_back(project):
    from tests_catalog import services

    services.test_case_create(project=project, author=None, name="Own", steps=[
        {"action": "open", "value": "/"}, {"action": "assert_url", "value": "contains:/"},
        {"action": "assert_count", "selector": "li", "value": "3"},
    ])  # fmt: skip
    export = side.side_export(project=project)
    commands = export.document["tests"][0]["commands"]
    assert [c["command"] for c in commands] == ["open", "//jbts:assert_url", "//jbts:assert_count"]
    assert len(export.warnings) == 2
    other = baker.make(Project, slug="back")
    side.side_import(project=other, author=None, content=export.content())
    steps = TestCase.objects.get(project=other).steps.order_by("order_index")
    assert [(s.action, s.selector_type, s.selector, s.value) for s in steps][1:] == [
        ("assert_url", "css", "", "contains:/"),
        ("assert_count", "css", "li", "3"),
    ]


def test_it_imports_and_exports_from_the_command_line(project, tmp_path, capsys):
    path = tmp_path / "login.side"
    path.write_bytes(side_bytes(_login_project()))
    call_command("import_side", str(path), "--project", "shop", "--base-url", "http://127.0.0.1:8/")
    out = capsys.readouterr().out
    assert "login.side: 2 created, 0 updated, 1 warning(s)" in out
    assert Environment.objects.get(project=project).base_url == "http://127.0.0.1:8/"
    target = tmp_path / "out.side"
    call_command("export_side", "--project", "shop", "--output", str(target))
    assert [t["name"] for t in json.loads(target.read_text())["tests"]] == ["Log in", "Log out"]

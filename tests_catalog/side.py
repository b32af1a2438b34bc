"""Selenium IDE projects (.side files) in and out.

A .side file is JSON: `{"id", "version", "name", "url", "tests": [{"id", "name", "commands":
[{"id", "comment", "command", "target", "targets", "value"}]}], "suites": [{"id", "name",
"tests": [test ids]}]}`. Versions 2.0 (Selenium IDE 3) and 3.0 (Selenium IDE 4) share that shape.

Every command of Selenium IDE's list is in SIDE_COMMANDS: either mapped onto a registry action
(with how its target and value become our selector and value), or kept as a disabled
`unsupported` step with the reason, so an import never loses a command silently. Commands
outside the list (typos, plugins) stop the import unless the caller allows them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from jbtestsuite.errors import ValidationFailed
from tests_catalog import services, step_actions
from tests_catalog.models import Environment, Project, TestCase, TestSuite

SIDE_VERSIONS = ("2.0", "3.0")
EXPORT_VERSION = "2.0"  # opened by Selenium IDE 3 and 4 and by selenium-side-runner
# How we mark, in an exported file, an action Selenium IDE has no command for: a disabled
# command (`//` is Selenium IDE's own "commented out"), which our importer reads back.
OWN_ACTION_PREFIX = "//jbts:"


class SideFormatError(ValidationFailed):
    """The file is not a Selenium IDE project we can read."""


# --- How a command's target and value become a step, and back ----------------------------


@dataclass(frozen=True)
class Shape:
    """Conversions between (target, value) and a step's (selector_type, selector, value, extras)."""

    to_step: Callable[[str, str], dict]
    to_side: Callable[[dict], tuple[str, str]]


class UnreadableLocator(ValueError):
    pass


def _locator(target: str) -> tuple[str, str]:
    parsed = step_actions.locator_parse(target)
    if parsed is None:
        raise UnreadableLocator(f"the locator {target!r} is not one of css=, xpath=, id=, name=, linkText=, "
                                f"partialLinkText= or //xpath")  # fmt: skip
    return parsed


def _side_locator(step: dict) -> str:
    return step_actions.locator_format(step.get("selector_type") or "css", step.get("selector") or "")


def _exact(value: str) -> str:
    """Selenium IDE compares texts exactly; our default is exact too, unless the text starts like a mode."""
    if value.startswith(tuple(f"{mode}:" for mode in step_actions.EXPECTATION_MODES)):
        return "equals:" + value
    return value


def _unexact(value: str) -> str:
    return value.removeprefix("equals:")


def _element(value_map=None, value_back=None) -> Shape:
    def to_step(target: str, value: str) -> dict:
        selector_type, selector = _locator(target)
        return {"selector_type": selector_type, "selector": selector, "value": value_map(value) if value_map else value}

    def to_side(step: dict) -> tuple[str, str]:
        value = step.get("value") or ""
        return _side_locator(step), value_back(value) if value_back else value

    return Shape(to_step, to_side)


def _element_with_wait() -> Shape:
    """Wait commands give their timeout (ms) as the value; ours is the step's timeout."""

    def to_step(target: str, value: str) -> dict:
        selector_type, selector = _locator(target)
        step = {"selector_type": selector_type, "selector": selector, "value": ""}
        if value.strip().isdigit() and 0 < int(value) <= 600_000:
            step["timeout_ms"] = int(value)
        return step

    def to_side(step: dict) -> tuple[str, str]:
        return _side_locator(step), str(step.get("timeout_ms") or "")

    return Shape(to_step, to_side)


def _target_as_value(value_map=None, value_back=None) -> Shape:
    return Shape(
        lambda target, value: {"selector": "", "value": value_map(target) if value_map else target},
        lambda step: ((value_back(step.get("value") or "") if value_back else step.get("value") or ""), ""),
    )


def _loop_with_limit(condition_in_target: bool = True) -> Shape:
    """while/times: the target is the condition or count, the value an optional iteration limit."""

    def to_step(target: str, value: str) -> dict:
        step: dict = {"selector": "", "value": target}
        if value.strip().isdigit():
            step["options"] = {"loop_limit": int(value)}
        return step

    def to_side(step: dict) -> tuple[str, str]:
        limit = (step.get("options") or {}).get("loop_limit")
        return step.get("value") or "", str(limit) if limit else ""

    return Shape(to_step, to_side)


_NONE = Shape(lambda target, value: {"selector": "", "value": ""}, lambda step: ("", ""))
# execute script: the script is the target, the variable (optional) the value.
_SCRIPT = Shape(
    lambda target, value: {"selector": value.strip(), "value": target},
    lambda step: (step.get("value") or "", step.get("selector") or ""),
)
# store / store title / store window handle / store json …
_STORE = Shape(
    lambda target, value: {"selector": "", "value": f"{value.strip()}={target}"},
    lambda step: (step["value"].partition("=")[2], step["value"].partition("=")[0]),
)
_VARIABLE_IN_TARGET = Shape(
    lambda target, value: {"selector": "", "value": target.strip()},
    lambda step: (step.get("value") or "", ""),
)
_SELECTOR_AND_VALUE = Shape(
    lambda target, value: {"selector": target.strip(), "value": value},
    lambda step: (step.get("selector") or "", step.get("value") or ""),
)
_STORE_JSON = Shape(
    lambda target, value: {"selector": value.strip(), "value": target},
    lambda step: (step.get("value") or "", step.get("selector") or ""),
)


def _attribute_to_step(target: str, value: str) -> dict:
    element, sep, attribute = target.rpartition("@")
    if not sep:
        raise UnreadableLocator(f"{target!r} is not locator@attribute")
    selector_type, selector = _locator(element)
    return {"selector_type": selector_type, "selector": selector, "value": f"{attribute}={value.strip()}"}


def _attribute_to_side(step: dict) -> tuple[str, str]:
    attribute, _, variable = (step.get("value") or "").partition("=")
    return f"{_side_locator(step)}@{attribute}", variable


_STORE_ATTRIBUTE = Shape(_attribute_to_step, _attribute_to_side)


def _frame_to_step(target: str, value: str) -> dict:
    if target == "relative=top":
        return {"selector": "", "value": ""}
    if target == "relative=parent":
        return {"selector": "", "value": "parent"}
    if target.startswith("index="):
        return {"selector": "", "value": target}
    selector_type, selector = _locator(target)
    return {"selector_type": selector_type, "selector": selector, "value": ""}


def _frame_to_side(step: dict) -> tuple[str, str]:
    if step.get("selector"):
        return _side_locator(step), ""
    value = step.get("value") or ""
    return ("relative=parent" if value == "parent" else value or "relative=top"), ""


_FRAME = Shape(_frame_to_step, _frame_to_side)


def _plan(answer: str) -> Shape:
    if answer == "answer":
        return Shape(lambda target, value: {"selector": "", "value": f"answer={target}"},
                     lambda step: ((step.get("value") or "").removeprefix("answer="), ""))  # fmt: skip
    return Shape(lambda target, value: {"selector": "", "value": answer}, lambda step: ("", ""))


@dataclass(frozen=True)
class SideCommand:
    action: str | None  # None: Selenium IDE has it, we cannot run it (see `reason`)
    shape: Shape = _NONE
    reason: str = ""


def _unsupported(reason: str) -> SideCommand:
    return SideCommand(None, reason=reason)


_EXACT = _element(_exact, _unexact)

# Selenium IDE's command list (side-model Commands.ts, plus the 2.0-era names it renamed), each
# with the action it runs as. The first command naming an action is the one export writes.
SIDE_COMMANDS: dict[str, SideCommand] = {
    # control flow
    "if": SideCommand("if", _target_as_value()),
    "elseIf": SideCommand("else_if", _target_as_value()),
    "else": SideCommand("else"),
    "end": SideCommand("end"),
    "while": SideCommand("while", _loop_with_limit()),
    "do": SideCommand("do"),
    "repeatIf": SideCommand("repeat_if", _loop_with_limit()),
    "times": SideCommand("times", _loop_with_limit()),
    "forEach": SideCommand("for_each", _SELECTOR_AND_VALUE),
    "run": SideCommand("run", _target_as_value()),
    # navigation and windows
    "open": SideCommand("open", _target_as_value()),
    "selectWindow": SideCommand("switch_window", _target_as_value()),
    "close": SideCommand("close_window"),
    "setWindowSize": SideCommand("set_window_size", _target_as_value()),
    "selectFrame": SideCommand("switch_frame", _FRAME),
    # interaction
    "click": SideCommand("click", _element()),
    "clickAt": SideCommand("click_at", _element()),
    "doubleClick": SideCommand("double_click", _element()),
    "doubleClickAt": SideCommand("double_click_at", _element()),
    "type": SideCommand("type", _element()),
    "sendKeys": SideCommand("send_keys", _element()),
    "editContent": SideCommand("edit_content", _element()),
    "select": SideCommand("select", _element()),
    "addSelection": SideCommand("add_selection", _element()),
    "removeSelection": SideCommand("remove_selection", _element()),
    "check": SideCommand("check", _element()),
    "uncheck": SideCommand("uncheck", _element()),
    "mouseOver": SideCommand("hover", _element()),
    "mouseOut": SideCommand("mouse_out", _element()),
    "mouseDown": SideCommand("mouse_down", _element()),
    "mouseDownAt": SideCommand("mouse_down_at", _element()),
    "mouseUp": SideCommand("mouse_up", _element()),
    "mouseUpAt": SideCommand("mouse_up_at", _element()),
    "mouseMoveAt": SideCommand("mouse_move_at", _element()),
    "dragAndDropToObject": SideCommand("drag_and_drop", _element()),
    "submit": _unsupported("Selenium IDE itself refuses `submit` under WebDriver; re-record it as a click."),
    # dialogs
    "acceptAlert": SideCommand("accept_alert"),
    "acceptConfirmation": SideCommand("accept_alert"),
    "dismissConfirmation": SideCommand("dismiss_alert"),
    "dismissPrompt": SideCommand("dismiss_alert"),
    "answerPrompt": SideCommand("answer_prompt", _target_as_value()),
    "webdriverAnswerOnVisiblePrompt": SideCommand("answer_prompt", _target_as_value()),
    "webdriverChooseOkOnVisibleConfirmation": SideCommand("accept_alert"),
    "webdriverChooseCancelOnVisibleConfirmation": SideCommand("dismiss_alert"),
    "webdriverChooseCancelOnVisiblePrompt": SideCommand("dismiss_alert"),
    "answerOnNextPrompt": SideCommand("plan_dialog", _plan("answer")),
    "chooseOkOnNextConfirmation": SideCommand("plan_dialog", _plan("accept")),
    "chooseCancelOnNextConfirmation": SideCommand("plan_dialog", _plan("dismiss")),
    "chooseCancelOnNextPrompt": SideCommand("plan_dialog", _plan("dismiss")),
    "assertAlert": SideCommand("assert_alert", _target_as_value()),
    "assertConfirmation": SideCommand("assert_alert", _target_as_value()),
    "assertPrompt": SideCommand("assert_alert", _target_as_value()),
    # waits
    "pause": SideCommand("pause", _target_as_value()),
    "waitForElementPresent": SideCommand("wait_for_element_present", _element_with_wait()),
    "waitForElementNotPresent": SideCommand("wait_for_element_absent", _element_with_wait()),
    "waitForElementVisible": SideCommand("wait_for_visible", _element_with_wait()),
    "waitForElementNotVisible": SideCommand("wait_for_hidden", _element_with_wait()),
    "waitForElementEditable": SideCommand("wait_for_editable", _element_with_wait()),
    "waitForElementNotEditable": SideCommand("wait_for_not_editable", _element_with_wait()),
    "waitForText": SideCommand("wait_for_text", _element()),
    # variables and scripts
    "store": SideCommand("set_variable", _STORE),
    "storeText": SideCommand("store_text", _element()),
    "storeValue": SideCommand("store_value", _element()),
    "storeAttribute": SideCommand("store_attribute", _STORE_ATTRIBUTE),
    "storeTitle": SideCommand("store_title", _VARIABLE_IN_TARGET),
    "storeJson": SideCommand("store_json", _STORE_JSON),
    "storeElementCount": SideCommand("store_element_count", _element()),
    "storeXpathCount": SideCommand("store_element_count", _element()),
    "storeWindowHandle": SideCommand("store_window_handle", _VARIABLE_IN_TARGET),
    "executeScript": SideCommand("execute_script", _SCRIPT),
    "executeAsyncScript": SideCommand("execute_async_script", _SCRIPT),
    "runScript": SideCommand("run_script", _target_as_value()),
    "echo": SideCommand("echo", _target_as_value()),
    "debugger": _unsupported("`debugger` pauses Selenium IDE's own player; unattended runs have no one to resume."),
    "setSpeed": _unsupported("`set speed` slows Selenium IDE's player between commands; our runs wait on the page."),
    # assertions (and their soft verify twins)
    "assert": SideCommand("assert_variable", _SELECTOR_AND_VALUE),
    "verify": SideCommand("verify_variable", _SELECTOR_AND_VALUE),
    "assertTitle": SideCommand("assert_title", _target_as_value(_exact, _unexact)),
    "verifyTitle": SideCommand("verify_title", _target_as_value(_exact, _unexact)),
}
for _name, _action, _shape in (
    ("Text", "text", _EXACT), ("NotText", "not_text", _EXACT), ("Value", "value", _EXACT),
    ("ElementPresent", "element_present", _element()), ("ElementNotPresent", "element_absent", _element()),
    ("Checked", "checked", _element()), ("NotChecked", "not_checked", _element()),
    ("Editable", "editable", _element()), ("NotEditable", "not_editable", _element()),
    ("SelectedValue", "selected_value", _EXACT), ("NotSelectedValue", "not_selected_value", _EXACT),
    ("SelectedLabel", "selected_label", _EXACT),
):  # fmt: skip
    SIDE_COMMANDS[f"assert{_name}"] = SideCommand(f"assert_{_action}", _shape)
    SIDE_COMMANDS[f"verify{_name}"] = SideCommand(f"verify_{_action}", _shape)

# The command export writes for each action (the first one listed that runs it).
SIDE_COMMAND_OF: dict[str, str] = {}
for _command, _spec in SIDE_COMMANDS.items():
    if _spec.action and _spec.action not in SIDE_COMMAND_OF:
        SIDE_COMMAND_OF[_spec.action] = _command


def command_to_step(command: dict) -> tuple[dict, str | None]:
    """One .side command as a step dict; the second item is a warning when it cannot run here."""
    name = str(command.get("command") or "")
    target = str(command.get("target") or "")
    value = str(command.get("value") or "")
    disabled = name.startswith("//")
    bare = name[2:] if disabled else name
    options: dict = {"side_id": str(command.get("id") or ""), "side_command": name}
    for key, option in (("opensWindow", "opens_window"), ("windowHandleName", "window_handle_name"),
                        ("windowTimeout", "window_timeout_ms")):  # fmt: skip
        if command.get(key) not in (None, "", False):
            options[option] = command[key]
    side_targets = command.get("targets") or []
    if side_targets:
        options["side_targets"] = side_targets
    step: dict = {"description": str(command.get("comment") or "")[:500], "options": options}

    if bare.startswith("jbts:") and bare[len("jbts:") :] in step_actions.ACTIONS:
        # One of our own actions, exported by us: the fields travel as they are.
        step.update(action=bare[len("jbts:") :], selector=target, value=value)
        selector_type, _, selector = target.partition("=")
        if selector_type in step_actions.SELECTOR_TYPES and step_actions.ACTIONS[step["action"]].selector_is_element:
            step.update(selector_type=selector_type, selector=selector)
        return step, None

    spec = SIDE_COMMANDS.get(bare)
    reason = None
    if spec is not None and spec.action is not None:
        try:
            step.update(action=spec.action, **spec.shape.to_step(target, value))
        except UnreadableLocator as error:
            reason = f"{bare}: {error}"
        else:
            step["targets"] = _alternates(side_targets, step)
            if disabled:
                step["enabled"] = False
            return step, None
    elif spec is not None:
        reason = spec.reason
    step.update(action="unsupported", selector=target, value=value, enabled=False, targets=[])
    options["reason"] = reason or f"{bare!r} is not a Selenium IDE command"
    return step, options["reason"]


def _alternates(side_targets: Sequence, step: dict) -> list[list[str]]:
    """The .side `targets` other than the main locator, in order, as [selector_type, selector]."""
    main = (step.get("selector_type"), step.get("selector"))
    alternates: list[list[str]] = []
    for entry in side_targets:
        locator = entry[0] if isinstance(entry, list | tuple) and entry else entry
        parsed = step_actions.locator_parse(str(locator)) if isinstance(locator, str) else None
        if parsed and parsed != main and list(parsed) not in alternates:
            alternates.append(list(parsed))
    return alternates


def step_to_command(step: dict) -> tuple[dict, str | None]:
    """One step as a .side command; the second item is a warning when Selenium IDE cannot run it."""
    options = step.get("options") or {}
    action = step["action"]
    warning = None
    command_id = options.get("side_id") or str(uuid.uuid4())
    if action == "unsupported":
        name, target, value = options.get("side_command") or "", step.get("selector") or "", step.get("value") or ""
    else:
        name = options.get("side_command", "").removeprefix("//")
        if SIDE_COMMANDS.get(name, SideCommand(None)).action != action:
            name = SIDE_COMMAND_OF.get(action, "")
        if name:
            target, value = SIDE_COMMANDS[name].shape.to_side(step)
            if not step.get("enabled", True):
                name = "//" + name
        else:
            spec = step_actions.ACTIONS[action]
            target = step.get("selector") or ""
            if spec.selector_is_element and target:
                target = f"{step.get('selector_type') or 'css'}={target}"
            value = step.get("value") or ""
            name = OWN_ACTION_PREFIX + action
            warning = f"{action} has no Selenium IDE command; exported as the disabled command {name}"
    command = {"id": command_id, "comment": step.get("description") or "", "command": name,
               "target": target, "targets": _side_targets(step, options), "value": value}  # fmt: skip
    for option, key in (("opens_window", "opensWindow"), ("window_handle_name", "windowHandleName"),
                        ("window_timeout_ms", "windowTimeout")):  # fmt: skip
        if option in options:
            command[key] = options[option]
    return command, warning


def _side_targets(step: dict, options: dict) -> list:
    """The imported `targets` when our alternates still say the same, else ours in .side form."""
    original = options.get("side_targets") or []
    imported = "side_id" in options
    if (original or imported) and _alternates(original, step) == [list(t) for t in step.get("targets") or []]:
        return original
    spec = step_actions.ACTIONS.get(step["action"])
    targets = []
    if spec and spec.selector_is_element and step.get("selector"):
        targets.append([_side_locator(step), step.get("selector_type") or "css"])
    for selector_type, selector in step.get("targets") or []:
        targets.append([step_actions.locator_format(selector_type, selector), selector_type])
    return targets


# --- Reading a file ------------------------------------------------------------------------


def side_parse(content: bytes, *, filename: str = "the file") -> dict:
    """The .side project in `content`, checked for shape. Raises SideFormatError naming the problem."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SideFormatError(f"{filename} is not text (UTF-8 JSON).", {"file": ["Not UTF-8 text."]}) from None
    except ValueError as error:
        message = f"{filename} is not JSON: {error}."
        raise SideFormatError(message, {"file": [message]}) from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list) or "version" not in data:
        message = f"{filename} is JSON but not a Selenium IDE project (no version and tests list)."
        raise SideFormatError(message, {"file": [message]})
    version = str(data["version"])
    if version not in SIDE_VERSIONS:
        message = f"{filename} is a .side version {version}; versions {' and '.join(SIDE_VERSIONS)} can be imported."
        raise SideFormatError(message, {"file": [message]})
    problems = []
    for position, test in enumerate(data["tests"]):
        if not isinstance(test, dict) or not str(test.get("name") or "").strip() or not test.get("id"):
            problems.append(f"test {position + 1} has no id or name")
        elif not isinstance(test.get("commands", []), list) or not all(
            isinstance(c, dict) and isinstance(c.get("command", ""), str) for c in test.get("commands", [])
        ):
            problems.append(f"test {test['name']!r} has commands that are not objects with a command name")
    for position, suite in enumerate(data.get("suites") or []):
        if not isinstance(suite, dict) or not str(suite.get("name") or "").strip():
            problems.append(f"suite {position + 1} has no name")
        elif not isinstance(suite.get("tests", []), list):
            problems.append(f"suite {suite['name']!r} has no list of tests")
    names = [str(test.get("name")) for test in data["tests"] if isinstance(test, dict)]
    problems += [f"two tests are called {name!r}" for name in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        message = f"{filename} is not a valid Selenium IDE project: {'; '.join(problems)}."
        raise SideFormatError(message, {"file": problems})
    return data


@dataclass
class TestImport:
    __test__ = False

    name: str
    outcome: str  # created or updated
    case_id: str
    steps: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class SideImportReport:
    filename: str
    project: str
    environment: str = ""
    tests: list[TestImport] = field(default_factory=list)
    suites: list[dict] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(test.outcome == "created" for test in self.tests)

    @property
    def updated(self) -> int:
        return sum(test.outcome == "updated" for test in self.tests)

    @property
    def warnings(self) -> int:
        return sum(len(test.warnings) for test in self.tests)

    def as_dict(self) -> dict:
        return {
            "file": self.filename,
            "project": self.project,
            "environment": self.environment,
            "created": self.created,
            "updated": self.updated,
            "warnings": self.warnings,
            "tests": [test.__dict__ for test in self.tests],
            "suites": self.suites,
        }

    def lines(self) -> list[str]:
        lines = [f"{self.filename}: {self.created} created, {self.updated} updated, {self.warnings} warning(s)"]
        for test in self.tests:
            lines.append(f"  {test.outcome:8} {test.name} ({test.steps} steps)")
            lines += [f"    warning: {warning}" for warning in test.warnings]
        lines += [
            f"  suite    {suite['name']} ({suite['outcome']}, {len(suite['tests'])} tests)" for suite in self.suites
        ]
        return lines


def _side_category(project_name: str) -> str:
    return f"Selenium IDE: {project_name}"[:100]


@transaction.atomic
def side_import(
    *, project: Project, author, content: bytes, filename: str = "the file", base_url: str | None = None,
    allow_unknown: bool = False,
) -> SideImportReport:  # fmt: skip
    """Import one .side file into the project, all or nothing.

    Tests become cases (matched on later imports by their .side id, so importing again updates
    them), suites become suites in order, the project URL becomes an environment. Raises
    SideFormatError for a file that is not a readable .side project, ValidationFailed for
    unknown commands (unless allow_unknown), a `run` of a missing test, a recursion or a step
    our registry refuses; nothing is stored then.
    """
    data = side_parse(content, filename=filename)
    side_name = str(data.get("name") or filename)[:200]
    report = SideImportReport(filename=filename, project=project.slug)

    converted: list[tuple[dict, list[dict], list[str]]] = []
    unknown: list[str] = []
    test_names = {str(test["id"]): str(test["name"]).strip() for test in data["tests"]}
    missing_runs: list[str] = []
    for test in data["tests"]:
        steps, warnings = [], []
        for index, command in enumerate(test.get("commands", [])):
            step, warning = command_to_step(command)
            steps.append(step)
            if warning:
                where = f"step {index} ({command.get('command')!r})"
                warnings.append(f"{where}: {warning.rstrip('.')}; imported as a disabled step")
                bare = str(command.get("command") or "").removeprefix("//")
                if bare not in SIDE_COMMANDS:
                    unknown.append(f"test {test['name']!r} {where}")
            runs = step["action"] == "run" and step.get("enabled", True) and "${" not in step["value"]
            if runs and step["value"].strip() not in test_names.values() and not _case_exists(project, step["value"]):
                missing_runs.append(f"test {test['name']!r} step {index} runs {step['value']!r}")
        converted.append((test, steps, warnings))
    if unknown and not allow_unknown:
        message = f"{filename} uses commands Selenium IDE does not have: {'; '.join(unknown)}. Nothing was imported."
        raise ValidationFailed(message, {"file": unknown})
    if missing_runs:
        message = (
            f"{filename}: {'; '.join(missing_runs)}, which is not in the file or the project. Nothing was imported."
        )
        raise ValidationFailed(message, {"file": missing_runs})

    url = (base_url or str(data.get("url") or "")).strip()
    if url:
        environment = Environment.objects.filter(project=project, name=side_name[:100]).first()
        if environment is None:
            environment = services.environment_create(project=project, name=side_name[:100], base_url=url)
        elif environment.base_url != url:
            services.environment_update(environment=environment, base_url=url)
        report.environment = environment.name

    existing = {
        str((case.metadata.get("side") or {}).get("id")): case
        for case in TestCase.objects.filter(project=project, metadata__side__isnull=False)
    }
    cases_by_test: dict[str, TestCase] = {}
    for test, steps, warnings in converted:
        test_id, name = str(test["id"]), str(test["name"]).strip()[:255]
        metadata = {"side": {"id": test_id, "project_id": str(data.get("id") or ""), "project": side_name}}
        case = existing.get(test_id)
        try:
            with transaction.atomic():
                if case is None:
                    case = services.test_case_create(
                        project=project, author=author, name=name, category=_side_category(side_name),
                        status=TestCase.Status.ACTIVE, metadata=metadata, description=f"Imported from {filename}.",
                    )  # fmt: skip
                    outcome = "created"
                else:
                    services.test_case_update(case=case, name=name, metadata={**case.metadata, **metadata})
                    outcome = "updated"
                services.test_case_steps_replace(case=case, steps=steps, check_runs=False)
        except ValidationFailed as error:
            raise ValidationFailed(f"{filename}, test {name!r}: {error.message}", {"file": [error.message]}) from None
        cases_by_test[test_id] = case
        report.tests.append(TestImport(name, outcome, str(case.pk), len(steps), warnings))

    # Every case of the file exists now, so `run` references (and their recursion) can be checked.
    for test, steps, _ in converted:
        case = cases_by_test[str(test["id"])]
        errors = services.run_references_errors(project_id=project.pk, case_name=case.name, steps=steps)
        if errors:
            first = min(errors, key=int)
            detail = next(iter(errors[first].values()))[0]
            message = f"{filename}, test {case.name!r}: {detail} Nothing was imported."
            raise ValidationFailed(message, {"file": [detail]})

    for suite_data in data.get("suites") or []:
        report.suites.append(_suite_import(project, suite_data, cases_by_test, test_names))
    return report


def _case_exists(project: Project, name: str) -> bool:
    live = TestCase.objects.filter(project=project, name=name.strip())
    return live.exclude(status=TestCase.Status.ARCHIVED).exists()


def _suite_import(project: Project, suite_data: dict, cases_by_test: dict, test_names: dict) -> dict:
    suite_id, name = str(suite_data.get("id") or ""), str(suite_data["name"]).strip()[:255]
    case_ids, missing = [], []
    for test_id in suite_data.get("tests") or []:
        case = cases_by_test.get(str(test_id))
        if case is None:
            missing.append(str(test_id))
        elif case.pk not in case_ids:
            case_ids.append(case.pk)
    if missing:
        message = f"suite {name!r} lists tests that are not in the file: {', '.join(missing)}. Nothing was imported."
        raise ValidationFailed(message, {"file": [message]})
    suite = TestSuite.objects.filter(project=project, metadata__side__id=suite_id).first() if suite_id else None
    suite = suite or TestSuite.objects.filter(project=project, name=name).first()
    metadata = {
        "side": {
            "id": suite_id,
            "persist_session": bool(suite_data.get("persistSession")),
            "parallel": bool(suite_data.get("parallel")),
            "timeout": suite_data.get("timeout"),
        }
    }
    if suite is None:
        suite = services.suite_create(project=project, name=name, case_ids=case_ids)
        outcome = "created"
    else:
        services.suite_update(suite=suite, name=name, case_ids=case_ids)
        outcome = "updated"
    TestSuite.objects.filter(pk=suite.pk).update(metadata={**suite.metadata, **metadata})
    return {
        "name": name,
        "outcome": outcome,
        "suite_id": str(suite.pk),
        "tests": [test_names.get(str(t), str(t)) for t in suite_data.get("tests") or []],
    }


# --- Writing a file ------------------------------------------------------------------------


@dataclass
class SideExport:
    document: dict
    warnings: list[str]

    def content(self) -> bytes:
        return (json.dumps(self.document, indent=2, ensure_ascii=False) + "\n").encode()


def side_export(
    *, project: Project, cases: Sequence[TestCase] | None = None, base_url: str | None = None
) -> SideExport:
    """The project's cases (or the given ones, with the cases their `run` steps call) as a .side project.

    Ids, names, order, targets and values come back as they were imported; suites whose cases
    are all exported go with them.
    """
    if cases is None:
        chosen = list(TestCase.objects.filter(project=project).exclude(status=TestCase.Status.ARCHIVED))
    else:
        chosen = list(cases)
        by_name = {case.name: case for case in TestCase.objects.filter(project=project)
                   .exclude(status=TestCase.Status.ARCHIVED)}  # fmt: skip
        names = {case.name for case in chosen}
        pending = list(chosen)
        while pending:
            for called in services._run_names(pending.pop().steps.all()):
                if called in by_name and called not in names:
                    names.add(called)
                    chosen.append(by_name[called])
                    pending.append(by_name[called])
    chosen.sort(key=lambda case: case.created_at)
    sides = [case.metadata.get("side") or {} for case in chosen]
    side_project = next((side for side in sides if side.get("project_id")), {})
    environment = Environment.objects.filter(project=project, name=side_project.get("project", "")).first()
    url = base_url or (environment.base_url if environment else "") or project.base_url
    warnings: list[str] = []
    tests, test_id_of = [], {}
    for case, side in zip(chosen, sides, strict=True):
        commands = []
        for step in case.steps.order_by("order_index"):
            command, warning = step_to_command(step.as_spec())
            commands.append(command)
            if warning:
                warnings.append(f"{case.name}, step {step.order_index}: {warning}")
        test_id = side.get("id") or str(case.pk)
        test_id_of[case.pk] = test_id
        tests.append({"id": test_id, "name": case.name, "commands": commands})
    suites = []
    for suite in TestSuite.objects.filter(project=project).prefetch_related("entries").order_by("created_at"):
        entries = sorted(suite.entries.all(), key=lambda entry: entry.order_index)
        if entries and all(entry.case_id in test_id_of for entry in entries):
            side = suite.metadata.get("side") or {}
            suites.append({
                "id": side.get("id") or str(suite.pk), "name": suite.name,
                "persistSession": side.get("persist_session", False), "parallel": side.get("parallel", False),
                "timeout": side.get("timeout") or 300, "tests": [test_id_of[entry.case_id] for entry in entries],
            })  # fmt: skip
    document = {
        "id": side_project.get("project_id") or str(project.pk),
        "version": EXPORT_VERSION,
        "name": side_project.get("project") or project.name,
        "url": url,
        "tests": tests,
        "suites": suites,
        "urls": [url] if url else [],
        "plugins": [],
    }
    return SideExport(document, warnings)

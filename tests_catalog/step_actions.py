"""The step vocabulary: every action a test step may use, and how it reads its fields.

This is the one registry. Validation, admin, API schema, the runner, importers and the AI
assistant read it; none of them keeps its own list. It is pure Python on purpose so that the
runner (which must not import Django) and the Django side share it.

A step has four user-written fields besides its action: `selector_type`, `selector`, `value` and
a timeout. Each action says, for `selector` and `value`, whether the field is required, optional
or unused, and what the field means for that action (for most actions the selector names an
element, but `execute_script` uses it as the name of a variable to store the result in).

Variables written `${name}` may appear in the selector and value (URLs included). Their values
are only known when the step runs, so format checks skip any part that contains `${`; the runner
repeats these checks after substitution.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import cssselect
from lxml import etree

from tests_catalog.browser_targets import browser_target_error

REQUIRED = "required"
OPTIONAL = "optional"
UNUSED = "unused"

# How a selector names an element. `text` is ours, not WebDriver's: see TEXT_SELECTOR_MEANING.
SELECTOR_TYPES: tuple[str, ...] = ("css", "xpath", "id", "name", "link_text", "partial_link_text", "tag", "text")
DEFAULT_SELECTOR_TYPE = "css"
TEXT_SELECTOR_MEANING = (
    "the innermost element inside <body> whose whitespace-normalised text equals the selector; "
    "if no element's text equals it, the innermost element whose text contains it"
)

PAUSE_MAX_MS = 30_000

# Names match selenium's Keys attributes so the runner can look them up without a second table.
KEY_NAMES: tuple[str, ...] = (
    "ENTER", "RETURN", "TAB", "ESCAPE", "SPACE", "BACKSPACE", "DELETE", "INSERT",
    "HOME", "END", "PAGE_UP", "PAGE_DOWN", "ARROW_UP", "ARROW_DOWN", "ARROW_LEFT", "ARROW_RIGHT",
    "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12",
)  # fmt: skip
MODIFIER_KEY_NAMES: tuple[str, ...] = ("SHIFT", "CONTROL", "ALT", "META")

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIABLE_REFERENCE = re.compile(r"\$\{([^}]*)\}")

EXPECTATION_MODES = ("equals", "contains", "regex")


@dataclass(frozen=True)
class FieldUse:
    """How one action uses one step field (`selector` or `value`)."""

    use: str  # REQUIRED, OPTIONAL or UNUSED
    meaning: str = ""

    @property
    def is_used(self) -> bool:
        return self.use != UNUSED


NOT_USED = FieldUse(UNUSED)
ELEMENT = FieldUse(REQUIRED, "the element")


@dataclass(frozen=True)
class Action:
    name: str
    category: str  # navigation, interaction, frames_windows, wait, assertion, variables, utility
    doc: str
    selector: FieldUse
    value: FieldUse
    # False when the selector is not an element (execute_script's variable name), so
    # `selector_type` does not apply to it.
    selector_is_element: bool = True
    # Checks the value's format; returns a human message or None. Never sees `${...}` values.
    value_check: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Expectation:
    """An expected text as QA writes it: `exact`, `contains:part` or `regex:pattern`."""

    mode: str
    expected: str

    def matches(self, actual: str) -> bool:
        if self.mode == "contains":
            return self.expected in actual
        if self.mode == "regex":
            return re.search(self.expected, actual) is not None
        return actual == self.expected

    def describe(self) -> str:
        if self.mode == "equals":
            return f"equal to {self.expected!r}"
        if self.mode == "contains":
            return f"containing {self.expected!r}"
        return f"matching /{self.expected}/"


def expectation_parse(value: str) -> Expectation:
    """Read `contains:`/`regex:` prefixes; `equals:` lets an exact text start with a prefix word."""
    for mode in EXPECTATION_MODES:
        prefix = f"{mode}:"
        if value.startswith(prefix):
            return Expectation(mode, value[len(prefix) :])
    return Expectation("equals", value)


def name_value_split(value: str) -> tuple[str, str] | None:
    """Split `name=rest` at the first `=`; the rest may itself contain `=`."""
    name, sep, rest = value.partition("=")
    if not sep:
        return None
    return name.strip(), rest


def key_chord_parse(value: str) -> tuple[list[str], str] | None:
    """Read `ENTER`, `a`, `CONTROL+a` or `SHIFT+TAB` into (modifiers, key); None if unknown."""
    parts = value.split("+") if value != "+" else ["+"]
    *modifiers, key = parts
    if any(m.upper() not in MODIFIER_KEY_NAMES for m in modifiers):
        return None
    if key.upper() in KEY_NAMES:
        key = key.upper()
    elif len(key) != 1:
        return None
    return [m.upper() for m in modifiers], key


# Value checks. Each returns a message for the `value` field, or None when the value is fine.


def _check_url(value: str) -> str | None:
    if "${" in value:
        return None  # checked again at run time, once substituted
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value.strip()):
        return None  # relative to the base URL
    return browser_target_error(value)


def _check_milliseconds(value: str) -> str | None:
    if not value.strip().isdigit() or int(value) > PAUSE_MAX_MS:
        return f"Must be a whole number of milliseconds from 0 to {PAUSE_MAX_MS}."
    return None


def _check_count(value: str) -> str | None:
    if not value.strip().isdigit():
        return "Must be a whole number, 0 or more."
    return None


def _check_key(value: str) -> str | None:
    if key_chord_parse(value) is None:
        return (
            f"Unknown key {value!r}. Use a single character, one of {', '.join(KEY_NAMES)}, "
            f"optionally after modifiers such as CONTROL+a or SHIFT+TAB."
        )
    return None


def _check_expectation(value: str) -> str | None:
    expectation = expectation_parse(value)
    if expectation.mode == "regex":
        try:
            re.compile(expectation.expected)
        except re.error as error:
            return f"Invalid regular expression: {error}."
    return None


def _check_variable_name(value: str) -> str | None:
    if not VARIABLE_NAME.fullmatch(value):
        return f"{value!r} is not a variable name: use letters, digits and _, not starting with a digit."
    return None


def _check_attribute_expectation(value: str) -> str | None:
    pair = name_value_split(value)
    if pair is None or not pair[0]:
        return "Write the attribute and the expected text as name=expected, e.g. href=contains:/login."
    return _check_expectation(pair[1])


def _check_attribute_to_variable(value: str) -> str | None:
    pair = name_value_split(value)
    if pair is None or not pair[0]:
        return "Write the attribute and the variable as attribute=variable, e.g. href=next_url."
    return _check_variable_name(pair[1].strip())


def _check_assignment(value: str) -> str | None:
    pair = name_value_split(value)
    if pair is None:
        return "Write the variable and its value as name=value."
    return _check_variable_name(pair[0])


def _check_window(value: str) -> str | None:
    if value.strip().lstrip("-").isdigit() and int(value) < 0:
        return "A window index is 0 or more."
    return None


_TEXT_EXPECTATION = "expected text: exact, or contains:part, or regex:pattern"

_ACTION_LIST: tuple[Action, ...] = (
    # Navigation
    Action("open", "navigation", "Open a URL, absolute or relative to the environment's base URL.",
           NOT_USED, FieldUse(REQUIRED, "URL, absolute or relative to the base URL"), value_check=_check_url),
    Action("refresh", "navigation", "Reload the current page.", NOT_USED, NOT_USED),
    Action("back", "navigation", "Go back one page in the browser history.", NOT_USED, NOT_USED),
    # Interaction
    Action("click", "interaction", "Click an element once it is visible and enabled.", ELEMENT, NOT_USED),
    Action("double_click", "interaction", "Double-click an element once it is visible and enabled.",
           ELEMENT, NOT_USED),
    Action("type", "interaction",
           "Replace a field's content as a user would: focus, select all, type (no clear(), so no early blur).",
           ELEMENT, FieldUse(OPTIONAL, "text to type; empty leaves the field empty")),
    Action("clear", "interaction", "Empty a text field (WebDriver clear, which also blurs the field).",
           ELEMENT, NOT_USED),
    Action("press_key", "interaction", "Press a key or chord (ENTER, TAB, CONTROL+a) on an element or the focus.",
           FieldUse(OPTIONAL, "the element to send the key to; empty means the focused element"),
           FieldUse(REQUIRED, "key name, single character, or chord such as CONTROL+a"), value_check=_check_key),
    Action("select", "interaction", "Choose an option of a <select> by its visible text, or value=xyz by value.",
           FieldUse(REQUIRED, "the <select> element"),
           FieldUse(REQUIRED, "option's visible text, or value=xyz for the option's value attribute")),
    Action("check", "interaction", "Make a checkbox or radio checked (through its label if the input is hidden).",
           FieldUse(REQUIRED, "the checkbox or radio <input>"), NOT_USED),
    Action("uncheck", "interaction", "Make a checkbox unchecked (through its label if the input is hidden).",
           FieldUse(REQUIRED, "the checkbox <input>"), NOT_USED),
    Action("hover", "interaction", "Move the mouse over an element.", ELEMENT, NOT_USED),
    Action("scroll_into_view", "interaction", "Scroll until the element is in the middle of the viewport.",
           ELEMENT, NOT_USED),
    # Frames, windows, dialogs
    Action("switch_frame", "frames_windows", "Enter an iframe, or go back to the top document.",
           FieldUse(OPTIONAL, "the <iframe>; empty means the top-level document"), NOT_USED),
    Action("switch_window", "frames_windows", "Switch to another window or tab by index (0 first) or title.",
           NOT_USED, FieldUse(REQUIRED, "window index (0 is the first) or exact window title"),
           value_check=_check_window),
    Action("accept_alert", "frames_windows", "Accept (OK) the open alert, confirm or prompt.", NOT_USED, NOT_USED),
    Action("dismiss_alert", "frames_windows", "Dismiss (Cancel) the open alert, confirm or prompt.",
           NOT_USED, NOT_USED),
    # Waits
    Action("wait_for_visible", "wait", "Wait until the element is visible.", ELEMENT, NOT_USED),
    Action("wait_for_hidden", "wait", "Wait until the element is hidden or gone.", ELEMENT, NOT_USED),
    Action("wait_for_text", "wait", "Wait until the element's text contains the value.",
           ELEMENT, FieldUse(REQUIRED, "text the element's text must contain")),
    Action("wait_for_url", "wait", "Wait until the current URL contains the value.",
           NOT_USED, FieldUse(REQUIRED, "text the URL must contain")),
    Action("pause", "wait", f"Wait a fixed time (at most {PAUSE_MAX_MS} ms); prefer the wait_for_* actions.",
           NOT_USED, FieldUse(REQUIRED, "milliseconds"), value_check=_check_milliseconds),
    # Assertions
    Action("assert_text", "assertion", "The element's visible text is as expected.",
           ELEMENT, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_title", "assertion", "The page title is as expected.",
           NOT_USED, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_url", "assertion", "The current URL is as expected.",
           NOT_USED, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_element_present", "assertion", "An element matching the selector exists.", ELEMENT, NOT_USED),
    Action("assert_element_absent", "assertion", "No element matches the selector.", ELEMENT, NOT_USED),
    Action("assert_visible", "assertion", "The element is visible.", ELEMENT, NOT_USED),
    Action("assert_value", "assertion", "A form field's current value is as expected.",
           ELEMENT, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_attribute", "assertion", "An element's attribute (or property) is as expected.",
           ELEMENT, FieldUse(REQUIRED, "name=expected, where expected is exact, contains:part or regex:pattern"),
           value_check=_check_attribute_expectation),
    Action("assert_count", "assertion", "Exactly this many elements match the selector.",
           FieldUse(REQUIRED, "the elements to count"), FieldUse(REQUIRED, "expected number of elements"),
           value_check=_check_count),
    # Variables
    Action("store_text", "variables", "Store the element's visible text in a variable.",
           ELEMENT, FieldUse(REQUIRED, "variable name"), value_check=_check_variable_name),
    Action("store_value", "variables", "Store a form field's current value in a variable.",
           ELEMENT, FieldUse(REQUIRED, "variable name"), value_check=_check_variable_name),
    Action("store_attribute", "variables", "Store an element's attribute (or property) in a variable.",
           ELEMENT, FieldUse(REQUIRED, "attribute=variable"), value_check=_check_attribute_to_variable),
    Action("set_variable", "variables", "Set a variable for the following steps.",
           NOT_USED, FieldUse(REQUIRED, "name=value"), value_check=_check_assignment),
    # Utility
    Action("execute_script", "utility", "Run JavaScript in the page; optionally store what it returns.",
           FieldUse(OPTIONAL, "variable name to store the script's return value in"),
           FieldUse(REQUIRED, "JavaScript function body; `return x` gives the result"),
           selector_is_element=False),
    Action("screenshot", "utility", "Save a screenshot of the viewport.",
           NOT_USED, FieldUse(OPTIONAL, "label for the screenshot file")),
    Action("echo", "utility", "Write a message into the step's result.", NOT_USED, FieldUse(REQUIRED, "message")),
)  # fmt: skip

ACTIONS: dict[str, Action] = {action.name: action for action in _ACTION_LIST}


def selector_syntax_error(selector_type: str, selector: str) -> str | None:
    """A message when a CSS or XPath selector cannot be parsed, else None.

    Real parsers, not patterns: cssselect reads CSS Selectors level 3/4 as browsers do, lxml
    compiles XPath 1.0 (the browsers' XPath). A selector holding `${...}` is checked only at
    run time, once its variables are known.
    """
    if "${" in selector:
        return None
    if selector_type == "css":
        try:
            cssselect.parse(selector)
        except (cssselect.SelectorError, ValueError) as error:
            return f"Not a valid CSS selector: {error}."
    elif selector_type == "xpath":
        try:
            etree.XPath(selector)
        # ValueError: characters XML cannot hold (control characters, lone surrogates).
        except (etree.XPathSyntaxError, ValueError) as error:
            return f"Not a valid XPath expression: {error}."
    return None


def step_errors(
    action: str, selector_type: str, selector: str, value: str, *, selector_syntax: bool = True
) -> dict[str, list[str]]:
    """Field-keyed messages for everything wrong with a step; empty when the step is valid.

    Fields an action does not use are ignored, not reported: imported cases often carry them.
    `selector_syntax=False` skips the CSS/XPath parse: at run time the browser is the judge.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    spec = ACTIONS.get(action)
    if spec is None:
        add("action", f"Unknown action {action!r}.")
        return errors
    selector = selector or ""
    value = value or ""

    if spec.selector.use == REQUIRED and not selector.strip():
        add("selector", f"{action} needs a selector: {spec.selector.meaning}.")
    if spec.selector.is_used and selector.strip():
        if spec.selector_is_element:
            if selector_type not in SELECTOR_TYPES:
                known = ", ".join(SELECTOR_TYPES)
                add("selector_type", f"Unknown selector type {selector_type!r}; use one of {known}.")
            elif selector_syntax:
                message = selector_syntax_error(selector_type, selector.strip())
                if message:
                    add("selector", message)
        elif "${" not in selector:
            message = _check_variable_name(selector.strip())
            if message:
                add("selector", message)

    if spec.value.use == REQUIRED and not value.strip():
        add("value", f"{action} needs a value: {spec.value.meaning}.")
    elif spec.value.is_used and value and spec.value_check and "${" not in value:
        message = spec.value_check(value)
        if message:
            add("value", message)

    for field, text, use in (("selector", selector, spec.selector), ("value", value, spec.value)):
        if not use.is_used:
            continue
        for name in VARIABLE_REFERENCE.findall(text):
            if not VARIABLE_NAME.fullmatch(name):
                add(field, f"${{{name}}} is not a valid variable reference.")
    return errors

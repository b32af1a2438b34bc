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

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field

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
    # Checks a non-element selector (a variable name unless said otherwise).
    selector_check: Callable[[str], str | None] | None = None
    # The value is JavaScript: `${name}` becomes the variable's value as a JavaScript value
    # (a string literal, a number, an array…), the way Selenium IDE passes variables to scripts.
    value_is_script: bool = False
    # A soft assertion (verify_*): a failure is recorded and the run goes on, still ending failed.
    soft: bool = False
    # What the element must be for a fallback locator to stand in for the main one (see
    # ELEMENT_KINDS); None when the step cannot be healed (an absence, a count).
    element_kind: str | None = "any"


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

# Locators written in one string, as Selenium IDE writes them: `css=#go`, `xpath=//a`, `id=go`,
# `name=q`, `linkText=Home`, `partialLinkText=Hom`; a bare `//a` is XPath. Used where a step
# needs a second element (drag and drop's destination) and by the .side importer and exporter.
LOCATOR_PREFIXES: dict[str, str] = {
    "css": "css", "xpath": "xpath", "id": "id", "name": "name", "linkText": "link_text", "link": "link_text",
    "partialLinkText": "partial_link_text", "tag": "tag", "text": "text",
}  # fmt: skip
LOCATOR_PREFIX_OF: dict[str, str] = {
    "css": "css", "xpath": "xpath", "id": "id", "name": "name", "link_text": "linkText",
    "partial_link_text": "partialLinkText", "tag": "tag", "text": "text",
}  # fmt: skip


def locator_parse(locator: str) -> tuple[str, str] | None:
    """(selector_type, selector) of a one-string locator, or None when it names no known kind."""
    locator = locator.strip()
    if locator.startswith(("//", "(")):
        return "xpath", locator
    prefix, sep, rest = locator.partition("=")
    if not sep or prefix not in LOCATOR_PREFIXES or not rest:
        return None
    return LOCATOR_PREFIXES[prefix], rest


def locator_format(selector_type: str, selector: str) -> str:
    return f"{LOCATOR_PREFIX_OF.get(selector_type, selector_type)}={selector}"


def _check_locator(value: str) -> str | None:
    if locator_parse(value) is None:
        return "Write the element as type=selector, e.g. css=#bin, id=bin, xpath=//div[@id='bin']."
    return None


def _check_frame_target(value: str) -> str | None:
    if value and value != "parent" and not re.fullmatch(r"index=\d+", value):
        return "Use parent, or index=N (0 is the first frame), or leave empty."
    return None


def _check_coordinates(value: str) -> str | None:
    if value and not re.fullmatch(r"\s*-?\d+\s*,\s*-?\d+\s*", value):
        return "Write the point as x,y in pixels from the element's top-left corner, e.g. 10,5."
    return None


def _check_window_size(value: str) -> str | None:
    if not re.fullmatch(r"\d+x\d+", value.strip()):
        return "Write the size as WIDTHxHEIGHT in pixels, e.g. 1280x800."
    return None


def _check_json(value: str) -> str | None:
    try:
        json.loads(value)
    except ValueError as error:
        return f"Not JSON: {error}."
    return None


def _check_times(value: str) -> str | None:
    if not value.strip().isdigit():
        return "Must be a whole number of times, 0 or more (or a ${variable})."
    return None


def _check_option(value: str) -> str | None:
    if value.startswith("index=") and not value[len("index=") :].strip().isdigit():
        return "index= takes a whole number (0 is the first option)."
    return None


def _check_dialog_plan(value: str) -> str | None:
    if value not in ("accept", "dismiss") and not value.startswith("answer="):
        return "Use accept, dismiss, or answer=<text for a prompt>."
    return None


_CONDITION = FieldUse(REQUIRED, "JavaScript expression run in the page; ${name} is the variable's value")
_OPTION = FieldUse(REQUIRED, "option's visible text, or label=…, value=…, index=N or id=…")
_POINT = FieldUse(OPTIONAL, "x,y in pixels from the element's top-left corner; empty means its centre")
_VARIABLE = FieldUse(REQUIRED, "variable name")
_OPTIONAL_VARIABLE = FieldUse(OPTIONAL, "variable name to store the result in")

# Selenium IDE's families the first vocabulary lacked; most .side commands map onto one of them.
_MORE_ACTIONS: tuple[Action, ...] = (
    # Control flow. Blocks are checked when a case is saved (block_errors); the runner walks them.
    Action("if", "control_flow", "Run the steps up to the matching else_if, else or end when the condition holds.",
           NOT_USED, _CONDITION, value_is_script=True),
    Action("else_if", "control_flow", "Inside an if block: run this branch when no earlier branch ran and it holds.",
           NOT_USED, _CONDITION, value_is_script=True),
    Action("else", "control_flow", "Inside an if block: run this branch when no earlier branch ran.",
           NOT_USED, NOT_USED),
    Action("end", "control_flow", "Close the innermost open if, while, times or for_each block.", NOT_USED, NOT_USED),
    Action("while", "control_flow", "Repeat the steps up to the matching end while the condition holds.",
           NOT_USED, _CONDITION, value_is_script=True),
    Action("do", "control_flow", "Start a block run at least once and repeated while its repeat_if holds.",
           NOT_USED, NOT_USED),
    Action("repeat_if", "control_flow", "Close a do block: run it again when the condition holds.",
           NOT_USED, _CONDITION, value_is_script=True),
    Action("times", "control_flow", "Repeat the steps up to the matching end this many times.",
           NOT_USED, FieldUse(REQUIRED, "how many times"), value_check=_check_times),
    Action("for_each", "control_flow", "Run the steps up to the matching end once per item of an array variable.",
           FieldUse(REQUIRED, "the array variable (e.g. stored by execute_script or store_json)"),
           FieldUse(REQUIRED, "variable that holds the current item"),
           selector_is_element=False, value_check=_check_variable_name),
    Action("run", "control_flow", "Run another case of the same project here, sharing variables.",
           NOT_USED, FieldUse(REQUIRED, "name of a case in the same project")),
    # Interaction
    Action("send_keys", "interaction",
           "Type keys into an element without clearing it first; ${KEY_ENTER} and friends press special keys.",
           ELEMENT, FieldUse(REQUIRED, "text and ${KEY_…} keys to send"), element_kind="editable"),
    Action("edit_content", "interaction", "Set the text of a contenteditable element.",
           ELEMENT, FieldUse(OPTIONAL, "the new text"), element_kind="editable"),
    Action("click_at", "interaction", "Click at a point of an element.", ELEMENT, _POINT,
           value_check=_check_coordinates),
    Action("double_click_at", "interaction", "Double-click at a point of an element.", ELEMENT, _POINT,
           value_check=_check_coordinates),
    Action("mouse_down", "interaction", "Press the left mouse button over an element (without releasing it).",
           ELEMENT, NOT_USED),
    Action("mouse_down_at", "interaction", "Press the left mouse button at a point of an element.",
           ELEMENT, _POINT, value_check=_check_coordinates),
    Action("mouse_up", "interaction", "Release the left mouse button over an element.", ELEMENT, NOT_USED),
    Action("mouse_up_at", "interaction", "Release the left mouse button at a point of an element.",
           ELEMENT, _POINT, value_check=_check_coordinates),
    Action("mouse_move_at", "interaction", "Move the mouse to a point of an element.", ELEMENT, _POINT,
           value_check=_check_coordinates),
    Action("mouse_out", "interaction", "Move the mouse just off an element.", ELEMENT, NOT_USED),
    Action("drag_and_drop", "interaction", "Drag an element and drop it on another one.",
           FieldUse(REQUIRED, "the element to drag"),
           FieldUse(REQUIRED, "the element to drop it on, as type=selector (css=#bin, id=bin, xpath=//…)"),
           value_check=_check_locator),
    Action("add_selection", "interaction", "Also select an option of a multi-select.",
           FieldUse(REQUIRED, "the <select multiple>"), _OPTION, value_check=_check_option, element_kind="select"),
    Action("remove_selection", "interaction", "Deselect an option of a multi-select.",
           FieldUse(REQUIRED, "the <select multiple>"), _OPTION, value_check=_check_option, element_kind="select"),
    # Frames, windows, dialogs
    Action("close_window", "frames_windows", "Close the current window or tab.", NOT_USED, NOT_USED),
    Action("set_window_size", "frames_windows", "Resize the browser window.",
           NOT_USED, FieldUse(REQUIRED, "WIDTHxHEIGHT, e.g. 1280x800"), value_check=_check_window_size),
    Action("answer_prompt", "frames_windows", "Type an answer into the open prompt and accept it.",
           NOT_USED, FieldUse(OPTIONAL, "the answer; empty accepts the prompt as it is")),
    Action("plan_dialog", "frames_windows",
           "Decide now how the next alert, confirm or prompt the page opens will be answered.",
           NOT_USED, FieldUse(REQUIRED, "accept, dismiss, or answer=<text for a prompt>"),
           value_check=_check_dialog_plan),
    Action("assert_alert", "frames_windows", "The open alert, confirm or prompt says exactly this (it stays open).",
           NOT_USED, FieldUse(REQUIRED, "the dialog's exact message")),
    # Waits
    Action("wait_for_element_present", "wait", "Wait until an element matches the selector (visible or not).",
           ELEMENT, NOT_USED),
    Action("wait_for_element_absent", "wait", "Wait until no element matches the selector.", ELEMENT, NOT_USED,
           element_kind=None),
    Action("wait_for_editable", "wait", "Wait until the element is editable (enabled, not read-only).",
           ELEMENT, NOT_USED),
    Action("wait_for_not_editable", "wait", "Wait until the element is not editable.", ELEMENT, NOT_USED),
    # Assertions (each has a soft verify_ twin, added below)
    Action("assert_not_text", "assertion", "The element's visible text is not as given.",
           ELEMENT, FieldUse(REQUIRED, "text the element must not have: exact, contains:part or regex:pattern"),
           value_check=_check_expectation),
    Action("assert_checked", "assertion", "The checkbox or radio is checked.", ELEMENT, NOT_USED,
           element_kind="toggle"),
    Action("assert_not_checked", "assertion", "The checkbox or radio is not checked.", ELEMENT, NOT_USED,
           element_kind="toggle"),
    Action("assert_editable", "assertion", "The element is editable (enabled, not read-only).", ELEMENT, NOT_USED),
    Action("assert_not_editable", "assertion", "The element is not editable.", ELEMENT, NOT_USED),
    Action("assert_selected_value", "assertion", "The selected option's value is as expected.",
           FieldUse(REQUIRED, "the <select>"), FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation,
           element_kind="select"),
    Action("assert_not_selected_value", "assertion", "The selected option's value is not as given.",
           FieldUse(REQUIRED, "the <select>"), FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation,
           element_kind="select"),
    Action("assert_selected_label", "assertion", "The selected option's visible text is as expected.",
           FieldUse(REQUIRED, "the <select>"), FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation,
           element_kind="select"),
    Action("assert_variable", "assertion", "A variable holds the expected text.",
           FieldUse(REQUIRED, "the variable's name"), FieldUse(OPTIONAL, "the expected text (exact)"),
           selector_is_element=False),
    # Variables
    Action("store_title", "variables", "Store the page title in a variable.", NOT_USED, _VARIABLE,
           value_check=_check_variable_name),
    Action("store_json", "variables", "Store a JSON value (object, array, number…) in a variable.",
           FieldUse(REQUIRED, "variable name"), FieldUse(REQUIRED, "JSON text"), selector_is_element=False,
           value_check=_check_json),
    Action("store_element_count", "variables", "Store how many elements match the selector.",
           FieldUse(REQUIRED, "the elements to count"), _VARIABLE, value_check=_check_variable_name,
           element_kind=None),
    Action("store_window_handle", "variables", "Store the current window's handle (for switch_window handle=…).",
           NOT_USED, _VARIABLE, value_check=_check_variable_name),
    # Utility
    Action("execute_async_script", "utility",
           "Run JavaScript that returns a Promise; wait for it and optionally store what it resolves to.",
           _OPTIONAL_VARIABLE, FieldUse(REQUIRED, "JavaScript function body returning a Promise"),
           selector_is_element=False, value_is_script=True),
    Action("run_script", "utility", "Add a <script> with this code to the page.",
           NOT_USED, FieldUse(REQUIRED, "JavaScript code"), value_is_script=True),
    Action("unsupported", "utility",
           "A command from another tool that JBTestSuite cannot run; kept disabled so nothing is lost.",
           FieldUse(OPTIONAL, "the command's target, as it was"), FieldUse(OPTIONAL, "the command's value, as it was"),
           selector_is_element=False, selector_check=lambda _: None, element_kind=None),
)  # fmt: skip


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
           ELEMENT, FieldUse(OPTIONAL, "text to type; empty leaves the field empty"), element_kind="editable"),
    Action("clear", "interaction", "Empty a text field (WebDriver clear, which also blurs the field).",
           ELEMENT, NOT_USED, element_kind="editable"),
    Action("press_key", "interaction", "Press a key or chord (ENTER, TAB, CONTROL+a) on an element or the focus.",
           FieldUse(OPTIONAL, "the element to send the key to; empty means the focused element"),
           FieldUse(REQUIRED, "key name, single character, or chord such as CONTROL+a"), value_check=_check_key),
    Action("select", "interaction",
           "Choose an option of a <select> by its visible text (or label=, value=, index=, id=).",
           FieldUse(REQUIRED, "the <select> element"), _OPTION, element_kind="select"),
    Action("check", "interaction", "Make a checkbox or radio checked (through its label if the input is hidden).",
           FieldUse(REQUIRED, "the checkbox or radio <input>"), NOT_USED, element_kind="toggle"),
    Action("uncheck", "interaction", "Make a checkbox unchecked (through its label if the input is hidden).",
           FieldUse(REQUIRED, "the checkbox <input>"), NOT_USED, element_kind="toggle"),
    Action("hover", "interaction", "Move the mouse over an element.", ELEMENT, NOT_USED),
    Action("scroll_into_view", "interaction", "Scroll until the element is in the middle of the viewport.",
           ELEMENT, NOT_USED),
    # Frames, windows, dialogs
    Action("switch_frame", "frames_windows",
           "Enter an iframe; with no selector go to the top document, its parent frame, or a frame by index.",
           FieldUse(OPTIONAL, "the <iframe>; empty means the top-level document (or see the value)"),
           FieldUse(OPTIONAL, "with no selector: parent (the enclosing frame) or index=N (the N-th frame)"),
           value_check=_check_frame_target, element_kind="frame"),
    Action("switch_window", "frames_windows",
           "Switch to another window or tab by index (0 first), title, or handle=<handle>.",
           NOT_USED, FieldUse(REQUIRED, "window index (0 is the first), exact window title, or handle=<handle>"),
           value_check=_check_window),
    Action("accept_alert", "frames_windows", "Accept (OK) the open alert, confirm or prompt.", NOT_USED, NOT_USED),
    Action("dismiss_alert", "frames_windows", "Dismiss (Cancel) the open alert, confirm or prompt.",
           NOT_USED, NOT_USED),
    # Waits
    Action("wait_for_visible", "wait", "Wait until the element is visible.", ELEMENT, NOT_USED),
    Action("wait_for_hidden", "wait", "Wait until the element is hidden or gone.", ELEMENT, NOT_USED,
           element_kind=None),
    Action("wait_for_text", "wait", "Wait until the element's text contains the value.",
           ELEMENT, FieldUse(REQUIRED, "text the element's text must contain")),
    Action("wait_for_url", "wait", "Wait until the current URL contains the value (a path: the base URL's page).",
           NOT_USED, FieldUse(REQUIRED, "text the URL must contain; a path starting with / is read against the "
                                        "base URL")),
    Action("pause", "wait", f"Wait a fixed time (at most {PAUSE_MAX_MS} ms); prefer the wait_for_* actions.",
           NOT_USED, FieldUse(REQUIRED, "milliseconds"), value_check=_check_milliseconds),
    # Assertions
    Action("assert_text", "assertion", "The element's visible text is as expected.",
           ELEMENT, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_title", "assertion", "The page title is as expected.",
           NOT_USED, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_url", "assertion", "The current URL is as expected; an exact path is read against the base URL.",
           NOT_USED, FieldUse(REQUIRED, _TEXT_EXPECTATION + "; an exact URL may be relative to the base URL"),
           value_check=_check_expectation),
    Action("assert_element_present", "assertion", "An element matching the selector exists.", ELEMENT, NOT_USED),
    Action("assert_element_absent", "assertion", "No element matches the selector.", ELEMENT, NOT_USED,
           element_kind=None),
    Action("assert_visible", "assertion", "The element is visible.", ELEMENT, NOT_USED),
    Action("assert_value", "assertion", "A form field's current value is as expected.",
           ELEMENT, FieldUse(REQUIRED, _TEXT_EXPECTATION), value_check=_check_expectation),
    Action("assert_attribute", "assertion", "An element's attribute (or property) is as expected.",
           ELEMENT, FieldUse(REQUIRED, "name=expected, where expected is exact, contains:part or regex:pattern"),
           value_check=_check_attribute_expectation),
    Action("assert_count", "assertion", "Exactly this many elements match the selector.",
           FieldUse(REQUIRED, "the elements to count"), FieldUse(REQUIRED, "expected number of elements"),
           value_check=_check_count, element_kind=None),
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
           FieldUse(REQUIRED, "JavaScript function body; `return x` gives the result; ${name} is the variable's value"),
           selector_is_element=False, value_is_script=True),
    Action("screenshot", "utility", "Save a screenshot of the viewport.",
           NOT_USED, FieldUse(OPTIONAL, "label for the screenshot file")),
    Action("echo", "utility", "Write a message into the step's result.", NOT_USED, FieldUse(REQUIRED, "message")),
    *_MORE_ACTIONS,
)  # fmt: skip


def _soft_twin(action: Action) -> Action:
    return Action(
        "verify_" + action.name.removeprefix("assert_"), action.category,
        f"Like {action.name}, but soft: a failure is recorded, the run goes on and still ends failed.",
        action.selector, action.value, selector_is_element=action.selector_is_element,
        value_check=action.value_check, selector_check=action.selector_check, soft=True,
        element_kind=action.element_kind,
    )  # fmt: skip


ACTIONS: dict[str, Action] = {action.name: action for action in _ACTION_LIST}
ACTIONS.update({twin.name: twin for twin in map(_soft_twin, _ACTION_LIST) if twin.category == "assertion"})

# What a fallback element must be to stand in for the main one: a typing step must land on
# something editable, a select step on a <select>, and so on. Checked in the page.
ELEMENT_KINDS = ("any", "editable", "select", "toggle", "frame")


# --- Blocks -------------------------------------------------------------------------------

BLOCK_OPENERS = ("if", "while", "times", "for_each", "do")
LOOPS = ("while", "times", "for_each", "do")
CONTROL_FLOW = frozenset(name for name, action in ACTIONS.items() if action.category == "control_flow") - {"run"}


@dataclass
class Block:
    """One if/loop block of a step list: where it opens, its branch heads, where it closes."""

    kind: str  # the opener's action
    opener: int
    branches: list[int] = dataclass_field(default_factory=list)  # else_if / else indexes, in order
    closer: int | None = None  # the end (or repeat_if) index
    parent: Block | None = None


def blocks_parse(actions: Sequence[str | None]) -> tuple[dict[int, Block], dict[int, str]]:
    """Match every control-flow step of a case with its block, as Selenium IDE does.

    `actions[i]` is step i's action, None for a disabled step (which takes no part). Returns
    ({index of every opener, branch and closer: its Block}, {index: what is wrong there}).
    """
    blocks: dict[int, Block] = {}
    errors: dict[int, str] = {}
    open_blocks: list[Block] = []
    for index, action in enumerate(actions):
        innermost = open_blocks[-1] if open_blocks else None
        if action in BLOCK_OPENERS:
            block = Block(action, index, parent=innermost)
            blocks[index] = block
            open_blocks.append(block)
        elif action in ("else_if", "else"):
            if innermost is None or innermost.kind != "if":
                where = f"inside the {innermost.kind} block of step {innermost.opener}" if innermost else "outside"
                errors[index] = f"Step {index}: {action} is {where}, not directly inside an if block."
                continue
            if innermost.branches and actions[innermost.branches[-1]] == "else":
                errors[index] = (
                    f"Step {index}: {action} after the else of step {innermost.branches[-1]} "
                    f"(the if block of step {innermost.opener} already has its else)."
                )
                continue
            innermost.branches.append(index)
            blocks[index] = innermost
        elif action in ("end", "repeat_if"):
            if innermost is None:
                errors[index] = f"Step {index}: {action} has no open block to close."
                continue
            if (action == "repeat_if") != (innermost.kind == "do"):
                wanted = "repeat_if" if innermost.kind == "do" else "end"
                errors[index] = (
                    f"Step {index}: {action} cannot close the {innermost.kind} block of step "
                    f"{innermost.opener}; close it with {wanted}."
                )
                continue
            innermost.closer = index
            blocks[index] = innermost
            open_blocks.pop()
    for block in open_blocks:
        closer = "repeat_if" if block.kind == "do" else "end"
        errors[block.opener] = f"Step {block.opener}: the {block.kind} block is never closed with {closer}."
    return blocks, errors


def block_depths(actions: Sequence[str | None]) -> list[int]:
    """How deeply each step sits inside blocks (0 at the top); openers and closers sit at their block's level."""
    depths, depth = [], 0
    for action in actions:
        if action in ("end", "repeat_if"):
            depth = max(depth - 1, 0)
        depths.append(max(depth - 1, 0) if action in ("else_if", "else") else depth)
        if action in BLOCK_OPENERS:
            depth += 1
    return depths


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
            message = (spec.selector_check or _check_variable_name)(selector.strip())
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

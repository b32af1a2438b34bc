"""The actions of Selenium IDE's families: mouse, windows, dialogs, editable/checked/selected
assertions, stores and async scripts. Same contract as actions.py: return the message, raise
StepFailed or StepError."""

from __future__ import annotations

import json
from collections.abc import Callable

from selenium.common.exceptions import JavascriptException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from executions.runner.actions import (
    POINTER_MOVE_MS,
    StepContext,
    _element,
    _expect,
    _not_found,
    _poll,
    _stored,
    _within,
    option_xpath,
    shown,
    text_of,
)
from executions.runner.outcomes import StepError, StepFailed, first_line
from tests_catalog.step_actions import expectation_parse, locator_parse

_BY = {"css": By.CSS_SELECTOR, "xpath": By.XPATH, "id": By.ID, "name": By.NAME, "link_text": By.LINK_TEXT,
       "partial_link_text": By.PARTIAL_LINK_TEXT, "tag": By.TAG_NAME}  # fmt: skip

# Selenium IDE's ${KEY_…} names, as selenium's Keys attributes.
_KEY_ALIASES = {"ESC": "ESCAPE", "DEL": "DELETE", "INS": "INSERT", "PGUP": "PAGE_UP", "PGDN": "PAGE_DOWN",
                "BKSP": "BACKSPACE", "CTRL": "CONTROL", "NUM_PLUS": "ADD", "NUM_MINUS": "SUBTRACT"}  # fmt: skip


def key_name(name: str) -> str | None:
    """The character selenium sends for ${KEY_name}, or None when there is no such key."""
    attribute = _KEY_ALIASES.get(name, name)
    return getattr(Keys, attribute, None) if attribute.isupper() else None


def _pointer(ctx: StepContext) -> ActionChains:
    return ActionChains(ctx.driver, duration=POINTER_MOVE_MS)


def _point(ctx: StepContext) -> tuple[int, int] | None:
    # Selenium IDE's runner moves by x,y from the element's centre (W3C actions), whatever its
    # documentation says; we do the same so verdicts agree.
    if not ctx.value.strip():
        return None
    x, y = (int(part) for part in ctx.value.split(","))
    return x, y


def _visible(ctx: StepContext) -> WebElement:
    def attempt():
        element = ctx.find()
        return element if element.is_displayed() else None

    return _poll(ctx, attempt, lambda error: _not_found(ctx, error) if error else f"{ctx.target()} stayed hidden "
                                                                                  f"{_within(ctx)}")  # fmt: skip


def _pointer_at(ctx: StepContext, verb: str, then: Callable[[ActionChains], ActionChains]) -> str:
    element = _visible(ctx)
    point = _point(ctx)
    chain = _pointer(ctx)
    chain = chain.move_to_element_with_offset(element, *point) if point else chain.move_to_element(element)
    then(chain).perform()
    where = f" at {point[0]},{point[1]}" if point else ""
    return f"{verb} {ctx.target()}{where}"


def click_at(ctx: StepContext) -> str:
    return _pointer_at(ctx, "clicked", lambda chain: chain.click())


def double_click_at(ctx: StepContext) -> str:
    return _pointer_at(ctx, "double-clicked", lambda chain: chain.double_click())


def mouse_down(ctx: StepContext) -> str:
    return _pointer_at(ctx, "pressed the mouse on", lambda chain: chain.click_and_hold())


def mouse_up(ctx: StepContext) -> str:
    return _pointer_at(ctx, "released the mouse on", lambda chain: chain.release())


def mouse_move_at(ctx: StepContext) -> str:
    return _pointer_at(ctx, "moved the mouse to", lambda chain: chain)


def mouse_out(ctx: StepContext) -> str:
    element = _visible(ctx)
    box = ctx.driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.top, r.height]", element)
    top, height = box
    if top <= 0:
        raise StepFailed(f"{ctx.target()} touches the top of the viewport; there is no room to move off it")
    _pointer(ctx).move_to_element_with_offset(element, 0, -int(height / 2 + 1)).perform()
    return f"moved the mouse off {ctx.target()}"


def drag_and_drop(ctx: StepContext) -> str:
    source = _visible(ctx)
    parsed = locator_parse(ctx.value)
    if parsed is None:
        raise StepError(f"the drop target {ctx.value!r} is not a type=selector locator")
    drop_type, drop_selector = parsed
    locator = (By.XPATH, drop_selector) if drop_type in ("xpath", "text") else (_BY[drop_type], drop_selector)
    target = _poll(ctx, lambda: ctx.driver.find_element(*locator), lambda _: f"no drop target {shown(ctx.value)} "
                                                                            f"{_within(ctx)}")  # fmt: skip
    _pointer(ctx).drag_and_drop(source, target).perform()
    return f"dragged {ctx.target()} onto {shown(ctx.value)}"


def send_keys(ctx: StepContext) -> str:
    def attempt() -> bool:
        ctx.find().send_keys(ctx.value)
        return True

    _poll(ctx, attempt, lambda error: _not_found(ctx, error))
    return f"sent {shown(ctx.value)} to {ctx.target()}"


def edit_content(ctx: StepContext) -> str:
    element = _element(ctx)
    done = ctx.driver.execute_script(
        "if (!arguments[0].isContentEditable) return false; arguments[0].innerText = arguments[1]; return true",
        element, ctx.value,
    )  # fmt: skip
    if not done:
        raise StepFailed(f"{ctx.target()} is not content-editable")
    return f"set the content of {ctx.target()} to {shown(ctx.value)}"


def _selection(ctx: StepContext, wanted: bool) -> str:
    xpath, kind, value = option_xpath(ctx.value)

    def attempt() -> bool:
        select = ctx.find()
        if not select.get_property("multiple"):
            raise StepFailed(f"{ctx.target()} is not a multi-select")
        option = select.find_element(By.XPATH, xpath)
        if option.is_selected() != wanted:
            option.click()
        return True

    _poll(ctx, attempt, lambda error: _not_found(ctx, error))
    return f"{'added' if wanted else 'removed'} option {kind} {shown(value)} in {ctx.target()}"


def add_selection(ctx: StepContext) -> str:
    return _selection(ctx, True)


def remove_selection(ctx: StepContext) -> str:
    return _selection(ctx, False)


# Windows and dialogs


def close_window(ctx: StepContext) -> str:
    ctx.driver.close()
    return "closed the window"


def set_window_size(ctx: StepContext) -> str:
    width, height = (int(part) for part in ctx.value.lower().split("x"))
    ctx.driver.set_window_size(width, height)
    return f"resized the window to {width}x{height}"


def _open_alert(ctx: StepContext) -> Alert:
    def attempt():
        alert = Alert(ctx.driver)
        alert.text  # noqa: B018 - raises NoAlertPresentException until a dialog is open
        return alert

    return _poll(ctx, attempt, lambda _: f"no alert, confirm or prompt opened {_within(ctx)}")


def answer_prompt(ctx: StepContext) -> str:
    alert = _open_alert(ctx)
    text = alert.text
    if ctx.value:
        alert.send_keys(ctx.value)
    alert.accept()
    return f"answered {shown(ctx.value)} to the prompt {shown(text)}"


# A page-side stand-in for the next dialog, as Selenium IDE 3 recorded it ("choose ok on next
# confirmation", "answer on next prompt"): the page's confirm/prompt answers once by itself
# and keeps the message, which assert_alert then reads.
_PLAN_DIALOG_JS = """
const plan = arguments[0];
window.__jbtsDialogs = window.__jbtsDialogs || [];
for (const name of ['confirm', 'prompt']) {
  const original = window[name];
  window[name] = function (message) {
    window.confirm = window.__jbtsConfirm || window.confirm;
    window[name] = original;
    window.__jbtsDialogs.push(String(message));
    if (plan.mode === 'dismiss') return name === 'prompt' ? null : false;
    if (name === 'prompt') return plan.mode === 'answer' ? plan.text : '';
    return true;
  };
}
"""


def plan_dialog(ctx: StepContext) -> str:
    mode, _, text = ctx.value.partition("=")
    ctx.driver.execute_script(_PLAN_DIALOG_JS, {"mode": mode, "text": text})
    return f"the next confirm or prompt will be answered: {ctx.value}"


def assert_alert(ctx: StepContext) -> str:
    try:
        actual = _open_alert(ctx).text
    except StepFailed:
        planned = ctx.driver.execute_script("return (window.__jbtsDialogs || []).slice(-1)[0]")
        if planned is None:
            raise
        actual = planned
    if actual != ctx.value:
        raise StepFailed(f"the dialog said {shown(actual)}, expected {shown(ctx.value)}")
    return f"the dialog says {shown(actual)}"


# Waits and assertions on element state

_EDITABLE_JS = """
const el = arguments[0];
if (el.isContentEditable) return true;
return !el.disabled && !el.readOnly;
"""


def _state(ctx: StepContext, subject: str, read: Callable[[WebElement], bool], wanted: bool) -> str:
    seen: dict[str, bool] = {}

    def attempt() -> bool:
        seen["state"] = read(ctx.find())
        return seen["state"] == wanted

    def timed_out(error) -> str:
        if "state" not in seen:
            return _not_found(ctx, error)
        return f"{ctx.target()} is {'not ' if wanted else ''}{subject} {_within(ctx)}"

    _poll(ctx, attempt, timed_out)
    return f"{ctx.target()} is {'' if wanted else 'not '}{subject}"


def _editable(ctx: StepContext):
    return lambda element: bool(ctx.driver.execute_script(_EDITABLE_JS, element))


def assert_checked(ctx: StepContext) -> str:
    return _state(ctx, "checked", lambda element: element.is_selected(), True)


def assert_not_checked(ctx: StepContext) -> str:
    return _state(ctx, "checked", lambda element: element.is_selected(), False)


def assert_editable(ctx: StepContext) -> str:
    return _state(ctx, "editable", _editable(ctx), True)


def assert_not_editable(ctx: StepContext) -> str:
    return _state(ctx, "editable", _editable(ctx), False)


def wait_for_element_present(ctx: StepContext) -> str:
    _element(ctx)
    return f"{ctx.target()} is present"


def wait_for_element_absent(ctx: StepContext) -> str:
    def attempt() -> bool:
        return not ctx.driver.find_elements(*ctx.locator())

    _poll(ctx, attempt, lambda _: f"{ctx.target()} is still present {_within(ctx)}")
    return f"{ctx.target()} is absent"


def assert_not_text(ctx: StepContext) -> str:
    expectation = expectation_parse(ctx.value)
    seen: dict[str, str] = {}

    def attempt() -> bool:
        seen["text"] = ctx.find().text
        return not expectation.matches(seen["text"])

    def timed_out(error) -> str:
        if "text" not in seen:
            return _not_found(ctx, error)
        return f"text of {ctx.target()} was {shown(seen['text'])}, {expectation.describe()} {_within(ctx)}"

    _poll(ctx, attempt, timed_out)
    return f"text of {ctx.target()} is not {expectation.describe()}"


def _selected_option(ctx: StepContext, read: str) -> str | None:
    select = ctx.find()
    return ctx.driver.execute_script(
        "const o = arguments[0].selectedOptions[0]; return o ? o[arguments[1]] : null", select, read
    )


def assert_selected_value(ctx: StepContext) -> str:
    return _expect(ctx, f"selected value of {ctx.target()}", lambda: _selected_option(ctx, "value"), ctx.value)


def assert_selected_label(ctx: StepContext) -> str:
    return _expect(ctx, f"selected label of {ctx.target()}", lambda: _selected_option(ctx, "text"), ctx.value)


def assert_not_selected_value(ctx: StepContext) -> str:
    expectation = expectation_parse(ctx.value)
    seen: dict[str, str | None] = {}

    def attempt() -> bool:
        seen["value"] = _selected_option(ctx, "value")
        return seen["value"] is None or not expectation.matches(seen["value"])

    _poll(ctx, attempt, lambda error: _not_found(ctx, error) if "value" not in seen else
          f"selected value of {ctx.target()} was {shown(seen['value'])} {_within(ctx)}")  # fmt: skip
    return f"selected value of {ctx.target()} is not {expectation.describe()}"


def assert_variable(ctx: StepContext) -> str:
    name = ctx.selector.strip()
    if name not in ctx.variables:
        raise StepError(f"undefined variable ${{{name}}}")
    actual = text_of(ctx.variables[name])
    if actual != ctx.value:
        raise StepFailed(f"${{{name}}} is {shown(actual)}, expected {shown(ctx.value)}")
    return f"${{{name}}} is {shown(actual)}"


# Variables and scripts


def store_title(ctx: StepContext) -> str:
    return _stored(ctx, ctx.value.strip(), ctx.driver.title)


def store_json(ctx: StepContext) -> str:
    try:
        return _stored(ctx, ctx.selector.strip(), json.loads(ctx.value))
    except ValueError as error:
        raise StepError(f"not JSON: {error}") from None


def store_element_count(ctx: StepContext) -> str:
    return _stored(ctx, ctx.value.strip(), len(ctx.driver.find_elements(*ctx.locator())))


def store_window_handle(ctx: StepContext) -> str:
    return _stored(ctx, ctx.value.strip(), ctx.driver.current_window_handle)


_ASYNC_WRAPPER = """
const done = arguments[arguments.length - 1];
Promise.resolve((function () { %s })()).then(
  (value) => done({value: value === undefined ? null : value}),
  (error) => done({error: String(error && error.message || error)}));
"""


def execute_async_script(ctx: StepContext) -> str:
    ctx.driver.set_script_timeout(ctx.timeout_s)
    try:
        outcome = ctx.driver.execute_async_script(_ASYNC_WRAPPER % ctx.value)
    except JavascriptException as error:
        raise StepFailed(f"script threw: {first_line(error.msg)}") from None
    except TimeoutException:
        raise StepFailed(f"the script's promise did not settle {_within(ctx)}") from None
    if "error" in (outcome or {}):
        raise StepFailed(f"the script's promise was rejected: {outcome['error']}")
    result = (outcome or {}).get("value")
    if ctx.selector:
        return _stored(ctx, ctx.selector.strip(), result)
    return f"script resolved to {shown(text_of(result))}"


def run_script(ctx: StepContext) -> str:
    ctx.driver.execute_script(
        "const s = document.createElement('script'); s.text = arguments[0]; document.body.appendChild(s)", ctx.value
    )
    return "added the script to the page"


def unsupported(ctx: StepContext) -> str:
    raise StepError("this imported command cannot run here (see the step's reason); it should stay disabled")


MORE_RUNNER_ACTIONS: dict[str, Callable[[StepContext], str]] = {
    "click_at": click_at,
    "double_click_at": double_click_at,
    "mouse_down": mouse_down,
    "mouse_down_at": mouse_down,
    "mouse_up": mouse_up,
    "mouse_up_at": mouse_up,
    "mouse_move_at": mouse_move_at,
    "mouse_out": mouse_out,
    "drag_and_drop": drag_and_drop,
    "send_keys": send_keys,
    "edit_content": edit_content,
    "add_selection": add_selection,
    "remove_selection": remove_selection,
    "close_window": close_window,
    "set_window_size": set_window_size,
    "answer_prompt": answer_prompt,
    "plan_dialog": plan_dialog,
    "assert_alert": assert_alert,
    "wait_for_element_present": wait_for_element_present,
    "wait_for_element_absent": wait_for_element_absent,
    "wait_for_editable": lambda ctx: _state(ctx, "editable", _editable(ctx), True),
    "wait_for_not_editable": lambda ctx: _state(ctx, "editable", _editable(ctx), False),
    "assert_not_text": assert_not_text,
    "assert_checked": assert_checked,
    "assert_not_checked": assert_not_checked,
    "assert_editable": assert_editable,
    "assert_not_editable": assert_not_editable,
    "assert_selected_value": assert_selected_value,
    "assert_not_selected_value": assert_not_selected_value,
    "assert_selected_label": assert_selected_label,
    "assert_variable": assert_variable,
    "store_title": store_title,
    "store_json": store_json,
    "store_element_count": store_element_count,
    "store_window_handle": store_window_handle,
    "execute_async_script": execute_async_script,
    "run_script": run_script,
    "unsupported": unsupported,
}

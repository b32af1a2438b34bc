"""Every action of the registry, once passing and once not, against real pages."""

import pytest

from executions.runner.actions import RUNNER_ACTIONS
from executions.tests.runner.steps import failing, step
from tests_catalog.step_actions import ACTIONS

pytestmark = pytest.mark.browser

FORM = step("open", value="form.html")
DYNAMIC = step("open", value="dynamic.html")
WINDOWS = step("open", value="windows.html")

# action -> (steps, JavaScript expression that must be true afterwards, or None)
PASSING = {
    "open": ([FORM, step("assert_title", value="Form page")], "location.pathname === '/form.html'"),
    "refresh": (
        [FORM, step("execute_script", value="document.getElementById('clicks').textContent = '9'"),
         step("refresh"), step("assert_text", "#clicks", "0")],
        None,
    ),
    "back": ([FORM, step("open", value="second.html"), step("back"), step("assert_title", value="Form page")], None),
    "click": ([FORM, step("click", "#go"), step("assert_text", "#clicks", "1")], None),
    "double_click": ([FORM, step("double_click", "#dbl"), step("assert_text", "#dbl-state", "double-clicked")], None),
    "type": ([FORM, step("type", "#name", "new text")], "document.getElementById('name').value === 'new text'"),
    "clear": ([FORM, step("clear", "#name")], "document.getElementById('name').value === ''"),
    "press_key": (
        [FORM, step("press_key", "#keys", "ENTER"), step("assert_text", "#last-key", "Enter"),
         step("press_key", value="SHIFT+a"), step("assert_text", "#last-key", "Shift+A")],
        None,
    ),
    "select": (
        [FORM, step("select", "#color", "Green"), step("assert_text", "#color-echo", "g"),
         step("select", "#color", "value=r"), step("assert_value", "#color", "r")],
        None,
    ),
    "check": ([FORM, step("check", "#plain")], "document.getElementById('plain').checked"),
    "uncheck": ([FORM, step("uncheck", "#checked-box")], "!document.getElementById('checked-box').checked"),
    "hover": ([FORM, step("hover", "#hover-me"), step("assert_text", "#hover-state", "hovered")], None),
    "scroll_into_view": ([FORM, step("scroll_into_view", "#far-away")], "window.scrollY > 1000"),
    "switch_frame": (
        [WINDOWS, step("switch_frame", "#inner"), step("assert_text", "#in-frame", "Inside the frame"),
         step("switch_frame"), step("assert_title", value="Windows")],
        None,
    ),
    "switch_window": (
        [WINDOWS, step("click", "#open-popup"), step("switch_window", value="1"),
         step("assert_title", value="Second page"), step("switch_window", value="Windows"),
         step("assert_element_present", "#open-popup")],
        None,
    ),
    "accept_alert": ([WINDOWS, step("click", "#confirm-btn"), step("accept_alert"),
                      step("assert_text", "#answer", "confirmed")], None),
    "dismiss_alert": ([WINDOWS, step("click", "#confirm-btn"), step("dismiss_alert"),
                       step("assert_text", "#answer", "cancelled")], None),
    "wait_for_visible": ([DYNAMIC, step("wait_for_visible", "#late")], None),
    "wait_for_hidden": ([DYNAMIC, step("wait_for_hidden", "#going")], "!document.getElementById('going')"),
    "wait_for_text": ([DYNAMIC, step("wait_for_text", "#status", "Ready")], None),
    "wait_for_url": ([DYNAMIC, step("wait_for_url", value="step=2")], "location.search === '?step=2'"),
    "pause": ([step("pause", value="50")], None),
    "assert_text": (
        [FORM, step("assert_text", "#para", "Hello world again"), step("assert_text", "#para", "contains:world"),
         step("assert_text", "#para", "regex:^Hello \\w+ again$")],
        None,
    ),
    "assert_title": ([DYNAMIC, step("assert_title", value="Loaded")], None),
    "assert_url": ([FORM, step("assert_url", value="regex:/form\\.html$")], None),
    "assert_element_present": ([DYNAMIC, step("assert_element_present", "#late")], None),
    "assert_element_absent": ([FORM, step("assert_element_absent", "#nope")], None),
    "assert_visible": ([FORM, step("assert_visible", "#go")], None),
    "assert_value": ([FORM, step("assert_value", "#name", "old text")], None),
    "assert_attribute": ([FORM, step("assert_attribute", "#docs", "data-kind=help"),
                          step("assert_attribute", "#docs", "href=contains:/docs?x=1")], None),
    "assert_count": ([FORM, step("assert_count", "li.item", "3"), step("assert_count", "li.nope", "0")], None),
    "store_text": ([FORM, step("store_text", "#para", "greeting"), step("assert_title", value="Form page")], None),
    "store_value": ([FORM, step("store_value", "#name", "old_name")], None),
    "store_attribute": ([FORM, step("store_attribute", "#docs", "data-kind=kind")], None),
    "set_variable": ([step("set_variable", value="answer=forty=two")], None),
    "execute_script": ([FORM, step("execute_script", "product", "return 6 * 7")], None),
    "screenshot": ([FORM, step("screenshot", value="home page")], None),
    "echo": ([step("echo", value="hello there")], None),
}  # fmt: skip

# action -> (steps whose last one must not pass, its status, a fragment of its message)
FAILING = {
    "open": ([failing("open", value="http://127.0.0.1:9/closed")], "error", "could not load http://127.0.0.1:9/closed"),
    "refresh": ([WINDOWS, step("click", "#alert-btn"), failing("refresh")], "failed", "unexpected alert"),
    "back": ([WINDOWS, step("click", "#alert-btn"), failing("back")], "failed", "'Hello alert'"),
    "click": ([FORM, failing("click", "#never")], "failed", "css '#never' stayed disabled within 0.3 s"),
    "double_click": ([FORM, failing("double_click", "#hidden-div")], "failed", "stayed hidden"),
    "type": ([FORM, failing("type", "#disabled-input", "x")], "failed", "could not type into css '#disabled-input'"),
    "clear": ([FORM, failing("clear", "#nope")], "failed", "no element matches css '#nope' within 0.3 s"),
    "press_key": ([FORM, failing("press_key", value="ENTRE")], "error", "Unknown key 'ENTRE'"),
    "select": ([FORM, failing("select", "#color", "Blue")], "failed",
               "no enabled option with text 'Blue'; options: ['Red', 'Green', 'Blue (disabled)']"),
    "check": ([FORM, failing("check", "#nope")], "failed", "no element matches"),
    "uncheck": ([FORM, step("check", "#large"), failing("uncheck", "#large")], "failed",
                "css '#large' did not become unchecked"),
    "hover": ([FORM, failing("hover", "#hidden-div")], "failed", "stayed hidden"),
    "scroll_into_view": ([FORM, failing("scroll_into_view", "#nope")], "failed", "no element matches"),
    "switch_frame": ([WINDOWS, failing("switch_frame", "#nope")], "failed", "no element matches"),
    "switch_window": ([WINDOWS, failing("switch_window", value="Nope")], "failed",
                      "no window titled 'Nope' within 0.3 s; titles: ['Windows']"),
    "accept_alert": ([WINDOWS, failing("accept_alert")], "failed", "no alert opened"),
    "dismiss_alert": ([WINDOWS, failing("dismiss_alert")], "failed", "no alert opened"),
    "wait_for_visible": ([FORM, failing("wait_for_visible", "#hidden-div")], "failed", "stayed hidden"),
    "wait_for_hidden": ([FORM, failing("wait_for_hidden", "#go")], "failed", "stayed visible"),
    "wait_for_text": ([FORM, failing("wait_for_text", "#para", "nope")], "failed",
                      "was 'Hello world again', never containing 'nope'"),
    "wait_for_url": ([FORM, failing("wait_for_url", value="nope")], "failed", "never containing 'nope'"),
    "pause": ([failing("pause", value="soon")], "error", "milliseconds"),
    "assert_text": ([FORM, failing("assert_text", "#para", "Hello")], "failed",
                    "text of css '#para' was 'Hello world again', expected equal to 'Hello'"),
    "assert_title": ([FORM, failing("assert_title", value="contains:Nope")], "failed",
                     "page title was 'Form page', expected containing 'Nope'"),
    "assert_url": ([FORM, failing("assert_url", value="regex:nope$")], "failed", "expected matching /nope$/"),
    "assert_element_present": ([FORM, failing("assert_element_present", "#nope")], "failed", "no element matches"),
    "assert_element_absent": ([FORM, failing("assert_element_absent", "li.item")], "failed",
                              "still present (3 found)"),
    "assert_visible": ([FORM, failing("assert_visible", "#hidden-div")], "failed", "stayed hidden"),
    "assert_value": ([FORM, failing("assert_value", "#name", "new")], "failed", "was 'old text'"),
    "assert_attribute": ([FORM, failing("assert_attribute", "#docs", "data-missing=x")], "failed",
                         "attribute 'data-missing' of css '#docs' is missing"),
    "assert_count": ([FORM, failing("assert_count", "li.item", "2")], "failed", "matched 3 element(s), expected 2"),
    "store_text": ([FORM, failing("store_text", "#nope", "v")], "failed", "no element matches"),
    "store_value": ([FORM, failing("store_value", "#nope", "v")], "failed", "no element matches"),
    "store_attribute": ([FORM, failing("store_attribute", "#docs", "data-missing=v")], "failed",
                        "has no attribute 'data-missing'"),
    "set_variable": ([failing("set_variable", value="no equals")], "error", "name=value"),
    "execute_script": ([FORM, failing("execute_script", value="throw new Error('kaput')")], "failed",
                       "script threw"),
    "screenshot": ([FORM, failing("screenshot", value="${missing_label}")], "error",
                   "undefined variable ${missing_label}"),
    "echo": ([failing("echo", value="${nobody}")], "error", "undefined variable ${nobody}"),
}  # fmt: skip


def test_it_has_a_runner_function_for_every_registry_action():
    # Control flow and `run` are the flow walker's; a verify_ step runs its assert_ twin's function.
    from tests_catalog.step_actions import CONTROL_FLOW

    soft = {name for name, action in ACTIONS.items() if action.soft}
    assert set(RUNNER_ACTIONS) == set(ACTIONS) - CONTROL_FLOW - {"run"} - soft
    assert all(name.replace("verify_", "assert_", 1) in RUNNER_ACTIONS for name in soft)


def test_it_covers_every_action_passing_and_failing():
    # The first vocabulary here, one step at a time; Selenium IDE's families in the imported
    # project of executions/tests/test_side_runs.py, run through a worker.
    from executions.tests.test_side_runs import FLOWS
    from tests_catalog.side import SIDE_COMMANDS

    first = list(ACTIONS)[: list(ACTIONS).index("echo") + 1]
    assert set(PASSING) == set(FAILING) == set(first)
    imported = {SIDE_COMMANDS[c["command"] if isinstance(c, dict) else c[0]].action or "unsupported" for c in FLOWS}
    later = {name for name in ACTIONS if name not in first and not ACTIONS[name].soft}
    assert later - imported == set()


@pytest.mark.parametrize("action", list(PASSING))
def test_it_passes(run, browser, action):
    steps, proof = PASSING[action]

    result = run(*steps)

    assert result.status == "passed", result.error_message
    assert [outcome.status for outcome in result.step_outcomes] == ["passed"] * len(steps)
    assert any(outcome.action == action for outcome in result.step_outcomes)
    if proof:
        assert browser.driver.execute_script(f"return {proof}")


@pytest.mark.parametrize("action", list(FAILING))
def test_it_fails(run, action):
    steps, status, fragment = FAILING[action]

    result = run(*steps)

    last = result.step_outcomes[-1]
    assert (last.action, last.status) == (action, status)
    assert fragment in last.message
    assert result.status == status
    assert result.failing_step_index == len(steps)
    assert [outcome.status for outcome in result.step_outcomes[:-1]] == ["passed"] * (len(steps) - 1)


def test_it_keeps_what_store_actions_read(run):
    result = run(
        FORM,
        step("store_text", "#para", "greeting"),
        step("store_value", "#name", "old_name"),
        step("store_attribute", "#docs", "data-kind=kind"),
        step("set_variable", value="answer=forty=two"),
        step("execute_script", "product", "return 6 * 7"),
        step("execute_script", "flags", "return {on: true}"),
    )

    assert result.status == "passed", result.error_message
    assert result.variables == {
        "greeting": "Hello world again",
        "old_name": "old text",
        "kind": "help",
        "answer": "forty=two",
        "product": "42",
        "flags": '{"on": true}',
    }


def test_it_pauses_for_the_requested_time(run):
    result = run(step("pause", value="120"))

    assert result.step_outcomes[0].duration_ms >= 120
    assert result.step_outcomes[0].message == "paused 120 ms"


def test_it_attaches_a_screenshot_for_the_screenshot_action(run):
    result = run(FORM, step("screenshot", value="home page"), screenshot_policy="never")

    evidence = result.step_outcomes[1].evidence
    assert [(item.kind, item.filename, item.content_type) for item in evidence] == [
        ("screenshot", "step-2-home-page.png", "image/png")
    ]
    assert evidence[0].content.startswith(b"\x89PNG\r\n\x1a\n")


def test_it_echoes_the_message(run):
    assert run(step("echo", value="hello there")).step_outcomes[0].message == "hello there"


def test_it_finds_elements_by_every_selector_type(run):
    result = run(
        FORM,
        step("assert_text", "#para", "Hello world again", selector_type="css"),
        step("assert_text", "//p[@id='para']", "Hello world again", selector_type="xpath"),
        step("assert_value", "name", "old text", selector_type="id"),
        step("assert_count", "input", "10", selector_type="tag"),
        step("assert_attribute", "Second page", "id=to-second", selector_type="link_text"),
        step("assert_attribute", "Second", "id=to-second", selector_type="partial_link_text"),
        step("assert_attribute", "size", "id=small", selector_type="name"),
    )

    assert result.status == "passed", result.error_message


def test_it_finds_the_innermost_element_by_text(run):
    result = run(
        FORM,
        # equal text wins over containing text, and the innermost element is the one found
        step("assert_attribute", "Save draft", "outerHTML=<span>Save draft</span>", selector_type="text"),
        step("assert_attribute", "world  again", "id=para", selector_type="text"),
        step("click", "Go", selector_type="text"),
        step("assert_text", "#clicks", "1"),
        step("assert_element_absent", "no such words", selector_type="text"),
        step("assert_element_absent", 'it\'s "quoted"', selector_type="text"),
    )

    assert result.status == "passed", result.error_message

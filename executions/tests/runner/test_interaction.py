"""How clicks, checkboxes and typing behave on pages that fight back."""

import pytest

from executions.tests.runner.steps import failing, step

pytestmark = pytest.mark.browser

FORM = step("open", value="form.html")


def test_it_fails_a_click_intercepted_by_an_overlay_naming_the_overlay(run, browser):
    result = run(step("open", value="overlay.html"), failing("click", "#target"))

    outcome = result.step_outcomes[1]
    assert outcome.status == "failed"
    assert outcome.message == "clicked on css '#target' was intercepted by div#overlay.cover.modal within 0.3 s"
    assert browser.driver.find_element("id", "result").text == ""


def test_it_retries_an_intercepted_click_until_the_overlay_goes(run, browser):
    result = run(step("open", value="overlay.html?remove"), step("click", "#target", timeout_ms=3000))

    assert result.status == "passed", result.error_message
    assert browser.driver.find_element("id", "result").text == "clicked"
    # the overlay leaves after 300 ms, so the click cannot have landed at once
    assert result.step_outcomes[1].duration_ms >= 250


def test_it_checks_a_hidden_custom_checkbox_through_its_label(run, browser):
    result = run(FORM, step("check", "#fancy"))

    assert result.step_outcomes[1].message == "checked css '#fancy' via label"
    assert browser.driver.execute_script("return document.getElementById('fancy').checked")


def test_it_checks_a_hidden_checkbox_without_label_by_script_click(run, browser):
    result = run(FORM, step("check", "#unlabelled"), step("uncheck", "#unlabelled"), step("check", "#unlabelled"))

    assert [o.message for o in result.step_outcomes[1:]] == [
        "checked css '#unlabelled' via script click",
        "unchecked css '#unlabelled' via script click",
        "checked css '#unlabelled' via script click",
    ]
    assert browser.driver.execute_script("return document.getElementById('unlabelled').checked")


def test_it_passes_check_on_an_already_checked_box_and_says_so(run, browser):
    result = run(FORM, step("check", "#checked-box"), step("uncheck", "#plain"))

    assert result.status == "passed"
    assert result.step_outcomes[1].message == "css '#checked-box' was already checked"
    assert result.step_outcomes[2].message == "css '#plain' was already unchecked"
    assert browser.driver.execute_script("return document.getElementById('checked-box').checked")


def test_it_relocates_an_element_the_page_replaced(run, browser):
    # Checking #rerendered makes the page swap in a new checked node, like a framework re-render;
    # reading the old node afterwards is a stale element reference.
    result = run(FORM, step("check", "#rerendered"))

    outcome = result.step_outcomes[1]
    assert outcome.status == "passed", outcome.message
    assert outcome.message.startswith("checked css '#rerendered'")
    assert "re-located after the page replaced the element, 1 time(s)" in outcome.message
    assert browser.driver.execute_script("return document.getElementById('rerendered').checked")


def test_it_types_without_blurring_and_replaces_the_content(run, browser):
    result = run(FORM, step("type", "#name", "new text"), step("type", "#name", "newer"))

    assert result.status == "passed", result.error_message
    counts = browser.driver.execute_script(
        "return [document.getElementById('name').value, document.activeElement.id,"
        " document.getElementById('blur-count').textContent, document.getElementById('change-count').textContent,"
        " document.getElementById('name-echo').textContent]"
    )
    assert counts == ["newer", "name", "0", "0", "newer"]


def test_it_types_an_empty_value_as_emptying_the_field(run, browser):
    result = run(FORM, step("type", "#name", ""))

    assert result.status == "passed"
    assert browser.driver.execute_script("return document.getElementById('name').value") == ""


def test_it_reports_a_hidden_element_as_never_clickable(run):
    result = run(FORM, failing("click", "#hidden-div"))

    assert result.step_outcomes[1].message == "css '#hidden-div' stayed hidden within 0.3 s"


def test_it_reports_an_invalid_selector_as_an_error(run):
    result = run(FORM, failing("click", "//div[", selector_type="xpath"))

    outcome = result.step_outcomes[1]
    assert outcome.status == "error"
    assert outcome.message.startswith("invalid selector xpath '//div['")

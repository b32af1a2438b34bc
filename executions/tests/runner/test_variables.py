"""${name} substitution, store_* results, undefined variables and secret masking."""

import pytest

from executions.runner.outcomes import StepError
from executions.runner.steps import secrets_mask, variables_substitute
from executions.tests.runner.steps import failing, step

pytestmark = pytest.mark.browser


def test_it_substitutes_variables_in_url_selector_and_value(run, browser):
    result = run(
        step("open", value="${page}.html"),
        step("type", "#${field}", "${greeting}, ${who}"),
        variables={"page": "form", "field": "name", "greeting": "Hello", "who": "QA"},
    )

    assert result.status == "passed", result.error_message
    assert [(o.selector, o.value) for o in result.step_outcomes] == [("", "form.html"), ("#name", "Hello, QA")]
    assert browser.driver.execute_script("return document.getElementById('name').value") == "Hello, QA"


def test_it_uses_what_a_store_step_read_in_later_steps(run):
    result = run(
        step("open", value="form.html"),
        step("store_text", "#para", "greeting"),
        step("store_attribute", "#to-second", "id=link_id"),
        step("type", "#name", "${greeting}!"),
        step("assert_value", "#name", "Hello world again!"),
        step("click", "#${link_id}"),
        step("assert_title", value="Second page"),
    )

    assert result.status == "passed", result.error_message
    assert result.variables["link_id"] == "to-second"


def test_it_lets_later_steps_override_given_variables(run):
    result = run(step("set_variable", value="who=step"), step("echo", value="hi ${who}"), variables={"who": "env"})

    assert result.step_outcomes[1].message == "hi step"


def test_it_errors_on_an_undefined_variable_naming_it(run):
    result = run(step("open", value="form.html"), step("type", "#name", "${first} ${last}"), step("click", "#go"),
                 variables={"first": "Ada"})  # fmt: skip

    assert result.status == "error"
    assert result.step_outcomes[1].status == "error"
    assert result.step_outcomes[1].message == "undefined variable ${last}"
    assert result.step_outcomes[2].status == "skipped"
    assert result.failing_step_index == 2


def test_it_errors_when_a_substituted_value_is_malformed(run):
    result = run(step("pause", value="${delay}"), variables={"delay": "soon"})

    assert result.step_outcomes[0].status == "error"
    assert "milliseconds" in result.step_outcomes[0].message


def test_it_masks_secrets_in_messages_values_and_variables(run):
    secret = "s3cr3t-pass"
    result = run(
        step("open", value="form.html"),
        step("type", "#name", "${password}"),
        step("store_value", "#name", "typed"),
        failing("assert_value", "#name", "not the ${password}"),
        variables={"password": secret},
        secrets={secret},
    )

    typed, stored, asserted = result.step_outcomes[1:]
    assert typed.value == "***"
    assert typed.message == "typed '***' into css '#name'"
    assert stored.message == "stored '***' in ${typed}"
    assert asserted.value == "not the ***"
    assert asserted.message == "value of css '#name' was '***', expected equal to 'not the ***'"
    assert result.variables == {"password": "***", "typed": "***"}
    assert secret not in result.error_message
    for item in asserted.evidence:
        assert secret.encode() not in item.content


def test_it_substitutes_only_known_names():
    assert variables_substitute("a ${x} b ${x}", {"x": "1"}) == "a 1 b 1"
    assert variables_substitute("$x {x} $", {}) == "$x {x} $"
    with pytest.raises(StepError, match=r"undefined variable \$\{y\}, \$\{z\}"):
        variables_substitute("${y}${z}${y}", {})


def test_it_masks_longer_secrets_first():
    assert secrets_mask("token abc123 and abc", ["abc", "abc123"]) == "token *** and ***"
    assert secrets_mask("nothing to hide", ["", "zzz"]) == "nothing to hide"

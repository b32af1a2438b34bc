import pytest

from tests_catalog.step_actions import (
    ACTIONS,
    OPTIONAL,
    REQUIRED,
    SELECTOR_TYPES,
    UNUSED,
    expectation_parse,
    key_chord_parse,
    step_errors,
)


def test_it_declares_every_field_use_with_a_meaning():
    for action in ACTIONS.values():
        for field_use in (action.selector, action.value):
            assert field_use.use in (REQUIRED, OPTIONAL, UNUSED)
            assert field_use.use == UNUSED or field_use.meaning, action.name
        assert action.doc.endswith("."), action.name


def test_it_keeps_the_vocabulary_names_and_order_stable():
    names = list(ACTIONS)
    assert names[:3] == ["open", "refresh", "back"]
    assert names[-1] == "echo"
    assert len(names) == len(set(names)) == 38
    assert SELECTOR_TYPES == ("css", "xpath", "id", "name", "link_text", "partial_link_text", "tag", "text")


def test_it_says_execute_script_selector_is_a_variable_name():
    action = ACTIONS["execute_script"]
    assert action.selector.use == OPTIONAL
    assert not action.selector_is_element
    assert "variable" in action.selector.meaning
    assert step_errors("execute_script", "", "1bad", "return 1") == {
        "selector": ["'1bad' is not a variable name: use letters, digits and _, not starting with a digit."]
    }
    assert step_errors("execute_script", "", "result", "return 1") == {}


def test_it_accepts_valid_steps():
    assert step_errors("click", "css", "#go", "") == {}
    assert step_errors("open", "css", "", "/login") == {}
    assert step_errors("switch_frame", "css", "", "") == {}
    assert step_errors("press_key", "css", "", "SHIFT+TAB") == {}
    assert step_errors("assert_attribute", "css", "a", "href=contains:/x") == {}
    assert step_errors("set_variable", "css", "", "greeting=a=b") == {}


def test_it_reports_an_unknown_action():
    assert step_errors("fly", "css", "#x", "") == {"action": ["Unknown action 'fly'."]}


def test_it_reports_missing_required_fields():
    errors = step_errors("assert_text", "css", " ", "")
    assert set(errors) == {"selector", "value"}


def test_it_reports_an_unknown_selector_type():
    assert "selector_type" in step_errors("click", "jquery", "#go", "")


def test_it_checks_pause_milliseconds():
    assert step_errors("pause", "css", "", "30000") == {}
    assert "value" in step_errors("pause", "css", "", "30001")
    assert "value" in step_errors("pause", "css", "", "-5")
    assert "value" in step_errors("pause", "css", "", "1.5")


def test_it_checks_value_formats():
    assert "value" in step_errors("assert_count", "css", "li", "two")
    assert step_errors("assert_count", "css", "li", "0") == {}
    assert "value" in step_errors("assert_attribute", "css", "a", "href")
    assert "value" in step_errors("set_variable", "css", "", "no equals sign")
    assert "value" in step_errors("set_variable", "css", "", "2x=1")
    assert "value" in step_errors("store_text", "css", "#x", "my var")
    assert "value" in step_errors("store_attribute", "css", "#x", "href=")
    assert "value" in step_errors("press_key", "css", "", "ENTRE")
    assert "value" in step_errors("assert_text", "css", "#x", "regex:([")
    assert "value" in step_errors("open", "css", "", "javascript:alert(1)")


def test_it_skips_format_checks_on_values_with_variables():
    assert step_errors("pause", "css", "", "${delay}") == {}
    assert step_errors("store_text", "css", "#x", "${target_name}") == {}
    assert step_errors("execute_script", "", "${name}", "return 1") == {}


def test_it_reports_malformed_variable_references():
    assert step_errors("click", "css", "#${bad name}", "") == {
        "selector": ["${bad name} is not a valid variable reference."]
    }


def test_it_reads_expectations():
    assert expectation_parse("Hello").matches("Hello")
    assert not expectation_parse("Hello").matches("Hello world")
    assert expectation_parse("contains:lo w").matches("Hello world")
    assert expectation_parse("regex:^H.*d$").matches("Hello world")
    assert expectation_parse("equals:contains:x").matches("contains:x")


def test_it_reads_key_chords():
    assert key_chord_parse("enter") == ([], "ENTER")
    assert key_chord_parse("CONTROL+a") == (["CONTROL"], "a")
    assert key_chord_parse("+") == ([], "+")
    assert key_chord_parse("CTRL+a") is None


@pytest.mark.parametrize(
    ("selector_type", "selector", "bad"),
    [
        ("css", "a[[data-test=x", True),
        ("css", "form > button:not([disabled]):nth-of-type(2)", False),
        ("css", "div:has(> img)", False),
        ("xpath", "//p[@id='x'", True),
        ("xpath", "//p[@id='x']/following-sibling::a[1]", False),
        ("css", "#${id} [[", False),  # checked at run time, once ${id} is known
        ("id", "a[[b", False),
    ],
)
def test_it_checks_css_and_xpath_syntax_with_real_parsers(selector_type, selector, bad):
    errors = step_errors("click", selector_type, selector, "")
    assert bool(errors.get("selector")) is bad
    if bad:
        assert ("CSS selector" if selector_type == "css" else "XPath expression") in errors["selector"][0]

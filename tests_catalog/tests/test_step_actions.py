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
    # The first vocabulary keeps its places; Selenium IDE's families and the verify twins follow.
    assert names[37] == "echo"
    assert names[38] == "if"
    assert len(names) == len(set(names)) == 104
    assert all(ACTIONS[name].soft == name.startswith("verify_") for name in names)
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


def test_it_matches_blocks_and_names_the_step_of_each_error():
    from tests_catalog.step_actions import block_depths, blocks_parse

    actions = ["while", "if", "click", "else_if", "click", "else", "click", "end", "end", "do", "repeat_if"]
    blocks, errors = blocks_parse(actions)
    assert errors == {}
    assert (blocks[1].branches, blocks[1].closer, blocks[0].closer, blocks[9].closer) == ([3, 5], 7, 8, 10)
    assert block_depths(actions) == [0, 1, 2, 1, 2, 1, 2, 1, 0, 0, 0]

    assert blocks_parse(["end"])[1] == {0: "Step 0: end has no open block to close."}
    assert blocks_parse(["if", "else", "else", "end"])[1] == {
        2: "Step 2: else after the else of step 1 (the if block of step 0 already has its else)."
    }
    assert blocks_parse(["times", "click"])[1] == {0: "Step 0: the times block is never closed with end."}
    assert blocks_parse(["do", "end"])[1] == {
        1: "Step 1: end cannot close the do block of step 0; close it with repeat_if.",
        0: "Step 0: the do block is never closed with repeat_if.",
    }
    assert blocks_parse(["while", "else", "end"])[1] == {
        1: "Step 1: else is inside the while block of step 0, not directly inside an if block."
    }
    # A disabled step (None) takes no part in blocks.
    assert blocks_parse(["if", None, "end"])[1] == {}

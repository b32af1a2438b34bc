"""Run-level semantics: stopping, skipping, continuing, cancelling, callbacks and evidence."""

import threading

import pytest

from executions.runner.outcomes import ExecutionCancelled
from executions.tests.runner.steps import failing, step

pytestmark = pytest.mark.browser

FORM = step("open", value="form.html")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_it_skips_the_remaining_steps_after_a_failure(run, browser):
    result = run(FORM, failing("assert_text", "#clicks", "5"), step("click", "#go"), step("echo", value="x"))

    assert result.status == "failed"
    assert result.failing_step_index == 2
    assert [o.status for o in result.step_outcomes] == ["passed", "failed", "skipped", "skipped"]
    assert result.step_outcomes[2].message == "skipped: step 2 failed"
    assert result.error_message == ("step 2 (assert_text) failed: text of css '#clicks' was '0', expected equal to '5'")
    assert browser.driver.find_element("id", "clicks").text == "0"


def test_it_goes_on_after_a_failure_marked_continue_on_failure(run, browser):
    result = run(
        FORM,
        failing("assert_text", "#clicks", "5", continue_on_failure=True),
        step("click", "#go"),
        failing("assert_title", value="Nope", continue_on_failure=True),
        step("assert_text", "#clicks", "1"),
    )

    assert [o.status for o in result.step_outcomes] == ["passed", "failed", "passed", "failed", "passed"]
    assert result.status == "failed"
    assert result.failing_step_index == 2
    assert browser.driver.find_element("id", "clicks").text == "1"


def test_it_stops_on_an_error_even_with_continue_on_failure(run):
    result = run(step("echo", value="${nope}", continue_on_failure=True), step("echo", value="after"))

    assert [o.status for o in result.step_outcomes] == ["error", "skipped"]
    assert result.status == "error"


def test_it_runs_steps_in_order_index_order(browser, pages_url):
    from executions.runner.steps import steps_run

    steps = [dict(step("echo", value="second"), order_index=20), dict(step("echo", value="first"), order_index=10)]

    result = steps_run(browser, steps, base_url=pages_url)

    assert [o.message for o in result.step_outcomes] == ["first", "second"]


def test_it_calls_back_before_and_after_every_step(run):
    seen = []

    result = run(
        FORM,
        failing("click", "#nope"),
        step("echo", value="never"),
        before_step=lambda s: seen.append(("before", s["order_index"])),
        after_step=lambda o: seen.append(("after", o.order_index, o.status)),
    )

    assert result.status == "failed"
    assert seen == [
        ("before", 1), ("after", 1, "passed"),
        ("before", 2), ("after", 2, "failed"),
        ("after", 3, "skipped"),
    ]  # fmt: skip


def test_it_cancels_before_the_next_step_when_asked(run):
    cancel_requested = threading.Event()

    def before_step(current):
        if current["order_index"] == 2:
            cancel_requested.set()  # as if a user pressed Cancel while step 1 ran
        return cancel_requested.is_set()

    result = run(step("echo", value="one"), step("echo", value="two"), step("echo", value="three"),
                 before_step=before_step)  # fmt: skip

    assert result.status == "cancelled"
    assert [o.status for o in result.step_outcomes] == ["passed", "skipped", "skipped"]
    assert result.step_outcomes[1].message == "skipped: the run was cancelled before step 2"
    assert result.failing_step_index is None


def test_it_cancels_when_the_callback_raises(run):
    def before_step(current):
        raise ExecutionCancelled

    result = run(step("echo", value="one"), before_step=before_step)

    assert result.status == "cancelled"
    assert result.step_outcomes[0].status == "skipped"


def test_it_captures_screenshot_page_source_and_console_log_on_failure(run):
    result = run(step("open", value="dynamic.html"), step("wait_for_text", "#status", "Ready"),
                 failing("click", "#nope"))  # fmt: skip

    evidence = {item.kind: item for item in result.step_outcomes[2].evidence}
    assert set(evidence) == {"screenshot", "page_source", "console_log"}
    assert evidence["screenshot"].content.startswith(PNG_MAGIC)
    assert evidence["screenshot"].filename == "step-3.png"
    assert evidence["page_source"].content_type == "text/html"
    assert b"Ready to go" in evidence["page_source"].content
    assert evidence["console_log"].content_type == "text/plain"
    assert b"boom from the console" in evidence["console_log"].content
    assert all(not o.evidence for o in result.step_outcomes[:2])


def test_it_captures_no_screenshot_on_failure_when_told_never(run):
    result = run(FORM, failing("click", "#nope"), screenshot_policy="never")

    assert [item.kind for item in result.step_outcomes[1].evidence] == ["page_source", "console_log"]


def test_it_says_so_when_the_page_logged_nothing(run):
    result = run(step("open", value="second.html"), failing("click", "#nope"))

    console = next(item for item in result.step_outcomes[1].evidence if item.kind == "console_log")
    assert console.content == b"(the page logged nothing to the console)"


def test_it_captures_a_screenshot_for_every_step_when_told_always(run):
    result = run(FORM, step("click", "#go"), step("screenshot", value="mine"), screenshot_policy="always")

    kinds = [[item.filename for item in o.evidence] for o in result.step_outcomes]
    assert kinds == [["step-1.png"], ["step-2.png"], ["step-3-mine.png"]]
    assert all(o.evidence[0].content.startswith(PNG_MAGIC) for o in result.step_outcomes)


def test_it_rejects_an_unknown_screenshot_policy(run):
    with pytest.raises(ValueError, match="screenshot_policy"):
        run(step("echo", value="x"), screenshot_policy="sometimes")


def test_it_uses_the_default_timeout_when_a_step_has_none(run):
    result = run(FORM, step("click", "#nope"), default_step_timeout_ms=400)

    assert result.step_outcomes[1].message == "no element matches css '#nope' within 0.4 s"
    assert result.step_outcomes[1].duration_ms >= 400  # it waited the whole timeout (no upper bound: load)


def test_it_reports_an_unknown_action_as_an_error(run):
    result = run(step("teleport", "#go"))

    assert result.step_outcomes[0].status == "error"
    assert result.step_outcomes[0].message == "action: Unknown action 'teleport'."

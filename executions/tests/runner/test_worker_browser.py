"""The browser a worker keeps: reset between executions, replaced when it dies."""

import contextlib
import os
import re
import signal

import pytest
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from executions.runner.browser import BrowserConfig, WorkerBrowser, child_process_ids, process_tree_kill
from executions.runner.steps import steps_run
from executions.tests.runner.steps import step

pytestmark = pytest.mark.browser


def numbered(*steps):
    return [{**each, "order_index": index} for index, each in enumerate(steps, start=1)]


def chromium_kill(browser):
    """Kill Chromium under a live chromedriver, as a crash or the OOM killer would."""
    chromium_pids = child_process_ids(browser.driver_process_id)
    assert chromium_pids, "chromedriver should have started Chromium"
    for pid in chromium_pids:
        process_tree_kill(pid)


def test_it_reports_the_browser_name_and_version(worker_browser):
    browser = worker_browser.acquire()

    assert browser.name == "chrome"
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", browser.version)


def test_it_resets_cookies_storage_windows_and_history_between_executions(worker_browser, pages_url):
    browser = worker_browser.acquire()
    driver = browser.driver
    driver.get(f"{pages_url}/storage.html?set")
    assert driver.execute_script("return [document.cookie, localStorage.token, sessionStorage.tab]") == [
        "session=abc", "kept", "kept",
    ]  # fmt: skip
    driver.switch_to.new_window("window")
    driver.get(f"{pages_url}/second.html")

    again = worker_browser.acquire()

    assert again is browser
    assert len(driver.window_handles) == 1
    assert driver.current_url == "about:blank"
    driver.get(f"{pages_url}/storage.html")
    assert driver.execute_script("return [document.cookie, localStorage.token, sessionStorage.tab]") == ["", None, None]
    assert driver.execute_script("return history.length") == 2  # about:blank, then storage.html


def test_it_reports_a_browser_that_died_mid_run_and_replaces_it(worker_browser, pages_url):
    browser = worker_browser.acquire()
    starts_before = worker_browser.starts

    def before_step(current):
        if current["order_index"] == 2:
            chromium_kill(browser)

    result = steps_run(
        browser,
        numbered(step("open", value="form.html"), step("click", "#go"), step("echo", value="after")),
        base_url=pages_url,
        before_step=before_step,
    )

    assert [o.status for o in result.step_outcomes] == ["passed", "error", "skipped"]
    assert result.step_outcomes[1].message.startswith("the browser died: ")
    assert result.step_outcomes[1].evidence == []
    assert result.step_outcomes[2].message == "skipped: the browser died at step 2"
    assert result.status == "error"
    assert browser.dead

    worker_browser.release(browser)
    fresh = worker_browser.acquire()

    assert fresh is not browser
    assert worker_browser.starts == starts_before + 1
    again = steps_run(fresh, numbered(step("open", value="form.html"), step("click", "#go")), base_url=pages_url)
    assert again.status == "passed", again.error_message


def test_it_replaces_a_browser_that_died_between_executions(worker_browser):
    browser = worker_browser.acquire()
    chromium_kill(browser)

    fresh = worker_browser.acquire()

    assert fresh is not browser
    assert fresh.driver.execute_script("return 6 * 7") == 42  # no time limit, unlike is_responsive()
    assert not os.path.exists(browser.user_data_dir)


def test_it_starts_and_quits_a_browser_per_execution_without_reuse():
    keeper = WorkerBrowser(BrowserConfig(), reuse=False)
    first = keeper.acquire()
    try:
        assert first.driver.execute_script("return 6 * 7") == 42
    finally:
        keeper.release(first)

    assert not first.is_responsive()
    assert keeper.browser is None
    assert not os.path.exists(first.user_data_dir)


def test_it_replaces_a_wedged_browser_that_stops_answering():
    keeper = WorkerBrowser(BrowserConfig(liveness_timeout_s=1.0))
    wedged = keeper.acquire()
    frozen = [wedged.driver_process_id]
    for pid in frozen:  # collect Chromium's whole process tree under chromedriver
        frozen += child_process_ids(pid)
    try:
        # Chromium frozen, chromedriver alive: commands now hang instead of failing.
        for pid in frozen[1:]:
            # A short-lived helper process may already have exited since the tree was listed.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

        fresh = keeper.acquire()

        assert fresh is not wedged
        assert keeper.starts == 2
        # A plain command, not is_responsive(): its 1 s limit is a wall-clock figure a loaded
        # machine can miss (how long the replacement takes is measured in bench/, not here).
        assert fresh.driver.execute_script("return 6 * 7") == 42
        assert not any(os.path.exists(f"/proc/{pid}") and not _is_zombie(pid) for pid in frozen[1:])
    finally:
        for pid in frozen[1:]:
            process_tree_kill(pid)
        keeper.close()


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


LEFT_BEHIND = """
    const done = arguments[arguments.length - 1];
    indexedDB.databases().then((databases) => done({
        cookie: document.cookie,
        local: Object.keys(localStorage).sort(),
        session: Object.keys(sessionStorage).sort(),
        databases: databases.map((database) => database.name),
        history: history.length,
    }));
"""


@pytest.mark.parametrize("left", ["dialog", "frame", "second window", "blank first window"])
def test_it_lets_nothing_of_a_case_leak_into_the_next(worker_browser, pages_url, left):
    from selenium.common.exceptions import NoAlertPresentException

    browser = worker_browser.acquire()
    driver = browser.driver
    driver.get(f"{pages_url}/leaky.html?{'alert' if left == 'dialog' else ''}")
    if left == "dialog":
        WebDriverWait(driver, 5).until(expected_conditions.alert_is_present())
    elif left == "frame":
        driver.switch_to.frame("inner")
        assert driver.find_element("id", "inside").text == "inside the frame"
    else:
        if left == "blank first window":
            driver.get("about:blank")
        driver.switch_to.new_window("tab")
        driver.get(f"{pages_url}/leaky.html")

    again = worker_browser.acquire()

    assert again is browser
    assert len(driver.window_handles) == 1
    assert driver.current_url == "about:blank"
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - the lookup is the point
    driver.get(f"{pages_url}/second.html")  # the same origin: it would see whatever was left
    assert driver.execute_async_script(LEFT_BEHIND) == {
        "cookie": "", "local": [], "session": [], "databases": [], "history": 2
    }  # fmt: skip

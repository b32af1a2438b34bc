"""Starting, resetting and replacing the Chromium that runs test steps.

A worker process keeps one `WorkerBrowser` and asks it for a clean browser before each
execution: starting Chromium costs about a second, resetting one costs a few round trips.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field

from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException,
    NoAlertPresentException,
    UnexpectedAlertPresentException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.remote.command import Command

logger = logging.getLogger(__name__)

# Selenium Manager would try to download a driver when it cannot find one; we never want that.
os.environ.setdefault("SE_OFFLINE", "true")

CHROMIUM_ARGUMENTS = (
    "--no-sandbox",  # workers run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is tiny in containers; Chromium then crashes on big pages
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class BrowserConfig:
    """Where and how to start Chromium. An empty hub_url means a local Chromium."""

    hub_url: str = ""
    chromium_binary: str = "/usr/bin/chromium"
    chromedriver_path: str = "/usr/bin/chromedriver"
    window_width: int = 1366
    window_height: int = 768
    page_load_timeout_s: float = 30.0
    headless: bool = True
    # How long a cheap command may take before we call the browser wedged and replace it.
    liveness_timeout_s: float = 5.0


@dataclass(eq=False)
class Browser:
    """A started browser: the WebDriver session plus what we need to clean up after it."""

    driver: webdriver.Remote
    config: BrowserConfig
    name: str
    version: str
    started_in_s: float
    user_data_dir: str = ""
    # Set when a step saw the browser die; the WorkerBrowser then replaces it.
    dead: bool = False
    # Console entries drained from the browser since the last reset, so later captures still
    # see earlier messages (the browser hands each entry out only once).
    console_entries: list[dict] = field(default_factory=list)

    @property
    def is_local(self) -> bool:
        return not self.config.hub_url

    @property
    def driver_process_id(self) -> int | None:
        service = getattr(self.driver, "service", None)
        process = getattr(service, "process", None)
        return process.pid if process else None

    def console_log(self) -> list[dict]:
        """Console entries since the last reset (needs goog:loggingPrefs, which we always set)."""
        # A driver without the legacy log endpoint: report what we already have.
        with contextlib.suppress(WebDriverException):
            self.console_entries.extend(self._console_drain())
        return self.console_entries

    def _console_drain(self) -> list[dict]:
        # Through the command rather than get_log(), which only local Chrome drivers have;
        # chromedriver behind a Grid answers the same endpoint.
        return self.driver.execute(Command.GET_LOG, {"type": "browser"})["value"]

    def is_responsive(self) -> bool:
        """True when a cheap command answers within liveness_timeout_s."""
        finished = threading.Event()
        answers: list[bool] = []

        def ask() -> None:
            try:
                self.driver.title  # noqa: B018 - the round trip is the point
                answers.append(True)
            except UnexpectedAlertPresentException:
                # A dialog the last case left open: the browser answered (and dismissed it).
                answers.append(True)
            except Exception:
                answers.append(False)
            finally:
                finished.set()

        # A wedged renderer makes the HTTP call hang, so it runs in a thread we can abandon.
        threading.Thread(target=ask, daemon=True, name="browser-liveness").start()
        return finished.wait(self.config.liveness_timeout_s) and answers == [True]

    def reset(self) -> None:
        """Make the browser look freshly started: one blank tab, no cookies, storage, history or
        dialog. Skips what is already clean; six or seven round trips in all."""
        driver = self.driver
        first_window, *extra_windows = driver.window_handles
        for handle in extra_windows:
            driver.switch_to.window(handle)
            # Leave its page first: a closing tab runs its timers and unload handlers after
            # close() returns, and would write storage back after we clear it.
            self._leave_page()
            driver.close()
        if extra_windows:
            driver.switch_to.window(first_window)
        # None: the page would not run our script, so WebDriver navigated (history unknown).
        state = self._leave_page() or {"history": 2, "left": True}
        # "*" clears cookies and every storage (sessionStorage too) of every origin, not only
        # the current one, which is all WebDriver's delete_all_cookies() would reach. The page
        # is gone by now, so none of its scripts (or unload handlers) can write anything back.
        self.devtools("Storage.clearDataForOrigin", origin="*", storageTypes="all")
        if state["history"] > 1:
            # Otherwise a `back` as a case's first step would return to the previous case's page.
            self.devtools("Page.resetNavigationHistory")
        with contextlib.suppress(WebDriverException):
            self._console_drain()
        self.console_entries = []

    # Leaves the page for about:blank from inside it, in the top document only. A navigation the
    # page starts itself stays in its renderer process, where WebDriver's own get("about:blank")
    # is browser-initiated: it swaps to a new renderer, and the next case's `open` swaps back,
    # which cost about as much as the rest of the reset together.
    _LEAVE_PAGE = """
        if (window !== window.top) return null;
        const state = {history: history.length, left: location.href !== 'about:blank'};
        if (state.left) location.replace('about:blank');
        return state;
    """

    def _leave_page(self) -> dict | None:
        """Leave the current page; its history length, or None when that could not be done here."""
        for _attempt in range(3):
            try:
                state = self.driver.execute_script(self._LEAVE_PAGE)
                if state is None:  # a step left us inside a frame
                    self.driver.switch_to.default_content()
                    continue
                # Unlike DevTools commands, this one waits for the navigation the script started,
                # so the old page (its timers, its unload handlers) is gone when it answers.
                deadline = time.monotonic() + self.config.page_load_timeout_s
                while state["left"] and self.driver.current_url != "about:blank":
                    if time.monotonic() > deadline:
                        raise TimeoutError("the page did not leave for about:blank")
                    time.sleep(0.01)
                return state
            except UnexpectedAlertPresentException:
                # chromedriver dismissed the dialog as it answered; a page may open another one.
                continue
            except JavascriptException:
                break
        with contextlib.suppress(NoAlertPresentException):
            Alert(self.driver).dismiss()
        self.driver.get("about:blank")
        return None

    def devtools(self, command: str, **params: object) -> dict:
        """A Chrome DevTools command; works locally and through a Grid (chromedriver relays it)."""
        return self.driver.execute("executeCdpCommand", {"cmd": command, "params": params})["value"]

    def quit(self) -> None:
        """Stop the browser; never hangs, never raises."""
        driver_pid = self.driver_process_id
        finished = threading.Event()

        def stop() -> None:
            try:
                self.driver.quit()
            except Exception:
                logger.info("browser quit failed; killing its processes", exc_info=True)
            finished.set()

        threading.Thread(target=stop, daemon=True, name="browser-quit").start()
        if not finished.wait(self.config.liveness_timeout_s) and driver_pid:
            process_tree_kill(driver_pid)
        if self.user_data_dir:
            shutil.rmtree(self.user_data_dir, ignore_errors=True)


def chrome_options(config: BrowserConfig, user_data_dir: str = "") -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    if config.headless:
        options.add_argument("--headless=new")
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--window-size={config.window_width},{config.window_height}")
    if user_data_dir:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    # A capability rather than a set_page_load_timeout call: one round trip less per browser.
    options.timeouts = {"pageLoad": int(config.page_load_timeout_s * 1000)}
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def browser_start(config: BrowserConfig) -> Browser:
    """Start a Chromium locally or on the Selenium Grid at config.hub_url.

    Raises WebDriverException when the browser cannot be started.
    """
    started = time.monotonic()
    if config.hub_url:
        options = chrome_options(config)
        driver = webdriver.Remote(command_executor=config.hub_url, options=options)
        user_data_dir = ""
    else:
        user_data_dir = tempfile.mkdtemp(prefix="jbtestsuite-chromium-")
        options = chrome_options(config, user_data_dir)
        options.binary_location = config.chromium_binary
        try:
            driver = webdriver.Chrome(service=Service(config.chromedriver_path), options=options)
        except Exception:
            shutil.rmtree(user_data_dir, ignore_errors=True)
            raise
    capabilities = driver.capabilities
    return Browser(
        driver=driver,
        config=config,
        name=capabilities.get("browserName", ""),
        version=capabilities.get("browserVersion", ""),
        started_in_s=time.monotonic() - started,
        user_data_dir=user_data_dir,
    )


class WorkerBrowser:
    """The browser a worker process keeps between executions.

    With reuse=True, acquire() hands out the same browser, reset, as long as it answers;
    a dead or wedged one is replaced. With reuse=False every acquire() starts a fresh browser
    and release() quits it.
    """

    def __init__(self, config: BrowserConfig | None = None, *, reuse: bool = True) -> None:
        self.config = config or BrowserConfig()
        self.reuse = reuse
        self.browser: Browser | None = None
        self.starts = 0

    def acquire(self) -> Browser:
        """A live browser on a blank tab with no cookies or storage.

        Raises WebDriverException when no browser can be started.
        """
        if self.reuse and self.browser is not None:
            if not self.browser.dead and self.browser.is_responsive():
                try:
                    self.browser.reset()
                    return self.browser
                except Exception:
                    logger.warning("browser reset failed; starting a new one", exc_info=True)
            self.browser.quit()
            self.browser = None
        browser = browser_start(self.config)
        self.starts += 1
        if self.reuse:
            self.browser = browser
        return browser

    def release(self, browser: Browser) -> None:
        """Give the browser back after an execution."""
        if not self.reuse or browser.dead:
            browser.quit()
            if browser is self.browser:
                self.browser = None

    def close(self) -> None:
        if self.browser is not None:
            self.browser.quit()
            self.browser = None


def process_table() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, session id) of every process, read from /proc (Linux only)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may contain spaces and parentheses; fields resume after the last ")".
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def child_process_ids(parent_pid: int) -> list[int]:
    """Direct children of a process."""
    return [pid for pid, (parent, _session) in process_table().items() if parent == parent_pid]


def process_tree_kill(pid: int) -> None:
    """SIGKILL a process and all its descendants, children first found, then the process."""
    for child in child_process_ids(pid):
        process_tree_kill(child)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)

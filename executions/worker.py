"""The worker's one job: claim an execution, run its steps in a browser, finish it.

The runner package does the browser work on plain data; this module is where the database
meets it. A heartbeat thread keeps `heartbeat_at` fresh even during a long step, so only a
dead worker process (not a slow page) ever looks lost to the sweeper. Whatever happens in
between (a soft time limit, a database hiccup, a bug, the process told to stop), the
execution is finished: it never stays running.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, NamedTuple

import structlog
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection

from executions import events, services
from executions.models import Execution, RunStatus
from tests_catalog.models import EnvironmentVariable

if TYPE_CHECKING:
    from executions.runner.browser import Browser, BrowserConfig, WorkerBrowser

logger = structlog.get_logger(__name__)


def browser_config() -> BrowserConfig:
    from executions.runner.browser import BrowserConfig

    return BrowserConfig(
        hub_url=settings.SELENIUM_HUB_URL,
        chromium_binary=settings.CHROMIUM_BINARY,
        chromedriver_path=settings.CHROMEDRIVER_PATH,
        window_width=settings.BROWSER_WINDOW_WIDTH,
        window_height=settings.BROWSER_WINDOW_HEIGHT,
        page_load_timeout_s=settings.PAGE_LOAD_TIMEOUT_SECONDS,
    )


class Ending(NamedTuple):
    """How an execution ends, as `services.execution_finish` records it."""

    status: str
    error_message: str = ""
    failing_step_index: int | None = None


# What is recorded when the run is interrupted before anything better is known.
INTERRUPTED = Ending(RunStatus.ERROR, "internal error: the worker stopped during the run")


def _timed_out() -> Ending:
    return Ending(RunStatus.ERROR, f"timed out after {settings.EXECUTION_TIME_LIMIT_SECONDS} s")


class Heartbeat(threading.Thread):
    """Beats for one execution while the `with` block runs."""

    def __init__(self, execution_id):
        super().__init__(name=f"heartbeat-{execution_id}", daemon=True)
        self.execution_id = execution_id
        self.stopped = threading.Event()

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.join(timeout=5)

    def run(self):
        try:
            while not self.stopped.wait(settings.EXECUTION_HEARTBEAT_INTERVAL_SECONDS):
                try:
                    services.execution_alive(execution_id=self.execution_id)
                except Exception as exc:
                    logger.warning("heartbeat_failed", error=type(exc).__name__)
        finally:
            connection.close()


def _run_variables(execution: Execution) -> tuple[dict[str, str], list[str]]:
    """Environment variables (secret values read now, never stored on the execution) + overrides."""
    variables: dict[str, str] = {}
    secrets: list[str] = []
    secret_names: set[str] = set()
    if execution.environment_id:
        for variable in EnvironmentVariable.objects.filter(environment_id=execution.environment_id):
            variables[variable.name] = variable.value
            if variable.secret:
                secret_names.add(variable.name)
                if variable.value:
                    secrets.append(variable.value)
    variables.update(execution.variable_overrides)
    # A run-time value for a secret name is as secret as the one it replaces.
    secrets += [value for name, value in execution.variable_overrides.items() if name in secret_names and value]
    return variables, secrets


class Worker:
    """Runs claimed executions one at a time in the browser it keeps between them.

    A Celery worker process has one (`process_worker()`); `run_tests --inline`, the tests and
    the benchmarks make their own around a WorkerBrowser they hold.
    """

    def __init__(self, browsers: WorkerBrowser | None = None):
        self._browsers = browsers
        self._lock = threading.Lock()

    @property
    def browsers(self) -> WorkerBrowser:
        with self._lock:
            if self._browsers is None:
                from executions.runner.browser import WorkerBrowser

                self._browsers = WorkerBrowser(browser_config(), reuse=settings.BROWSER_REUSE)
            return self._browsers

    def close(self) -> None:
        with self._lock:
            if self._browsers is not None:
                self._browsers.close()
                self._browsers = None

    def execution_run(self, *, execution_id) -> str | None:
        """Claim, run and finish one execution; its final status, or None if it was not ours to run."""
        close_old_connections()
        if not services.execution_claim(execution_id=execution_id, worker_host=socket.gethostname()):
            logger.info("execution_not_claimed", execution_id=str(execution_id))
            return None
        execution = Execution.objects.get(pk=execution_id)
        ending = INTERRUPTED
        with Heartbeat(execution.id):
            try:
                ending = self._run(execution)
            except SoftTimeLimitExceeded:
                ending = _timed_out()
            except Exception as exc:
                logger.exception("execution_crashed", execution_id=str(execution.id))
                ending = Ending(RunStatus.ERROR, f"internal error: {type(exc).__name__}")
            finally:
                _finish(execution, ending)
        return ending.status

    def _run(self, execution: Execution) -> Ending:
        try:
            browser = self.browsers.acquire()
        except Exception as exc:
            logger.warning("browser_start_failed", error=type(exc).__name__)
            return Ending(
                RunStatus.ERROR, f"the browser could not start: {type(exc).__name__}: {str(exc).strip()[:300]}"
            )
        ran = False
        try:
            Execution.objects.filter(pk=execution.id).update(
                browser_name=browser.name[:50], browser_version=browser.version[:50]
            )
            ending = _steps_run(execution, browser)
            ran = True
            return ending
        finally:
            if not ran:
                browser.dead = True  # its state is unknown: replace it rather than reuse it
            with contextlib.suppress(Exception):
                self.browsers.release(browser)


def _steps_run(execution: Execution, browser: Browser) -> Ending:
    """The snapshot's steps in the browser, each result stored as it comes."""
    from executions.runner.steps import steps_run

    variables, secrets = _run_variables(execution)
    # Checked between steps; Celery's soft time limit (a little later) interrupts a stuck step.
    deadline = time.monotonic() + settings.EXECUTION_TIME_LIMIT_SECONDS
    timed_out = False

    def before_step(step) -> bool:
        nonlocal timed_out
        if time.monotonic() > deadline:
            timed_out = True
            return True
        stop = services.execution_heartbeat(execution_id=execution.id)
        if not stop:
            events.step_started(execution_id=execution.id, step=step)
        return stop

    def after_step(outcome) -> None:
        services.step_result_record(execution=execution, outcome=outcome, description=outcome.description)

    result = steps_run(
        browser,
        execution.snapshot["steps"],
        base_url=execution.snapshot.get("base_url", ""),
        variables=variables,
        secrets=secrets,
        default_step_timeout_ms=settings.STEP_TIMEOUT_MS,
        screenshot_policy=settings.SCREENSHOT_POLICY,
        before_step=before_step,
        after_step=after_step,
        allowed_hosts=settings.BROWSER_ALLOWED_HOSTS,
        flows=execution.snapshot.get("flows", {}),
        flow_name=execution.snapshot.get("case", {}).get("name", ""),
        loop_max_iterations=settings.LOOP_MAX_ITERATIONS,
    )
    if timed_out:
        return _timed_out()._replace(failing_step_index=result.failing_step_index)
    return Ending(result.status, result.error_message, result.failing_step_index)


def _finish(execution: Execution, ending: Ending) -> None:
    try:
        services.execution_finish(
            execution_id=execution.id,
            status=ending.status,
            error_message=ending.error_message,
            failing_step_index=ending.failing_step_index,
        )
    except Exception as exc:
        # The sweeper ends it once the heartbeat is stale: nothing stays running for good.
        logger.warning("execution_finish_failed", execution_id=str(execution.id), error=type(exc).__name__)


_process_worker: Worker | None = None
_process_worker_lock = threading.Lock()


def process_worker() -> Worker:
    """The worker of this process (one per Celery worker process)."""
    global _process_worker
    with _process_worker_lock:
        if _process_worker is None:
            _process_worker = Worker()
        return _process_worker


def execution_run(*, execution_id, browsers: WorkerBrowser | None = None) -> str | None:
    """Run one execution: in `browsers` when given (inline runs, tests), else in this process's worker."""
    worker = Worker(browsers) if browsers is not None else process_worker()
    return worker.execution_run(execution_id=execution_id)


def worker_browser_close() -> None:
    """Close this process's browser (the worker process is shutting down)."""
    if _process_worker is not None:
        _process_worker.close()

"""Running one claimed execution in a worker: browser, steps, heartbeats, results.

The runner package does the browser work on plain data; this module is where the database
meets it. A heartbeat thread keeps `heartbeat_at` fresh even during a long step, so only a
dead worker process (not a slow page) ever looks lost to the sweeper.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import structlog
from django.conf import settings
from django.db import close_old_connections, connection

from executions import services
from executions.models import Execution, RunStatus
from tests_catalog.models import EnvironmentVariable

logger = structlog.get_logger(__name__)

_worker_browser = None
_worker_browser_lock = threading.Lock()


def browser_config():
    from executions.runner.browser import BrowserConfig

    return BrowserConfig(
        hub_url=settings.SELENIUM_HUB_URL,
        chromium_binary=settings.CHROMIUM_BINARY,
        chromedriver_path=settings.CHROMEDRIVER_PATH,
        window_width=settings.BROWSER_WINDOW_WIDTH,
        window_height=settings.BROWSER_WINDOW_HEIGHT,
        page_load_timeout_s=settings.PAGE_LOAD_TIMEOUT_SECONDS,
    )


def worker_browser():
    """The browser this process keeps between executions (one per worker process)."""
    global _worker_browser
    from executions.runner.browser import WorkerBrowser

    with _worker_browser_lock:
        if _worker_browser is None:
            _worker_browser = WorkerBrowser(browser_config(), reuse=settings.BROWSER_REUSE)
        return _worker_browser


def worker_browser_close() -> None:
    global _worker_browser
    with _worker_browser_lock:
        if _worker_browser is not None:
            _worker_browser.close()
            _worker_browser = None


class _Heartbeat(threading.Thread):
    def __init__(self, execution_id):
        super().__init__(name=f"heartbeat-{execution_id}", daemon=True)
        self.execution_id = execution_id
        self.stopped = threading.Event()

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
    if execution.environment_id:
        for variable in EnvironmentVariable.objects.filter(environment_id=execution.environment_id):
            variables[variable.name] = variable.value
            if variable.secret and variable.value:
                secrets.append(variable.value)
    variables.update(execution.variable_overrides)
    return variables, secrets


def _timed_out_message() -> str:
    return f"timed out after {settings.EXECUTION_TIME_LIMIT_SECONDS} s"


def execution_run(*, execution_id, browsers=None) -> str | None:
    """Claim and run one execution; returns its final status, or None if it was not ours to run."""
    from executions.runner.steps import steps_run

    close_old_connections()
    if not services.execution_claim(execution_id=execution_id, worker_host=socket.gethostname()):
        logger.info("execution_not_claimed", execution_id=str(execution_id))
        return None
    execution = Execution.objects.get(pk=execution_id)
    browsers = browsers or worker_browser()
    heartbeat = _Heartbeat(execution.id)
    heartbeat.start()
    browser = None
    try:
        try:
            browser = browsers.acquire()
        except Exception as exc:
            logger.warning("browser_start_failed", error=type(exc).__name__)
            services.execution_finish(
                execution_id=execution.id,
                status=RunStatus.ERROR,
                error_message=f"the browser could not start: {type(exc).__name__}: {str(exc).strip()[:300]}",
            )
            return RunStatus.ERROR
        Execution.objects.filter(pk=execution.id).update(
            browser_name=browser.name[:50], browser_version=browser.version[:50]
        )
        variables, secrets = _run_variables(execution)
        descriptions = {step["order_index"]: step.get("description", "") for step in execution.snapshot["steps"]}

        # Checked between steps; Celery's soft time limit (a little later) interrupts a stuck step.
        deadline = time.monotonic() + settings.EXECUTION_TIME_LIMIT_SECONDS
        timed_out = False

        def before_step(step) -> bool:
            nonlocal timed_out
            if time.monotonic() > deadline:
                timed_out = True
                return True
            return services.execution_heartbeat(execution_id=execution.id)

        def after_step(outcome) -> None:
            services.step_result_record(
                execution=execution, outcome=outcome, description=descriptions.get(outcome.order_index, "")
            )

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
        )
        status, message = result.status, result.error_message
        if timed_out:
            status, message = RunStatus.ERROR, _timed_out_message()
        services.execution_finish(
            execution_id=execution.id,
            status=status,
            error_message=message,
            failing_step_index=result.failing_step_index,
        )
        return status
    except BaseException as exc:
        # A soft time limit, a database hiccup, a bug: the execution must still end, never stay running.
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(exc, SoftTimeLimitExceeded):
            message = _timed_out_message()
        else:
            message = f"internal error: {type(exc).__name__}"
            logger.exception("execution_crashed", execution_id=str(execution.id))
        if browser is not None:
            browser.dead = True  # its state is unknown: replace it rather than reuse it
        with contextlib.suppress(Exception):
            services.execution_finish(execution_id=execution.id, status=RunStatus.ERROR, error_message=message)
        if not isinstance(exc, Exception):
            raise
        return RunStatus.ERROR
    finally:
        heartbeat.stopped.set()
        if browser is not None:
            with contextlib.suppress(Exception):
                browsers.release(browser)
        heartbeat.join(timeout=5)

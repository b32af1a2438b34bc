"""Running a test case's ordered steps in a browser and recording how each went.

The Django side calls steps_run() with plain data (step dicts, variables, secrets) and stores
what comes back; nothing here knows about models or the database.
"""

from __future__ import annotations

import http.client
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import urllib3.exceptions
from selenium.common.exceptions import (
    InvalidSelectorException,
    NoSuchElementException,
    TimeoutException,
    UnexpectedAlertPresentException,
    WebDriverException,
)

from executions.runner.actions import RUNNER_ACTIONS, StepContext
from executions.runner.browser import Browser
from executions.runner.outcomes import (
    CANCELLED,
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    Evidence,
    ExecutionCancelled,
    RunResult,
    StepError,
    StepFailed,
    StepOutcome,
)
from tests_catalog.step_actions import VARIABLE_REFERENCE, step_errors

logger = logging.getLogger(__name__)

SCREENSHOT_POLICIES = ("never", "on_failure", "always")
SECRET_MASK = "***"  # noqa: S105 - the mask, not a password

# Phrases WebDriver uses when the browser process or its session is gone for good.
_BROWSER_GONE = re.compile(
    r"invalid session id|chrome not reachable|disconnected|session deleted|no such session|"
    r"connection refused|target crashed|tab crashed|browser has closed",
    re.IGNORECASE,
)


def variables_substitute(text: str, variables: Mapping[str, str]) -> str:
    """Replace each ${name}. Raises StepError naming every undefined variable."""
    if "${" not in text:
        return text
    undefined = [name for name in VARIABLE_REFERENCE.findall(text) if name not in variables]
    if undefined:
        names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(undefined))
        raise StepError(f"undefined variable {names}")
    return VARIABLE_REFERENCE.sub(lambda match: str(variables[match.group(1)]), text)


def secrets_mask(text: str, secrets: Collection[str]) -> str:
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text


def browser_gone(error: BaseException) -> bool:
    """True when the error means the browser (or its driver) died, not that a step failed."""
    if isinstance(error, urllib3.exceptions.HTTPError | ConnectionError | http.client.HTTPException):
        return True
    return isinstance(error, WebDriverException) and bool(_BROWSER_GONE.search(error.msg or ""))


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _step_run(ctx: StepContext, action: str) -> tuple[str, str]:
    """Run one action; return (status, message). Never raises."""
    try:
        message = RUNNER_ACTIONS[action](ctx)
        if ctx.stale_retries:
            message += f" (re-located after the page replaced the element, {ctx.stale_retries} time(s))"
        return PASSED, message
    except StepFailed as failure:
        return FAILED, str(failure)
    except StepError as error:
        return ERROR, str(error)
    except UnexpectedAlertPresentException as error:
        text = error.alert_text or _first_line(error.msg)
        return FAILED, f"an unexpected alert was open: {text!r}"
    except (TimeoutException, NoSuchElementException) as error:
        return FAILED, _first_line(error.msg) or type(error).__name__
    except InvalidSelectorException as error:
        return ERROR, f"invalid selector {ctx.target()}: {_first_line(error.msg)}"
    except Exception as error:
        if browser_gone(error):
            raise
        logger.exception("step %s (%s) raised unexpectedly", ctx.order_index, action)
        return ERROR, f"unexpected {type(error).__name__}: {_first_line(str(error))}"


def _evidence_capture(
    browser: Browser, order_index: int, secrets: Collection[str], *, screenshot: bool, page: bool
) -> list[Evidence]:
    """Screenshot and/or the page source and console log.

    Each capture is guarded on its own: a page that broke one of them must not cost the others.
    """
    evidence: list[Evidence] = []
    prefix = f"step-{order_index}"
    if screenshot:
        try:
            png = browser.driver.get_screenshot_as_png()
            evidence.append(Evidence("screenshot", f"{prefix}.png", "image/png", png))
        except Exception:
            logger.info("screenshot capture failed", exc_info=True)
    if not page:
        return evidence
    try:
        source = secrets_mask(browser.driver.page_source, secrets)
        evidence.append(Evidence("page_source", f"{prefix}.html", "text/html", source.encode()))
    except Exception:
        logger.info("page source capture failed", exc_info=True)
    try:
        lines = [f"{entry.get('level', '')} {entry.get('message', '')}" for entry in browser.console_log()]
        # An empty file would be refused as an artifact, and "nothing logged" is worth knowing too.
        log = secrets_mask("\n".join(lines), secrets) or "(the page logged nothing to the console)"
        evidence.append(Evidence("console_log", f"{prefix}-console.txt", "text/plain", log.encode()))
    except Exception:
        logger.info("console log capture failed", exc_info=True)
    return evidence


def steps_run(
    browser: Browser,
    steps: list[Mapping[str, Any]],
    *,
    base_url: str = "",
    variables: Mapping[str, str] | None = None,
    secrets: Collection[str] = (),
    default_step_timeout_ms: int = 10_000,
    screenshot_policy: str = "on_failure",
    before_step: Callable[[Mapping[str, Any]], bool | None] | None = None,
    after_step: Callable[[StepOutcome], None] | None = None,
) -> RunResult:
    """Run the steps in order in the browser and report each step and the run.

    variables: environment variables, run-time overrides and anything else already merged
    by the caller (later sources overriding earlier ones); store_* steps add to a copy.
    secrets: values masked as *** in every message, selector, value and text evidence.
    before_step(step) is called before each step (write a heartbeat there); returning True
    or raising ExecutionCancelled cancels the run before that step.
    after_step(outcome) is called for every step, skipped ones included, in order.
    Raises ValueError for an unknown screenshot_policy; everything the steps do is reported.
    """
    if screenshot_policy not in SCREENSHOT_POLICIES:
        raise ValueError(f"screenshot_policy must be one of {SCREENSHOT_POLICIES}")
    run_variables = {name: str(value) for name, value in (variables or {}).items()}
    secrets = [str(secret) for secret in secrets if secret]
    ordered = sorted(steps, key=lambda step: step["order_index"])
    outcomes: list[StepOutcome] = []
    stop_reason = ""  # why the remaining steps are skipped
    cancelled = False

    def record(outcome: StepOutcome) -> None:
        outcomes.append(outcome)
        if after_step is not None:
            after_step(outcome)

    for step in ordered:
        order_index = step["order_index"]
        action = step.get("action", "")
        selector_type = step.get("selector_type") or "css"
        raw_selector = step.get("selector") or ""
        raw_value = step.get("value") or ""

        if not stop_reason and before_step is not None:
            try:
                cancelled = bool(before_step(step))
            except ExecutionCancelled:
                cancelled = True
            if cancelled:
                stop_reason = f"the run was cancelled before step {order_index}"

        if stop_reason:
            record(StepOutcome(order_index, action, selector_type, secrets_mask(raw_selector, secrets),
                               secrets_mask(raw_value, secrets), SKIPPED, 0, f"skipped: {stop_reason}"))  # fmt: skip
            continue

        started = time.monotonic()
        selector, value = raw_selector, raw_value
        evidence: list[Evidence] = []
        browser_died = False
        try:
            selector = variables_substitute(raw_selector, run_variables)
            value = variables_substitute(raw_value, run_variables)
            problems = step_errors(action, selector_type, selector, value)
            if problems:
                raise StepError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in problems.items()))
            timeout_ms = step.get("timeout_ms") or default_step_timeout_ms
            ctx = StepContext(
                driver=browser.driver,
                order_index=order_index,
                selector_type=selector_type,
                selector=selector,
                value=value,
                timeout_s=timeout_ms / 1000,
                base_url=base_url,
                variables=run_variables,
                evidence=evidence,
            )
            status, message = _step_run(ctx, action)
        except StepError as error:
            status, message = ERROR, str(error)
        except Exception as error:
            if not browser_gone(error):
                raise
            browser.dead = browser_died = True
            status, message = ERROR, f"the browser died: {_first_line(getattr(error, 'msg', None) or str(error))}"
        duration_ms = int((time.monotonic() - started) * 1000)

        # After a death every capture would only time out or fail; the outcome says why.
        if not browser_died:
            failed = status in (FAILED, ERROR)
            has_screenshot = any(item.kind == "screenshot" for item in evidence)
            wants_screenshot = not has_screenshot and (
                screenshot_policy == "always" or (failed and screenshot_policy == "on_failure")
            )
            if wants_screenshot or failed:
                evidence += _evidence_capture(browser, order_index, secrets, screenshot=wants_screenshot, page=failed)

        record(StepOutcome(order_index, action, selector_type, secrets_mask(selector, secrets),
                           secrets_mask(value, secrets), status, duration_ms,
                           secrets_mask(message, secrets), evidence))  # fmt: skip

        if browser_died:
            stop_reason = f"the browser died at step {order_index}"
        elif status == ERROR or (status == FAILED and not step.get("continue_on_failure")):
            stop_reason = f"step {order_index} {status}"

    return _run_result(outcomes, cancelled, run_variables, secrets)


def _run_result(
    outcomes: list[StepOutcome], cancelled: bool, variables: dict[str, str], secrets: list[str]
) -> RunResult:
    first_bad = next((outcome for outcome in outcomes if outcome.status in (FAILED, ERROR)), None)
    if cancelled:
        status = CANCELLED
    elif any(outcome.status == ERROR for outcome in outcomes):
        status = ERROR
    elif first_bad is not None:
        status = FAILED
    else:
        status = PASSED
    if first_bad is not None:
        error_message = f"step {first_bad.order_index} ({first_bad.action}) {first_bad.status}: {first_bad.message}"
    elif cancelled:
        error_message = next(o.message for o in outcomes if o.status == SKIPPED)
    else:
        error_message = ""
    return RunResult(
        status=status,
        failing_step_index=first_bad.order_index if first_bad else None,
        error_message=error_message,
        step_outcomes=outcomes,
        variables={name: secrets_mask(value, secrets) for name, value in variables.items()},
    )

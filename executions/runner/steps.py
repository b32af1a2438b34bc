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
from dataclasses import dataclass
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
    first_line,
)
from jbtestsuite.log import MASK
from tests_catalog.step_actions import VARIABLE_REFERENCE, step_errors

logger = logging.getLogger(__name__)

SCREENSHOT_POLICIES = ("never", "on_failure", "always")

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
        text = text.replace(secret, MASK)
    return text


def _file_name_forms(secret: str) -> list[str]:
    # A label becomes a file name with its odd characters turned into "-" (see the screenshot
    # action): "p@ss word" is stored as "p-ss-word", which plain masking would not catch.
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", secret).strip("-")
    return [secret, slug] if slug and slug != secret and len(slug) >= 4 else [secret]


def names_mask(name: str, secrets: Collection[str]) -> str:
    """A stored name or label with every secret, as typed or as it looks in a file name, masked."""
    return secrets_mask(name, [form for secret in secrets for form in _file_name_forms(secret)])


def browser_gone(error: BaseException) -> bool:
    """True when the error means the browser (or its driver) died, not that a step failed."""
    if isinstance(error, urllib3.exceptions.HTTPError | ConnectionError | http.client.HTTPException):
        return True
    return isinstance(error, WebDriverException) and bool(_BROWSER_GONE.search(error.msg or ""))


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
        text = error.alert_text or first_line(error.msg)
        return FAILED, f"an unexpected alert was open: {text!r}"
    except (TimeoutException, NoSuchElementException) as error:
        return FAILED, first_line(error.msg) or type(error).__name__
    except InvalidSelectorException as error:
        return ERROR, f"invalid selector {ctx.target()}: {first_line(error.msg)}"
    except Exception as error:
        if browser_gone(error):
            raise
        logger.exception("step %s (%s) raised unexpectedly", ctx.order_index, action)
        return ERROR, f"unexpected {type(error).__name__}: {first_line(str(error))}"


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


@dataclass
class _Run:
    """What every step of one run shares."""

    browser: Browser
    base_url: str
    variables: dict[str, str]  # store_* steps add to it
    secrets: list[str]
    default_step_timeout_ms: int
    screenshot_policy: str
    allowed_hosts: tuple[str, ...] = ()

    def mask(self, text: str) -> str:
        return secrets_mask(text, self.secrets)


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
    allowed_hosts: Collection[str] = (),
) -> RunResult:
    """Run the steps in order in the browser and report each step and the run.

    variables: environment variables, run-time overrides and anything else already merged
    by the caller (later sources overriding earlier ones); store_* steps add to a copy.
    secrets: values masked as *** in every message, selector, value and text evidence.
    before_step(step) is called before each step (write a heartbeat there); returning True
    or raising ExecutionCancelled cancels the run before that step.
    after_step(outcome) is called for every step, skipped ones included, in order.
    allowed_hosts: when given, the only hosts `open` may go to (see tests_catalog.browser_targets).
    Raises ValueError for an unknown screenshot_policy; everything the steps do is reported.
    """
    if screenshot_policy not in SCREENSHOT_POLICIES:
        raise ValueError(f"screenshot_policy must be one of {SCREENSHOT_POLICIES}")
    run = _Run(
        browser=browser,
        base_url=base_url,
        variables={name: str(value) for name, value in (variables or {}).items()},
        secrets=[str(secret) for secret in secrets if secret],
        default_step_timeout_ms=default_step_timeout_ms,
        screenshot_policy=screenshot_policy,
        allowed_hosts=tuple(allowed_hosts),
    )
    outcomes: list[StepOutcome] = []
    stop_reason = ""  # why the remaining steps are skipped
    cancelled = False
    for step in sorted(steps, key=lambda step: step["order_index"]):
        if not stop_reason and before_step is not None and _cancelled_before(before_step, step):
            cancelled = True
            stop_reason = f"the run was cancelled before step {step['order_index']}"
        if stop_reason:
            outcome = _skipped(run, step, stop_reason)
        else:
            outcome, browser_died = _step_attempt(run, step)
            stop_reason = _stop_reason(step, outcome, browser_died)
        outcomes.append(outcome)
        if after_step is not None:
            after_step(outcome)
    return _run_result(outcomes, cancelled, run.variables, run.secrets)


def _cancelled_before(before_step: Callable[[Mapping[str, Any]], bool | None], step: Mapping[str, Any]) -> bool:
    try:
        return bool(before_step(step))
    except ExecutionCancelled:
        return True


def _skipped(run: _Run, step: Mapping[str, Any], reason: str) -> StepOutcome:
    return StepOutcome(step["order_index"], step.get("action", ""), step.get("selector_type") or "css",
                       run.mask(step.get("selector") or ""), run.mask(step.get("value") or ""), SKIPPED, 0,
                       f"skipped: {reason}")  # fmt: skip


def _stop_reason(step: Mapping[str, Any], outcome: StepOutcome, browser_died: bool) -> str:
    if browser_died:
        return f"the browser died at step {outcome.order_index}"
    if outcome.status == ERROR or (outcome.status == FAILED and not step.get("continue_on_failure")):
        return f"step {outcome.order_index} {outcome.status}"
    return ""


def _step_attempt(run: _Run, step: Mapping[str, Any]) -> tuple[StepOutcome, bool]:
    """Run one step and capture its evidence; returns its outcome and whether the browser died."""
    order_index, action = step["order_index"], step.get("action", "")
    selector_type = step.get("selector_type") or "css"
    selector, value = step.get("selector") or "", step.get("value") or ""
    started = time.monotonic()
    evidence: list[Evidence] = []
    browser_died = False
    try:
        selector = variables_substitute(selector, run.variables)
        value = variables_substitute(value, run.variables)
        # Selector syntax was checked on save; the browser judges it now (with variables in).
        problems = step_errors(action, selector_type, selector, value, selector_syntax=False)
        if problems:
            raise StepError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in problems.items()))
        ctx = StepContext(
            driver=run.browser.driver,
            order_index=order_index,
            selector_type=selector_type,
            selector=selector,
            value=value,
            timeout_s=(step.get("timeout_ms") or run.default_step_timeout_ms) / 1000,
            base_url=run.base_url,
            variables=run.variables,
            evidence=evidence,
            allowed_hosts=run.allowed_hosts,
        )
        status, message = _step_run(ctx, action)
    except StepError as error:
        status, message = ERROR, str(error)
    except Exception as error:
        if not browser_gone(error):
            raise
        run.browser.dead = browser_died = True
        status, message = ERROR, f"the browser died: {first_line(getattr(error, 'msg', None) or str(error))}"
    duration_ms = int((time.monotonic() - started) * 1000)
    # After a death every capture would only time out or fail; the outcome says why.
    if not browser_died:
        evidence += _evidence_wanted(run, order_index, status, evidence)
    evidence = [item._replace(filename=names_mask(item.filename, run.secrets)) for item in evidence]
    outcome = StepOutcome(order_index, action, selector_type, run.mask(selector), run.mask(value), status,
                          duration_ms, names_mask(message, run.secrets), evidence)  # fmt: skip
    return outcome, browser_died


def _evidence_wanted(run: _Run, order_index: int, status: str, evidence: list[Evidence]) -> list[Evidence]:
    """What the screenshot policy asks for (unless the step took one itself), and the page on failure."""
    failed = status in (FAILED, ERROR)
    has_screenshot = any(item.kind == "screenshot" for item in evidence)
    wants_screenshot = not has_screenshot and (
        run.screenshot_policy == "always" or (failed and run.screenshot_policy == "on_failure")
    )
    if not (wants_screenshot or failed):
        return []
    return _evidence_capture(run.browser, order_index, run.secrets, screenshot=wants_screenshot, page=failed)


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

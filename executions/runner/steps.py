"""Running a test case's ordered steps in a browser and recording how each went.

The Django side calls steps_run() with plain data (step dicts, variables, secrets) and stores
what comes back; nothing here knows about models or the database.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import urllib3.exceptions
from selenium.common.exceptions import (
    InvalidSelectorException,
    JavascriptException,
    NoSuchElementException,
    TimeoutException,
    UnexpectedAlertPresentException,
    WebDriverException,
)

from executions.runner.actions import RUNNER_ACTIONS, StepContext, text_of
from executions.runner.browser import Browser
from executions.runner.flow import FlowWalker, Place
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
from tests_catalog.step_actions import ACTIONS, VARIABLE_REFERENCE, locator_format, step_errors

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
    return VARIABLE_REFERENCE.sub(lambda match: text_of(variables[match.group(1)]), text)


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


def steps_run(
    browser: Browser,
    steps: list[Mapping[str, Any]],
    *,
    base_url: str = "",
    variables: Mapping[str, Any] | None = None,
    secrets: Collection[str] = (),
    default_step_timeout_ms: int = 10_000,
    screenshot_policy: str = "on_failure",
    before_step: Callable[[Mapping[str, Any]], bool | None] | None = None,
    after_step: Callable[[StepOutcome], None] | None = None,
    flows: Mapping[str, list[Mapping[str, Any]]] | None = None,
    flow_name: str = "",
    loop_max_iterations: int = 1000,
    allowed_hosts: Collection[str] = (),
) -> RunResult:
    """Run the steps, with their control flow, in the browser and report each step and the run.

    variables: environment variables, run-time overrides and anything else already merged
    by the caller (later sources overriding earlier ones); store_* steps add to a copy.
    secrets: values masked as *** in every message, selector, value and text evidence.
    flows: {case name: its steps} for the cases `run` steps call (the snapshot's); flow_name
    is the running case's own name, so that a `run` of itself is caught as recursion.
    before_step(step) is called before each step (write a heartbeat there); returning True
    or raising ExecutionCancelled cancels the run before that step.
    after_step(outcome) is called for every outcome, skipped ones included, in order.
    allowed_hosts: when given, the only hosts `open` may go to (see tests_catalog.browser_targets).
    Raises ValueError for an unknown screenshot_policy; everything the steps do is reported.
    """
    if screenshot_policy not in SCREENSHOT_POLICIES:
        raise ValueError(f"screenshot_policy must be one of {SCREENSHOT_POLICIES}")
    run = _Run(
        browser,
        base_url=base_url,
        variables=dict(variables or {}),
        secrets=[str(secret) for secret in secrets if secret],
        default_step_timeout_ms=default_step_timeout_ms,
        screenshot_policy=screenshot_policy,
        before_step=before_step,
        after_step=after_step,
        allowed_hosts=tuple(allowed_hosts),
    )
    walker = FlowWalker(run, flows=flows or {}, loop_max_iterations=loop_max_iterations)
    walker.walk(steps, stack=[flow_name])
    return _run_result(run.outcomes, run.cancelled, run.variables, run.secrets)


def script_substitute(text: str, variables: Mapping[str, Any]) -> str:
    """Replace each ${name} in JavaScript by the variable's value as a JavaScript literal.

    That is what Selenium IDE does (it passes variables to scripts as arguments), so `${n} < 3`
    compares numbers and `${name} === 'Ann'` compares strings. Raises StepError naming every
    undefined variable.
    """
    if "${" not in text:
        return text
    undefined = [name for name in VARIABLE_REFERENCE.findall(text) if name not in variables]
    if undefined:
        names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(undefined))
        raise StepError(f"undefined variable {names}")
    return VARIABLE_REFERENCE.sub(lambda match: json.dumps(variables[match.group(1)]), text)


def keys_substitute(text: str) -> str:
    """Selenium IDE's ${KEY_ENTER} and friends as the keys they press; other ${…} are left alone."""
    from executions.runner.more_actions import key_name

    def key(match: re.Match) -> str:
        pressed = key_name(match.group(1))
        return pressed if pressed is not None else match.group(0)

    return re.sub(r"\$\{KEY_([A-Z0-9_]+)\}", key, text)


_FALLBACK_KIND_JS = """
const el = arguments[0], kind = arguments[1];
const tag = el.tagName.toLowerCase();
if (kind === 'editable') {
  if (el.isContentEditable) return true;
  const types = ['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'image', 'hidden', 'range', 'color'];
  return (tag === 'textarea' || (tag === 'input' && !types.includes(el.type))) && !el.disabled && !el.readOnly;
}
if (kind === 'select') return tag === 'select';
if (kind === 'toggle') return tag === 'input' && (el.type === 'checkbox' || el.type === 'radio');
if (kind === 'frame') return tag === 'iframe' || tag === 'frame';
return true;
"""


class _Run:
    """One run's state and the browser work of each ordinary step, for the flow walker."""

    def __init__(self, browser: Browser, *, base_url, variables, secrets, default_step_timeout_ms,
                 screenshot_policy, before_step, after_step, allowed_hosts=()) -> None:  # fmt: skip
        self.browser = browser
        self.allowed_hosts = allowed_hosts
        self.base_url = base_url
        self.variables: dict[str, Any] = variables
        self.secrets: list[str] = secrets
        self.default_step_timeout_ms = default_step_timeout_ms
        self.screenshot_policy = screenshot_policy
        self.before_step = before_step
        self.after_step = after_step
        self.outcomes: list[StepOutcome] = []
        self.stopped = False
        self.stop_reason = ""  # why the remaining steps are skipped
        self.cancelled = False

    def stop(self, reason: str) -> None:
        if not self.stopped:
            self.stopped, self.stop_reason = True, reason

    def mask(self, text: str) -> str:
        return secrets_mask(text, self.secrets)

    def text(self, raw: str) -> str:
        return variables_substitute(raw, {name: text_of(value) for name, value in self.variables.items()})

    def checkpoint(self, step: Mapping[str, Any]) -> bool:
        if self.before_step is None:
            return True
        try:
            cancelled = bool(self.before_step(step))
        except ExecutionCancelled:
            cancelled = True
        if cancelled:
            self.cancelled = True
            self.stop(f"the run was cancelled before step {step['order_index']}")
        return not cancelled

    def _append(self, outcome: StepOutcome) -> None:
        outcome.sequence = len(self.outcomes)
        self.outcomes.append(outcome)
        if self.after_step is not None:
            self.after_step(outcome)

    def record(self, step, place: Place, status: str, message: str, branch: str = "") -> None:
        self._append(StepOutcome(
            step["order_index"], step.get("action", ""), step.get("selector_type") or "css",
            self.mask(step.get("selector") or ""), self.mask(step.get("value") or ""), status, 0,
            self.mask(message), depth=place.depth, iteration=place.iteration, branch=branch, flow=place.flow,
            description=step.get("description") or "",
        ))  # fmt: skip
        if status == ERROR:
            self.stop(f"step {step['order_index']} {status}")

    def condition(self, step: Mapping[str, Any]) -> bool:
        expression = script_substitute(step.get("value") or "", self.variables)
        try:
            return bool(self.browser.driver.execute_script(f"return !!(\n{expression}\n);"))
        except JavascriptException as error:
            raise StepError(f"the condition threw: {first_line(error.msg)}") from None
        except Exception as error:
            if browser_gone(error):
                self.browser.dead = True
                raise StepError(f"the browser died: {first_line(getattr(error, 'msg', None) or str(error))}") from None
            raise

    def execute(self, step: Mapping[str, Any], place: Place) -> StepOutcome:
        order_index = step["order_index"]
        action = step.get("action", "")
        spec = ACTIONS.get(action)
        selector_type = step.get("selector_type") or "css"
        raw_selector = step.get("selector") or ""
        raw_value = step.get("value") or ""
        started = time.monotonic()
        selector, value = raw_selector, raw_value
        evidence: list[Evidence] = []
        browser_died = False
        healed_by = ""
        try:
            selector = self.text(raw_selector)
            if spec is not None and spec.value_is_script:
                value = script_substitute(raw_value, self.variables)
            else:
                value = self.text(keys_substitute(raw_value) if action == "send_keys" else raw_value)
            # Selector syntax was checked on save; the browser judges it now (with variables in).
            problems = step_errors(action, selector_type, selector, value, selector_syntax=False)
            if problems:
                raise StepError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in problems.items()))
            timeout_ms = step.get("timeout_ms") or self.default_step_timeout_ms
            ctx = StepContext(
                driver=self.browser.driver, order_index=order_index, selector_type=selector_type, selector=selector,
                value=value, timeout_s=timeout_ms / 1000, base_url=self.base_url, variables=self.variables,
                evidence=evidence, step_options=dict(step.get("options") or {}), allowed_hosts=self.allowed_hosts,
            )  # fmt: skip
            runs_as = action if action in RUNNER_ACTIONS else action.replace("verify_", "assert_", 1)
            handles_before = self._handles_if_opening(step)
            status, message = _step_run(ctx, runs_as)
            if status == FAILED and not ctx.found and spec is not None and spec.element_kind and step.get("targets"):
                status, message, healed_by = self._fallback(ctx, runs_as, spec.element_kind, step["targets"], message)
            if status == PASSED and handles_before is not None:
                message += self._new_window(step, handles_before)
        except StepError as error:
            status, message = ERROR, str(error)
        except Exception as error:
            if not browser_gone(error):
                raise
            self.browser.dead = browser_died = True
            status, message = ERROR, f"the browser died: {first_line(getattr(error, 'msg', None) or str(error))}"
        duration_ms = int((time.monotonic() - started) * 1000)

        # After a death every capture would only time out or fail; the outcome says why.
        if not browser_died:
            failed = status in (FAILED, ERROR)
            has_screenshot = any(item.kind == "screenshot" for item in evidence)
            wants_screenshot = not has_screenshot and (
                self.screenshot_policy == "always" or (failed and self.screenshot_policy == "on_failure")
            )
            if wants_screenshot or failed:
                evidence += _evidence_capture(self.browser, order_index, self.secrets, screenshot=wants_screenshot,
                                              page=failed)  # fmt: skip

        shown_value = raw_value if action == "send_keys" else value
        # Stored names carry a secret in its file-name form too ("p@ss word" → "p-ss-word").
        evidence = [item._replace(filename=names_mask(item.filename, self.secrets)) for item in evidence]
        outcome = StepOutcome(
            order_index, action, selector_type, self.mask(selector), self.mask(shown_value), status, duration_ms,
            names_mask(message, self.secrets), evidence, depth=place.depth, iteration=place.iteration, flow=place.flow,
            healed_by=healed_by, description=step.get("description") or "",
        )  # fmt: skip
        self._append(outcome)
        soft = spec is not None and spec.soft
        if browser_died:
            self.stop(f"the browser died at step {order_index}")
        elif status == ERROR or (status == FAILED and not step.get("continue_on_failure") and not soft):
            self.stop(f"step {order_index} {status}")
        return outcome

    def _fallback(self, ctx: StepContext, action: str, kind: str, targets, main_message: str):
        """Try the step's alternate locators in order, once its main one found nothing.

        Only an alternate that finds exactly one displayed element of the kind the step needs
        may stand in; a step that then fails its own check is a failure, not a heal.
        """
        driver = self.browser.driver
        for alternate_type, alternate in targets:
            probe = StepContext(driver=driver, order_index=ctx.order_index, selector_type=alternate_type,
                                selector=alternate, value=ctx.value, timeout_s=ctx.timeout_s, base_url=ctx.base_url,
                                variables=self.variables, evidence=ctx.evidence,
                                step_options=ctx.step_options)  # fmt: skip
            try:
                found = driver.find_elements(*probe.locator())
                if len(found) != 1 or not found[0].is_displayed():
                    continue
                if not driver.execute_script(_FALLBACK_KIND_JS, found[0], kind):
                    continue
            except InvalidSelectorException:
                continue
            locator = locator_format(alternate_type, alternate)
            status, message = _step_run(probe, action)
            if status == PASSED:
                return PASSED, f"{message} (located by fallback {locator})", locator
            return status, f"{main_message}; with fallback {locator}: {message}", ""
        return FAILED, main_message, ""

    def _handles_if_opening(self, step) -> list[str] | None:
        if not (step.get("options") or {}).get("opens_window"):
            return None
        return list(self.browser.driver.window_handles)

    def _new_window(self, step, before: list[str]) -> str:
        """Selenium IDE's opensWindow: wait for the window the step opened, keep its handle in a variable."""
        options = step.get("options") or {}
        name = options.get("window_handle_name") or "new_window"
        deadline = time.monotonic() + (options.get("window_timeout_ms") or 2000) / 1000
        while True:
            new = [handle for handle in self.browser.driver.window_handles if handle not in before]
            if new:
                self.variables[name] = new[0]
                return f"; a new window opened (${{{name}}})"
            if time.monotonic() > deadline:
                raise StepFailed(f"the step was to open a window, but none opened; ${{{name}}} is unset")
            time.sleep(0.05)  # window handles have no event to wait on


def _run_result(
    outcomes: list[StepOutcome], cancelled: bool, variables: dict[str, Any], secrets: list[str]
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
        variables={name: secrets_mask(text_of(value), secrets) for name, value in variables.items()},
    )

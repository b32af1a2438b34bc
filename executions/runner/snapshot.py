"""What a page offers to someone writing steps for it: its interactive and text elements, each
with a role, an accessible name and ranked candidate selectors; plus a dry run of steps.

The AI assistant reads pages through these plain functions (it never touches selenium). Every
string that leaves here has the run's secret values masked, and password fields never carry
their value.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from executions.runner.browser import Browser
from executions.runner.outcomes import RunResult
from executions.runner.steps import secrets_mask, steps_run

logger = logging.getLogger(__name__)

# One round trip: the page works out names, roles and which selectors are unique itself.
# Candidates come most stable first: id, data-test*, name, label or link text, then a CSS path.
_SNAPSHOT_SCRIPT = (Path(__file__).parent / "snapshot.js").read_text()


@dataclass
class PageSnapshot:
    url: str
    title: str
    elements: list[dict[str, Any]]
    truncated: bool = False
    screenshot_png: bytes | None = None
    error: str = ""

    def as_prompt_data(self) -> dict[str, Any]:
        """The snapshot as sent to a model: compact, numbered, best candidate first."""
        elements = []
        for number, element in enumerate(self.elements, start=1):
            compact = {key: value for key, value in element.items() if value not in ("", {}, None, False)}
            compact["ref"] = number
            elements.append(compact)
        return {"url": self.url, "title": self.title, "elements": elements, "truncated": self.truncated,
                **({"error": self.error} if self.error else {})}  # fmt: skip

    @property
    def screenshot_data_url(self) -> str:
        if not self.screenshot_png:
            return ""
        return "data:image/png;base64," + base64.b64encode(self.screenshot_png).decode()


def _mask_deep(value: Any, secrets: Collection[str]) -> Any:
    if isinstance(value, str):
        return secrets_mask(value, secrets)
    if isinstance(value, list):
        return [_mask_deep(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _mask_deep(item, secrets) for key, item in value.items()}
    return value


def page_snapshot(
    browser: Browser, *, secrets: Collection[str] = (), screenshot: bool = True, max_elements: int = 80
) -> PageSnapshot:
    """The current page's elements (secrets masked) and, when asked, a screenshot.

    Never raises for a page that breaks the script: the snapshot then carries the error.
    """
    secrets = [str(secret) for secret in secrets if secret]
    driver = browser.driver
    try:
        raw = driver.execute_script(_SNAPSHOT_SCRIPT, max_elements) or {}
    except Exception as error:  # an alert, a page mid-navigation, a crashed renderer
        logger.info("page snapshot failed", exc_info=True)
        try:
            url, title = driver.current_url, driver.title
        except Exception:
            url, title = "", ""
        return PageSnapshot(url=secrets_mask(url, secrets), title=secrets_mask(title, secrets), elements=[],
                            error=f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}")  # fmt: skip
    png = None
    if screenshot:
        try:
            png = driver.get_screenshot_as_png()
        except Exception:
            logger.info("snapshot screenshot failed", exc_info=True)
    raw = _mask_deep(raw, secrets)
    return PageSnapshot(
        url=raw.get("url", ""),
        title=raw.get("title", ""),
        elements=list(raw.get("elements", [])),
        truncated=bool(raw.get("truncated")),
        screenshot_png=png,
    )


@dataclass
class DryRun:
    """Steps tried in a browser without touching the database: the result and the page after."""

    result: RunResult
    snapshot: PageSnapshot | None = None
    browser_ms: int = 0
    evidence_kinds: list[str] = field(default_factory=list)


def steps_dry_run(
    browser: Browser,
    steps: list[Mapping[str, Any]],
    *,
    base_url: str = "",
    variables: Mapping[str, str] | None = None,
    secrets: Collection[str] = (),
    default_step_timeout_ms: int = 10_000,
    reset: bool = True,
    snapshot_after: bool = True,
    screenshot: bool = True,
    before_step: Callable[[Mapping[str, Any]], bool | None] | None = None,
) -> DryRun:
    """Run steps (from a fresh, reset browser unless reset=False) and snapshot the page after.

    Used to try what a model wrote before anyone stores it. Raises whatever steps_run raises
    when the browser itself is gone.
    """
    import time

    started = time.monotonic()
    if reset:
        browser.reset()
    numbered = [{**step, "order_index": index} for index, step in enumerate(steps)]
    result = steps_run(
        browser,
        numbered,
        base_url=base_url,
        variables=variables,
        secrets=secrets,
        default_step_timeout_ms=default_step_timeout_ms,
        screenshot_policy="never",
        before_step=before_step,
    )
    snapshot = page_snapshot(browser, secrets=secrets, screenshot=screenshot) if snapshot_after else None
    return DryRun(result=result, snapshot=snapshot, browser_ms=int((time.monotonic() - started) * 1000))

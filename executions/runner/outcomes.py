"""What a run produces: step outcomes with evidence, and the run's result. Plain data, no selenium."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"
CANCELLED = "cancelled"


def first_line(text: str | None) -> str:
    """The first line of a message, stripped: WebDriver errors append pages of stack trace."""
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


class StepFailed(Exception):
    """The application did not behave: an assertion did not hold or an element never appeared."""


class StepError(Exception):
    """The step could not run: bad input, undefined variable, browser gone, unexpected exception."""


class ExecutionCancelled(Exception):
    """Raised by a before-step callback to stop the run before the next step."""


class Evidence(NamedTuple):
    kind: str  # "screenshot", "page_source" or "console_log"
    filename: str
    content_type: str
    content: bytes


@dataclass
class StepOutcome:
    order_index: int
    action: str
    selector_type: str
    selector: str  # as run: variables substituted, secrets masked
    value: str  # as run: variables substituted, secrets masked
    status: str
    duration_ms: int
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    # Where in the run it happened: control flow repeats steps, skips them, and `run` brings in
    # another case's steps. sequence numbers the outcomes of one run 0, 1, 2…
    sequence: int | None = None  # set by the runner
    depth: int = 0
    iteration: int | None = None
    branch: str = ""  # if/else_if/while/repeat_if: "true"/"false"; times/for_each/do: "iteration"; else: "taken"
    flow: str = ""  # the called case's name, for the steps a `run` step runs
    healed_by: str = ""  # the alternate locator (type=selector) that found the element
    description: str = ""


@dataclass
class RunResult:
    status: str  # passed, failed, error or cancelled
    failing_step_index: int | None  # order_index of the first failed or errored step
    error_message: str
    step_outcomes: list[StepOutcome]
    # Variables as they stood at the end, secrets masked: they are meant for the record.
    variables: dict[str, str]

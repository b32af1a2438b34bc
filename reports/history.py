"""The rules behind the reports, as pure functions of plain data.

Both the incremental update (one execution as it finishes) and the rebuild (every execution in
order) fold runs through `health_fold`, so the two cannot disagree about a label.

Labels, per case and environment, from its runs in the order they finished (cancelled runs are
no evidence and are left out):
- new failure: failed (or errored) now, passed in the previous run or never ran before;
- known failure: failed now and in the previous run;
- fixed: passes now, failed in the previous run;
- passed on retry: a failing attempt then a passing one in this run (our retries make it exact);
- passed: passes now and did before.

Flaky: in the window of the newest FLAKY_WINDOW runs that ran the same steps as the newest one
(a run with other steps ends the window: a flip right after an edit is the edit, not flakiness),
the pass/fail flips between consecutive runs plus the passes on retry reach FLAKY_MIN_EVIDENCE.
One flip alone is a change of state (broke, or was fixed); two within ten runs of the same steps
is a case that cannot make up its mind.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass

FLAKY_WINDOW = 10
FLAKY_MIN_EVIDENCE = 2
# Runs kept per case for the strip and the window (the strip shows all of them).
RECENT_KEPT = 30

PASSED = "passed"
FAILING = ("failed", "error")


def steps_key(snapshot: dict, case_version_id=None) -> str:
    """What identifies the steps a run ran: the case version when there is one, else a hash.

    Descriptions are left out of the hash: rewording a step does not change what it does.
    """
    if case_version_id is not None:
        return f"v:{case_version_id}"
    steps = [
        [
            step.get(field)
            for field in ("action", "selector_type", "selector", "value", "timeout_ms", "continue_on_failure")
        ]
        for step in snapshot.get("steps", [])
    ]
    digest = hashlib.sha256(json.dumps(steps, separators=(",", ":")).encode()).hexdigest()
    return f"h:{digest[:40]}"


@dataclass(frozen=True)
class Run:
    """One case's outcome in one run, as the rules see it."""

    execution_id: str
    status: str
    steps_key: str
    passed_on_retry: bool
    finished_at: str  # ISO 8601
    duration_ms: int

    def as_entry(self) -> dict:
        return {"e": self.execution_id, "s": self.status, "k": self.steps_key, "r": self.passed_on_retry,
                "t": self.finished_at, "d": self.duration_ms}  # fmt: skip


@dataclass(frozen=True)
class Health:
    label: str
    flaky: bool
    flips: int
    retry_passes: int
    recent: list  # entries, newest first


def outcome_label(status: str, passed_on_retry: bool, previous_status: str | None) -> str:
    if status == PASSED:
        if passed_on_retry:
            return "passed_on_retry"
        return "fixed" if previous_status in FAILING else "passed"
    return "known_failure" if previous_status in FAILING else "new_failure"


def flaky_evidence(recent: list) -> tuple[int, int]:
    """(flips, passes on retry) in the window of the newest runs with the newest run's steps."""
    if not recent:
        return 0, 0
    key = recent[0]["k"]
    window = []
    for entry in recent[:FLAKY_WINDOW]:
        if entry["k"] != key:
            break
        window.append(entry)
    flips = sum(1 for newer, older in itertools.pairwise(window) if (newer["s"] == PASSED) != (older["s"] == PASSED))
    return flips, sum(1 for entry in window if entry["r"])


def health_fold(recent: list, run: Run) -> Health:
    """The case's standing after `run`, given its recent runs (newest first) before it."""
    previous = recent[0]["s"] if recent else None
    label = outcome_label(run.status, run.passed_on_retry, previous)
    recent = [run.as_entry(), *recent][:RECENT_KEPT]
    flips, retry_passes = flaky_evidence(recent)
    return Health(label=label, flaky=flips + retry_passes >= FLAKY_MIN_EVIDENCE, flips=flips,
                  retry_passes=retry_passes, recent=recent)  # fmt: skip


# --- Failure fingerprints ------------------------------------------------------------------

_NORMALISERS = [
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>)]+", re.I), "<url>"),
    (re.compile("'[^']*'|\"[^\"]*\"|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019|`[^`]*`"), "<value>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    # Hex ids (session ids, hashes, object ids) with at least one digit among their letters.
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.I), "<id>"),
    (re.compile(r"\d+(?:[.,]\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def message_normalise(message: str) -> str:
    """A failure message with what varies between occurrences of one cause replaced.

    URLs, quoted values, UUIDs and hex ids, and numbers (timeouts, counts, row ids) go; the
    words that say what went wrong stay. Only the first line counts: stack traces and
    driver diagnostics below it differ by machine.
    """
    text = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()[:500]


_SELECTOR_NUMBERS = re.compile(r"\d+")


def selector_normalise(selector: str) -> str:
    """Row ids and positions in a selector (`#row-42`, `li:nth-child(3)`) vary; their shape does not."""
    return _SELECTOR_NUMBERS.sub("<n>", (selector or "").strip())[:500]


def failure_fingerprint(action: str, selector: str, message: str) -> tuple[str, str, str]:
    """(fingerprint, normalised selector, normalised message): independent of the case it came from."""
    normal_selector = selector_normalise(selector)
    normal_message = message_normalise(message)
    digest = hashlib.sha256("\x1f".join([action or "", normal_selector, normal_message]).encode()).hexdigest()
    return digest[:64], normal_selector, normal_message

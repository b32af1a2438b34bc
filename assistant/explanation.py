"""Explaining a failed execution from its evidence, and proposing a patch a person approves.

The model gets the failing step and its message, the screenshot (unless the project withholds
screenshots), a DOM excerpt around the target, the console log, and what changed since the
last passing run of the same case (steps, base URL, timings). A proposed patch is tried on a
copy of the steps in a browser before anyone sees it; only a person's approval changes a case.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from typing import Any

import structlog
from django.conf import settings
from django.utils import timezone

from assistant import context, schema
from assistant.client import ModelConversation, Usage, secrets_mask_text
from assistant.models import FailureExplanation, JobStatus, ProposalStatus
from jbtestsuite.errors import ApplicationError

logger = structlog.get_logger(__name__)

SYSTEM_PROMPT = """You explain why an automated browser test failed, for a QA engineer.
Pick one category: "product bug" (the application misbehaves), "test needs update" (the app
changed on purpose and the steps are out of date, e.g. a renamed id), "environment" (server
down, timeouts, network, data), "flaky" (timing or order dependent), or "unknown".
Give your confidence (0 to 1), a short explanation, and the evidence you relied on (quote it).
Only for "test needs update", propose a patch: the fewest changes to the steps (indexes as
given) that make the test check the same thing again; prefer stable selectors (id, data-test,
name, label text); never a fixed pause; never a secret value (use ${name})."""

DOM_EXCERPT_CHARS = 3000
CONSOLE_CHARS = 3000
_STEP_KEYS = ("action", "selector_type", "selector", "value", "timeout_ms", "description", "continue_on_failure")


def _artifact_bytes(artifact) -> bytes:
    with artifact.file.open("rb") as handle:
        return handle.read()


def dom_excerpt(page_source: str, selector: str) -> str:
    """The part of the page around the step's target, or its start when the target is not found."""
    if not page_source:
        return ""
    tokens = [t for t in re.split(r"[#.\[\]=\"' >:()@/]+", selector or "") if len(t) >= 3]
    position = -1
    for token in sorted(tokens, key=len, reverse=True):
        position = page_source.find(token)
        if position >= 0:
            break
    if position < 0:
        body = page_source.find("<body")
        position = max(body, 0) + DOM_EXCERPT_CHARS // 2
    start = max(0, position - DOM_EXCERPT_CHARS // 2)
    return page_source[start : start + DOM_EXCERPT_CHARS]


def _steps_of(snapshot: dict) -> list[dict]:
    return [{key: step.get(key) for key in _STEP_KEYS} for step in snapshot.get("steps", [])]


def changes_since_last_pass(execution) -> dict[str, Any]:
    from executions.models import Execution

    if execution.test_case_id is None:
        return {"last_passing_run": None}
    last = (
        Execution.objects.filter(
            test_case_id=execution.test_case_id, status="passed", queued_at__lt=execution.queued_at
        )
        .order_by("-queued_at")
        .first()
    )
    if last is None:
        return {"last_passing_run": None, "note": "This case never passed before."}
    before = [json.dumps(step, sort_keys=True) for step in _steps_of(last.snapshot)]
    now = [json.dumps(step, sort_keys=True) for step in _steps_of(execution.snapshot)]
    durations_then = {r.order_index: r.duration_ms for r in last.step_results.all()}
    durations_now = {r.order_index: r.duration_ms for r in execution.step_results.all()}
    return {
        "last_passing_run": {
            "id": str(last.pk),
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
        },
        "steps_diff": list(difflib.unified_diff(before, now, "last passing run", "this run", lineterm="", n=1))[:60],
        "base_url_then": last.snapshot.get("base_url", ""),
        "base_url_now": execution.snapshot.get("base_url", ""),
        "step_durations_ms": {
            str(index): {"then": durations_then.get(index), "now": durations_now.get(index)} for index in durations_now
        },
    }


def explanation_context(execution, *, secrets: list[str], with_screenshot: bool) -> tuple[dict, bytes | None]:
    """What the model is told about the failure (secrets masked) and the failing step's screenshot."""
    results = list(execution.step_results.prefetch_related("artifacts").order_by("order_index"))
    failing = next((r for r in results if r.status in ("failed", "error")), None)
    artifacts = {a.kind: a for a in (failing.artifacts.all() if failing else [])}
    screenshot = None
    if with_screenshot and "screenshot" in artifacts:
        screenshot = _artifact_bytes(artifacts["screenshot"])
    page_source = (
        _artifact_bytes(artifacts["page_source"]).decode(errors="replace") if "page_source" in artifacts else ""
    )
    console = _artifact_bytes(artifacts["console_log"]).decode(errors="replace") if "console_log" in artifacts else ""
    steps = execution.snapshot.get("steps", [])
    facts = {
        "case": execution.case_name,
        "error": execution.error_message,
        "base_url": execution.snapshot.get("base_url", ""),
        "steps": [
            {
                "index": index,
                **{key: step.get(key) for key in ("action", "selector_type", "selector", "value")},
                **(
                    {"result": r.status, "message": r.message, "duration_ms": r.duration_ms}
                    if (r := next((x for x in results if x.order_index == step.get("order_index")), None))
                    else {}
                ),
            }
            for index, step in enumerate(steps)
        ],
        "failing_step_index": next(
            (i for i, s in enumerate(steps) if failing and s.get("order_index") == failing.order_index), None
        ),
        "dom_excerpt": dom_excerpt(page_source, failing.selector if failing else ""),
        "console_log": console[-CONSOLE_CHARS:],
        "since_last_pass": changes_since_last_pass(execution),
    }
    masked = json.loads(secrets_mask_text(json.dumps(facts), [json.dumps(s)[1:-1] for s in secrets]))
    return masked, screenshot


def patch_apply(steps: list[dict], patch: list[dict]) -> list[dict]:
    """Apply ops whose indexes refer to the steps as given: from the highest index down."""
    result = [dict(step) for step in steps]
    for change in sorted(patch, key=lambda c: (c["index"], c["op"] != "delete"), reverse=True):
        index = change["index"]
        if change["op"] == "delete":
            del result[index]
        elif change["op"] == "replace":
            result[index] = {**result[index], **change["step"]}
        else:
            result.insert(index, {**change["step"], "timeout_ms": None, "continue_on_failure": False})
    return result


def _checker(steps_before: list[dict]):
    def check(data: dict) -> tuple[Any, str, str]:
        if data.get("category") not in schema.CATEGORIES:
            return None, "invalid_answer", f"'category' must be one of {', '.join(schema.CATEGORIES)}."
        confidence = data.get("confidence")
        if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            return None, "invalid_answer", "'confidence' must be a number from 0 to 1."
        if not isinstance(data.get("explanation"), str) or not data["explanation"].strip():
            return None, "invalid_answer", "'explanation' must be a non-empty text."
        evidence = data.get("evidence") or []
        patch_raw = data.get("patch") or []
        if not isinstance(evidence, list) or not isinstance(patch_raw, list):
            return None, "invalid_answer", "'evidence' and 'patch' must be lists."
        if data["category"] != "test needs update":
            patch_raw = []
        patch = []
        for number, change in enumerate(patch_raw):
            if not isinstance(change, dict) or change.get("op") not in schema.PATCH_OPS:
                return None, "invalid_answer", f"patch[{number}]: 'op' must be one of {', '.join(schema.PATCH_OPS)}."
            index = change.get("index")
            limit = len(steps_before) + (1 if change["op"] == "insert" else 0)
            if not isinstance(index, int) or not 0 <= index < limit:
                return None, "invalid_answer", f"patch[{number}]: 'index' must be from 0 to {limit - 1}."
            step = None
            if change["op"] != "delete":
                if not isinstance(change.get("step"), dict):
                    return None, "invalid_answer", f"patch[{number}]: {change['op']} needs a 'step'."
                step = schema.step_normalise(change["step"])
                unknown = schema.unknown_actions([step])
                if unknown:
                    return None, "unknown_action", f"patch[{number}]: unknown action {unknown[0]!r}."
            patch.append({"op": change["op"], "index": index, "step": step})
        try:
            after = patch_apply(steps_before, patch)
        except IndexError:
            return None, "invalid_answer", "The patch's indexes do not fit the steps."
        errors = schema.answer_steps_errors(after, exclude=schema.GENERATION_EXCLUDED_ACTIONS) if patch else {}
        if errors:
            return None, "invalid_steps", json.dumps({"patched_steps": errors})
        return (
            {
                "category": data["category"],
                "confidence": float(confidence),
                "explanation": data["explanation"].strip()[:2000],
                "evidence": [str(item)[:500] for item in evidence][:10],
                "patch": patch,
                "steps_after": after if patch else [],
            },
            "",
            "",
        )

    return check


def explanation_run(*, explanation_id, browsers=None) -> str | None:
    """Claim and run one explanation; its final status, or None if it was not ours."""
    claimed = FailureExplanation.objects.filter(pk=explanation_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING
    )
    if not claimed:
        return None
    row = FailureExplanation.objects.select_related("execution__environment", "project").get(pk=explanation_id)
    execution = row.execution
    values, secrets, _names = context.environment_values(execution.environment)
    usage = Usage()
    fields: dict[str, Any] = {}
    try:
        withheld = context.screenshots_withheld(row.project_id)
        facts, screenshot = explanation_context(execution, secrets=secrets, with_screenshot=not withheld)
        steps_before = _steps_of(execution.snapshot)
        content: list[dict] = [{"type": "text", "text": json.dumps(facts, ensure_ascii=False)}]
        if screenshot:
            url = "data:image/png;base64," + base64.b64encode(screenshot).decode()
            content.append({"type": "image_url", "image_url": {"url": url}})
        conversation = ModelConversation(
            project_id=row.project_id, purpose="explain", schema_name="failure_explanation",
            schema=schema.explanation_schema(), secrets=secrets, model=settings.OPENAI_VISION_MODEL,
            explanation_id=row.pk, send_images=not withheld, usage=usage,
        )  # fmt: skip
        answer = conversation.ask_valid(
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}], _checker(steps_before)
        )
        fields = {key: answer[key] for key in ("category", "confidence", "explanation", "evidence", "patch")}
        fields["steps_before"] = steps_before
        fields["steps_after"] = answer["steps_after"]
        if answer["patch"]:
            dry_run, browser_ms = _patch_dry_run(answer["steps_after"], execution, values, secrets, browsers)
            fields.update(patch_dry_run=dry_run, browser_ms=browser_ms, proposal=ProposalStatus.PENDING)
        status, message = JobStatus.SUCCEEDED, ""
    except ApplicationError as error:
        status, message = JobStatus.FAILED, error.message
    except Exception as exc:
        logger.exception("explanation_crashed", explanation_id=str(explanation_id))
        status, message = JobStatus.FAILED, f"internal error: {type(exc).__name__}"
    FailureExplanation.objects.filter(pk=row.pk, status=JobStatus.RUNNING).update(
        status=status, message=message[:5000], finished_at=timezone.now(), **usage.fields(), **fields
    )
    return status


def _patch_dry_run(steps: list[dict], execution, values, secrets, browsers) -> tuple[dict, int]:
    """Try the patched steps on a copy (plain steps in a fresh browser; no case is touched)."""
    from executions import worker
    from executions.runner.snapshot import steps_dry_run

    browsers = browsers or worker.process_worker().browsers
    browser = browsers.acquire()
    try:
        run = steps_dry_run(
            browser, steps, base_url=execution.snapshot.get("base_url", ""), variables=values, secrets=secrets,
            default_step_timeout_ms=settings.STEP_TIMEOUT_MS, reset=False, snapshot_after=False,
        )  # fmt: skip
    finally:
        browsers.release(browser)
    return {
        "status": run.result.status,
        "message": run.result.error_message,
        "steps": [{"index": o.order_index, "action": o.action, "status": o.status, "message": o.message[:300]}
                  for o in run.result.step_outcomes],
    }, run.browser_ms  # fmt: skip

"""Writing a case from a plain-language description: observe the page, ask the model for the
next steps, try them in the browser, show the model what happened, repeat.

What ends up stored is a draft case of ordinary registry steps that ran green in a final dry
run (a real execution, from a fresh browser, with no model involved), or nothing but the job's
reason and its partial steps. The model never sees a secret value: snapshots and results are
masked, and a secret value in a step the model wrote becomes its `${name}`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant import context, schema
from assistant.client import ModelConversation, Usage
from assistant.errors import AnswerInvalid
from assistant.models import GenerationJob, JobStatus
from jbtestsuite.errors import ApplicationError
from tests_catalog import step_actions

logger = structlog.get_logger(__name__)

SYSTEM_PROMPT = """You write browser tests for JBTestSuite as steps of its step registry.
Each turn you get the goal, the steps accepted so far (they already ran green), what happened to
the steps you sent last, and a snapshot of the current page: its elements with role, accessible
name, id, data-test attributes, name and candidate selectors, most stable first (a candidate
with "unique": true matches exactly one element).
Rules:
- Send only the NEXT steps; they run right after the accepted ones, in the page as it is now.
- Prefer stable selectors: id, then data-test*, then name, then label or link text. Never a
  positional path when a stable candidate exists.
- Never a fixed pause: wait for an element, a text or a URL (wait_for_*) when the page changes.
- Use ${name} for the variables you are given; never write a secret value, and never ***.
- The case must end with assertions that check the goal (assert_text, assert_url, ...).
- Set done=true when, after the steps in this answer, the goal is reached and checked.
- If the goal cannot be reached on this site, say why in give_up and send no steps."""


def _step_key(step: dict) -> tuple:
    return (step["action"], step["selector_type"], step["selector"], step["value"])


class GenerationStopped(Exception):
    """The loop ends without a case; the message says why."""


class _Loop:
    def __init__(self, job: GenerationJob, browsers):
        self.job = job
        self.browsers = browsers
        self.browser = None
        self.values, self.secrets, self.secret_names = context.environment_values(job.environment)
        self.base_url = context.base_url(job.project, job.environment)
        self.accepted: list[dict] = []
        self.usage = Usage()
        self.browser_ms = 0
        self.progress: list[str] = list(job.progress)
        self.failed_keys: dict[tuple, int] = {}
        self.idle_turns = 0
        self.deadline = time.monotonic() + settings.ASSISTANT_TIME_LIMIT_SECONDS
        send_images = settings.OPENAI_SEND_IMAGES and not context.screenshots_withheld(job.project_id)
        self.send_images = send_images
        self.conversation = ModelConversation(
            project_id=job.project_id,
            purpose="generate",
            schema_name="next_steps",
            schema=schema.generation_schema(),
            secrets=self.secrets,
            generation_job_id=job.pk,
            send_images=send_images,
            usage=self.usage,
        )

    def say(self, line: str) -> None:
        self.progress.append(f"{timezone.now():%H:%M:%S} {line}")
        GenerationJob.objects.filter(pk=self.job.pk).update(
            progress=self.progress, steps=self.accepted, browser_ms=self.browser_ms, **self.usage.fields()
        )

    def dry_run(self, steps, *, reset: bool):
        from executions.runner.snapshot import steps_dry_run

        run = steps_dry_run(
            self.browser, steps, base_url=self.base_url, variables=self.values, secrets=self.secrets,
            default_step_timeout_ms=settings.STEP_TIMEOUT_MS, reset=reset, screenshot=self.send_images,
        )  # fmt: skip
        self.browser_ms += run.browser_ms
        return run

    # --- the model's answer ------------------------------------------------------------------

    def check(self, data: Any) -> tuple[Any, str, str]:
        steps_raw = data.get("steps")
        if not isinstance(steps_raw, list) or not isinstance(data.get("done"), bool):
            return None, "invalid_answer", "The answer needs 'steps' (a list) and 'done' (true or false)."
        if any(not isinstance(step, dict) for step in steps_raw):
            return None, "invalid_answer", "Each step must be an object."
        steps = [self.secrets_to_references(schema.step_normalise(step)) for step in steps_raw]
        unknown = schema.unknown_actions(steps)
        if unknown:
            known = ", ".join(a for a in step_actions.ACTIONS if a not in schema.GENERATION_EXCLUDED_ACTIONS)
            return None, "unknown_action", f"Unknown action(s) {', '.join(map(repr, unknown))}; use one of {known}."
        errors = schema.answer_steps_errors(steps, exclude=schema.GENERATION_EXCLUDED_ACTIONS)
        if errors:
            return None, "invalid_steps", json.dumps({"steps": errors})
        return {"steps": steps, "done": data["done"], "give_up": str(data.get("give_up") or "")}, "", ""

    def secrets_to_references(self, step: dict) -> dict:
        for field in ("selector", "value", "description"):
            for secret, name in sorted(self.secret_names.items(), key=lambda item: -len(item[0])):
                if secret and secret in step[field]:
                    step[field] = step[field].replace(secret, f"${{{name}}}")
        return step

    def prompt(self, snapshot, last_result: dict | None, turn: int) -> list[dict]:
        facts = {
            "goal": self.job.description,
            "start_url": self.job.start_url,
            "variables": [f"${{{name}}}" for name in self.job.variable_names],
            "accepted_steps": self.accepted,
            "last_result": last_result,
            "failed_before": [list(key) for key in self.failed_keys][-5:],
            "turn": f"{turn} of {settings.ASSISTANT_MAX_TURNS}",
            "page": snapshot.as_prompt_data(),
        }
        content: list[dict] = [{"type": "text", "text": json.dumps(facts, ensure_ascii=False)}]
        if self.send_images and snapshot.screenshot_png:
            content.append({"type": "image_url", "image_url": {"url": snapshot.screenshot_data_url, "detail": "low"}})
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> list[dict]:
        """The accepted steps, once the model says the goal is reached and checked.

        Raises GenerationStopped (or an ApplicationError from the model call) otherwise.
        """
        self.browser = self.browsers.acquire()
        opening = {"action": "open", "selector_type": "css", "selector": "", "value": self.job.start_url,
                   "description": "Open the start page"}  # fmt: skip
        run = self.dry_run([opening], reset=False)
        if run.result.status != "passed":
            raise GenerationStopped(f"The start page could not be opened: {run.result.error_message}")
        self.accepted = [opening]
        snapshot, last_result = run.snapshot, None
        for turn in range(1, settings.ASSISTANT_MAX_TURNS + 1):
            if time.monotonic() > self.deadline:
                raise GenerationStopped(f"timed out after {settings.ASSISTANT_TIME_LIMIT_SECONDS} s")
            answer = self.conversation.ask_valid(self.prompt(snapshot, last_result, turn), self.check)
            if answer["give_up"]:
                raise GenerationStopped(f"The model gave up: {answer['give_up'][:500]}")
            steps = answer["steps"]
            self.say(f"turn {turn}: the model sent {len(steps)} step(s){' and says done' if answer['done'] else ''}")
            if not steps and not answer["done"]:
                self.idle_turns += 1
                if self.idle_turns >= 2:
                    raise GenerationStopped("The model is looping: two turns in a row without a step.")
                last_result = {"status": "no steps", "message": "You sent no steps; send the next steps."}
                continue
            repeated = [step for step in steps if self.failed_keys.get(_step_key(step), 0) >= 2]
            if repeated:
                raise GenerationStopped(
                    f"The model is looping: it sent a step that already failed twice ({_describe(repeated[0])})."
                )
            if len(self.accepted) + len(steps) > settings.ASSISTANT_MAX_STEPS:
                raise GenerationStopped(f"The case would exceed {settings.ASSISTANT_MAX_STEPS} steps.")
            run = self.dry_run(steps, reset=False)
            outcomes = run.result.step_outcomes
            passed = [o for o in outcomes if o.status == "passed"]
            self.accepted += steps[: len(passed)]
            if run.result.status == "passed":
                if answer["done"]:
                    if not any(step_actions.ACTIONS[s["action"]].category == "assertion" for s in self.accepted):
                        last_result = {"status": "refused", "message": "Done, but no step checks the goal: add "
                                       "assertions (assert_text, assert_url, ...)."}  # fmt: skip
                        snapshot = run.snapshot
                        continue
                    # The page had the model's thinking time to settle; a fresh replay has not.
                    replay = self.dry_run(self.accepted, reset=True)
                    if replay.result.status == "passed":
                        self.say(f"the goal is reached in {len(self.accepted)} steps; a fresh replay passed")
                        return self.accepted
                    last_result, snapshot = self.replay_failed(replay)
                    continue
                snapshot, last_result = run.snapshot, {"status": "passed", "message": f"{len(steps)} step(s) passed"}
                self.idle_turns = 0
                continue
            bad = next(o for o in outcomes if o.status in ("failed", "error"))
            failed_step = steps[len(passed)]
            key = _step_key(failed_step)
            self.failed_keys[key] = self.failed_keys.get(key, 0) + 1
            self.say(f"step {_describe(failed_step)} {bad.status}: {bad.message[:200]}")
            last_result = {
                "status": bad.status,
                "failed_step": failed_step,
                "message": bad.message,
                "passed_before_it": len(passed),
                "note": "The failed step and the ones after it were dropped; send replacements.",
            }
            # Back to the state after the accepted steps, replayed without the model.
            replay = self.dry_run(self.accepted, reset=True)
            if replay.result.status != "passed":
                raise GenerationStopped(f"The accepted steps did not replay green: {replay.result.error_message}")
            snapshot = replay.snapshot
        raise GenerationStopped(f"The goal was not reached within {settings.ASSISTANT_MAX_TURNS} model turns.")

    def replay_failed(self, replay) -> tuple[dict, object]:
        """Keep the steps before the one that failed on a fresh replay, and say why to the model."""
        bad = next(o for o in replay.result.step_outcomes if o.status in ("failed", "error"))
        position = next(i for i, o in enumerate(replay.result.step_outcomes) if o is bad)
        failed_step = self.accepted[position]
        key = _step_key(failed_step)
        self.failed_keys[key] = self.failed_keys.get(key, 0) + 1
        self.accepted = self.accepted[:position]
        self.say(f"on a fresh replay, step {_describe(failed_step)} {bad.status}: {bad.message[:200]}")
        result = {
            "status": bad.status,
            "failed_step": failed_step,
            "message": bad.message,
            "passed_before_it": position,
            "note": "This step passed while you looked at the page, but failed when the case was replayed from "
            "the start: the page was not ready yet. Wait for what it needs (wait_for_*, with timeout_ms when "
            "slow). The failed step and the ones after it were dropped; send replacements.",
        }
        if position == 0:
            raise GenerationStopped(f"The start page failed on a fresh replay: {bad.message}")
        recovered = self.dry_run(self.accepted, reset=True)
        if recovered.result.status != "passed":
            raise GenerationStopped(f"The accepted steps did not replay green: {recovered.result.error_message}")
        return result, recovered.snapshot


def _describe(step: dict) -> str:
    return " ".join(part for part in (step["action"], step["selector"], repr(step["value"]) if step["value"] else "")
                    if part)  # fmt: skip


def generation_claim(*, job_id) -> bool:
    return bool(
        GenerationJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=timezone.now()
        )
    )


def generation_finish(*, job_id, status: str, message: str = "", **fields) -> bool:
    """Move a running job to its final status; False if it already ended."""
    return bool(
        GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=status, message=message[:5000], finished_at=timezone.now(), **fields
        )
    )


def generation_run(*, job_id, browsers=None) -> str | None:
    """Claim and run one generation job; its final status, or None if it was not ours.

    Every failure ends the job with a message (timeout, invalid JSON, unknown action, loop,
    budget, a red dry run); the case is stored only once its dry run passed.
    """
    from executions import worker

    if not generation_claim(job_id=job_id):
        return None
    job = GenerationJob.objects.select_related("project", "environment").get(pk=job_id)
    browsers = browsers or worker.process_worker().browsers
    loop = None
    try:
        loop = _Loop(job, browsers)
        steps = loop.run()
    except (GenerationStopped, ApplicationError) as stop:
        message = getattr(stop, "message", None) or str(stop)
        if isinstance(stop, AnswerInvalid):
            logger.info("generation_answer_invalid", job_id=str(job_id), reason=stop.reason)
        return _end_failed(job, loop, message)
    except BaseException as exc:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(exc, SoftTimeLimitExceeded):
            message = f"timed out after {settings.ASSISTANT_TIME_LIMIT_SECONDS} s"
        else:
            logger.exception("generation_crashed", job_id=str(job_id))
            message = f"internal error: {type(exc).__name__}"
        _end_failed(job, loop, message)
        if not isinstance(exc, Exception):
            raise
        return JobStatus.FAILED
    finally:
        if loop is not None and loop.browser is not None:
            browsers.release(loop.browser)
    return _case_store_and_verify(job, loop, steps, browsers)


def _end_failed(job, loop, message: str, **fields) -> str:
    if loop is not None:
        fields |= {"steps": loop.accepted, "progress": loop.progress, "browser_ms": loop.browser_ms,
                  **loop.usage.fields()}  # fmt: skip
    generation_finish(job_id=job.pk, status=JobStatus.FAILED, message=message, **fields)
    logger.info("generation_failed", job_id=str(job.pk), reason=message[:200])
    return JobStatus.FAILED


def _case_store_and_verify(job: GenerationJob, loop: _Loop, steps: list[dict], browsers) -> str:
    """Store the draft case, run it once as a real execution (no model), keep it only if green."""
    from executions import services as execution_services
    from executions import worker
    from executions.models import Trigger
    from tests_catalog import services as catalog_services

    usage = loop.usage.fields()
    provenance = {
        "generation_job": str(job.pk),
        "model": usage["model"],
        "model_calls": usage["model_calls"],
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "cost_estimate_usd": str(usage["cost_estimate_usd"]),
        "description": job.description,
    }
    try:
        with transaction.atomic():
            case = catalog_services.test_case_create(
                project=job.project,
                author=job.requested_by,
                name=context.case_name_free(job.project_id, job.case_name or _name_from(job.description)),
                description=f"Written by the AI assistant from: {job.description}",
                status="draft",
                metadata={"assistant": provenance},
                steps=steps,
            )
            execution = execution_services.execution_create(
                case=case, trigger=Trigger.API, environment=job.environment, triggered_by=job.requested_by,
                inline=True,
            )  # fmt: skip
    except ApplicationError as error:
        return _end_failed(job, loop, f"The steps could not be stored: {error.message}")
    started = time.monotonic()
    status = worker.execution_run(execution_id=execution.pk, browsers=browsers)
    loop.browser_ms += int((time.monotonic() - started) * 1000)
    execution.refresh_from_db()
    if status != "passed":
        # Nothing half-saved: the case goes, the execution stays as the record of why.
        catalog_services.test_case_delete(case=case)
        loop.say(f"the final dry run {status}: {execution.error_message[:200]}")
        return _end_failed(
            job, loop, f"The final dry run {status}: {execution.error_message}", dry_run_execution=execution
        )
    provenance["dry_run_execution"] = str(execution.pk)
    catalog_services.test_case_update(case=case, metadata={**case.metadata, "assistant": provenance})
    loop.say("the final dry run passed; the draft case is stored")
    generation_finish(
        job_id=job.pk, status=JobStatus.SUCCEEDED, message=f"Draft case {case.name!r} written ({len(steps)} steps).",
        test_case=case, dry_run_execution=execution, steps=steps, progress=loop.progress,
        browser_ms=loop.browser_ms, **usage,
    )  # fmt: skip
    return JobStatus.SUCCEEDED


def _name_from(description: str) -> str:
    words = " ".join(description.split())
    return (words[:80] + "…") if len(words) > 80 else words or "Generated case"

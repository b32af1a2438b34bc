"""The only code in JBTestSuite that imports openai.

A `ModelConversation` sends chat requests for one job: it enforces the answer's schema the
strongest way the server allows (structured outputs, a forced tool call, or JSON mode plus our
validation), retries 429/5xx with exponential backoff, refuses once the project's daily token
budget is spent, masks secret values in every request before it leaves, and stores each
request and answer, redacted, as a ModelExchange.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import openai
import structlog
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from assistant.errors import AnswerInvalid, AssistantUnavailable, BudgetSpent, ModelFailed, ModelTimeout
from assistant.models import AssistantSettings, ModelExchange
from assistant.schema import schema_prompt

logger = structlog.get_logger(__name__)

MASK = "***"
_DATA_URL = re.compile(r"^data:image/[a-z]+;base64,", re.IGNORECASE)
REPAIR_ROUNDS = 2


def assistant_configured() -> bool:
    return bool(settings.OPENAI_API_KEY)


def how_to_enable() -> str:
    return (
        "The AI assistant is not configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a self-hosted or "
        "gateway server, OPENAI_MODEL for the model) in the environment and restart the web and worker processes."
    )


def secrets_mask_text(text: str, secrets: Collection[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _masked(value: Any, secrets: Collection[str], *, images: str) -> Any:
    """A deep copy with secrets masked; images kept ("keep") or replaced by a description ("describe")."""
    if isinstance(value, str):
        if _DATA_URL.match(value):
            if images == "keep":
                return value
            raw = value.split(",", 1)[1]
            return f"[image: {len(raw) * 3 // 4} bytes, sha256 {hashlib.sha256(raw.encode()).hexdigest()[:16]}]"
        return secrets_mask_text(value, secrets)
    if isinstance(value, list):
        return [_masked(item, secrets, images=images) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item, secrets, images=images) for key, item in value.items()}
    return value


def tokens_used_today(project_id) -> int:
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    totals = ModelExchange.objects.filter(project_id=project_id, created_at__gte=start).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    return (totals["prompt"] or 0) + (totals["completion"] or 0)


def daily_budget(project_id) -> int:
    own = AssistantSettings.objects.filter(project_id=project_id).values_list("daily_token_budget", flat=True).first()
    return settings.ASSISTANT_DAILY_TOKEN_BUDGET if own is None else own


def budget_require(project_id) -> None:
    """Raise BudgetSpent once the project's tokens of the current UTC day reach its budget."""
    budget = daily_budget(project_id)
    used = tokens_used_today(project_id)
    if used >= budget:
        tomorrow = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        raise BudgetSpent(
            f"The project's daily AI token budget is spent ({used} of {budget} tokens); it renews at "
            f"00:00 UTC on {tomorrow}. A maintainer can raise it in the project's assistant settings.",
            {"budget": [f"{used} of {budget} tokens used today."]},
        )


def cost_estimate(prompt_tokens: int, completion_tokens: int) -> Decimal:
    dollars = (prompt_tokens * settings.OPENAI_PRICE_INPUT + completion_tokens * settings.OPENAI_PRICE_OUTPUT) / 1e6
    return Decimal(f"{dollars:.6f}")


@dataclass
class Usage:
    """Summed over a job's calls; the job copies it onto its row."""

    model: str = ""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ms: int = 0

    def fields(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "model_ms": self.model_ms,
            "cost_estimate_usd": cost_estimate(self.prompt_tokens, self.completion_tokens),
        }


@dataclass
class ModelConversation:
    project_id: Any
    purpose: str  # generate | explain
    schema_name: str
    schema: dict[str, Any]
    secrets: Collection[str] = ()
    model: str = ""
    generation_job_id: Any = None
    explanation_id: Any = None
    send_images: bool = True
    usage: Usage = field(default_factory=Usage)
    response_format: str = ""
    _client: Any = None

    def __post_init__(self):
        if not assistant_configured():
            raise AssistantUnavailable(how_to_enable())
        self.model = self.model or settings.OPENAI_MODEL
        self.usage.model = self.model
        self.response_format = self.response_format or settings.OPENAI_RESPONSE_FORMAT
        self.secrets = [str(s) for s in self.secrets if s]
        # Our own retry loop, not the client's: every attempt is audited and the backoff is ours.
        self._client = openai.OpenAI(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
            timeout=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=0,
        )

    # --- one request, with retries ------------------------------------------------------------

    def _request(self, messages: list[dict]) -> dict[str, Any]:
        if not self.send_images:
            messages = [_without_images(message) for message in messages]
        if self.response_format == "json":
            messages = [{"role": "system", "content": schema_prompt(self.schema)}, *messages]
        request: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0}
        if self.response_format == "structured":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "strict": True, "schema": self.schema},
            }
        elif self.response_format == "tools":
            request["tools"] = [{"type": "function", "function": {
                "name": self.schema_name, "description": "Give your answer.", "strict": True,
                "parameters": self.schema,
            }}]  # fmt: skip
            request["tool_choice"] = {"type": "function", "function": {"name": self.schema_name}}
        else:
            request["response_format"] = {"type": "json_object"}
        # Secrets never leave the server, whatever a caller forgot to mask.
        return _masked(request, self.secrets, images="keep")

    def _audit(self, request, *, attempt, started, answer="", ok=False, error="", status_code=None, usage=None):
        duration_ms = int((time.monotonic() - started) * 1000)
        prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        ModelExchange.objects.create(
            project_id=self.project_id,
            generation_job_id=self.generation_job_id,
            explanation_id=self.explanation_id,
            purpose=self.purpose,
            model=self.model,
            response_format=self.response_format,
            attempt=attempt,
            request=_masked(request, self.secrets, images="describe"),
            answer=secrets_mask_text(answer, self.secrets),
            ok=ok,
            error=secrets_mask_text(error, self.secrets)[:2000],
            status_code=status_code,
            prompt_tokens=prompt,
            completion_tokens=completion,
            duration_ms=duration_ms,
        )
        self.usage.model_ms += duration_ms

    def ask(self, messages: list[dict]) -> str:
        """Send one request and return the answer's text (the JSON the model wrote).

        Raises BudgetSpent, ModelTimeout or ModelFailed (after retrying 429/5xx/connection errors).
        """
        attempt = 0
        while True:
            attempt += 1
            budget_require(self.project_id)
            request = self._request(messages)
            started = time.monotonic()
            try:
                completion = self._client.chat.completions.create(**request)
            except openai.APITimeoutError:
                seconds = settings.OPENAI_TIMEOUT_SECONDS
                self._audit(request, attempt=attempt, started=started, error=f"timed out after {seconds} s")
                raise ModelTimeout(
                    f"The model did not answer within {seconds} s (OPENAI_TIMEOUT_SECONDS).", {"model": [self.model]}
                ) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as error:
                status_code = getattr(error, "status_code", None)
                self._audit(
                    request, attempt=attempt, started=started, error=_error_text(error), status_code=status_code
                )
                if attempt > settings.OPENAI_MAX_RETRIES:
                    what = f"HTTP {status_code}" if status_code else "a connection error"
                    raise ModelFailed(
                        f"The model server answered {what} {attempt} time(s) in a row: {_error_text(error)[:200]}",
                        {"model": [self.model]},
                    ) from None
                time.sleep(_backoff_seconds(error, attempt))
                continue
            except openai.APIStatusError as error:
                self._audit(request, attempt=attempt, started=started, error=_error_text(error),
                            status_code=error.status_code)  # fmt: skip
                if error.status_code == 400 and self.response_format != "json":
                    # A server that cannot enforce schemas: JSON mode plus the same validation.
                    logger.info("model_schema_unsupported", model=self.model, fallback="json")
                    self.response_format = "json"
                    continue
                raise ModelFailed(
                    f"The model server refused the request (HTTP {error.status_code}): {_error_text(error)[:200]}",
                    {"model": [self.model]},
                ) from None
            except openai.OpenAIError as error:
                self._audit(request, attempt=attempt, started=started, error=_error_text(error))
                raise ModelFailed(f"The model call failed: {_error_text(error)[:200]}") from None
            text = _answer_text(completion)
            self.usage.calls += 1
            usage = completion.usage
            if usage is not None:
                self.usage.prompt_tokens += usage.prompt_tokens or 0
                self.usage.completion_tokens += usage.completion_tokens or 0
            self._audit(request, attempt=attempt, started=started, answer=text, ok=True, usage=usage)
            return text

    def ask_valid(self, messages: list[dict], check: Callable[[Any], tuple[Any, str, str]]) -> Any:
        """Ask, and send an invalid answer back with its errors, at most REPAIR_ROUNDS times.

        check(data) returns (result, reason, errors): errors empty when the answer is good.
        Raises AnswerInvalid naming what stayed wrong, besides what ask() raises.
        """
        conversation = list(messages)
        for round_number in range(REPAIR_ROUNDS + 1):
            text = self.ask(conversation)
            try:
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("the answer is not a JSON object")
            except ValueError as error:
                reason, errors = "invalid_json", f"Your answer is not valid JSON ({error}). Answer with the JSON only."
            else:
                result, reason, errors = check(data)
                if not errors:
                    return result
            logger.info("model_answer_invalid", reason=reason, round=round_number)
            conversation = [
                *conversation,
                {"role": "assistant", "content": text[:4000]},
                {"role": "user", "content": f"Your answer was refused: {errors}\nSend the corrected answer."},
            ]
        raise AnswerInvalid(_invalid_message(reason, errors), {"answer": [errors[:1000]]}, reason=reason)


_REASONS = {
    "invalid_json": "The model's answer was not valid JSON",
    "unknown_action": "The model named an action that does not exist",
    "invalid_steps": "The model's steps were invalid",
    "invalid_answer": "The model's answer did not match the schema",
}


def _invalid_message(reason: str, errors: str) -> str:
    return f"{_REASONS.get(reason, _REASONS['invalid_answer'])} after {REPAIR_ROUNDS} repair rounds: {errors[:300]}"


def _without_images(message: dict) -> dict:
    content = message.get("content")
    if not isinstance(content, list):
        return message
    parts = [part for part in content if part.get("type") != "image_url"]
    return {**message, "content": parts}


def _answer_text(completion) -> str:
    choice = completion.choices[0] if completion.choices else None
    if choice is None:
        return ""
    message = choice.message
    if message.tool_calls:
        return message.tool_calls[0].function.arguments or ""
    if getattr(message, "refusal", None):
        return ""
    return message.content or ""


def _error_text(error: Exception) -> str:
    return (getattr(error, "message", None) or str(error) or type(error).__name__).strip()


def _backoff_seconds(error, attempt: int) -> float:
    base = settings.OPENAI_RETRY_BASE_MS / 1000 * 2 ** (attempt - 1)
    response = getattr(error, "response", None)
    retry_after = response.headers.get("retry-after") if response is not None else None
    try:
        wanted = float(retry_after) if retry_after else 0.0
    except ValueError:
        wanted = 0.0
    return min(60.0, max(base, wanted))


def messages_copy(messages: list[dict]) -> list[dict]:
    return copy.deepcopy(messages)

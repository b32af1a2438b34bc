"""The assistant's failures, as application errors: the API answers them in the one envelope,
and a job that hits one ends with its message (never a 500, never a half-saved case)."""

from jbtestsuite.errors import ApplicationError


class AssistantUnavailable(ApplicationError):
    status_code = 409
    kind = "AssistantUnavailable"


class BudgetSpent(ApplicationError):
    status_code = 429
    kind = "BudgetSpent"


class ModelFailed(ApplicationError):
    """The model could not be reached or refused the request (after the retries)."""

    status_code = 502
    kind = "ModelFailed"


class ModelTimeout(ModelFailed):
    kind = "ModelTimeout"


class AnswerInvalid(ApplicationError):
    """The model's answers stayed invalid through every repair round.

    `reason` says which way: invalid_json, unknown_action, invalid_steps or invalid_answer.
    """

    status_code = 422
    kind = "AnswerInvalid"

    def __init__(self, message: str, details: dict | None = None, *, reason: str = "invalid_answer"):
        super().__init__(message, details)
        self.reason = reason

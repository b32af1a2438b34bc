"""The application's error types and the one handler that turns any API error into

    {"error": "<Kind>", "message": "<human sentence>", "details": {<field>: [<messages>]}}

Services raise `ApplicationError` subclasses; views never build error responses themselves.
"""

from __future__ import annotations

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = structlog.get_logger(__name__)


class ApplicationError(Exception):
    status_code = 400
    kind = "Error"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(ApplicationError):
    kind = "ValidationError"


class NotFound(ApplicationError):
    status_code = 404
    kind = "NotFound"


class Forbidden(ApplicationError):
    status_code = 403
    kind = "PermissionDenied"


class Conflict(ApplicationError):
    status_code = 409
    kind = "Conflict"


class PayloadTooLarge(ApplicationError):
    status_code = 413
    kind = "PayloadTooLarge"


def _as_lists(detail) -> dict:
    """DRF error details as {field: [messages]}; nested errors keep their structure."""
    if isinstance(detail, dict):
        return {
            str(key): (_as_lists(value) if isinstance(value, dict) else _messages(value))
            for key, value in detail.items()
        }
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list:
    if isinstance(value, list):
        return [_as_lists(item) if isinstance(item, dict) else str(item) for item in value]
    return [str(value)]


def _validation_message(details: dict) -> str:
    fields = [key for key in details if key != "non_field_errors"]
    if not fields:
        first = details.get("non_field_errors", ["Invalid input."])[0]
        return str(first) if not isinstance(first, dict) else "Invalid input."
    return f"Invalid input in: {', '.join(fields)}."


_DRF_KINDS = {
    drf.NotAuthenticated: "NotAuthenticated",
    drf.AuthenticationFailed: "AuthenticationFailed",
    drf.PermissionDenied: "PermissionDenied",
    drf.NotFound: "NotFound",
    drf.MethodNotAllowed: "MethodNotAllowed",
    drf.NotAcceptable: "NotAcceptable",
    drf.UnsupportedMediaType: "UnsupportedMediaType",
    drf.Throttled: "Throttled",
    drf.ParseError: "ParseError",
}


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return _error(exc.status_code, exc.kind, exc.message, exc.details)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return _error(400, "ValidationError", _validation_message(details), details)
    elif isinstance(exc, RequestDataTooBig):
        return _error(413, "PayloadTooLarge", "The request body is too large.", {})
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, a malformed multipart body: the client's fault, said plainly.
        return _error(400, "BadRequest", _suspicious_message(exc), {})
    elif isinstance(exc, IntegrityError):
        # Services check uniqueness first; this only catches the race between check and insert.
        logger.warning("integrity_conflict", error=type(exc).__name__)
        return _error(409, "Conflict", "The change conflicts with existing data; reload and try again.", {})

    if isinstance(exc, drf.ValidationError):
        details = _as_lists(exc.detail)
        return _error(400, "ValidationError", _validation_message(details), details)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    kind = next((name for cls, name in _DRF_KINDS.items() if isinstance(exc, cls)), type(exc).__name__)
    detail = exc.detail if isinstance(exc, drf.APIException) else str(exc)
    message = str(detail) if not isinstance(detail, (dict, list)) else kind
    body = {"error": kind, "message": message, "details": {}}
    response.data = body
    return response


def _error(status: int, kind: str, message: str, details: dict) -> Response:
    return Response({"error": kind, "message": message, "details": details}, status=status)


def _suspicious_message(exc) -> str:
    return str(exc) if str(exc) else "The request is malformed."


# --- Django's own error pages, answered as the envelope under /api/ --------------------------
# URLs that match no route, and requests refused before any view runs (too many fields), never
# reach DRF's handler; an API client must still get JSON.


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _page(request, exception, status: int, kind: str, message: str, default_view):
    if not _is_api(request):
        return default_view(request, exception) if exception is not None else default_view(request)
    return JsonResponse({"error": kind, "message": message, "details": {}}, status=status)


def page_not_found(request, exception=None):
    from django.views import defaults

    return _page(request, exception, 404, "NotFound", "No such API endpoint or object.", defaults.page_not_found)


def bad_request(request, exception=None):
    from django.views import defaults

    message = _suspicious_message(exception) if exception is not None else "The request is malformed."
    return _page(request, exception, 400, "BadRequest", message, defaults.bad_request)


def permission_denied(request, exception=None):
    from django.views import defaults

    return _page(request, exception, 403, "PermissionDenied", "You may not do this.", defaults.permission_denied)


def server_error(request):
    from django.views import defaults

    return _page(request, None, 500, "ServerError", "Something went wrong on our side.", defaults.server_error)

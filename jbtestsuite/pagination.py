"""The one pagination envelope of the API: {"items", "total", "page", "limit", "pages"}."""

import math

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from jbtestsuite.errors import ValidationFailed


def positive_int_param(request, name: str, default: int, *, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    limit_text = f" and at most {maximum}" if maximum else ""
    message = f"'{name}' must be a whole number of at least 1{limit_text}."
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(message, {name: [message]}) from None
    if value < 1 or (maximum is not None and value > maximum):
        raise ValidationFailed(message, {name: [message]})
    return value


class PageEnvelopePagination(BasePagination):
    default_limit = 20
    max_limit = 100
    # Keeps OFFSET inside PostgreSQL's bigint: a huge page number is a 400, not a 500.
    max_page = 1_000_000

    def paginate_queryset(self, queryset, request, view=None):
        self.page = positive_int_param(request, "page", 1, maximum=self.max_page)
        self.limit = positive_int_param(request, "limit", self.default_limit, maximum=self.max_limit)
        self.total = queryset.count()
        offset = (self.page - 1) * self.limit
        return list(queryset[offset : offset + self.limit])

    def get_paginated_response(self, data):
        return Response(
            {
                "items": data,
                "total": self.total,
                "page": self.page,
                "limit": self.limit,
                "pages": math.ceil(self.total / self.limit) if self.total else 0,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "total", "page", "limit", "pages"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                "pages": {"type": "integer", "minimum": 0},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page, "default": 1}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "default": self.default_limit}},
        ]  # fmt: skip

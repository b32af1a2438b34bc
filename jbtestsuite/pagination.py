"""The one pagination envelope of the API: {"items", "total", "page", "limit", "pages"} (+ "next_cursor")."""

import base64
import binascii
import datetime
import json
import math
import uuid

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Q
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


class CursorEnvelopePagination(PageEnvelopePagination):
    """The page envelope plus keyset pagination: `?cursor=` continues after the row a cursor names.

    Offset pages cost the database every row they skip, so page 1 000 of a large list is slow;
    a cursor costs the same on any page. Every page carries `next_cursor` (null on the last one),
    so a client can start with `page=1` and continue with cursors. In cursor mode `page` is null.
    The queryset's ordering must end in a unique column (the id) and run one way throughout;
    a cursor remembers the ordering it was made for and is refused under another one. Rows may
    be model instances or values() dicts holding the ordering columns.
    """

    def paginate_queryset(self, queryset, request, view=None):
        raw_cursor = request.query_params.get("cursor")
        if raw_cursor is None:
            self.page = positive_int_param(request, "page", 1, maximum=self.max_page)
            self.limit = positive_int_param(request, "limit", self.default_limit, maximum=self.max_limit)
            self.total = queryset.count()
            offset = (self.page - 1) * self.limit
            page = self._rows_at(queryset, offset) if offset else list(queryset[: self.limit])
            more = offset + len(page) < self.total
            self.next_cursor = self._cursor_for(queryset, page[-1]) if page and more else None
            return page
        if "page" in request.query_params:
            message = "Give 'page' or 'cursor', not both."
            raise ValidationFailed(message, {"cursor": [message]})
        self.page = None
        self.limit = positive_int_param(request, "limit", self.default_limit, maximum=self.max_limit)
        self.total = queryset.count()
        rows = list(queryset.filter(self._after(queryset, raw_cursor))[: self.limit + 1])
        page = rows[: self.limit]
        self.next_cursor = self._cursor_for(queryset, page[-1]) if len(rows) > self.limit else None
        return page

    def _rows_at(self, queryset, offset: int) -> list:
        """The page at an offset: its ids first, then those rows with all their annotations.

        Sliced directly, a list's per-row subqueries (a case's step and execution counts) would
        run for every skipped row too: page 1000 of 100 000 cases took seconds.
        """
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + self.limit])
        rows = {_field(row, "pk"): row for row in queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["next_cursor"] = self.next_cursor
        return response

    # --- cursors: urlsafe base64 of JSON {"o": ordering, "v": the last row's ordering values} ---

    @staticmethod
    def _ordering(queryset) -> list[str]:
        ordering = [str(field) for field in (queryset.query.order_by or queryset.model._meta.ordering)]
        descending = {field.startswith("-") for field in ordering}
        if len(descending) != 1 or ordering[-1].lstrip("-") not in ("id", "pk"):
            raise ImproperlyConfigured(f"cursor pagination needs one direction ending in the id, got {ordering}")
        return ordering

    def _cursor_for(self, queryset, row) -> str:
        ordering = self._ordering(queryset)
        values = [_jsonable(_field(row, field.lstrip("-"))) for field in ordering]
        payload = json.dumps({"o": ordering, "v": values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def _after(self, queryset, raw_cursor: str) -> Q:
        ordering = self._ordering(queryset)
        message = "'cursor' is not a cursor of this list with this sort order; start again from page 1."
        try:
            padded = raw_cursor + "=" * (-len(raw_cursor) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
            values = decoded["v"]
            valid = decoded["o"] == ordering and isinstance(values, list) and len(values) == len(ordering)
        except (ValueError, TypeError, KeyError, binascii.Error):
            valid = False
        if not valid or not all(isinstance(value, str | int) for value in values):
            raise ValidationFailed(message, {"cursor": [message]})
        lookup = "lt" if ordering[0].startswith("-") else "gt"
        fields = [field.lstrip("-") for field in ordering]
        # (a, b, id) after (x, y, z): a > x, or a = x and b > y, or a = x and b = y and id > z.
        condition = Q()
        for index, field in enumerate(fields):
            equal = {fields[before]: values[before] for before in range(index)}
            condition |= Q(**equal, **{f"{field}__{lookup}": values[index]})
        # Implied by the above, but a plain range on the first sort column lets an index start there.
        condition &= Q(**{f"{fields[0]}__{lookup}e": values[0]})
        try:
            # Bad values (a cursor edited by hand) surface here rather than as a 500 later.
            queryset.filter(condition).query.get_compiler(using=queryset.db).as_sql()
        except (ValueError, TypeError, ValidationError):
            raise ValidationFailed(message, {"cursor": [message]}) from None
        return condition

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = [*envelope["required"], "next_cursor"]
        envelope["properties"]["page"] = {"type": "integer", "minimum": 1, "nullable": True,
                                          "description": "null when the page was asked for by cursor"}  # fmt: skip
        envelope["properties"]["next_cursor"] = {
            "type": "string", "nullable": True, "description": "Pass as `cursor` for the next page; null on the last."
        }  # fmt: skip
        return envelope

    def get_schema_operation_parameters(self, view):
        # OpenAPI cannot express "one of two parameters"; the descriptions say it, and a request
        # with both is a 400 naming `cursor`.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "page":
                parameter["description"] = "Page number, from 1; not with `cursor`."
        return [
            *parameters,
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "`next_cursor` of the previous page; faster than `page` deep into a long list; "
                            "not with `page`."},
        ]  # fmt: skip


def _field(row, name: str):
    """A column of a page row: a model instance, or a dict from values() (see jbtestsuite.listing)."""
    if isinstance(row, dict):
        return row["id" if name == "pk" else name]
    return getattr(row, name)


def _jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value

"""OpenAPI details shared by every API view: each operation documents the one error envelope."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# Every operation may answer these, with the one error envelope of `jbtestsuite.errors`.
ERROR_STATUSES = {
    "400": "Invalid input or query parameter; `details` names the fields.",
    "401": "Missing, invalid or expired access token.",
    "403": "Your role in the project does not allow this.",
    "404": "No such object, or it belongs to a project you are not a member of.",
    "409": "Conflicts with existing data, e.g. a name already in use.",
    "413": "The request body is too large.",
    "429": "Too many requests; see Retry-After.",
}


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Kind of error, e.g. ValidationError, NotFound, Conflict.")
    message = serializers.CharField(help_text="A human sentence.")
    details = serializers.DictField(help_text="Field name → messages (nested for list items).")


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, description in ERROR_STATUSES.items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                    responses[code]["description"] = description
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # Say what the serializer enforces: a blank string is refused unless allow_blank, and a
        # trimmed field refuses whitespace alone too.
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not isinstance(field, serializers.ChoiceField)
            and not field.allow_blank
            and schema.get("type") == "string"
            and "enum" not in schema
        ):
            schema.setdefault("minLength", 1)
            if field.trim_whitespace and "pattern" not in schema and "format" not in schema:
                schema["pattern"] = r"\S"
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            # drf-spectacular documents these for ListField only; `many=True` lists enforce them too.
            if field.min_length is not None:
                schema.setdefault("minItems", field.min_length)
            if field.max_length is not None:
                schema.setdefault("maxItems", field.max_length)
        return schema


def query_parameters_non_empty(result, generator, request, public):
    """Postprocessing hook: string query parameters are refused empty (see NonEmptyFilterBackend)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
                    schema.setdefault("minLength", 1)
                    schema.setdefault("pattern", r"\S")
                elif schema.get("type") == "array" and schema.get("items", {}).get("type") == "string":
                    schema["items"].setdefault("minLength", 1)
                    schema["items"].setdefault("pattern", r"\S")
    return result

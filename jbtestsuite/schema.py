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

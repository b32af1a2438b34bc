"""Selenium IDE projects over HTTP: POST a .side file (multipart) to import it, GET one back.

The rules live in tests_catalog.side; these views check access, size and shape of the request.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from jbtestsuite.errors import NotFound, PayloadTooLarge, ValidationFailed
from tests_catalog import selectors, services, side
from tests_catalog.models import Role, TestCase


class SideImportSerializer(serializers.Serializer):
    project = serializers.UUIDField(help_text="The project to import into (editor role).")
    file = serializers.FileField(help_text="A Selenium IDE project (.side, JSON, version 2.0 or 3.0).")
    base_url = serializers.URLField(required=False, allow_blank=True, help_text="Instead of the file's url.")
    allow_unknown = serializers.BooleanField(
        default=False, help_text="Import commands Selenium IDE does not have as disabled steps instead of refusing."
    )


def _too_large() -> PayloadTooLarge:
    message = f"A .side file may be at most {settings.MAX_UPLOAD_SIZE} bytes (MAX_UPLOAD_SIZE)."
    return PayloadTooLarge(message, {"file": [message]})


class SideImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Import a Selenium IDE project (.side); all of the file or nothing",
        request={"multipart/form-data": SideImportSerializer},
        responses={201: inline_serializer("SideImportReport", {"created": serializers.IntegerField(),
                                                                "updated": serializers.IntegerField(),
                                                                "warnings": serializers.IntegerField(),
                                                                "tests": serializers.ListField(),
                                                                "suites": serializers.ListField()})},
    )  # fmt: skip
    def post(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.MAX_UPLOAD_SIZE + 64 * 1024:  # refuse before reading the body
            raise _too_large()
        serializer = SideImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = services.project_for_write(user=request.user, project_id=data["project"], role=Role.EDITOR)
        upload = data["file"]
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise _too_large()
        report = side.side_import(
            project=project, author=request.user, content=upload.read(), filename=upload.name or "the file",
            base_url=data.get("base_url") or None, allow_unknown=data["allow_unknown"],
        )  # fmt: skip
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class SideExportView(APIView):
    @extend_schema(
        summary="A project's cases as a Selenium IDE project (.side)",
        parameters=[OpenApiParameter("case", str, many=True, description="Only these case ids (repeatable).")],
        responses={(200, "application/json"): dict},
    )
    def get(self, request, project_id):
        project = selectors.projects_visible_to(request.user).filter(pk=project_id).first()
        if project is None:
            raise NotFound("Project not found.", {"project": ["Project not found."]})
        case_ids = request.query_params.getlist("case")
        cases = None
        if case_ids:
            try:
                cases = list(TestCase.objects.filter(project=project, pk__in=case_ids))
            except Exception:
                raise ValidationFailed("case must be case ids.", {"case": ["Not a case id."]}) from None
            if len(cases) != len(set(case_ids)):
                raise NotFound("Some cases are not in this project.", {"case": ["Not in this project."]})
        export = side.side_export(project=project, cases=cases)
        response = HttpResponse(export.content(), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{project.slug}.side"'
        if export.warnings:
            response["X-Export-Warnings"] = str(len(export.warnings))
        return response

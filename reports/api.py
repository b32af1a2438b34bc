"""`/api/v1/reports/...`: the dashboard's figures for REST clients. Thin: reads live in selectors.

Every endpoint is project-scoped: objects of projects you are not a member of answer 404, and
lists show only your projects' rows. Long lists use the cursor envelope; `?format=csv` returns
the whole table (up to CSV_MAX_ROWS rows) as CSV instead.
"""

from __future__ import annotations

import csv
import io
import json
import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from executions.models import SuiteRun
from jbtestsuite.errors import NotFound, ValidationFailed
from jbtestsuite.pagination import CursorEnvelopePagination
from reports import exports, selectors
from reports.models import CaseHealth, CaseRun, Failure, FailureGroup, Label, SuiteRunSummary
from tests_catalog.models import Project, TestCase, TestSuite
from tests_catalog.selectors import project_ids_with_role

CSV_MAX_ROWS = 100_000


class CsvRenderer(BaseRenderer):
    """Rows (a list of flat dicts) as CSV; anything else (an error envelope) as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, list):
            return json.dumps(data, default=str).encode()
        view = (renderer_context or {}).get("view")
        # The header comes from the view, so an empty table is still a CSV file with its columns.
        fields = getattr(view, "csv_fields", None) or (list(data[0]) if data else ["empty"])
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
        return out.getvalue().encode()


def _uuid_param(request, name: str):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        message = f"'{name}' must be a UUID."
        raise ValidationFailed(message, {name: [message]}) from None


def _visible_or_404(queryset, pk, label: str):
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        raise NotFound(f"{label} not found.") from None
    found = queryset.filter(pk=key).first()
    if found is None:
        raise NotFound(f"{label} not found.")
    return found


# --- Serializers of list rows ----------------------------------------------------------------


class CaseHealthSerializer(serializers.ModelSerializer):
    case = serializers.UUIDField(source="test_case_id")
    name = serializers.CharField(source="case_name")
    project = serializers.UUIDField(source="project_id")
    environment = serializers.UUIDField(source="environment_id", allow_null=True)
    environment_name = serializers.CharField(source="environment.name", default=None)
    label = serializers.SerializerMethodField(help_text="`flaky`, or the outcome label")
    outcome_label = serializers.CharField(source="label")
    passed_on_retry = serializers.IntegerField(source="retry_passes")
    last_execution = serializers.SerializerMethodField()
    strip = serializers.SerializerMethodField(help_text="The last runs, newest first: P passed, F failed or error")

    class Meta:
        model = CaseHealth
        fields = ["case", "name", "project", "environment", "environment_name", "label", "outcome_label", "flaky",
                  "flips", "passed_on_retry", "runs", "failures", "first_failure_at", "last_failure_at",
                  "last_run_at", "last_execution", "strip"]  # fmt: skip

    def get_label(self, health) -> str:
        return "flaky" if health.flaky else health.label

    def get_last_execution(self, health) -> str | None:
        return health.recent[0]["e"] if health.recent else None

    def get_strip(self, health) -> str:
        return "".join("P" if entry["s"] == "passed" else "F" for entry in health.recent)


class FailureGroupSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id")

    class Meta:
        model = FailureGroup
        fields = ["id", "project", "action", "selector", "message", "sample_message", "failures", "cases",
                  "first_seen_at", "last_seen_at"]  # fmt: skip


class FailureSerializer(serializers.ModelSerializer):
    execution = serializers.UUIDField(source="execution_id")
    case = serializers.UUIDField(source="test_case_id")
    case_name = serializers.CharField(source="test_case.name")
    environment = serializers.UUIDField(source="environment_id", allow_null=True)
    suite_run = serializers.UUIDField(source="suite_run_id", allow_null=True)

    class Meta:
        model = Failure
        fields = ["execution", "case", "case_name", "environment", "suite_run", "step_index", "at"]


class CaseRunSerializer(serializers.ModelSerializer):
    execution = serializers.UUIDField(source="execution_id")
    case = serializers.UUIDField(source="test_case_id")
    environment = serializers.UUIDField(source="environment_id", allow_null=True)
    suite_run = serializers.UUIDField(source="suite_run_id", allow_null=True)

    class Meta:
        model = CaseRun
        fields = ["execution", "case", "environment", "suite_run", "status", "attempts", "label", "steps_key",
                  "finished_at", "duration_ms", "failing_step_index"]  # fmt: skip


class SuiteRunSummarySerializer(serializers.ModelSerializer):
    suite_run = serializers.UUIDField(source="suite_run_id")
    suite = serializers.UUIDField(source="suite_id")
    environment = serializers.UUIDField(source="environment_id", allow_null=True)
    passed_on_retry = serializers.IntegerField(source="retry_passes")

    class Meta:
        model = SuiteRunSummary
        fields = ["suite_run", "suite", "suite_name", "environment", "status", "total", "passed", "failed",
                  "errored", "new_failures", "passed_on_retry", "duration_ms", "finished_at"]  # fmt: skip


_ENV = OpenApiParameter("environment", OpenApiTypes.UUID, description="Only this environment")
_PROJECT = OpenApiParameter("project", OpenApiTypes.UUID, description="Only this project")
_FORMAT = OpenApiParameter("format", str, enum=["json", "csv"], description="`csv`: the whole table as CSV")


class ReportsViewSet(viewsets.GenericViewSet):
    """Reports: dashboards, case and suite history, labels, flaky cases, failure groups."""

    pagination_class = CursorEnvelopePagination
    renderer_classes = [JSONRenderer, CsvRenderer]
    serializer_class = CaseHealthSerializer

    def get_queryset(self):
        return CaseHealth.objects.none()

    def _list(self, queryset, serializer_class):
        if self.request.accepted_renderer.format == "csv":
            self.csv_fields = list(serializer_class.Meta.fields)
            rows = serializer_class(queryset[:CSV_MAX_ROWS], many=True).data
            response = Response([dict(row) for row in rows])
            response["Content-Disposition"] = f'attachment; filename="{self.action}.csv"'
            return response
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def _scoped(self, queryset, *, environment=True):
        project = _uuid_param(self.request, "project")
        if project:
            queryset = queryset.filter(project_id=project)
        env = _uuid_param(self.request, "environment") if environment else None
        if env:
            queryset = queryset.filter(environment_id=env)
        return queryset

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A project's dashboard figures")
    @action(detail=False, methods=["get"], url_path=r"projects/(?P<project_id>[^/]+)/dashboard")
    def dashboard(self, request, project_id=None):
        project = _visible_or_404(Project.objects.filter(id__in=project_ids_with_role(request.user)), project_id,
                                  "Project")  # fmt: skip
        return Response(selectors.dashboard(project=project))

    @extend_schema(parameters=[_ENV], responses=OpenApiTypes.OBJECT, summary="A case's history and label")
    @action(detail=False, methods=["get"], url_path=r"cases/(?P<case_id>[^/]+)")
    def case(self, request, case_id=None):
        case = self._case(case_id)
        return Response(selectors.case_report(case=case, environment_id=_uuid_param(request, "environment")))

    @extend_schema(parameters=[_ENV, _FORMAT], responses=CaseRunSerializer(many=True), summary="A case's runs")
    @action(detail=False, methods=["get"], url_path=r"cases/(?P<case_id>[^/]+)/runs")
    def case_runs(self, request, case_id=None):
        case = self._case(case_id)
        return self._list(self._scoped(CaseRun.objects.filter(test_case=case)), CaseRunSerializer)

    def _case(self, case_id):
        visible = TestCase.objects.filter(project_id__in=project_ids_with_role(self.request.user))
        return _visible_or_404(visible, case_id, "Test case")

    def _suite(self, suite_id):
        visible = TestSuite.objects.filter(project_id__in=project_ids_with_role(self.request.user))
        return _visible_or_404(visible, suite_id, "Suite")

    @extend_schema(parameters=[_ENV], responses=OpenApiTypes.OBJECT,
                   summary="A suite's recent runs, slowest cases, and what broke in its latest run")  # fmt: skip
    @action(detail=False, methods=["get"], url_path=r"suites/(?P<suite_id>[^/]+)")
    def suite(self, request, suite_id=None):
        suite = self._suite(suite_id)
        return Response(selectors.suite_report(suite=suite, environment_id=_uuid_param(request, "environment")))

    @extend_schema(parameters=[_ENV, _FORMAT], responses=SuiteRunSummarySerializer(many=True),
                   summary="A suite's run history")  # fmt: skip
    @action(detail=False, methods=["get"], url_path=r"suites/(?P<suite_id>[^/]+)/runs")
    def suite_runs(self, request, suite_id=None):
        suite = self._suite(suite_id)
        return self._list(self._scoped(SuiteRunSummary.objects.filter(suite=suite)), SuiteRunSummarySerializer)

    @extend_schema(parameters=[_PROJECT, _ENV, _FORMAT], responses=CaseHealthSerializer(many=True),
                   summary="Flaky cases, most recently run first")  # fmt: skip
    @action(detail=False, methods=["get"])
    def flaky(self, request):
        queryset = selectors.case_health_visible_to(request.user).filter(flaky=True)
        return self._list(self._scoped(queryset).order_by("-last_run_at", "-id"), CaseHealthSerializer)

    @extend_schema(
        parameters=[_PROJECT, _ENV, _FORMAT, OpenApiParameter("label", str, enum=[*Label.values, "flaky"])],
        responses=CaseHealthSerializer(many=True), summary="Every case's current label per environment",
    )  # fmt: skip
    @action(detail=False, methods=["get"])
    def labels(self, request):
        queryset = self._scoped(selectors.case_health_visible_to(request.user))
        label = request.query_params.get("label")
        if label == "flaky":
            queryset = queryset.filter(flaky=True)
        elif label:
            if label not in Label.values:
                message = f"'label' must be one of: {', '.join([*Label.values, 'flaky'])}."
                raise ValidationFailed(message, {"label": [message]})
            queryset = queryset.filter(label=label)
        return self._list(queryset.order_by("-last_run_at", "-id"), CaseHealthSerializer)

    @extend_schema(parameters=[_PROJECT, _FORMAT], responses=FailureGroupSerializer(many=True),
                   summary="Failure groups, biggest first")  # fmt: skip
    @action(detail=False, methods=["get"], url_path="failure-groups")
    def failure_groups(self, request):
        queryset = self._scoped(selectors.failure_groups_visible_to(request.user), environment=False)
        return self._list(queryset.order_by("-failures", "-id"), FailureGroupSerializer)

    @extend_schema(responses=FailureGroupSerializer, summary="One failure group")
    @action(detail=False, methods=["get"], url_path=r"failure-groups/(?P<group_id>[0-9]+)")
    def failure_group(self, request, group_id=None):
        group = selectors.failure_groups_visible_to(request.user).filter(pk=group_id).first()
        if group is None:
            raise NotFound("Failure group not found.")
        return Response(FailureGroupSerializer(group).data)

    @extend_schema(parameters=[_FORMAT], responses=FailureSerializer(many=True),
                   summary="The failed attempts in a group, newest first")  # fmt: skip
    @action(detail=False, methods=["get"], url_path=r"failure-groups/(?P<group_id>[0-9]+)/failures")
    def failure_group_failures(self, request, group_id=None):
        group = selectors.failure_groups_visible_to(request.user).filter(pk=group_id).first()
        if group is None:
            raise NotFound("Failure group not found.")
        return self._list(selectors.failures_of_group(group).order_by("-at", "-id"), FailureSerializer)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY},
                   summary="A suite run's results in Allure's format (a zip of *-result.json)")  # fmt: skip
    @action(detail=False, methods=["get"], url_path=r"suite-runs/(?P<suite_run_id>[^/]+)/allure")
    def allure(self, request, suite_run_id=None):
        visible = SuiteRun.objects.filter(project_id__in=project_ids_with_role(request.user))
        suite_run = _visible_or_404(visible, suite_run_id, "Suite run")
        content = exports.allure_results_zip(suite_run=suite_run)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="allure-results-{suite_run.pk}.zip"'
        return response

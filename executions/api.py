"""REST API for runs: start them, follow them, cancel them. Thin: rules live in services."""

import datetime

import django_filters
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from executions import schedules, selectors, services
from executions.models import Execution, OverlapPolicy, RunStatus, Schedule, StepResult, SuiteRun, Trigger
from jbtestsuite.errors import ValidationFailed
from jbtestsuite.listing import ValuesRepresentation
from jbtestsuite.pagination import CursorEnvelopePagination
from tests_catalog import services as catalog_services
from tests_catalog.api.scoping import (
    ProjectScopedModelViewSet,
    ProjectScopedViewSet,
    ProjectScopedWriteSerializer,
    VisiblePrimaryKeyField,
    documented,
)
from tests_catalog.models import Environment, TestCase, TestSuite


class StepArtifactSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    kind = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, artifact) -> str:
        request = self.context.get("request")
        path = reverse("artifact-download", args=[artifact.pk])
        return request.build_absolute_uri(path) if request else path


class StepResultSerializer(serializers.ModelSerializer):
    artifacts = StepArtifactSerializer(many=True, read_only=True)

    class Meta:
        model = StepResult
        fields = ["sequence", "order_index", "action", "selector", "value", "description", "status", "duration_ms",
                  "message", "depth", "iteration", "branch", "flow", "healed_by", "artifacts"]  # fmt: skip


class ExecutionSerializer(serializers.ModelSerializer):
    test_case = serializers.UUIDField(source="test_case_id", read_only=True, allow_null=True)
    suite_run = serializers.UUIDField(source="suite_run_id", read_only=True, allow_null=True)
    environment = serializers.UUIDField(source="environment_id", read_only=True, allow_null=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    triggered_by = serializers.CharField(source="triggered_by.username", read_only=True, default=None)
    variables = serializers.SerializerMethodField()

    class Meta:
        model = Execution
        fields = [
            "id", "project", "test_case", "case_name", "suite_run", "environment", "trigger", "triggered_by",
            "status", "attempt", "max_attempts", "queued_at", "started_at", "finished_at", "duration_ms",
            "worker_host", "browser_name", "browser_version", "failing_step_index", "error_message",
            "cancel_requested", "heartbeat_at", "variables",
        ]  # fmt: skip
        read_only_fields = fields

    def get_variables(self, execution) -> dict[str, str]:
        # The snapshot already masks environment secrets, overrides included.
        return execution.snapshot.get("variables", {})


# The list page's JSON from values() rows (jbtestsuite.listing): the variables come out of the
# snapshot in the database, so a page never loads and decodes a hundred step lists.
EXECUTION_LIST_VALUES = ValuesRepresentation(
    ExecutionSerializer,
    lookups={"variables": "snapshot__variables"},
    represent={"variables": lambda value: value or {}},
)


class ExecutionDetailSerializer(ExecutionSerializer):
    step_results = StepResultSerializer(many=True, read_only=True)
    steps = serializers.SerializerMethodField()

    class Meta(ExecutionSerializer.Meta):
        fields = [*ExecutionSerializer.Meta.fields, "steps", "step_results"]
        read_only_fields = fields

    def get_steps(self, execution) -> list[dict]:
        """The steps exactly as they were when the execution was queued."""
        return execution.snapshot.get("steps", [])


class SuiteRunSerializer(serializers.ModelSerializer):
    suite = serializers.UUIDField(source="suite_id", read_only=True, allow_null=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    environment = serializers.UUIDField(source="environment_id", read_only=True, allow_null=True)
    triggered_by = serializers.CharField(source="triggered_by.username", read_only=True, default=None)

    class Meta:
        model = SuiteRun
        fields = [
            "id", "project", "suite", "suite_name", "environment", "trigger", "triggered_by", "status",
            "total", "passed", "failed", "errored", "cancelled", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class SuiteRunDetailSerializer(SuiteRunSerializer):
    executions = ExecutionSerializer(many=True, read_only=True)

    class Meta(SuiteRunSerializer.Meta):
        fields = [*SuiteRunSerializer.Meta.fields, "executions"]
        read_only_fields = fields


class ExecutionCreateSerializer(serializers.Serializer):
    test_case = VisiblePrimaryKeyField(queryset=TestCase.objects.select_related("project"), required=False)
    suite = VisiblePrimaryKeyField(queryset=TestSuite.objects.all(), required=False)
    environment = VisiblePrimaryKeyField(queryset=Environment.objects.all(), required=False, allow_null=True)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate(self, attrs):
        if bool(attrs.get("test_case")) == bool(attrs.get("suite")):
            raise serializers.ValidationError({"test_case": ["Give exactly one of test_case or suite."]})
        return attrs


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, normalised to UTC here: PostgreSQL refuses offsets past ±15:59."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except (OverflowError, ValueError):
                name = next(name for name, each in self.parent.filters.items() if each is self)
                message = f"'{name}' is out of range."
                raise ValidationFailed(message, {name: [message]}) from None
        return super().filter(qs, value)


class ExecutionFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)
    test_case = django_filters.UUIDFilter(field_name="test_case_id")
    suite_run = django_filters.UUIDFilter(field_name="suite_run_id")
    queued_after = UtcDateTimeFilter(field_name="queued_at", lookup_expr="gte")
    queued_before = UtcDateTimeFilter(field_name="queued_at", lookup_expr="lt")

    class Meta:
        model = Execution
        fields = ["project", "status", "trigger", "test_case", "suite_run", "queued_after", "queued_before"]


class SuiteRunFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    suite = django_filters.UUIDFilter(field_name="suite_id")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)

    class Meta:
        model = SuiteRun
        fields = ["project", "suite", "status", "trigger"]


class ExecutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    model = Execution
    object_label = "Execution"
    doing = "Running tests"
    filterset_class = ExecutionFilter
    pagination_class = CursorEnvelopePagination

    def visible_queryset(self):
        if self.action == "retrieve":
            return selectors.execution_with_results(self.request.user)
        # The id breaks ties, so pages never repeat or skip an execution and cursors work.
        return selectors.executions_visible_to(self.request.user).order_by("-queued_at", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ExecutionDetailSerializer
        if self.action == "create":
            return ExecutionCreateSerializer
        return ExecutionSerializer

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(EXECUTION_LIST_VALUES.values(queryset))
        return self.get_paginated_response(EXECUTION_LIST_VALUES(rows))

    @extend_schema(
        request=ExecutionCreateSerializer,
        responses={202: OpenApiResponse(description="The queued execution, or the suite run with its executions")},
    )
    def create(self, request):
        payload = ExecutionCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target = data.get("test_case") or data.get("suite")
        catalog_services.project_role_require(
            user=request.user, project=target.project_id, role=self.write_role, doing=self.doing
        )
        common = {
            "trigger": Trigger.API,
            "environment": data.get("environment"),
            "variables": data.get("variables"),
            "triggered_by": request.user,
        }
        with transaction.atomic():
            if data.get("test_case"):
                run = services.execution_create(case=data["test_case"], **common)
            else:
                run = services.suite_run_start(suite=data["suite"], **common)
        if isinstance(run, SuiteRun):
            run = (
                selectors.suite_runs_visible_to(request.user)
                .prefetch_related(selectors.suite_run_executions())
                .get(pk=run.pk)
            )
            body = SuiteRunDetailSerializer(run, context={"request": request}).data
        else:
            body = ExecutionSerializer(run, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=ExecutionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        execution = services.execution_cancel(execution=self.get_object())
        return Response(ExecutionSerializer(execution, context={"request": request}).data)


class SuiteRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    model = SuiteRun
    object_label = "Suite run"
    doing = "Running tests"
    filterset_class = SuiteRunFilter

    def visible_queryset(self):
        queryset = selectors.suite_runs_visible_to(self.request.user)
        if self.action in ("retrieve", "cancel"):
            queryset = queryset.prefetch_related(selectors.suite_run_executions())
        return queryset

    def get_serializer_class(self):
        return SuiteRunDetailSerializer if self.action in ("retrieve", "cancel") else SuiteRunSerializer

    @extend_schema(request=None, responses=SuiteRunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        suite_run = self.get_object()
        services.suite_run_cancel(suite_run=suite_run)
        return self.detail_response(suite_run)


# --- Schedules -------------------------------------------------------------------------------

MAX_INTERVAL_SECONDS = 366 * 24 * 3600


class ScheduleLastRunSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ScheduleSerializer(ProjectScopedWriteSerializer):
    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", help_text="Required when creating; cannot change.")
    suite = VisiblePrimaryKeyField(queryset=TestSuite.objects.all())
    environment = VisiblePrimaryKeyField(queryset=Environment.objects.all(), required=False, allow_null=True)
    cron = serializers.CharField(
        max_length=100, required=False, allow_blank=True,
        help_text="`minute hour day-of-month month day-of-week` in `timezone`; or give `interval_seconds`.",
    )  # fmt: skip
    interval_seconds = serializers.IntegerField(
        min_value=1, max_value=MAX_INTERVAL_SECONDS, required=False, allow_null=True, help_text="Instead of `cron`."
    )
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA name; default: the project's.")
    enabled = serializers.BooleanField(required=False, default=True)
    overlap = serializers.ChoiceField(
        choices=OverlapPolicy.choices, required=False, default=OverlapPolicy.SKIP,
        help_text="`skip`: no new run while the previous one is still going (counted in `skipped_runs`); "
        "`queue`: start anyway.",
    )  # fmt: skip
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=10_000), required=False,
        help_text="Run-time `${name}` overrides.",
    )  # fmt: skip
    next_run = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null while disabled.")
    last_run = ScheduleLastRunSerializer(read_only=True, allow_null=True)
    skipped_runs = serializers.IntegerField(read_only=True)
    last_skipped_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    create_defaults = ("enabled", "overlap")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        secret_names = services.secret_variable_names(instance.environment)
        data["variables"] = services.variable_overrides_masked(data["variables"], secret_names)
        return data


class ScheduleFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    suite = django_filters.UUIDFilter(field_name="suite_id")
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = Schedule
        fields = ["project", "suite", "enabled"]


SCHEDULE_FIELDS = ("suite", "environment", "cron", "interval_seconds", "enabled", "overlap", "variables")


@documented("schedule", retrieve="A schedule with its next and last run")
class ScheduleViewSet(ProjectScopedModelViewSet):
    """Suites that run by themselves. Other projects' schedules answer 404; viewers may only read."""

    model = Schedule
    object_label = "Schedule"
    doing = "Managing schedules"
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter

    def visible_queryset(self):
        return selectors.schedules_visible_to(self.request.user)

    def object_create(self, *, project, data):
        return schedules.schedule_create(
            project=project,
            suite=data["suite"],
            environment=data.get("environment"),
            cron=data.get("cron", ""),
            interval_seconds=data.get("interval_seconds"),
            timezone_name=data.get("timezone"),
            enabled=data["enabled"],
            overlap=data["overlap"],
            variables=data.get("variables"),
            created_by=self.request.user,
        )

    def object_update(self, schedule, *, data, partial):
        changes = {name: data[name] for name in SCHEDULE_FIELDS if name in data}
        if not partial:
            changes.setdefault("environment", None)
            changes.setdefault("variables", {})
            if "cron" not in data and "interval_seconds" not in data:
                changes["cron"] = ""  # neither given: refused as a missing schedule
        if data.get("timezone"):
            changes["timezone_name"] = data["timezone"]
        return schedules.schedule_update(schedule=schedule, **changes)

    def object_delete(self, schedule):
        schedules.schedule_delete(schedule=schedule)

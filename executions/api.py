"""REST API for runs: start them, follow them, cancel them. Thin: rules live in services."""

import datetime

import django_filters
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions import schedules, selectors, services
from executions.models import Execution, OverlapPolicy, RunStatus, Schedule, StepResult, SuiteRun, Trigger
from jbtestsuite.errors import ValidationFailed
from jbtestsuite.listing import ValuesRepresentation
from jbtestsuite.pagination import CursorEnvelopePagination
from tests_catalog import services as catalog_services
from tests_catalog.models import Environment, Role, TestCase, TestSuite
from tests_catalog.selectors import project_ids_with_role


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
        fields = ["order_index", "action", "selector", "value", "description", "status", "duration_ms",
                  "message", "artifacts"]  # fmt: skip


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


class _VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """Looks objects up among the requesting user's projects only: others 'do not exist'."""

    def get_queryset(self):
        user = self.context["request"].user
        return self.queryset.filter(project_id__in=project_ids_with_role(user))


class ExecutionCreateSerializer(serializers.Serializer):
    test_case = _VisiblePrimaryKeyField(queryset=TestCase.objects.select_related("project"), required=False)
    suite = _VisiblePrimaryKeyField(queryset=TestSuite.objects.all(), required=False)
    environment = _VisiblePrimaryKeyField(queryset=Environment.objects.all(), required=False, allow_null=True)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate(self, attrs):
        if bool(attrs.get("test_case")) == bool(attrs.get("suite")):
            raise serializers.ValidationError({"test_case": ["Give exactly one of test_case or suite."]})
        target = attrs.get("test_case") or attrs.get("suite")
        environment = attrs.get("environment")
        if environment is not None and environment.project_id != target.project_id:
            raise serializers.ValidationError({"environment": ["The environment belongs to another project."]})
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


def _require_editor(user, project_id) -> None:
    catalog_services.project_editor_require(user=user, project_id=project_id, doing="Running tests")


class ExecutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Execution.objects.none()  # for the schema; requests use get_queryset
    filterset_class = ExecutionFilter
    pagination_class = CursorEnvelopePagination
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
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
        _require_editor(request.user, target.project_id)
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
        execution = self.get_object()
        _require_editor(request.user, execution.project_id)
        execution = services.execution_cancel(execution=execution)
        return Response(ExecutionSerializer(execution, context={"request": request}).data)


class SuiteRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = SuiteRun.objects.none()  # for the schema; requests use get_queryset
    filterset_class = SuiteRunFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        queryset = selectors.suite_runs_visible_to(self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(selectors.suite_run_executions())
        return queryset

    def get_serializer_class(self):
        return SuiteRunDetailSerializer if self.action == "retrieve" else SuiteRunSerializer

    @extend_schema(request=None, responses=SuiteRunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        suite_run = self.get_object()
        _require_editor(request.user, suite_run.project_id)
        services.suite_run_cancel(suite_run=suite_run)
        suite_run = self.get_queryset().get(pk=suite_run.pk)
        return Response(SuiteRunDetailSerializer(suite_run, context={"request": request}).data)


# --- Schedules -------------------------------------------------------------------------------

MAX_INTERVAL_SECONDS = 366 * 24 * 3600


class ScheduleLastRunSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ScheduleSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", help_text="Required when creating; cannot change.")
    suite = _VisiblePrimaryKeyField(queryset=TestSuite.objects.all())
    environment = _VisiblePrimaryKeyField(queryset=Environment.objects.all(), required=False, allow_null=True)
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

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            self.fields["project"].required = False
            for name in ("enabled", "overlap"):
                self.fields[name].default = serializers.empty


class ScheduleFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    suite = django_filters.UUIDFilter(field_name="suite_id")
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = Schedule
        fields = ["project", "suite", "enabled"]


def _require_schedule_editor(user, project_id) -> None:
    catalog_services.project_editor_require(user=user, project_id=project_id, doing="Managing schedules")


class ScheduleViewSet(viewsets.GenericViewSet):
    """Suites that run by themselves. Other projects' schedules answer 404; viewers may only read."""

    queryset = Schedule.objects.none()  # for the schema; requests use get_queryset
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.schedules_visible_to(self.request.user)

    def _body(self, schedule, status_code=status.HTTP_200_OK):
        schedule = self.get_queryset().get(pk=schedule.pk)
        return Response(ScheduleSerializer(schedule, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(summary="List schedules", responses=ScheduleSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ScheduleSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="Create a schedule", responses={201: ScheduleSerializer})
    def create(self, request):
        payload = ScheduleSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        project = catalog_services.project_for_write(
            user=request.user, project_id=data.pop("project_id"), role=Role.EDITOR
        )
        schedule = schedules.schedule_create(
            project=project,
            suite=data["suite"],
            environment=data.get("environment"),
            cron=data.get("cron", ""),
            interval_seconds=data.get("interval_seconds"),
            timezone_name=data.get("timezone"),
            enabled=data["enabled"],
            overlap=data["overlap"],
            variables=data.get("variables"),
            created_by=request.user,
        )
        return self._body(schedule, status.HTTP_201_CREATED)

    @extend_schema(summary="A schedule with its next and last run")
    def retrieve(self, request, pk=None):
        return Response(ScheduleSerializer(self.get_object(), context={"request": request}).data)

    def _update(self, request, *, partial: bool):
        schedule = self.get_object()
        payload = ScheduleSerializer(data=request.data, partial=partial, creating=False, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        _require_schedule_editor(request.user, schedule.project_id)
        if "project_id" in data and data["project_id"] != schedule.project_id:
            message = "A schedule cannot move to another project."
            raise ValidationFailed(message, {"project": [message]})
        names = ("suite", "environment", "cron", "interval_seconds", "enabled", "overlap", "variables")
        changes = {name: data[name] for name in names if name in data}
        if not partial:
            changes.setdefault("environment", None)
            changes.setdefault("variables", {})
            if "cron" not in data and "interval_seconds" not in data:
                changes["cron"] = ""  # neither given: refused as a missing schedule
        if data.get("timezone"):
            changes["timezone_name"] = data["timezone"]
        schedule = schedules.schedule_update(schedule=schedule, **changes)
        return self._body(schedule)

    @extend_schema(summary="Replace a schedule")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of a schedule")
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a schedule", responses={204: None})
    def destroy(self, request, pk=None):
        schedule = self.get_object()
        _require_schedule_editor(request.user, schedule.project_id)
        schedules.schedule_delete(schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""REST API of the assistant: request a generation or an explanation, follow it, decide on a patch,
read the audit log. Thin: the rules live in services."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant import selectors, services
from assistant.models import FailureExplanation, GenerationJob, ModelExchange
from executions.selectors import executions_visible_to
from jbtestsuite.errors import NotFound
from tests_catalog.api.scoping import ProjectScopedViewSet
from tests_catalog.models import Environment
from tests_catalog.selectors import project_ids_with_role


class GenerationRequestSerializer(serializers.Serializer):
    project = serializers.UUIDField()
    environment = serializers.UUIDField(required=False, allow_null=True)
    start_url = serializers.CharField(max_length=1000, help_text="Absolute, or relative to the base URL.")
    description = serializers.CharField(max_length=services.DESCRIPTION_MAX)
    variables = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list,
        help_text="Names of the environment's variables to use, e.g. [\"username\", \"password\"]: names only.",
    )  # fmt: skip
    case_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class GenerationJobSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    environment = serializers.UUIDField(source="environment_id", read_only=True, allow_null=True)
    test_case = serializers.UUIDField(source="test_case_id", read_only=True, allow_null=True)
    dry_run_execution = serializers.UUIDField(source="dry_run_execution_id", read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None)

    class Meta:
        model = GenerationJob
        fields = [
            "id", "project", "environment", "requested_by", "start_url", "description", "case_name",
            "variable_names", "status", "progress", "message", "steps", "test_case", "dry_run_execution",
            "model", "model_calls", "prompt_tokens", "completion_tokens", "cost_estimate_usd", "model_ms",
            "browser_ms", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class GenerateView(APIView):
    @extend_schema(request=GenerationRequestSerializer, responses={202: GenerationJobSerializer})
    def post(self, request):
        """Queue the writing of a draft case; poll the job (GET /assistant/generations/{id}/) for progress."""
        payload = GenerationRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        environment = None
        if data.get("environment"):
            environment = Environment.objects.filter(
                pk=data["environment"], project_id__in=project_ids_with_role(request.user)
            ).first()
            if environment is None:
                raise NotFound("Environment not found.", {"environment": ["Environment not found."]})
        job = services.generation_request(
            user=request.user, project_id=data["project"], environment=environment, start_url=data["start_url"],
            description=data["description"], variable_names=data["variables"], case_name=data["case_name"],
        )  # fmt: skip
        return Response(GenerationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GenerationJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    model = GenerationJob
    object_label = "Generation job"
    serializer_class = GenerationJobSerializer

    def visible_queryset(self):
        return selectors.generation_jobs_visible_to(self.request.user)


class ExplanationSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    execution = serializers.UUIDField(source="execution_id", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = FailureExplanation
        fields = [
            "id", "project", "execution", "requested_by", "automatic", "status", "message", "category",
            "confidence", "explanation", "evidence", "patch", "steps_before", "steps_after", "patch_dry_run",
            "proposal", "decided_by", "decided_at", "model", "model_calls", "prompt_tokens", "completion_tokens",
            "cost_estimate_usd", "model_ms", "browser_ms", "created_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class ExplainView(APIView):
    @extend_schema(request=None, responses={202: ExplanationSerializer})
    def post(self, request, pk):
        """Queue an explanation of a failed or errored execution (and a proposed fix when the test needs one)."""
        execution = executions_visible_to(request.user).filter(pk=pk).first()
        if execution is None:
            raise NotFound("Execution not found.")
        explanation = services.explanation_request(execution=execution, user=request.user)
        return Response(ExplanationSerializer(explanation).data, status=status.HTTP_202_ACCEPTED)


class ExplanationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    model = FailureExplanation
    object_label = "Explanation"
    doing = "Deciding on a proposed change"
    serializer_class = ExplanationSerializer
    filterset_fields = ["execution", "proposal"]

    def visible_queryset(self):
        return selectors.explanations_visible_to(self.request.user)

    @extend_schema(request=None, responses=ExplanationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Apply the proposed patch to the case (editors)."""
        explanation = services.explanation_approve(explanation=self.get_object(), user=request.user)
        return Response(ExplanationSerializer(explanation).data)

    @extend_schema(request=None, responses=ExplanationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Refuse the proposed patch; the case stays as it is (editors)."""
        explanation = services.explanation_reject(explanation=self.get_object(), user=request.user)
        return Response(ExplanationSerializer(explanation).data)


class ModelExchangeSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)

    class Meta:
        model = ModelExchange
        fields = ["id", "project", "generation_job", "explanation", "purpose", "model", "response_format", "attempt",
                  "request", "answer", "ok", "error", "status_code", "prompt_tokens", "completion_tokens",
                  "duration_ms", "created_at"]  # fmt: skip
        read_only_fields = fields


class ModelExchangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Every request sent to the model and its answer, redacted (project maintainers only)."""

    model = ModelExchange
    object_label = "Model exchange"
    serializer_class = ModelExchangeSerializer
    filterset_fields = ["generation_job", "explanation", "purpose", "ok"]

    def visible_queryset(self):
        return selectors.exchanges_visible_to(self.request.user)

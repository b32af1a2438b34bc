"""Artifacts over HTTP: list, metadata, download, upload, delete. Rules live in the services."""

from __future__ import annotations

import json

import django_filters
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from artifacts import selectors, services
from artifacts.downloads import artifact_file_response
from artifacts.models import Artifact
from artifacts.uploads import SizeLimitedMultiPartParser
from jbtestsuite.errors import NotFound
from jbtestsuite.filters import WholeNumberFilter
from tests_catalog.api.scoping import DestroyInProject, ProjectScopedViewSet, documented
from tests_catalog.services import project_role_require


class ArtifactSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(source="original_filename", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = [
            "id",
            "project",
            "execution",
            "step_result",
            "test_case",
            "kind",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, artifact) -> str:
        path = reverse("artifact-download", kwargs={"pk": artifact.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ArtifactUploadSerializer(serializers.Serializer):
    # Emptiness, size and type are the service's rules, shared with the engine.
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    kind = serializers.ChoiceField(choices=Artifact.Kind.choices, default=Artifact.Kind.ATTACHMENT)
    execution = serializers.UUIDField(required=False)
    step_result = serializers.IntegerField(required=False, min_value=1)
    test_case = serializers.UUIDField(required=False)

    def validate(self, attrs):
        owners = [name for name in ("execution", "step_result", "test_case") if name in attrs]
        if not owners or ("test_case" in attrs and len(owners) > 1):
            raise serializers.ValidationError("Give either a test_case or an execution (optionally a step_result).")
        return attrs


class ArtifactFilter(django_filters.FilterSet):
    execution = django_filters.UUIDFilter()
    step_result = WholeNumberFilter()
    kind = django_filters.ChoiceFilter(choices=Artifact.Kind.choices)

    class Meta:
        model = Artifact
        fields = ["execution", "step_result", "kind"]


class FileRenderer(BaseRenderer):
    """Lets clients ask the download for any type; errors still go out as JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if isinstance(data, dict | list) else data


@documented("artifact")
class ArtifactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DestroyInProject, ProjectScopedViewSet):
    model = Artifact
    object_label = "Artifact"
    doing = "Deleting artifacts"
    serializer_class = ArtifactSerializer
    filterset_class = ArtifactFilter
    parser_classes = [SizeLimitedMultiPartParser]

    def visible_queryset(self):
        return selectors.artifacts_visible_to(self.request.user)

    @extend_schema(request={"multipart/form-data": ArtifactUploadSerializer}, responses={201: ArtifactSerializer})
    def create(self, request):
        upload = ArtifactUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        owner = self._upload_owner(request.user, data)
        artifact = services.artifact_store(
            content=data["file"],
            kind=data["kind"],
            filename=data["file"].name,
            uploaded_by=request.user,
            **owner,
        )
        body = ArtifactSerializer(artifact, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def object_delete(self, artifact):
        services.artifact_delete(artifact=artifact)

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="The file, streamed.")})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, FileRenderer])
    def download(self, request, pk=None):
        return artifact_file_response(self.get_object())

    def _upload_owner(self, user, data) -> dict:
        owner: dict = {}
        if "test_case" in data:
            owner["test_case"] = selectors.case_visible_to(user, data["test_case"])
            if owner["test_case"] is None:
                raise NotFound("No such test case.", {"test_case": ["No such test case."]})
            project_id = owner["test_case"].project_id
        else:
            if "execution" in data:
                owner["execution"] = selectors.execution_visible_to(user, data["execution"])
                if owner["execution"] is None:
                    raise NotFound("No such execution.", {"execution": ["No such execution."]})
            if "step_result" in data:
                owner["step_result"] = selectors.step_result_visible_to(user, data["step_result"])
                if owner["step_result"] is None:
                    raise NotFound("No such step result.", {"step_result": ["No such step result."]})
            project_id = (owner.get("execution") or owner["step_result"].execution).project_id
        project_role_require(user=user, project=project_id, role=self.write_role, doing="Uploading artifacts")
        return owner

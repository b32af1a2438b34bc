"""`/api/v1/notification-channels/`: thin; rules live in notifications.services.

Secrets are write-only: `secret` never comes back (see `has_secret`), nor does a Slack `url`,
which is itself a credential. Omitting either on update keeps the stored value.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions.api import _VisiblePrimaryKeyField
from jbtestsuite.errors import ValidationFailed
from notifications import services
from notifications.models import ChannelKind, NotificationChannel, NotifyOn, RunSource
from tests_catalog import services as catalog_services
from tests_catalog.models import Role, TestSuite
from tests_catalog.selectors import project_ids_with_role


class NotificationChannelSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", help_text="Required when creating; cannot change.")
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, allow_null=True,
        help_text="Webhook or Slack incoming-webhook URL. A Slack URL is write-only: null in responses.",
    )  # fmt: skip
    secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True, trim_whitespace=False,
        help_text="Webhook signing secret (HMAC-SHA256 of the body in X-JBTestSuite-Signature). Write-only.",
    )  # fmt: skip
    has_secret = serializers.SerializerMethodField()
    email_to = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
    on = serializers.ChoiceField(
        choices=NotifyOn.choices, required=False, default=NotifyOn.FAILURE,
        help_text="`failure`: the first failure of a streak; `recovery`: that and the first pass after it; "
        "`always`: every finished run.",
    )  # fmt: skip
    runs = serializers.ChoiceField(choices=RunSource.choices, required=False, default=RunSource.ALL)
    suites = _VisiblePrimaryKeyField(
        queryset=TestSuite.objects.all(), many=True, required=False, help_text="Empty: every suite of the project."
    )
    enabled = serializers.BooleanField(required=False, default=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            self.fields["project"].required = False
            for name in ("on", "runs", "enabled"):
                self.fields[name].default = serializers.empty

    def get_has_secret(self, channel) -> bool:
        return bool(channel.secret)

    def to_representation(self, channel):
        data = super().to_representation(channel)
        if channel.kind == ChannelKind.SLACK:
            data["url"] = None
        return data


class NotificationTestSerializer(serializers.Serializer):
    channel = serializers.UUIDField()
    queued = serializers.BooleanField()


class NotificationChannelFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")

    class Meta:
        model = NotificationChannel
        fields = ["project"]


def _require_editor(user, project_id) -> None:
    catalog_services.project_editor_require(user=user, project_id=project_id, doing="Managing notification channels")


class NotificationChannelViewSet(viewsets.GenericViewSet):
    """Where run results go. Other projects' channels answer 404; viewers may only read."""

    queryset = NotificationChannel.objects.none()  # for the schema; requests use get_queryset
    serializer_class = NotificationChannelSerializer
    filterset_class = NotificationChannelFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return (
            NotificationChannel.objects.filter(project_id__in=project_ids_with_role(self.request.user))
            .prefetch_related("suites")
            .order_by("name", "pk")
        )

    def _body(self, channel, status_code=status.HTTP_200_OK):
        channel = self.get_queryset().get(pk=channel.pk)
        serializer = NotificationChannelSerializer(channel, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(summary="List notification channels", responses=NotificationChannelSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = NotificationChannelSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(summary="Create a notification channel", responses={201: NotificationChannelSerializer})
    def create(self, request):
        payload = NotificationChannelSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        project = catalog_services.project_for_write(
            user=request.user, project_id=data.pop("project_id"), role=Role.EDITOR
        )
        channel = services.notification_channel_create(project=project, **data)
        return self._body(channel, status.HTTP_201_CREATED)

    @extend_schema(summary="A notification channel (secrets left out)")
    def retrieve(self, request, pk=None):
        return Response(NotificationChannelSerializer(self.get_object(), context=self.get_serializer_context()).data)

    def _update(self, request, *, partial: bool):
        channel = self.get_object()
        payload = NotificationChannelSerializer(
            data=request.data, partial=partial, creating=False, context=self.get_serializer_context()
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        _require_editor(request.user, channel.project_id)
        if data.pop("project_id", channel.project_id) != channel.project_id:
            message = "A channel cannot move to another project."
            raise ValidationFailed(message, {"project": [message]})
        if not partial:
            data.setdefault("suites", [])
            data.setdefault("email_to", [])
        channel = services.notification_channel_update(channel=channel, **data)
        return self._body(channel)

    @extend_schema(summary="Replace a notification channel; omitted secrets are kept")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of a notification channel")
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a notification channel", responses={204: None})
    def destroy(self, request, pk=None):
        channel = self.get_object()
        _require_editor(request.user, channel.project_id)
        services.notification_channel_delete(channel=channel)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test notification (delivered in the background, recorded like any other)",
        request=None,
        responses={202: NotificationTestSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = self.get_object()
        _require_editor(request.user, channel.project_id)
        services.notification_test_send(channel=channel)
        return Response({"channel": str(channel.pk), "queued": True}, status=status.HTTP_202_ACCEPTED)

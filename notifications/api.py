"""`/api/v1/notification-channels/`: thin; rules live in notifications.services.

Secrets are write-only: `secret` never comes back (see `has_secret`), nor does a Slack `url`,
which is itself a credential. Omitting either on update keeps the stored value.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import services
from notifications.models import ChannelKind, NotificationChannel, NotifyOn, RunSource
from tests_catalog.api.scoping import (
    ProjectScopedModelViewSet,
    ProjectScopedWriteSerializer,
    VisiblePrimaryKeyField,
    documented,
)
from tests_catalog.models import TestSuite
from tests_catalog.selectors import project_ids_with_role


class NotificationChannelSerializer(ProjectScopedWriteSerializer):
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
    suites = VisiblePrimaryKeyField(
        queryset=TestSuite.objects.all(), many=True, required=False, help_text="Empty: every suite of the project."
    )
    enabled = serializers.BooleanField(required=False, default=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    create_defaults = ("on", "runs", "enabled")

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


@documented(
    "notification channel",
    retrieve="A notification channel (secrets left out)",
    update="Replace a notification channel; omitted secrets are kept",
)
class NotificationChannelViewSet(ProjectScopedModelViewSet):
    """Where run results go. Other projects' channels answer 404; viewers may only read."""

    model = NotificationChannel
    object_label = "Notification channel"
    doing = "Managing notification channels"
    serializer_class = NotificationChannelSerializer
    filterset_class = NotificationChannelFilter

    def visible_queryset(self):
        return (
            NotificationChannel.objects.filter(project_id__in=project_ids_with_role(self.request.user))
            .prefetch_related("suites")
            .order_by("name", "pk")
        )

    def object_create(self, *, project, data):
        return services.notification_channel_create(project=project, **data)

    def object_update(self, channel, *, data, partial):
        if not partial:
            data.setdefault("suites", [])
            data.setdefault("email_to", [])
        return services.notification_channel_update(channel=channel, **data)

    def object_delete(self, channel):
        services.notification_channel_delete(channel=channel)

    @extend_schema(
        summary="Send a test notification (delivered in the background, recorded like any other)",
        request=None,
        responses={202: NotificationTestSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = self.get_object()
        services.notification_test_send(channel=channel)
        return Response({"channel": str(channel.pk), "queued": True}, status=status.HTTP_202_ACCEPTED)

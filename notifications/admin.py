"""Channels in the admin: secrets masked (never rendered back), deliveries visible, a test action."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from jbtestsuite.errors import ApplicationError
from jbtestsuite.log import MASK
from notifications import services
from notifications.models import ChannelKind, NotificationChannel, NotificationDelivery
from tests_catalog.admin import ProjectScopedAdmin
from tests_catalog.models import Role, TestSuite
from tests_catalog.selectors import project_ids_with_role, user_has_role


def masked_target(channel: NotificationChannel) -> str:
    if channel.kind == ChannelKind.EMAIL:
        return ", ".join(channel.email_to)
    if channel.kind == ChannelKind.SLACK:
        return "Slack incoming webhook " + (MASK if channel.url else "(none)")
    return channel.url


class NotificationChannelForm(forms.ModelForm):
    """Write-only secrets: the widgets never render the stored value; left blank, it is kept."""

    url = forms.URLField(
        max_length=1000, required=False, assume_scheme="https",
        help_text="Webhook or Slack URL. A Slack URL is hidden once saved: leave blank to keep it.",
    )  # fmt: skip
    secret = forms.CharField(
        max_length=200, required=False, strip=False, widget=forms.PasswordInput(render_value=False),
        help_text="Webhook signing secret. Stored values are never shown: leave blank to keep it.",
    )  # fmt: skip
    email_to = forms.CharField(required=False, help_text="Comma-separated addresses (email channels).")

    class Meta:
        model = NotificationChannel
        fields = ["project", "name", "kind", "url", "secret", "email_to", "on", "runs", "suites", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.kind == ChannelKind.SLACK:
            self.initial["url"] = ""
            self.fields["url"].widget = forms.PasswordInput(render_value=False)
        self.initial["email_to"] = ", ".join(self.instance.email_to or [])

    def clean_email_to(self):
        addresses = [a.strip() for a in self.cleaned_data["email_to"].split(",") if a.strip()]
        validator = forms.EmailField()
        return [validator.clean(address) for address in addresses]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # The service checks are the API's too; run them on a copy so errors land on their fields.
        fields = {name: data.get(name) for name in ("name", "kind", "url", "secret", "email_to", "on", "runs")}
        probe = NotificationChannel(pk=self.instance.pk, project=data.get("project"), enabled=True)
        for name, value in fields.items():
            if name in ("secret", "url") and not value and self.instance.pk:
                value = getattr(self.instance, name)
            setattr(probe, name, value or ([] if name == "email_to" else ""))
        try:
            services.notification_channel_check(probe, data.get("suites"))
        except ApplicationError as exc:
            for field, errors in exc.details.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class DeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    extra = 0
    can_delete = False
    fields = ["created_at", "event", "suite_run", "attempt", "succeeded", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    ordering = ["-created_at"]
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("suite_run")


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ProjectScopedAdmin):
    form = NotificationChannelForm
    list_display = ["name", "project", "kind", "target", "on", "runs", "enabled", "last_delivery"]
    list_filter = ["kind", "on", "enabled", "project"]
    search_fields = ["name"]
    list_select_related = ["project"]
    filter_horizontal = ["suites"]
    inlines = [DeliveryInline]
    actions = ["send_test"]

    @admin.display(description="target")
    def target(self, channel):
        return masked_target(channel)

    @admin.display(description="last delivery")
    def last_delivery(self, channel):
        delivery = channel.deliveries.order_by("-created_at").first()
        if delivery is None:
            return "—"
        colour = "#198754" if delivery.succeeded else "#dc3545"
        label = "ok" if delivery.succeeded else (delivery.error or "failed")[:60]
        return format_html('<span style="color:{}">{} ({})</span>', colour, label, delivery.event)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "suites" and not request.user.is_superuser:
            kwargs["queryset"] = TestSuite.objects.filter(project_id__in=project_ids_with_role(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in ("name", "kind", "url", "secret", "email_to", "on", "runs", "enabled")}
        if change:
            services.notification_channel_update(channel=obj, suites=list(data["suites"]), **fields)
        else:
            created = services.notification_channel_create(project=data["project"], suites=list(data["suites"]),
                                                           **fields)  # fmt: skip
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The services already set the suites (no form.save_m2m()); the deliveries inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Send a test notification")
    def send_test(self, request, queryset):
        sent = 0
        for channel in queryset:
            if user_has_role(request.user, channel.project_id, Role.EDITOR):
                services.notification_test_send(channel=channel)
                sent += 1
        self.message_user(request, f"Queued {sent} test notification(s); see each channel's deliveries.",
                          messages.SUCCESS)  # fmt: skip


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "event", "suite_run", "attempt", "succeeded", "status_code", "error"]
    list_filter = ["succeeded", "event", "channel__kind"]
    list_select_related = ["channel", "suite_run"]
    readonly_fields = [*list_display, "duration_ms"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(channel__project_id__in=project_ids_with_role(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

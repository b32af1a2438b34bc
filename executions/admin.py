"""Admin screens for runs: the execution page shows the step timeline with evidence."""

import contextlib

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from artifacts.admin import ArtifactAdmin
from executions import services
from executions.models import ACTIVE_STATUSES, Execution, StepResult, SuiteRun
from jbtestsuite.errors import Conflict
from tests_catalog.admin import ProjectScopedAdmin
from tests_catalog.models import Role
from tests_catalog.selectors import project_ids_with_role

STATUS_COLOURS = {
    "queued": "#6c757d",
    "running": "#0d6efd",
    "passed": "#198754",
    "failed": "#dc3545",
    "error": "#fd7e14",
    "cancelled": "#6c757d",
    "skipped": "#adb5bd",
}


def status_badge(status: str):
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-weight:600">{}</span>',
        STATUS_COLOURS.get(status, "#6c757d"),
        status,
    )


class RunRecordAdmin(ProjectScopedAdmin):
    """Runs are records: members view them, editors cancel them, nobody edits them here."""

    def has_add_permission(self, request):
        return False  # runs start from cases and suites ("Run now…"), the API or the CLI

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_cancel_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._has_role_anywhere(request, Role.EDITOR)


def _evidence_link(artifact):
    """A screenshot as a thumbnail opening full size; page source and console log as links."""
    url = ArtifactAdmin.file_url(artifact)
    if artifact.is_image:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="screenshot" loading="lazy" '
            'style="max-width:160px;max-height:90px;border:1px solid #ccc"></a>',
            url,
            url,
        )
    label = artifact.get_kind_display()
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, label)


class StepResultInline(admin.TabularInline):
    model = StepResult
    extra = 0
    can_delete = False
    fields = ["order_index", "status_badge", "action", "selector", "value", "duration_ms", "message", "evidence"]
    readonly_fields = fields
    ordering = ["order_index"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # shown only inside a run page, which is already scoped to the user's projects

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("artifacts")

    @admin.display(description="status")
    def status_badge(self, result):
        return status_badge(result.status)

    @admin.display(description="evidence")
    def evidence(self, result):
        return format_html_join(" ", "{}", ((_evidence_link(a),) for a in result.artifacts.all()))


@admin.register(Execution)
class ExecutionAdmin(RunRecordAdmin):
    list_display = ["case_name", "project", "status_badge", "trigger", "attempt", "queued_at", "duration"]
    list_filter = ["status", "trigger", "project"]
    search_fields = ["case_name", "error_message"]
    date_hierarchy = "queued_at"
    list_select_related = ["project"]
    inlines = [StepResultInline]
    actions = ["cancel_selected"]
    fieldsets = [
        (None, {"fields": ["case_name", "project", "test_case", "suite_run", "environment", "status_badge"]}),
        ("Outcome", {"fields": ["failing_step_index", "error_message", "attempt", "max_attempts",
                                "previous_attempt"]}),
        ("Timing", {"fields": ["queued_at", "started_at", "finished_at", "duration", "heartbeat_at"]}),
        ("Where", {"fields": ["trigger", "triggered_by", "worker_host", "browser_name", "browser_version"]}),
        ("Variables (secrets masked)", {"fields": ["variables"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    @admin.display(description="status", ordering="status")
    def status_badge(self, execution):
        return status_badge(execution.status)

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, execution):
        return "—" if execution.duration_ms is None else f"{execution.duration_ms / 1000:.1f} s"

    @admin.display(description="variables")
    def variables(self, execution):
        pairs = sorted(execution.snapshot.get("variables", {}).items())
        if not pairs:
            return "—"
        return format_html_join("", "<div><code>{}</code> = <code>{}</code></div>", pairs)

    @admin.action(description="Cancel selected executions", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        cancelled = 0
        editable = queryset.filter(project_id__in=project_ids_with_role(request.user, Role.EDITOR))
        for execution in editable.filter(status__in=ACTIVE_STATUSES):
            with contextlib.suppress(Conflict):  # it finished meanwhile
                services.execution_cancel(execution=execution)
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} execution(s).", messages.SUCCESS)


class SuiteExecutionInline(admin.TabularInline):
    model = Execution
    extra = 0
    can_delete = False
    fields = ["case_link", "status_badge", "attempt", "duration_ms", "error_message"]
    readonly_fields = fields
    ordering = ["queued_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # shown only inside a run page, which is already scoped to the user's projects

    @admin.display(description="case")
    def case_link(self, execution):
        return format_html('<a href="../../../execution/{}/change/">{}</a>', execution.pk, execution.case_name)

    @admin.display(description="status")
    def status_badge(self, execution):
        return status_badge(execution.status)


@admin.register(SuiteRun)
class SuiteRunAdmin(RunRecordAdmin):
    list_display = ["suite_name", "project", "status_badge", "trigger", "passed", "failed", "errored",
                    "cancelled", "created_at"]  # fmt: skip
    list_filter = ["status", "trigger", "project"]
    search_fields = ["suite_name"]
    list_select_related = ["project"]
    inlines = [SuiteExecutionInline]
    readonly_fields = [
        "suite_name", "project", "suite", "environment", "trigger", "triggered_by", "status",
        "total", "passed", "failed", "errored", "cancelled", "created_at", "started_at", "finished_at",
    ]  # fmt: skip
    actions = ["cancel_selected"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, run):
        return status_badge(run.status)

    @admin.action(description="Cancel selected suite runs", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        for suite_run in queryset.filter(project_id__in=project_ids_with_role(request.user, Role.EDITOR)):
            services.suite_run_cancel(suite_run=suite_run)
        self.message_user(request, "Cancel requested.", messages.SUCCESS)

"""The reports' tables in the admin: read-only, scoped to the user's projects, exportable as CSV."""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from reports.models import CaseHealth, FailureGroup
from tests_catalog.admin import ProjectScopedAdmin


class ReportAdmin(ProjectScopedAdmin):
    """Reports are derived rows: members read them, nobody edits them (`reports_rebuild` remakes them)."""

    csv_fields: list[str] = []
    actions = ["download_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Download selected rows as CSV", permissions=["view"])
    def download_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.model._meta.model_name}.csv"'
        writer = csv.writer(response)
        writer.writerow(self.csv_fields)
        for row in queryset.values_list(*self.csv_fields):
            writer.writerow(row)
        return response


@admin.register(CaseHealth)
class CaseHealthAdmin(ReportAdmin):
    list_display = ["case_name", "shown_label", "environment", "flips", "retry_passes", "runs", "failures",
                    "last_failure_at", "last_run_at"]  # fmt: skip
    list_filter = ["project", "label", "flaky", "environment"]
    list_select_related = ["environment"]
    search_fields = ["case_name"]
    csv_fields = ["case_name", "project__name", "environment__name", "label", "flaky", "flips", "retry_passes",
                  "runs", "failures", "first_failure_at", "last_failure_at", "last_run_at"]  # fmt: skip
    fields = ["case_link", "project", "environment", "shown_label", "flips", "retry_passes", "runs", "failures",
              "first_failure_at", "last_failure_at", "last_run_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="label", ordering="label")
    def shown_label(self, obj):
        return obj.display_label

    @admin.display(description="case")
    def case_link(self, obj):
        url = reverse("reports-case", args=[obj.test_case_id])
        query = f"?environment={obj.environment_id}" if obj.environment_id else ""
        return format_html('<a href="{}{}">{} (history)</a>', url, query, obj.case_name)


@admin.register(FailureGroup)
class FailureGroupAdmin(ReportAdmin):
    list_display = ["message_short", "action", "selector", "failures", "cases", "first_seen_at", "last_seen_at"]
    list_filter = ["project", "action"]
    search_fields = ["message", "sample_message", "selector"]
    csv_fields = ["id", "project__name", "action", "selector", "message", "failures", "cases", "first_seen_at",
                  "last_seen_at"]  # fmt: skip
    fields = ["project", "action", "selector", "message", "sample_message", "failures", "cases", "first_seen_at",
              "last_seen_at", "latest_failures"]  # fmt: skip
    readonly_fields = fields
    latest_shown = 50

    @admin.display(description="message", ordering="message")
    def message_short(self, obj):
        return obj.message[:120] or "(no message)"

    @admin.display(description=f"latest {latest_shown} failures")
    def latest_failures(self, obj):
        failures = obj.members.select_related("test_case", "environment").order_by("-at", "-id")[: self.latest_shown]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:executions_execution_change", args=[f.execution_id]),
                    f.at.strftime("%Y-%m-%d %H:%M"),
                    reverse("reports-case", args=[f.test_case_id]),
                    f.test_case.name,
                    f.environment.name if f.environment else "\u2013",
                    "\u2013" if f.step_index is None else f.step_index + 1,
                )
                for f in failures
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Case</th><th>Environment</th><th>Step</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

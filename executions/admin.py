"""Admin screens for runs: the execution page shows the step timeline with evidence."""

import contextlib
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from artifacts.admin import ArtifactAdmin
from executions import schedules, services
from executions.models import ACTIVE_STATUSES, Execution, Schedule, StepResult, SuiteRun
from jbtestsuite.errors import ApplicationError, Conflict, ValidationFailed
from tests_catalog import services as catalog_services
from tests_catalog.admin import ProjectScopedAdmin, ReadOnlyInline
from tests_catalog.models import Role, TestCase
from tests_catalog.selectors import project_ids_with_role, user_has_role

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


def _healed_case(execution: Execution, result: StepResult):
    """The case whose step healed: the execution's own, or the one a `run` step called."""
    if not result.flow:
        return execution.test_case
    return (
        TestCase.objects.filter(project_id=execution.project_id, name=result.flow)
        .exclude(status=TestCase.Status.ARCHIVED)
        .first()
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


class StepResultInline(ReadOnlyInline):
    model = StepResult
    fields = ["step", "status_badge", "action_nested", "selector", "value", "duration_ms", "message_and_heal",
              "evidence"]  # fmt: skip
    ordering = ["sequence", "order_index"]

    @admin.display(description="Step")
    def step(self, result):
        # Steps of a case called by `run` carry its name, so "3" of the sub-flow is not read as step 3.
        return f"{result.flow} · {result.order_index}" if result.flow else result.order_index

    @admin.display(description="Message")
    def message_and_heal(self, result):
        if not result.healed_by:
            return result.message
        url = reverse("admin:executions_execution_adopt_locator", args=[result.execution_id, result.pk])
        return format_html('{} <a class="button" href="{}">Use this locator from now on</a>', result.message, url)

    @admin.display(description="Action")
    def action_nested(self, result):
        """The action indented by its nesting, with the loop iteration or branch it ran in."""
        extra = []
        if result.iteration is not None:
            extra.append(f"#{result.iteration}")
        if result.branch:
            extra.append(result.branch)
        if result.healed_by:
            extra.append("healed")
        return format_html(
            '<span style="padding-left:{}em;white-space:nowrap">{}</span> <small style="color:#666">{}</small>',
            1.5 * result.depth, result.action, " ".join(extra),
        )  # fmt: skip

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
        (None, {"fields": ["case_name", "project", "test_case", "version_link", "suite_run", "environment",
                           "status_badge"]}),
        ("Outcome", {"fields": ["failing_step_index", "error_message", "attempt", "max_attempts",
                                "previous_attempt"]}),
        ("Timing", {"fields": ["queued_at", "started_at", "finished_at", "duration", "heartbeat_at"]}),
        ("Where", {"fields": ["trigger", "triggered_by", "worker_host", "browser_name", "browser_version"]}),
        ("Variables (secrets masked)", {"fields": ["variables"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def get_urls(self):
        adopt = self.admin_site.admin_view(self.adopt_locator_view)
        return [
            path("<uuid:execution_id>/adopt-locator/<int:result_id>/", adopt,
                 name="executions_execution_adopt_locator"),
            *super().get_urls(),
        ]  # fmt: skip

    def adopt_locator_view(self, request, execution_id, result_id):
        """Confirm, then make the fallback locator that healed a step the step's main locator."""
        execution = self.get_queryset(request).filter(pk=execution_id).first()
        result = StepResult.objects.filter(pk=result_id, execution=execution).exclude(healed_by="").first()
        if execution is None or result is None:
            raise Http404("No such healed step.")
        back = reverse("admin:executions_execution_change", args=[execution.pk])
        case = _healed_case(execution, result)
        if case is None or not user_has_role(request.user, case.project_id, Role.EDITOR):
            self.message_user(request, "The case is gone, or you are not an editor of its project.", messages.ERROR)
            return HttpResponseRedirect(back)
        if request.method == "POST":
            try:
                catalog_services.step_locator_adopt(case=case, order_index=result.order_index,
                                                    locator=result.healed_by)  # fmt: skip
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Step {result.order_index} of {case.name!r} now uses {result.healed_by}; "
                                           "its old locator is its first alternate.", messages.SUCCESS)  # fmt: skip
            return HttpResponseRedirect(back)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "execution": execution,
                   "result": result, "case": case, "title": "Use this locator from now on"}  # fmt: skip
        return TemplateResponse(request, "admin/executions/adopt_locator.html", context)

    @admin.display(description="status", ordering="status")
    def status_badge(self, execution):
        return status_badge(execution.status)

    @admin.display(description="case version")
    def version_link(self, execution):
        version = execution.case_version
        if version is None:
            return "—"
        url = reverse("admin:tests_catalog_testcase_versions", args=[version.case_id])
        return format_html('<a href="{}?new={}">v{}</a>', url, version.number, version.number)

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


class SuiteExecutionInline(ReadOnlyInline):
    model = Execution
    fields = ["case_link", "status_badge", "attempt", "duration_ms", "error_message"]
    ordering = ["queued_at"]

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


# --- Schedules -------------------------------------------------------------------------------


class ScheduleForm(forms.ModelForm):
    """Validated by the same service rules as the API; errors land on the field they name."""

    timezone = forms.CharField(
        max_length=64, required=False, help_text="IANA name, e.g. Europe/Berlin. Default: the project's time zone."
    )

    class Meta:
        model = Schedule
        fields = ["project", "suite", "environment", "cron", "interval_seconds", "timezone", "enabled", "overlap",
                  "variables"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "variables" in self.fields:
            # Secret overrides are shown as the mask; sent back unchanged, the service keeps them.
            secret_names = services.secret_variable_names(self.instance.environment)
            self.initial["variables"] = services.variable_overrides_masked(self.instance.variables, secret_names)

    def clean(self):
        data = super().clean()
        project, suite = data.get("project"), data.get("suite")
        if project is None or suite is None:
            return data
        data["timezone"] = data.get("timezone") or project.timezone or "UTC"
        try:
            cleaned = schedules.schedule_fields_clean(
                project=project, suite=suite, environment=data.get("environment"), cron=data.get("cron") or "",
                interval_seconds=data.get("interval_seconds"), timezone_name=data["timezone"],
                overlap=data.get("overlap") or "skip", variables=data.get("variables") or {},
            )  # fmt: skip
        except ValidationFailed as exc:
            for field, messages_ in exc.details.items():
                self.add_error(field if field in self.fields else None, messages_)
            return data
        data.update(cleaned)
        return data


@admin.register(Schedule)
class ScheduleAdmin(ProjectScopedAdmin):
    form = ScheduleForm
    list_display = ["__str__", "project", "environment", "when", "enabled", "overlap", "next_run_local",
                    "last_result", "skipped_runs"]  # fmt: skip
    list_filter = ["enabled", "overlap", "project"]
    list_select_related = ["project", "suite", "environment", "last_run"]
    search_fields = ["suite__name", "cron"]
    readonly_fields = ["next_run_local", "last_result", "last_fired_at", "skipped_runs", "last_skipped_at"]
    actions = ["run_now", "enable_selected", "disable_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [*self.readonly_fields, "variables_shown"]
        return self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        # A read-only page would print the stored JSON as it is, secret overrides included.
        read_only = obj is not None and not self.has_change_permission(request, obj)
        fieldsets = [
            (None, {"fields": ["project", "suite", "environment", "variables_shown" if read_only else "variables"]}),
            ("When", {"fields": ["cron", "interval_seconds", "timezone", "enabled", "overlap"]}),
        ]
        if obj is not None:
            fieldsets.append(("Runs", {"fields": self.readonly_fields}))
        return fieldsets

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("suite", "environment") and not request.user.is_superuser:
            model = db_field.remote_field.model
            kwargs["queryset"] = model.objects.filter(project_id__in=project_ids_with_role(request.user, Role.EDITOR))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="variables")
    def variables_shown(self, schedule):
        secret_names = services.secret_variable_names(schedule.environment)
        shown = services.variable_overrides_masked(schedule.variables, secret_names)
        return ", ".join(f"{name}={value}" for name, value in sorted(shown.items())) or "—"

    @admin.display(description="when")
    def when(self, schedule):
        return f"{schedule.cron} ({schedule.timezone})" if schedule.cron else f"every {schedule.interval_seconds} s"

    @admin.display(description="next run (schedule's time zone)")
    def next_run_local(self, schedule):
        next_run = schedule.next_run()
        if next_run is None:
            return "— (disabled)"
        return next_run.astimezone(ZoneInfo(schedule.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    @admin.display(description="last result")
    def last_result(self, schedule):
        if schedule.last_run is None:
            return "—"
        url = reverse("admin:executions_suiterun_change", args=[schedule.last_run.pk])
        return format_html('<a href="{}">{}</a>', url, status_badge(schedule.last_run.status))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "suite": data["suite"], "environment": data.get("environment"), "cron": data["cron"],
            "interval_seconds": data["interval_seconds"], "timezone_name": data["timezone"],
            "enabled": data["enabled"], "overlap": data["overlap"], "variables": data["variables"],
        }  # fmt: skip
        if change:
            schedules.schedule_update(schedule=obj, **fields)
        else:
            created = schedules.schedule_create(project=data["project"], created_by=request.user, **fields)
            obj.pk, obj.periodic_task = created.pk, created.periodic_task
            obj._state.adding = False

    def delete_model(self, request, obj):
        schedules.schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        schedules.schedules_delete(schedule_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description="Run selected schedules now")
    def run_now(self, request, queryset):
        started = 0
        for schedule in queryset:
            if not user_has_role(request.user, schedule.project_id, Role.EDITOR):
                continue
            if schedules.schedule_fire(schedule_id=schedule.pk, triggered_by=request.user, respect_overlap=False):
                started += 1
        self.message_user(request, f"Started {started} suite run(s).", messages.SUCCESS)

    def _set_enabled(self, request, queryset, enabled: bool):
        ids = [s.pk for s in queryset if user_has_role(request.user, s.project_id, Role.EDITOR)]
        changed = schedules.schedules_set_enabled(schedule_ids=ids, enabled=enabled)
        self.message_user(request, f"{'Enabled' if enabled else 'Disabled'} {changed} schedule(s).", messages.SUCCESS)

    @admin.action(description="Enable selected schedules")
    def enable_selected(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected schedules")
    def disable_selected(self, request, queryset):
        self._set_enabled(request, queryset, False)

"""Admin screens of the assistant: ask for a case, follow the job, read an explanation and
decide on its patch, read the audit log; plus the "Explain this failure" panel on the
execution page of the executions app (added here, so that app never imports the assistant)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from assistant import selectors, services
from assistant.client import assistant_configured, how_to_enable
from assistant.models import AssistantSettings, FailureExplanation, GenerationJob, ModelExchange
from executions.models import Execution
from jbtestsuite.errors import ApplicationError
from tests_catalog.admin import ProjectScopedAdmin
from tests_catalog.models import Environment, Role
from tests_catalog.selectors import project_ids_with_role, user_has_role


def _step_line(step: dict) -> str:
    parts = [step.get("action", "")]
    if step.get("selector"):
        parts.append(f"{step.get('selector_type', 'css')}={step['selector']}")
    if step.get("value"):
        parts.append(repr(step["value"]))
    return " ".join(parts)


def _steps_table(steps: list[dict], statuses: dict[int, dict] | None = None):
    if not steps:
        return "—"
    rows = []
    for index, step in enumerate(steps):
        outcome = (statuses or {}).get(index, {})
        rows.append((index, _step_line(step), outcome.get("status", ""), outcome.get("message", "")))
    body = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", rows)
    return format_html('<table class="assistant-steps"><tr><th>#</th><th>step</th><th>dry run</th><th></th></tr>{}'
                       "</table>", body)  # fmt: skip


@admin.register(AssistantSettings)
class AssistantSettingsAdmin(ProjectScopedAdmin):
    write_role = Role.MAINTAINER
    list_display = ["project", "enabled", "daily_token_budget", "withhold_screenshots", "explain_failures"]
    fields = ["project", "enabled", "daily_token_budget", "withhold_screenshots", "explain_failures"]

    def get_readonly_fields(self, request, obj=None):
        return ["project"] if obj is not None else []

    def changelist_view(self, request, extra_context=None):
        if not assistant_configured():
            self.message_user(request, how_to_enable(), messages.WARNING)
        return super().changelist_view(request, extra_context)


class GenerationRequestForm(forms.ModelForm):
    variables = forms.CharField(
        required=False, help_text="Names of the environment's variables to use, comma separated: username, password."
    )

    class Meta:
        model = GenerationJob
        fields = ["project", "environment", "start_url", "description", "case_name"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4, "cols": 80})}
        help_texts = {
            "start_url": "Absolute, or a path relative to the environment's (or project's) base URL.",
            "description": "What the case should do, e.g. “log in as the demo user and check the welcome text”.",
        }

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        data = super().clean()
        if self.errors or self.request is None:
            return data
        try:
            self.instance = services.generation_request(
                user=self.request.user, project_id=data["project"].pk, environment=data.get("environment"),
                start_url=data.get("start_url", ""), description=data.get("description", ""),
                variable_names=[n for n in (data.get("variables") or "").replace(" ", "").split(",") if n],
                case_name=data.get("case_name", ""),
            )  # fmt: skip
        except ApplicationError as error:
            for field, problems in (error.details or {}).items():
                self.add_error(field if field in self.fields else None, problems)
            if not error.details:
                self.add_error(None, error.message)
        return data


@admin.register(GenerationJob)
class GenerationJobAdmin(ProjectScopedAdmin):
    list_display = ["description_short", "project", "status", "model_calls", "tokens", "created_at"]
    list_filter = ["status", "project"]
    search_fields = ["description", "message"]
    list_select_related = ["project"]
    change_form_template = "admin/assistant/job_change_form.html"
    readonly = ["project", "environment", "requested_by", "start_url", "description", "status", "message",
                "progress_lines", "steps_table", "case_link", "dry_run_link", "model", "model_calls", "tokens",
                "cost_estimate_usd", "model_ms", "browser_ms", "created_at", "started_at", "finished_at"]  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        form = GenerationRequestForm

        class WithRequest(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return WithRequest

    def get_fields(self, request, obj=None):
        return self.readonly if obj is not None else ["project", "environment", "start_url", "description",
                                                       "variables", "case_name"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return False  # a job is a record; ask for a new one instead

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "environment" and not request.user.is_superuser:
            kwargs["queryset"] = Environment.objects.filter(
                project_id__in=project_ids_with_role(request.user, Role.EDITOR)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_view(self, request, form_url="", extra_context=None):
        if not assistant_configured():
            self.message_user(request, how_to_enable(), messages.WARNING)
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # the service already stored and queued the job in clean()

    def response_add(self, request, obj, post_url_continue=None):
        job = obj if obj.pk else None
        job = job or GenerationJob.objects.filter(requested_by=request.user).order_by("-created_at").first()
        self.message_user(request, "Queued: this page follows the job until it ends.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:assistant_generationjob_change", args=[job.pk]))

    def save_form(self, request, form, change):
        return form.instance

    def save_related(self, request, form, formsets, change):
        pass  # a job has no relations a form could save

    @admin.display(description="description")
    def description_short(self, job):
        return job.description[:80]

    @admin.display(description="tokens")
    def tokens(self, job):
        return job.total_tokens

    @admin.display(description="progress")
    def progress_lines(self, job):
        return format_html_join("", "<div><code>{}</code></div>", ((line,) for line in job.progress)) or "—"

    @admin.display(description="steps (green so far)")
    def steps_table(self, job):
        return _steps_table(job.steps)

    @admin.display(description="draft case")
    def case_link(self, job):
        if job.test_case_id is None:
            return "—"
        url = reverse("admin:tests_catalog_testcase_change", args=[job.test_case_id])
        return format_html('<a href="{}">{}</a>', url, job.test_case)

    @admin.display(description="dry run")
    def dry_run_link(self, job):
        if job.dry_run_execution_id is None:
            return "—"
        url = reverse("admin:executions_execution_change", args=[job.dry_run_execution_id])
        return format_html('<a href="{}">{}</a>', url, job.dry_run_execution)


@admin.register(FailureExplanation)
class FailureExplanationAdmin(ProjectScopedAdmin):
    list_display = ["execution", "project", "status", "category", "confidence", "proposal", "created_at"]
    list_filter = ["status", "category", "proposal", "project"]
    list_select_related = ["project", "execution"]
    change_form_template = "admin/assistant/explanation_change_form.html"
    readonly_fields = ["execution_link", "status", "message", "category", "confidence", "explanation",
                       "evidence_list", "patch_diff", "dry_run_result", "proposal", "decided_by", "decided_at",
                       "model", "model_calls", "prompt_tokens", "completion_tokens", "cost_estimate_usd",
                       "created_at", "finished_at"]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="assistant_explanation_decide"
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        explanation = get_object_or_404(selectors.explanations_visible_to(request.user), pk=pk)
        if request.method == "POST":
            decide = services.explanation_approve if request.POST.get("decision") == "approve" else (
                services.explanation_reject)  # fmt: skip
            try:
                decide(explanation=explanation, user=request.user)
                self.message_user(request, f"Proposal {explanation.__class__.objects.get(pk=pk).proposal}.",
                                  messages.SUCCESS)  # fmt: skip
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:assistant_failureexplanation_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        explanation = selectors.explanations_visible_to(request.user).filter(pk=object_id).first()
        if explanation is not None:
            extra_context["can_decide"] = explanation.proposal == "pending" and user_has_role(
                request.user, explanation.project_id, Role.EDITOR
            )
            extra_context["refresh"] = not explanation.is_final
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="execution")
    def execution_link(self, explanation):
        url = reverse("admin:executions_execution_change", args=[explanation.execution_id])
        return format_html('<a href="{}">{}</a>', url, explanation.execution)

    @admin.display(description="evidence")
    def evidence_list(self, explanation):
        return format_html_join("", "<li>{}</li>", ((item,) for item in explanation.evidence)) or "—"

    @admin.display(description="proposed change")
    def patch_diff(self, explanation):
        if not explanation.patch:
            return "— (no change proposed)"
        before = [_step_line(step) for step in explanation.steps_before]
        after = [_step_line(step) for step in explanation.steps_after]
        import difflib

        rows = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after).get_opcodes():
            if tag == "equal":
                rows += [("", f"{j}: {after[j]}", "") for j in range(j1, j2)]
                continue
            rows += [("-", f"{i}: {before[i]}", "background:#fde2e1") for i in range(i1, i2)]
            rows += [("+", f"{j}: {after[j]}", "background:#dcf5e3") for j in range(j1, j2)]
        body = format_html_join("", '<tr style="{2}"><td>{0}</td><td><code>{1}</code></td></tr>', rows)
        return format_html("<table>{}</table>", body)

    @admin.display(description="dry run of the patched steps (on a copy)")
    def dry_run_result(self, explanation):
        run = explanation.patch_dry_run
        if not run:
            return "—"
        verdict = "passed" if run.get("status") == "passed" else f"{run.get('status')}: {run.get('message', '')}"
        return format_html("<strong>{}</strong>", verdict)


@admin.register(ModelExchange)
class ModelExchangeAdmin(ProjectScopedAdmin):
    """The audit log; maintainers only, since requests carry the project's pages and runs."""

    list_display = ["id", "project", "purpose", "model", "ok", "status_code", "prompt_tokens", "completion_tokens",
                    "duration_ms", "created_at"]  # fmt: skip
    list_filter = ["purpose", "ok", "project"]
    readonly_fields = ["project", "purpose", "model", "response_format", "attempt", "ok", "status_code", "error",
                       "prompt_tokens", "completion_tokens", "duration_ms", "request_json", "answer", "created_at",
                       "generation_job", "explanation"]  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request):
        return selectors.exchanges_visible_to(request.user) if not request.user.is_superuser else (
            super().get_queryset(request))  # fmt: skip

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._has_role_anywhere(request, Role.MAINTAINER)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or user_has_role(request.user, obj.project_id, Role.MAINTAINER)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="request (redacted)")
    def request_json(self, exchange):
        return format_html("<pre style='white-space:pre-wrap;max-width:100ch'>{}</pre>",
                           json.dumps(exchange.request, indent=1)[:20000])  # fmt: skip


# --- The execution page: "Explain this failure" and the latest explanation -----------------

_ExecutionAdminBase = type(admin.site._registry[Execution])


class ExecutionWithExplanationAdmin(_ExecutionAdminBase):
    change_form_template = "admin/assistant/execution_change_form.html"

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/explain/", self.admin_site.admin_view(self.explain_view), name="assistant_execution_explain"
            ),
            *super().get_urls(),
        ]

    def explain_view(self, request, pk):
        execution = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method == "POST":
            try:
                explanation = services.explanation_request(execution=execution, user=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                url = reverse("admin:assistant_failureexplanation_change", args=[explanation.pk])
                return HttpResponseRedirect(url)
        return HttpResponseRedirect(reverse("admin:executions_execution_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        execution = self.get_queryset(request).filter(pk=object_id).first()
        if execution is not None:
            extra_context["assistant"] = {
                "explainable": execution.status in ("failed", "error"),
                "configured": assistant_configured(),
                "how_to_enable": how_to_enable(),
                "can_request": user_has_role(request.user, execution.project_id, Role.EDITOR),
                "latest": selectors.latest_explanation(execution.pk),
            }
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Execution)
admin.site.register(Execution, ExecutionWithExplanationAdmin)

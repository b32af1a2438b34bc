"""The admin's "Run now" on cases and suites: choose an environment, then queue the runs."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from executions import services
from executions.models import Trigger
from jbtestsuite.errors import ApplicationError
from tests_catalog.models import Environment, Role, TestCase
from tests_catalog.selectors import user_has_role


class RunNowForm(forms.Form):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.none(),
        required=False,
        empty_label="No environment (the project's base URL)",
    )

    def __init__(self, *args, project_ids, **kwargs):
        super().__init__(*args, **kwargs)
        environments = Environment.objects.filter(project_id__in=project_ids).select_related("project")
        self.fields["environment"].queryset = environments
        self.fields["environment"].label_from_instance = lambda env: f"{env.project.name} / {env.name}"


@admin.action(description="Run now…", permissions=["view"])
def run_now(modeladmin, request, queryset):
    objects = list(queryset.select_related("project"))
    project_ids = {obj.project_id for obj in objects}
    form = RunNowForm(request.POST if "run" in request.POST else None, project_ids=project_ids)
    if not form.is_valid():
        meta = modeladmin.model._meta
        noun = meta.verbose_name_plural if len(objects) > 1 else meta.verbose_name
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Run {len(objects)} {noun}",
            "objects": objects,
            "form": form,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "run_now",
        }
        return TemplateResponse(request, "admin/run_now.html", context)

    environment = form.cleaned_data["environment"]
    started = []
    for obj in objects:
        if not user_has_role(request.user, obj.project_id, Role.EDITOR):
            modeladmin.message_user(request, f"{obj}: you need the editor role to run it.", messages.WARNING)
            continue
        try:
            if isinstance(obj, TestCase):
                run = services.execution_create(case=obj, trigger=Trigger.ADMIN, environment=environment,
                                                triggered_by=request.user)  # fmt: skip
                url = reverse("admin:executions_execution_change", args=[run.pk])
            else:
                run = services.suite_run_start(suite=obj, trigger=Trigger.ADMIN, environment=environment,
                                               triggered_by=request.user)  # fmt: skip
                url = reverse("admin:executions_suiterun_change", args=[run.pk])
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            continue
        started.append(format_html('<a href="{}">{}</a>', url, obj))
    if started:
        links = format_html(", ".join(["{}"] * len(started)), *started)
        modeladmin.message_user(request, format_html("Queued: {}", links), messages.SUCCESS)
    return None

"""QA staff's main screen. Staff see only their projects (superusers see all); roles decide writes.

Access here follows project roles, not Django's per-model permissions: a viewer may look, an
editor may change cases, steps, suites and environments, a maintainer may change the project and
its members. Writes with rules (steps, suite order, bulk actions) go through `services`.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from executions.admin_actions import run_now
from jbtestsuite.errors import ApplicationError
from tests_catalog import selectors, services, side, step_actions
from tests_catalog.models import (
    CaseVersion,
    Environment,
    EnvironmentVariable,
    Membership,
    Project,
    Role,
    SuiteCase,
    TestCase,
    TestStep,
    TestSuite,
)
from tests_catalog.selectors import project_ids_with_role, user_has_role


class ProjectScopedAdmin(admin.ModelAdmin):
    # How to reach the project from this model; "" for Project itself.
    project_path = "project"
    write_role = Role.EDITOR
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _project_filter(self, user, role):
        field = f"{self.project_path}__in" if self.project_path else "pk__in"
        return {field: project_ids_with_role(user, role)}

    def _project_id(self, obj):
        return obj.pk if not self.project_path else getattr(obj, f"{self.project_path}_id")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**self._project_filter(request.user, Role.VIEWER))

    def _has_role_anywhere(self, request, role) -> bool:
        return request.user.is_superuser or project_ids_with_role(request.user, role).exists()

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._has_role_anywhere(request, Role.VIEWER)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or user_has_role(request.user, self._project_id(obj), Role.VIEWER)

    def has_change_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return self._has_role_anywhere(request, self.write_role)
        return user_has_role(request.user, self._project_id(obj), self.write_role)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._has_role_anywhere(request, self.write_role)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project" and not request.user.is_superuser:
            kwargs["queryset"] = Project.objects.filter(pk__in=project_ids_with_role(request.user, self.write_role))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside a page already scoped to the user's projects, never edited there:
    results, attempts, deliveries. Subclasses name `model`, `fields` and `ordering`."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # the page around it checked the project


class RoleScopedInline:
    """Inlines follow their parent's project role."""

    write_role = Role.EDITOR

    def _parent_allows(self, request, obj, role):
        if obj is None:
            return request.user.is_superuser or project_ids_with_role(request.user, role).exists()
        project_id = obj.pk if isinstance(obj, Project) else obj.project_id
        return user_has_role(request.user, project_id, role)

    def has_view_permission(self, request, obj=None):
        return self._parent_allows(request, obj, Role.VIEWER)

    def has_change_permission(self, request, obj=None):
        return self._parent_allows(request, obj, self.write_role)

    def has_add_permission(self, request, obj=None):
        return self._parent_allows(request, obj, self.write_role)

    def has_delete_permission(self, request, obj=None):
        return self._parent_allows(request, obj, self.write_role)


class BaseUrlForm(forms.ModelForm):
    """The browser-target rules of the services, as a field error (file:, ftp:, metadata hosts...)."""

    def clean_base_url(self):
        base_url = self.cleaned_data.get("base_url", "")
        try:
            services.base_url_check(base_url)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        return base_url


# --- Projects -------------------------------------------------------------------------------


class MembershipInline(RoleScopedInline, admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role"]
    write_role = Role.MAINTAINER


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    form = BaseUrlForm
    project_path = ""
    write_role = Role.MAINTAINER
    list_display = ["name", "slug", "base_url", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    change_list_template = "admin/tests_catalog/project/change_list.html"

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_urls(self):
        return [
            path("import-side/", self.admin_site.admin_view(self.side_import_view), name="tests_catalog_side_import"),
            *super().get_urls(),
        ]

    def side_import_view(self, request):
        """Upload a .side file into a project the user edits; show the import report."""
        projects = Project.objects.all()
        if not request.user.is_superuser:
            projects = projects.filter(pk__in=project_ids_with_role(request.user, Role.EDITOR))
        form = SideImportForm(request.POST or None, request.FILES or None, projects=projects)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = side.side_import(
                    project=form.cleaned_data["project"], author=request.user, content=upload.read(),
                    filename=upload.name, base_url=form.cleaned_data["base_url"] or None,
                    allow_unknown=form.cleaned_data["allow_unknown"],
                )  # fmt: skip
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                self.message_user(request, report.lines()[0], messages.SUCCESS)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "report": report, "title": "Import a Selenium IDE project (.side)"}  # fmt: skip
        return TemplateResponse(request, "admin/tests_catalog/side_import.html", context)


class SideImportForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    file = forms.FileField(help_text="A .side file from Selenium IDE 3 or 4 (version 2.0 or 3.0).")
    base_url = forms.URLField(required=False, assume_scheme="https", help_text="Instead of the file's url.")
    allow_unknown = forms.BooleanField(
        required=False, help_text="Import commands Selenium IDE does not have as disabled steps instead of refusing."
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean_file(self):
        from django.conf import settings

        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(f"A .side file may be at most {settings.MAX_UPLOAD_SIZE} bytes.")
        return upload


# --- Environments ---------------------------------------------------------------------------


SECRET_SET, SECRET_NOT_SET = "set", "not set"


class SecretValueWidget(forms.PasswordInput):
    """A write-only input: says whether a value is stored, never what it is; typing replaces it."""

    def __init__(self, *, is_set: bool, attrs=None):
        self.is_set = is_set
        placeholder = "Set: type a new value to replace it" if is_set else "Not set: type a value"
        super().__init__(attrs={"placeholder": placeholder, "autocomplete": "new-password", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        # Whatever value reached the widget (initial data, a re-rendered form) is dropped here.
        field = super().render(name, None, attrs, renderer)
        state = SECRET_SET if self.is_set else SECRET_NOT_SET
        return format_html('{} <span class="secret-state" data-state="{}">{}</span>', field, state, state)


def variable_value_shown(variable: EnvironmentVariable) -> str:
    """What any page may show of a variable's value: a secret only says whether it is set."""
    if variable.secret:
        return SECRET_SET if variable.value else SECRET_NOT_SET
    return variable.value


class EnvironmentVariableForm(forms.ModelForm):
    """A secret's value is never sent to the browser; leaving it blank keeps the stored one."""

    class Meta:
        model = EnvironmentVariable
        fields = ["name", "value", "secret"]
        widgets = {"value": forms.TextInput(attrs={"size": 40})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_secret = self.instance.value if self.instance.pk and self.instance.secret else None
        if self._stored_secret is not None and "value" in self.fields:
            self.initial["value"] = ""
            self.fields["value"].widget = SecretValueWidget(is_set=bool(self._stored_secret), attrs={"size": 40})
            self.fields["value"].help_text = "Secret: stored values are never shown. Leave blank to keep it."

    def clean_value(self):
        value = self.cleaned_data.get("value", "")
        if self._stored_secret is not None and value == "":
            return self._stored_secret
        return value

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not step_actions.VARIABLE_NAME.fullmatch(name):
            raise forms.ValidationError("Use letters, digits and _, not starting with a digit.")
        return name


class EnvironmentVariableInline(RoleScopedInline, admin.TabularInline):
    model = EnvironmentVariable
    form = EnvironmentVariableForm
    extra = 1

    def _read_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        # Read-only rows print the model's attributes as they are: show the guarded value instead.
        if self._read_only(request, obj):
            return ["name", "value_shown", "secret"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if self._read_only(request, obj):
            return ["name", "value_shown", "secret"]
        return super().get_readonly_fields(request, obj)

    @admin.display(description="value")
    def value_shown(self, variable):
        return variable_value_shown(variable)


@admin.register(Environment)
class EnvironmentAdmin(ProjectScopedAdmin):
    form = BaseUrlForm
    list_display = ["name", "project", "base_url"]
    list_filter = ["project"]
    search_fields = ["name"]
    inlines = [EnvironmentVariableInline]


# --- Test cases and steps -------------------------------------------------------------------


class _EmptyableJSONField(forms.JSONField):
    """A JSON field for which nothing sent means the empty value, so an untouched extra row stays unchanged."""

    def __init__(self, *args, empty, **kwargs):
        self.empty = empty
        super().__init__(*args, initial=empty, **kwargs)

    def to_python(self, value):
        return self.empty() if value in (None, "") else super().to_python(value)

    def has_changed(self, initial, data):
        return super().has_changed(
            initial or self.empty(), data if data not in (None, "") else json.dumps(self.empty())
        )


class TestStepForm(forms.ModelForm):
    __test__ = False

    targets = _EmptyableJSONField(
        empty=list, required=False, widget=forms.TextInput(attrs={"size": 24}),
        help_text='Alternate locators, e.g. [["css", "#go"], ["xpath", "//button"]].',
    )  # fmt: skip
    # Import bookkeeping and loop limits: kept through an edit, not typed by hand.
    options = _EmptyableJSONField(empty=dict, required=False, widget=forms.HiddenInput())

    order_index = forms.IntegerField(
        min_value=0, required=False, help_text="Position; steps are renumbered 0, 1, 2… on save."
    )

    class Meta:
        model = TestStep
        fields = [
            "order_index",
            "action",
            "selector_type",
            "selector",
            "value",
            "timeout_ms",
            "description",
            "continue_on_failure",
            "enabled",
            "targets",
            "options",
        ]
        widgets = {
            "selector": forms.TextInput(attrs={"size": 30}),
            "value": forms.TextInput(attrs={"size": 30}),
        }

    def clean(self):
        data = super().clean()
        if data.get("enabled") is False:
            return data  # a disabled step never runs; an imported command keeps its fields as they were
        problems = step_actions.step_errors(
            data.get("action") or "", data.get("selector_type") or "", data.get("selector"), data.get("value")
        )
        for field, field_messages in problems.items():
            for message in field_messages:
                self.add_error(field if field in self.fields else None, message)
        return data

    def validate_unique(self):
        # Order indexes are renumbered when saving, so a swap must not trip the unique check.
        return


class TestStepFormSet(forms.BaseInlineFormSet):
    __test__ = False

    def validate_unique(self):
        # Steps are renumbered by test_case_steps_replace; positions may swap while editing.
        return

    def clean(self):
        # Above the table too, naming each step: a long case's bad row may be off-screen.
        super().clean()
        problems = []
        for position, form in enumerate(self.forms, start=1):
            if not form.errors or (form.cleaned_data or {}).get("DELETE"):
                continue
            action = form.data.get(form.add_prefix("action")) or "step"
            for field, errors in form.errors.items():
                where = "" if field == "__all__" else f"{field}: "
                problems += [f"Step {position} ({action}): {where}{error}" for error in errors]
        if problems:
            raise forms.ValidationError(problems)


class TestStepInline(RoleScopedInline, admin.TabularInline):
    __test__ = False

    model = TestStep
    form = TestStepForm
    formset = TestStepFormSet
    extra = 1
    ordering = ["order_index"]


def _steps_from_formset(formset) -> list[dict]:
    kept = [form for form in formset.forms if form.has_changed() or form.instance.pk]
    kept = [form for form in kept if form.cleaned_data and not form.cleaned_data.get("DELETE")]
    # Blank positions go last; equal positions keep their order on the page.
    return [{field: form.cleaned_data.get(field) for field in services.STEP_FIELDS} for form in _by_position(kept)]


def _saved_by_service(formset) -> None:
    # The admin's change message reads these; the service replaced the rows wholesale.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def _by_position(forms_: list) -> list:
    """Forms sorted by the position typed in; blank ones go last, ties keep their order on the page."""

    def key(pair):
        index, form = pair
        position = form.cleaned_data.get("order_index")
        return (position is None, position or 0, index)

    return [form for _, form in sorted(enumerate(forms_), key=key)]


@admin.register(TestCase)
class TestCaseAdmin(ProjectScopedAdmin):
    __test__ = False

    list_display = ["name", "project", "status", "priority", "category", "is_automated", "updated_at"]
    list_filter = ["project", "status", "priority", "category", "tags"]
    search_fields = ["name", "description"]
    filter_horizontal = ["tags"]
    readonly_fields = ["author", "created_at", "updated_at", "versions_summary"]
    inlines = [TestStepInline]
    actions = [run_now, "activate", "archive", "duplicate", "export_side"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is TestStep:
            steps = _steps_from_formset(formset)
            form.instance._new_version = services.test_case_steps_replace(
                case=form.instance, steps=steps, user=request.user, source=CaseVersion.Source.ADMIN
            )
            _saved_by_service(formset)
            return
        super().save_formset(request, form, formset, change)

    def construct_change_message(self, request, form, formsets, add=False):
        # The step rows are replaced by the service, so Django sees no changed inline objects;
        # History says what the new version changed instead.
        message = super().construct_change_message(request, form, formsets, add)
        version = getattr(form.instance, "_new_version", None)
        if version is not None and not add:
            previous = version.case.versions.filter(number__lt=version.number).order_by("-number").first()
            summary = selectors.case_version_diff(previous, version).summary()
            message.append({"changed": {"fields": [f"steps (version {version.number}: {summary})"]}})
        return message

    def get_urls(self):
        versions = self.admin_site.admin_view(self.versions_view)
        return [path("<uuid:pk>/versions/", versions, name="tests_catalog_testcase_versions"), *super().get_urls()]

    def versions_view(self, request, pk):
        """The case's versions and a readable diff between any two (default: the latest and the one before)."""
        case = self.get_object(request, str(pk))
        if case is None or not self.has_view_permission(request, case):
            raise Http404("No such test case.")
        versions = list(selectors.case_versions_of(case))
        by_number = {version.number: version for version in versions}

        def chosen(name, default):
            try:
                return by_number.get(int(request.GET.get(name, "")), default)
            except ValueError:
                return default

        new = chosen("new", versions[0] if versions else None)
        old = chosen("old", next((v for v in versions if new and v.number < new.number), None))
        diff = selectors.case_version_diff(old, new) if new else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Versions of {case.name}",
            "opts": self.model._meta,
            "original": case,
            "case": case,
            "versions": versions,
            "old": old,
            "new": new,
            "diff": diff,
        }
        return TemplateResponse(request, "admin/tests_catalog/testcase/versions.html", context)

    @admin.display(description="versions")
    def versions_summary(self, case):
        versions = list(selectors.case_versions_of(case)[:10])
        if not versions:
            return "—"
        url = reverse("admin:tests_catalog_testcase_versions", args=[case.pk])
        rows = format_html_join(
            "",
            '<li><a href="{}?new={}">v{}</a> · {} · {} · {}</li>',
            (
                (url, v.number, v.number, localtime(v.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                 v.author or "—", v.note or v.source)
                for v in versions
            ),
        )  # fmt: skip
        return format_html('<ul class="case-versions">{}</ul><a href="{}">Compare versions</a>', rows, url)

    def _editable(self, request, queryset):
        if request.user.is_superuser:
            return queryset, 0
        allowed = queryset.filter(project_id__in=project_ids_with_role(request.user, Role.EDITOR))
        return allowed, queryset.count() - allowed.count()

    def _status_set(self, request, queryset, status):
        cases, skipped = self._editable(request, queryset)
        changed, problems = services.test_cases_status_set(cases=cases, status=status)
        self.message_user(request, f"{changed} case(s) now {status}.", messages.SUCCESS)
        for problem in problems:
            self.message_user(request, problem, messages.WARNING)
        if skipped:
            self.message_user(request, f"{skipped} case(s) skipped: you are not an editor there.", messages.WARNING)

    @admin.action(description="Activate selected cases", permissions=["change"])
    def activate(self, request, queryset):
        self._status_set(request, queryset, TestCase.Status.ACTIVE)

    @admin.action(description="Archive selected cases", permissions=["change"])
    def archive(self, request, queryset):
        self._status_set(request, queryset, TestCase.Status.ARCHIVED)

    @admin.action(description="Export to Selenium IDE (.side)")
    def export_side(self, request, queryset):
        projects = {case.project_id for case in queryset}
        if len(projects) != 1:
            self.message_user(request, "Export cases of one project at a time.", messages.WARNING)
            return None
        project = queryset.first().project
        export = side.side_export(project=project, cases=list(queryset))
        response = HttpResponse(export.content(), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{project.slug}.side"'
        return response

    @admin.action(description="Duplicate selected cases (as drafts)", permissions=["change"])
    def duplicate(self, request, queryset):
        cases, skipped = self._editable(request, queryset)
        copies = 0
        for case in cases:
            try:
                with transaction.atomic():
                    services.test_case_duplicate(case=case, author=request.user)
                copies += 1
            except ApplicationError as error:
                self.message_user(request, f"{case.name}: {error.message}", messages.WARNING)
        self.message_user(request, f"{copies} case(s) duplicated.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} case(s) skipped: you are not an editor there.", messages.WARNING)


# --- Suites ---------------------------------------------------------------------------------


class SuiteCaseForm(forms.ModelForm):
    order_index = forms.IntegerField(min_value=0, required=False, help_text="Position; renumbered on save.")

    class Meta:
        model = SuiteCase
        fields = ["order_index", "case"]

    def clean(self):
        data = super().clean()
        case, suite = data.get("case"), self.instance.suite if self.instance.suite_id else None
        if case is not None and suite is not None and suite.project_id and case.project_id != suite.project_id:
            self.add_error("case", "This case belongs to another project.")
        return data

    def validate_unique(self):
        # Suite order is renumbered by suite_cases_set; positions may swap while editing.
        return


class SuiteCaseFormSet(forms.BaseInlineFormSet):
    def validate_unique(self):
        # suite_cases_set refuses a repeated case with a message; order indexes are renumbered.
        return

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            case = form.cleaned_data.get("case") if form.cleaned_data else None
            if case is None or form.cleaned_data.get("DELETE"):
                continue
            if case.pk in seen:
                raise forms.ValidationError(f"{case} appears twice; a case can be in a suite once.")
            seen.add(case.pk)


class SuiteCaseInline(RoleScopedInline, admin.TabularInline):
    model = SuiteCase
    form = SuiteCaseForm
    formset = SuiteCaseFormSet
    extra = 1
    ordering = ["order_index"]
    raw_id_fields = ["case"]


@admin.register(TestSuite)
class TestSuiteAdmin(ProjectScopedAdmin):
    __test__ = False

    list_display = ["name", "project", "updated_at"]
    list_filter = ["project", "tags"]
    search_fields = ["name", "description"]
    filter_horizontal = ["tags"]
    inlines = [SuiteCaseInline]
    actions = [run_now]

    def save_formset(self, request, form, formset, change):
        if formset.model is not SuiteCase:
            super().save_formset(request, form, formset, change)
            return
        kept = [
            entry
            for entry in formset.forms
            if entry.cleaned_data and entry.cleaned_data.get("case") and not entry.cleaned_data.get("DELETE")
        ]
        case_ids = [entry.cleaned_data["case"].pk for entry in _by_position(kept)]
        services.suite_cases_set(suite=form.instance, case_ids=case_ids)
        _saved_by_service(formset)

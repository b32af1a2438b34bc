from django.contrib import admin
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html

from artifacts.downloads import artifact_file_response
from artifacts.models import Artifact
from tests_catalog.admin import ProjectScopedAdmin

# Larger texts are cut in the preview; the whole file is one click away.
PREVIEW_LIMIT = 200_000


@admin.register(Artifact)
class ArtifactAdmin(ProjectScopedAdmin):
    list_display = ["thumbnail", "original_filename", "kind", "size_display", "owner_display", "project", "created_at"]
    list_display_links = ["original_filename"]
    list_filter = ["kind", "content_type", "created_at"]
    search_fields = ["original_filename", "sha256"]
    list_select_related = ["project", "execution", "step_result", "test_case"]
    date_hierarchy = "created_at"
    fields = [
        "preview",
        "kind",
        "original_filename",
        "content_type",
        "size_display",
        "sha256",
        "project",
        "owner_display",
        "uploaded_by",
        "created_at",
    ]
    readonly_fields = fields

    # Artifacts only come from the store service (type checks, hashing); the admin looks and deletes.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_change_permission(request, obj)  # editors of the artifact's project

    def get_urls(self):
        file_view = self.admin_site.admin_view(self.file_view)
        return [path("<uuid:pk>/file/", file_view, name="artifacts_artifact_file"), *super().get_urls()]

    def file_view(self, request, pk):
        artifact = self.get_object(request, str(pk))
        if artifact is None or not self.has_view_permission(request, artifact):
            raise Http404("No such artifact.")
        return artifact_file_response(artifact)

    @staticmethod
    def file_url(artifact) -> str:
        return reverse("admin:artifacts_artifact_file", kwargs={"pk": artifact.pk})

    @admin.display(description="")
    def thumbnail(self, artifact):
        if not artifact.is_image:
            return ""
        url = self.file_url(artifact)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" loading="lazy" '
            'style="max-width:120px;max-height:68px;border:1px solid #ccc"></a>',
            url,
            url,
        )

    @admin.display(description="size", ordering="size")
    def size_display(self, artifact):
        return filesizeformat(artifact.size)

    @admin.display(description="owner")
    def owner_display(self, artifact):
        if artifact.step_result_id:
            return f"Step {artifact.step_result.order_index} of {artifact.execution}"
        if artifact.execution_id:
            return f"Execution {artifact.execution}"
        return f"Case {artifact.test_case}"

    @admin.display(description="content")
    def preview(self, artifact):
        url = self.file_url(artifact)
        if artifact.is_image:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" style="max-width:100%"></a>', url, url
            )
        download = format_html('<a href="{}">Download {}</a>', url, artifact.original_filename)
        if not artifact.is_text:
            return download
        try:
            with artifact.file.storage.open(artifact.file.name, "rb") as handle:
                raw = handle.read(PREVIEW_LIMIT + 1)
        except OSError:
            return "The file is missing from storage."
        text = raw[:PREVIEW_LIMIT].decode("utf-8", errors="replace")
        cut = " (first 200 KB)" if len(raw) > PREVIEW_LIMIT else ""
        # format_html escapes the text: a stored page is shown as source, never rendered.
        return format_html(
            '{}{}<pre style="max-height:60em;overflow:auto;white-space:pre-wrap;font-size:12px">{}</pre>',
            download,
            cut,
            text,
        )

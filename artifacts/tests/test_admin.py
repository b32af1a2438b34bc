import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from model_bakery import baker

from artifacts import services
from artifacts.tests.conftest import HTML, PNG

pytestmark = pytest.mark.django_db


def store(**kwargs):
    return services.artifact_store(**{"content": PNG, "kind": "screenshot", "filename": "shot.png", **kwargs})


def test_it_lists_kind_size_and_owner_with_image_thumbnails(admin_client, execution, test_case):
    shot = store(execution=execution)
    spec = store(test_case=test_case, content=b"spec", kind="attachment", filename="spec.txt")
    page = admin_client.get(reverse("admin:artifacts_artifact_changelist")).content.decode()
    file_url = reverse("admin:artifacts_artifact_file", kwargs={"pk": shot.pk})
    assert f'<a href="{file_url}" target="_blank" rel="noopener"><img src="{file_url}"' in page
    assert f'<img src="{reverse("admin:artifacts_artifact_file", kwargs={"pk": spec.pk})}"' not in page
    assert "screenshot" in page and "attachment" in page
    assert f"Execution {execution}"[:40] in page
    assert f"Case {test_case}" in page
    assert "bytes" in page


def test_it_opens_the_image_full_size(admin_client, execution):
    shot = store(execution=execution)
    response = admin_client.get(reverse("admin:artifacts_artifact_file", kwargs={"pk": shot.pk}))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == PNG


def test_it_shows_page_sources_as_escaped_text(admin_client, execution):
    page_source = store(execution=execution, content=HTML, kind="page_source", filename="page.html")
    page = admin_client.get(reverse("admin:artifacts_artifact_change", args=[page_source.pk])).content.decode()
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in page
    assert "<script>alert(document.cookie)" not in page


def test_it_hides_other_projects_from_staff_who_are_not_members(client, execution, other_project):
    # A member of another project only: the admin module shows, this project's artifacts do not.
    staff = baker.make("auth.User", username="staff", is_staff=True, is_active=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_artifact"))
    baker.make("tests_catalog.Membership", project=other_project, user=staff, role="maintainer")
    client.force_login(staff)
    shot = store(execution=execution)
    assert client.get(reverse("admin:artifacts_artifact_file", kwargs={"pk": shot.pk})).status_code == 404
    assert client.get(reverse("admin:artifacts_artifact_change", args=[shot.pk])).status_code == 302
    listing = client.get(reverse("admin:artifacts_artifact_changelist"))
    assert listing.status_code == 200
    assert "shot.png" not in listing.content.decode()

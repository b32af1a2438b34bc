import hashlib
import re

import pytest

from artifacts import services
from artifacts.models import Artifact
from artifacts.tests.conftest import HTML, MULTIPART, PDF, PNG, ZIP, files_in, make_execution, multipart
from conftest import api_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/artifacts/"


def store(**kwargs):
    defaults = {"content": PNG, "kind": "screenshot", "filename": "shot.png"}
    return services.artifact_store(**{**defaults, **kwargs})


def upload(client, fields, *, filename="evidence.png", content=PNG):
    return client.post(URL, data=multipart(fields, filename=filename, content=content), content_type=MULTIPART)


def test_it_lists_artifacts_in_the_envelope_with_filters(viewer, execution, step_result, project, other_project):
    first = store(execution=execution, step_result=step_result)
    second = store(execution=execution, kind="page_source", content=HTML, filename="page.html")
    elsewhere = store(execution=make_execution(project), kind="console_log", content=b"log", filename="c.log")
    store(execution=make_execution(other_project))
    client = api_client(viewer)

    body = client.get(URL).json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    assert body["total"] == 3
    assert {item["id"] for item in body["items"]} == {str(first.pk), str(second.pk), str(elsewhere.pk)}

    by_execution = client.get(URL, {"execution": str(execution.pk)}).json()
    assert {item["id"] for item in by_execution["items"]} == {str(first.pk), str(second.pk)}
    by_step = client.get(URL, {"step_result": step_result.pk}).json()
    assert [item["id"] for item in by_step["items"]] == [str(first.pk)]
    by_kind = client.get(URL, {"kind": "page_source", "execution": str(execution.pk)}).json()
    assert [item["id"] for item in by_kind["items"]] == [str(second.pk)]
    assert client.get(URL, {"kind": "video"}).status_code == 400


def test_it_shows_metadata_with_a_download_url(viewer, execution):
    artifact = store(execution=execution, content=PDF, kind="attachment", filename="report.pdf")
    body = api_client(viewer).get(f"{URL}{artifact.pk}/").json()
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (body["filename"], body["content_type"], body["kind"]) == ("report.pdf", "application/pdf", "attachment")
    assert body["execution"] == str(execution.pk)
    assert body["download_url"] == f"http://testserver{URL}{artifact.pk}/download/"


def test_it_streams_images_inline(viewer, execution):
    artifact = store(execution=execution, filename='we"ird name.png')
    response = api_client(viewer).get(f"{URL}{artifact.pk}/download/", HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="we\\"ird name.png"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "filename", "content_type"),
    [(HTML, "page.html", "text/html"), (b"plain", "console.log", "text/plain"), (PDF, "r.pdf", "application/pdf")],
)
def test_it_serves_everything_but_images_as_sandboxed_attachments(viewer, execution, content, filename, content_type):
    artifact = store(execution=execution, content=content, filename=filename, kind="attachment")
    response = api_client(viewer).get(f"{URL}{artifact.pk}/download/")
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_hides_other_projects_artifacts_behind_404(outsider, execution):
    artifact = store(execution=execution)
    client = api_client(outsider)
    assert client.get(URL).json()["total"] == 0
    for path in (f"{URL}{artifact.pk}/", f"{URL}{artifact.pk}/download/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"
    assert client.delete(f"{URL}{artifact.pk}/").status_code == 404
    assert Artifact.objects.filter(pk=artifact.pk).exists()


def test_it_requires_authentication(execution):
    artifact = store(execution=execution)
    from rest_framework.test import APIClient

    assert APIClient().get(f"{URL}{artifact.pk}/download/").status_code == 401


def test_it_uploads_for_editors(editor, execution, step_result, test_case, upload_dir):
    client = api_client(editor)
    response = upload(client, {"kind": "screenshot", "execution": str(execution.pk), "step_result": step_result.pk})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["execution"], body["step_result"], body["filename"]) == (str(execution.pk), step_result.pk,
                                                                          "evidence.png")  # fmt: skip
    assert (body["size"], body["sha256"]) == (len(PNG), hashlib.sha256(PNG).hexdigest())
    artifact = Artifact.objects.get(pk=body["id"])
    assert artifact.uploaded_by == editor
    assert (upload_dir / artifact.file.name).read_bytes() == PNG

    on_case = upload(client, {"test_case": str(test_case.pk)}, filename="spec.pdf", content=PDF)
    assert on_case.status_code == 201
    assert (on_case.json()["test_case"], on_case.json()["kind"]) == (str(test_case.pk), "attachment")


def test_it_refuses_uploads_from_viewers_and_outsiders(viewer, outsider, execution, upload_dir):
    assert upload(api_client(viewer), {"execution": str(execution.pk)}).status_code == 403
    response = upload(api_client(outsider), {"execution": str(execution.pk)})
    assert response.status_code == 404
    assert files_in(upload_dir) == []


@pytest.mark.parametrize(
    ("filename", "content", "field"),
    [
        ("innocent.png", HTML, "file"),  # HTML behind an image name
        ("archive.zip", ZIP, "file"),  # not an allowed type
        ("empty.png", b"", "file"),
    ],
)
def test_it_refuses_bad_files_with_400_and_keeps_nothing(editor, execution, upload_dir, filename, content, field):
    response = upload(api_client(editor), {"execution": str(execution.pk)}, filename=filename, content=content)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error"] == "ValidationError"
    assert field in body["details"]
    assert files_in(upload_dir) == []
    assert not Artifact.objects.exists()


def test_it_refuses_uploads_without_a_file_or_owner(editor, execution, test_case):
    client = api_client(editor)
    assert client.post(URL, {"execution": str(execution.pk)}, format="multipart").status_code == 400
    assert upload(client, {}).status_code == 400
    both = upload(client, {"execution": str(execution.pk), "test_case": str(test_case.pk)})
    assert both.status_code == 400


def test_it_refuses_too_large_uploads_with_413(editor, execution, settings, upload_dir, tmp_path):
    settings.MAX_UPLOAD_SIZE = 1000
    response = upload(api_client(editor), {"execution": str(execution.pk)}, content=PNG + b"\x00" * 1000)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert files_in(upload_dir) == []
    assert files_in(tmp_path / "spool") == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("../../../etc/evil.png", "evil.png"), ("C:\\\\temp\\\\shot.png", "shot.png"), ("a\x07b\x1f.png", "ab.png")],
)
def test_it_cleans_uploaded_filenames(editor, execution, upload_dir, sent, kept):
    response = upload(api_client(editor), {"execution": str(execution.pk)}, filename=sent)
    assert response.status_code == 201, response.json()
    assert response.json()["filename"] == kept
    (stored,) = files_in(upload_dir)
    assert stored.is_relative_to(upload_dir / "artifacts")
    # Stored under a random name of its own, never under the name the client sent.
    assert re.fullmatch(r"[0-9a-f]{32}\.png", stored.name), stored.name


def test_it_deletes_for_editors_only(editor, viewer, execution, upload_dir, django_capture_on_commit_callbacks):
    artifact = store(execution=execution)
    assert api_client(viewer).delete(f"{URL}{artifact.pk}/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client(editor).delete(f"{URL}{artifact.pk}/").status_code == 204
    assert not Artifact.objects.exists()
    assert files_in(upload_dir) == []


def test_it_answers_404_when_the_file_is_gone_from_storage(viewer, execution, upload_dir):
    artifact = store(execution=execution)
    (upload_dir / artifact.file.name).unlink()
    assert api_client(viewer).get(f"{URL}{artifact.pk}/download/").status_code == 404

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from artifacts import services
from artifacts.models import Artifact
from artifacts.tests.conftest import HTML, JPEG, PDF, PNG, ZIP, files_in, make_execution
from jbtestsuite.errors import PayloadTooLarge, ValidationFailed

pytestmark = pytest.mark.django_db


def test_it_stores_reads_and_deletes_a_file_on_the_filesystem(
    execution, step_result, upload_dir, django_capture_on_commit_callbacks
):
    artifact = services.artifact_store(
        content=PNG, kind="screenshot", filename="failure.png", execution=execution, step_result=step_result
    )

    on_disk = upload_dir / artifact.file.name
    assert files_in(upload_dir) == [on_disk]
    assert on_disk.read_bytes() == PNG
    assert "failure" not in artifact.file.name and artifact.file.name.endswith(".png")
    assert artifact.original_filename == "failure.png"
    assert (artifact.project_id, artifact.content_type) == (execution.project_id, "image/png")
    with artifact.file.open("rb") as handle:
        assert handle.read() == PNG

    with django_capture_on_commit_callbacks(execute=True):
        services.artifact_delete(artifact=artifact)
    assert not Artifact.objects.exists()
    assert files_in(upload_dir) == []


def test_it_records_sha256_and_size(execution):
    artifact = services.artifact_store(content=PDF, kind="attachment", filename="report.pdf", execution=execution)
    artifact.refresh_from_db()
    assert artifact.size == len(PDF)
    assert artifact.sha256 == hashlib.sha256(PDF).hexdigest()
    assert artifact.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (PNG, "a.png", "image/png"),
        (JPEG, "a.jpeg", "image/jpeg"),
        (PDF, "a.pdf", "application/pdf"),
        (HTML, "page.html", "text/html"),
        (b'{"level": "SEVERE", "message": "boom"}', "console.json", "application/json"),
        (b"[1, 2]", "console.log", "application/json"),
        (b"INFO started\n\x1b[31mSEVERE\x1b[0m boom\n", "console.log", "text/plain"),
        ("<html><body>Page source from the driver</body></html>", "page_source", "text/html"),
    ],
)
def test_it_detects_the_type_from_the_content(execution, content, filename, expected):
    artifact = services.artifact_store(content=content, kind="attachment", filename=filename, execution=execution)
    assert artifact.content_type == expected


def test_it_takes_uploaded_and_plain_file_objects(execution, upload_dir):
    uploaded = services.artifact_store(
        content=SimpleUploadedFile("x.png", PNG, content_type="text/html"), kind="screenshot", filename="x.png",
        execution=execution,
    )  # fmt: skip
    plain = services.artifact_store(content=ContentFile(b"log line\n"), kind="console_log", filename="console.log",
                                    execution=execution)  # fmt: skip
    assert (uploaded.content_type, plain.content_type) == ("image/png", "text/plain")
    assert (upload_dir / plain.file.name).read_bytes() == b"log line\n"


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (HTML, "innocent.png"),  # HTML in a .png
        (b"just text", "shot.png"),
        (PNG, "page.html"),
        (HTML, "notes.txt"),
        (ZIP, "bundle.zip"),  # not an allowed type
        (ZIP, "bundle"),
        (b"\x00\x01\x02binary\xff\xfe", "blob.bin"),  # neither a known format nor text
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "logo.svg"),
    ],
)
def test_it_refuses_types_that_are_not_allowed_or_do_not_match_the_name(execution, upload_dir, content, filename):
    with pytest.raises(ValidationFailed) as excinfo:
        services.artifact_store(content=content, kind="attachment", filename=filename, execution=execution)
    assert "file" in excinfo.value.details
    assert not Artifact.objects.exists()
    assert files_in(upload_dir) == []


def test_it_refuses_a_type_left_out_of_allowed_file_types(execution, settings, upload_dir):
    settings.ALLOWED_FILE_TYPES = ["image/png"]
    with pytest.raises(ValidationFailed):
        services.artifact_store(content=PDF, kind="attachment", filename="r.pdf", execution=execution)
    assert files_in(upload_dir) == []


def test_it_refuses_empty_and_too_large_content(execution, settings, upload_dir):
    with pytest.raises(ValidationFailed, match="empty"):
        services.artifact_store(content=b"", kind="attachment", filename="e.txt", execution=execution)
    settings.MAX_UPLOAD_SIZE = 100
    with pytest.raises(PayloadTooLarge):
        services.artifact_store(content=b"x" * 101, kind="attachment", filename="big.txt", execution=execution)
    assert files_in(upload_dir) == []


def test_it_holds_the_caller_to_its_declared_type(execution):
    with pytest.raises(ValidationFailed, match="not image/png"):
        services.artifact_store(
            content=HTML, kind="screenshot", filename="s", execution=execution, content_type="image/png"
        )
    # Declaring plain text for markup is safe: it is then stored and served as plain text.
    artifact = services.artifact_store(
        content=HTML, kind="page_source", filename="source", execution=execution, content_type="text/plain"
    )
    assert artifact.content_type == "text/plain"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\qa\\report.txt", "report.txt"),
        ("na\x00me\x07\x1b\r\n.txt", "name.txt"),
        ("\u202etxt.exe\u202c.txt", "txt.exe.txt"),
        ("...", "console_log.txt"),
        ("", "console_log.txt"),
        ("x" * 300 + ".txt", "x" * 251 + ".txt"),
    ],
)
def test_it_cleans_filenames(execution, given, kept):
    artifact = services.artifact_store(content=b"hello", kind="console_log", filename=given, execution=execution)
    assert artifact.original_filename == kept


def test_it_attaches_to_a_step_result_a_case_or_an_execution_and_nothing_else(
    execution, step_result, test_case, project
):
    via_step = services.artifact_store(content=PNG, kind="screenshot", filename="s.png", step_result=step_result)
    assert (via_step.execution, via_step.project) == (execution, project)
    on_case = services.artifact_store(content=PDF, kind="attachment", filename="spec.pdf", test_case=test_case)
    assert (on_case.test_case, on_case.execution, on_case.project) == (test_case, None, project)

    with pytest.raises(ValidationFailed):
        services.artifact_store(content=PNG, kind="screenshot", filename="s.png")
    with pytest.raises(ValidationFailed):
        services.artifact_store(content=PNG, kind="screenshot", filename="s.png", execution=execution,
                                test_case=test_case)  # fmt: skip
    with pytest.raises(ValidationFailed, match="another execution"):
        services.artifact_store(content=PNG, kind="screenshot", filename="s.png",
                                execution=make_execution(project), step_result=step_result)  # fmt: skip
    with pytest.raises(ValidationFailed, match="kind"):
        services.artifact_store(content=PNG, kind="video", filename="s.png", execution=execution)


class _FailingSecondRead(ContentFile):
    """Reads fine while being inspected, then breaks half-way through being written."""

    reads = 0

    def chunks(self, chunk_size=None):
        self.reads += 1
        for index, chunk in enumerate(super().chunks(16)):
            if self.reads > 1 and index == 2:
                raise OSError("disk went away")
            yield chunk


def test_it_leaves_no_partial_file_when_writing_fails(execution, upload_dir):
    with pytest.raises(OSError, match="disk went away"):
        services.artifact_store(content=_FailingSecondRead(PNG), kind="screenshot", filename="s.png",
                                execution=execution)  # fmt: skip
    assert files_in(upload_dir) == []
    assert not Artifact.objects.exists()


def test_it_leaves_no_file_when_the_row_cannot_be_saved(execution, upload_dir, monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Artifact.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        services.artifact_store(content=PNG, kind="screenshot", filename="s.png", execution=execution)
    assert files_in(upload_dir) == []


def test_it_deletes_files_when_rows_go_by_cascade(execution, test_case, project, upload_dir,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    services.artifact_store(content=PNG, kind="screenshot", filename="s.png", execution=execution)
    services.artifact_store(content=PDF, kind="attachment", filename="spec.pdf", test_case=test_case)
    assert len(files_in(upload_dir)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        execution.delete()
    assert len(files_in(upload_dir)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert files_in(upload_dir) == []
    assert not Artifact.objects.exists()


def test_it_keeps_the_file_when_the_deletion_is_rolled_back(execution, upload_dir, django_capture_on_commit_callbacks):
    artifact = services.artifact_store(content=PNG, kind="screenshot", filename="s.png", execution=execution)
    pk = artifact.pk
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.artifact_delete(artifact=artifact)
        raise RuntimeError("rolled back")
    assert Artifact.objects.filter(pk=pk).exists()
    assert len(files_in(upload_dir)) == 1

"""Artifacts tests store into a temporary UPLOAD_DIR, never into the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_bakery import baker

from executions.models import Execution, StepResult
from tests_catalog.models import TestCase

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x01" * 2 + b"\x08\x06\x00\x00\x00" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path) -> Path:
    root = tmp_path / "uploads"
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.UPLOAD_DIR = root
    settings.MEDIA_ROOT = root
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def files_in(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def make_execution(project):
    return baker.make(Execution, project=project, test_case=None, suite_run=None, environment=None, attempt=1)


@pytest.fixture
def execution(project):
    return make_execution(project)


@pytest.fixture
def step_result(execution):
    return baker.make(StepResult, execution=execution, order_index=0, status=StepResult.Status.FAILED)


@pytest.fixture
def test_case(project):
    return baker.make(TestCase, project=project, retry_count=0, expected_duration_seconds=None, author=None)


def multipart(fields: dict[str, str], *, filename: str, content: bytes, boundary: str = "jbtsboundary") -> bytes:
    """A multipart body with the file name exactly as given (the test client would clean it)."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


MULTIPART = "multipart/form-data; boundary=jbtsboundary"

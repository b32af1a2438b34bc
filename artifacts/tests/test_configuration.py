"""Storage comes from configuration: UPLOAD_DIR by default, any backend by variables alone."""

import pytest

from conftest import manage

SHOW_STORAGE = (
    "from django.core.files.storage import storages; s = storages['default']; print(type(s).__name__, s.location)"
)


@pytest.fixture
def isolated(tmp_path) -> dict[str, str]:
    # DATA_DIR keeps the SQLite file and broker folders these processes create out of the checkout.
    return {"ENVIRONMENT": "testing", "DATA_DIR": str(tmp_path)}


def shell(command: str, env: dict[str, str]):
    return manage("shell", "--no-imports", "-c", command, env=env)


def test_it_stores_under_upload_dir_by_default(isolated, tmp_path):
    result = shell(SHOW_STORAGE, isolated)
    assert result.stdout.split() == ["FileSystemStorage", str(tmp_path / "uploads")], result.stderr
    result = shell(SHOW_STORAGE, {**isolated, "UPLOAD_DIR": str(tmp_path / "up")})
    assert result.stdout.split() == ["FileSystemStorage", str(tmp_path / "up")], result.stderr


def test_it_takes_the_backend_and_its_options_from_variables(isolated, tmp_path):
    backend = {"STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage",
               "STORAGE_OPTIONS": f'{{"location": "{tmp_path}/mem"}}'}  # fmt: skip
    result = shell(SHOW_STORAGE, {**isolated, **backend})
    assert result.stdout.split() == ["InMemoryStorage", str(tmp_path / "mem")], result.stderr


def test_it_names_a_malformed_storage_options_variable(isolated):
    result = manage("check", env={**isolated, "STORAGE_OPTIONS": "bucket=x"})
    assert result.returncode == 2
    assert result.stderr.strip() == "configuration error: STORAGE_OPTIONS is invalid: expected a JSON object"


def test_it_reads_artifact_retention_days(isolated):
    show = "from django.conf import settings; print(settings.ARTIFACT_RETENTION_DAYS)"
    assert shell(show, isolated).stdout.strip() == "30"
    assert shell(show, {**isolated, "ARTIFACT_RETENTION_DAYS": "7"}).stdout.strip() == "7"
    refused = manage("check", env={**isolated, "ARTIFACT_RETENTION_DAYS": "0"})
    assert refused.returncode == 2
    assert "ARTIFACT_RETENTION_DAYS" in refused.stderr

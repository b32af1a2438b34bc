import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from artifacts import services
from artifacts.models import Artifact
from artifacts.tests.conftest import PDF, PNG, files_in
from jbtestsuite.celery import app

pytestmark = pytest.mark.django_db


def aged(days: float, **kwargs) -> Artifact:
    artifact = services.artifact_store(**{"content": PNG, "kind": "screenshot", "filename": "s.png", **kwargs})
    Artifact.objects.filter(pk=artifact.pk).update(created_at=timezone.now() - timedelta(days=days))
    return artifact


def stored_names(upload_dir) -> set[str]:
    return {path.relative_to(upload_dir).as_posix() for path in files_in(upload_dir)}


def test_it_deletes_exactly_the_expired_artifacts_and_their_files(
    execution, test_case, upload_dir, settings, django_capture_on_commit_callbacks
):
    settings.ARTIFACT_RETENTION_DAYS = 30
    old = [aged(31, execution=execution), aged(400, test_case=test_case, content=PDF, filename="a.pdf")]
    kept = [aged(29, execution=execution), aged(0, test_case=test_case)]

    with django_capture_on_commit_callbacks(execute=True):
        result = services.artifacts_expired_delete(older_than=services.artifacts_retention_cutoff(), batch_size=1)

    assert (result.count, result.bytes, result.dry_run) == (2, len(PNG) + len(PDF), False)
    assert set(Artifact.objects.values_list("pk", flat=True)) == {artifact.pk for artifact in kept}
    # No orphan: what is on disk is exactly what the remaining rows point at.
    assert stored_names(upload_dir) == {artifact.file.name for artifact in kept}
    assert not any((upload_dir / artifact.file.name).exists() for artifact in old)


def test_it_logs_what_it_freed(execution, caplog, django_capture_on_commit_callbacks):
    aged(45, execution=execution)
    caplog.set_level(logging.INFO, logger="artifacts.services")
    with django_capture_on_commit_callbacks(execute=True):
        services.artifacts_expired_delete(older_than=timezone.now() - timedelta(days=30))
    (event,) = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    assert event["event"] == "artifacts_expired_deleted"
    assert (event["count"], event["bytes_freed"], event["dry_run"]) == (1, len(PNG), False)


def test_the_command_reports_and_dry_runs(execution, upload_dir, capsys, django_capture_on_commit_callbacks):
    aged(31, execution=execution)
    recent = aged(1, execution=execution)

    call_command("cleanup_artifacts", "--dry-run")
    assert "Would delete 1 artifact(s)" in capsys.readouterr().out
    assert Artifact.objects.count() == 2
    assert len(files_in(upload_dir)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        call_command("cleanup_artifacts")
    assert "Deleted 1 artifact(s)" in capsys.readouterr().out
    assert list(Artifact.objects.all()) == [recent]
    assert stored_names(upload_dir) == {recent.file.name}


def test_the_task_runs_daily_from_the_beat_schedule(settings):
    app.loader.import_default_modules()
    (entry,) = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "artifacts.cleanup_expired"
    ]
    assert "artifacts.cleanup_expired" in app.tasks
    assert entry["schedule"].remaining_estimate(timezone.now()) <= timedelta(days=1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_task_cleans_up_through_a_real_worker(project, execution, upload_dir):
    from celery.contrib.testing.worker import start_worker

    from artifacts.tasks import artifacts_cleanup_expired

    old = aged(60, execution=execution)
    recent = aged(2, execution=execution)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        artifacts_cleanup_expired.delay()
        deadline = time.monotonic() + 20
        while Artifact.objects.filter(pk=old.pk).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert list(Artifact.objects.all()) == [recent]
    assert stored_names(upload_dir) == {recent.file.name}

"""A file whose row rolled back is swept (after a grace period); files with rows are never touched."""

import io
import os
import time

import pytest
from django.core.management import call_command
from django.db import transaction

from artifacts import services
from artifacts.models import Artifact
from artifacts.tests.conftest import PNG, files_in

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBack(Exception):
    pass


def _age(path, seconds: int) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_it_sweeps_the_file_of_an_artifact_whose_transaction_rolled_back(execution, upload_dir):
    kept = services.artifact_store(content=PNG, kind="screenshot", filename="kept.png", execution=execution)
    with pytest.raises(RolledBack), transaction.atomic():
        services.artifact_store(content=PNG, kind="screenshot", filename="lost.png", execution=execution)
        raise RolledBack
    assert Artifact.objects.count() == 1
    on_disk = files_in(upload_dir)
    assert len(on_disk) == 2  # the rolled-back row left its file behind
    for path in on_disk:
        _age(path, 2 * 3600)

    out = io.StringIO()
    call_command("cleanup_artifacts", "--orphans", "--dry-run", stdout=out)
    assert "Would delete 1 file(s)" in out.getvalue()
    assert len(files_in(upload_dir)) == 2

    call_command("cleanup_artifacts", "--orphans", stdout=out)
    assert [path.relative_to(upload_dir).as_posix() for path in files_in(upload_dir)] == [kept.file.name]
    assert Artifact.objects.get().file.read() == PNG


def test_it_leaves_young_files_alone(execution, upload_dir):
    with pytest.raises(RolledBack), transaction.atomic():
        services.artifact_store(content=PNG, kind="screenshot", filename="lost.png", execution=execution)
        raise RolledBack
    # Younger than the grace period: it may belong to a store whose row is about to commit.
    assert services.artifact_files_orphaned_delete().count == 0
    assert len(files_in(upload_dir)) == 1

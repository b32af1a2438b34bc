"""Moving the models out of `executions` renames tables, never drops them: existing rows survive."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import NotificationChannel, NotificationDelivery

pytestmark = pytest.mark.django_db(transaction=True)

# The schema before notifications became an app of its own.
BEFORE_THE_MOVE = [("executions", "0003_list_sort_indexes"), ("notifications", None)]


def migrate(targets=None):
    """Migrate the test database to `targets` (default: the newest head); returns its models."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps


def test_it_keeps_a_channel_its_rules_and_its_deliveries():
    old = migrate(BEFORE_THE_MOVE)
    try:
        project = old.get_model("tests_catalog", "Project").objects.create(name="Shop", slug="shop")
        suite = old.get_model("tests_catalog", "TestSuite").objects.create(project=project, name="Smoke")
        suite_run = old.get_model("executions", "SuiteRun").objects.create(
            project=project, suite=suite, suite_name="Smoke", trigger="schedule", status="failed"
        )
        channel = old.get_model("executions", "NotificationChannel").objects.create(
            project=project, name="CI hook", kind="webhook", url="https://hooks.example/ci", secret="s3cret",
            on="recovery", runs="scheduled",
        )  # fmt: skip
        channel.suites.add(suite)  # the rule: only this suite's runs
        delivery = old.get_model("executions", "NotificationDelivery").objects.create(
            channel=channel, suite_run=suite_run, event="failure", attempt=2, status_code=503, error="HTTP 503"
        )
        content_type_id = ContentType.objects.get(app_label="executions", model="notificationchannel").pk
    finally:
        migrate()

    moved = NotificationChannel.objects.get(pk=channel.pk)
    assert (moved.name, moved.kind, moved.url, moved.secret) == (
        "CI hook",
        "webhook",
        "https://hooks.example/ci",
        "s3cret",
    )
    assert (moved.on, moved.runs, moved.project_id) == ("recovery", "scheduled", project.pk)
    assert list(moved.suites.values_list("pk", flat=True)) == [suite.pk]
    kept = NotificationDelivery.objects.get(pk=delivery.pk)
    assert (kept.channel_id, kept.suite_run_id, kept.attempt, kept.status_code) == (channel.pk, suite_run.pk, 2, 503)
    assert ContentType.objects.get_for_model(NotificationChannel).pk == content_type_id
    # New rows continue the moved table's sequence rather than colliding with the old ids.
    assert NotificationDelivery.objects.create(channel=moved, event="test").pk > delivery.pk

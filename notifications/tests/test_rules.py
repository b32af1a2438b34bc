"""Who hears about a finished run: failure streaks, recoveries, `always`, scopes by suite and run kind."""

import pytest

from executions.models import RunStatus, SuiteRun
from notifications import services
from notifications.models import NotificationEvent
from tests_catalog.models import Environment, TestSuite

pytestmark = pytest.mark.django_db


def _channel(project, **fields):
    defaults = {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s3cret-key"}
    return services.notification_channel_create(project=project, **{**defaults, **fields})


def _run(suite, status, trigger="schedule", environment=None):
    return SuiteRun.objects.create(project=suite.project, suite=suite, suite_name=suite.name, trigger=trigger,
                                   status=status, environment=environment)  # fmt: skip


def _events(channel, suite, statuses, **run_fields):
    return [services.notification_event_for(channel, _run(suite, status, **run_fields)) for status in statuses]


def test_it_notifies_once_per_failure_streak(project, suite):
    channel = _channel(project, on="failure")
    assert _events(channel, suite, ["failed", "failed", "error", "passed", "passed", "failed"]) == [
        "failure", None, None, None, None, "failure"]  # fmt: skip


def test_it_notifies_the_failure_and_the_recovery_that_ends_it(project, suite):
    channel = _channel(project, on="recovery")
    assert _events(channel, suite, ["passed", "failed", "failed", "passed", "passed"]) == [
        None, "failure", None, "recovery", None]  # fmt: skip


def test_it_notifies_every_run_when_always(project, suite):
    channel = _channel(project, on="always")
    assert _events(channel, suite, ["passed", "failed", "failed"]) == [NotificationEvent.FINISHED] * 3


def test_it_ignores_cancelled_runs_in_a_streak(project, suite):
    channel = _channel(project, on="recovery")
    assert _events(channel, suite, ["failed", "cancelled", "failed", "cancelled", "passed"]) == [
        "failure", None, None, None, "recovery"]  # fmt: skip


def test_it_keeps_one_streak_per_environment(project, suite):
    channel = _channel(project, on="failure")
    staging = Environment.objects.create(project=project, name="staging")
    assert services.notification_event_for(channel, _run(suite, RunStatus.FAILED)) == "failure"
    assert services.notification_event_for(channel, _run(suite, RunStatus.FAILED, environment=staging)) == "failure"


def test_it_watches_scheduled_or_manual_runs_as_the_rule_says(project, suite):
    scheduled_only = _channel(project, name="scheduled", runs="scheduled")
    manual_only = _channel(project, name="manual", runs="manual")
    manual_run = _run(suite, RunStatus.FAILED, trigger="api")
    assert services.notification_event_for(scheduled_only, manual_run) is None
    assert services.notification_event_for(manual_only, manual_run) == "failure"
    # A manual failure does not start the streak the scheduled-runs channel sees.
    assert services.notification_event_for(scheduled_only, _run(suite, RunStatus.FAILED)) == "failure"


def test_it_scopes_a_channel_to_chosen_suites(project, suite):
    other = TestSuite.objects.create(project=project, name="Other")
    scoped = _channel(project, name="scoped", suites=[other])
    everything = _channel(project, name="everything")
    run = _run(suite, RunStatus.FAILED)
    assert [c.pk for c in services.channels_for(run)] == [everything.pk]
    disabled = _channel(project, name="off", enabled=False)
    assert disabled.pk not in [c.pk for c in services.channels_for(run)]
    assert scoped.pk in [c.pk for c in services.channels_for(_run(other, RunStatus.FAILED))]

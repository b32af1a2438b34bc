"""Who hears about a finished suite run, and the record of every delivery attempt.

Rules per channel (`on`):
- `failure`: the first failing run of a streak (failed or error after a pass, or the first run);
  a suite that keeps failing notifies once, not on every run;
- `recovery`: the same, and also the first pass after a failure ("fixed again"): a recovery
  notice only makes sense to people who heard about the failure it ends;
- `always`: every finished run.
A streak is per suite and environment, over the runs the channel watches (`runs`: all,
scheduled, or manual ones). Cancelled runs neither start nor end a streak.
"""

from __future__ import annotations

import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions.models import RunStatus, SuiteRun, Trigger
from jbtestsuite.errors import Conflict, ValidationFailed
from notifications import message as messages
from notifications import targets, transports
from notifications.models import (
    ChannelKind,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationEvent,
    NotifyOn,
    RunSource,
)

logger = structlog.get_logger(__name__)

FAILING = (RunStatus.FAILED, RunStatus.ERROR)
OUTCOMES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)
MAX_RECIPIENTS = 20


# --- Channels ------------------------------------------------------------------------------


def notification_channel_check(channel: NotificationChannel, suites) -> None:
    """The rules of a channel's fields, shared by the API and the admin form.

    Raises ValidationFailed naming each bad field, Conflict for a name already in use.
    """
    errors: dict[str, list[str]] = {}
    if channel.kind not in ChannelKind.values:
        errors["kind"] = [f"Expected one of {', '.join(ChannelKind.values)}."]
    if channel.kind in (ChannelKind.WEBHOOK, ChannelKind.SLACK) and not channel.url.startswith(("http://", "https://")):
        errors["url"] = [f"A {channel.kind} channel needs an http(s) URL."]
    elif channel.kind in (ChannelKind.WEBHOOK, ChannelKind.SLACK):
        try:
            targets.target_check(channel.url)
        except targets.TargetRefused as exc:
            errors["url"] = [str(exc)]
    if channel.kind == ChannelKind.WEBHOOK and len(channel.secret) < 8:
        errors["secret"] = ["A webhook channel needs a secret of at least 8 characters to sign its bodies."]
    if channel.kind == ChannelKind.EMAIL and not channel.email_to:
        errors["email_to"] = ["An email channel needs at least one address."]
    if len(channel.email_to) > MAX_RECIPIENTS:
        errors["email_to"] = [f"At most {MAX_RECIPIENTS} addresses."]
    if channel.on not in NotifyOn.values:
        errors["on"] = [f"Expected one of {', '.join(NotifyOn.values)}."]
    if channel.runs not in RunSource.values:
        errors["runs"] = [f"Expected one of {', '.join(RunSource.values)}."]
    if suites is not None and any(suite.project_id != channel.project_id for suite in suites):
        errors["suites"] = ["Every suite must belong to the channel's project."]
    if errors:
        raise ValidationFailed(f"Invalid notification channel: {', '.join(errors)}.", errors)
    if (
        NotificationChannel.objects.filter(project_id=channel.project_id, name=channel.name)
        .exclude(pk=channel.pk)
        .exists()
    ):
        message = f"A channel named {channel.name!r} already exists in this project."
        raise Conflict(message, {"name": [message]})


@transaction.atomic
def notification_channel_create(
    *, project, name: str, kind: str, url: str = "", secret: str = "", email_to: list[str] | None = None,
    on: str = NotifyOn.FAILURE, runs: str = RunSource.ALL, suites=None, enabled: bool = True,
) -> NotificationChannel:  # fmt: skip
    """Create a channel. Raises ValidationFailed naming the field, Conflict for a name in use."""
    channel = NotificationChannel(
        project=project, name=name, kind=kind, url=url or "", secret=secret or "", email_to=list(email_to or []),
        on=on, runs=runs, enabled=enabled,
    )  # fmt: skip
    notification_channel_check(channel, suites)
    channel.save()
    if suites:
        channel.suites.set(suites)
    logger.info("notification_channel_created", channel_id=str(channel.pk), kind=kind)
    return channel


@transaction.atomic
def notification_channel_update(*, channel: NotificationChannel, suites=None, **fields) -> NotificationChannel:
    """Change some fields; an omitted or empty `secret` (or Slack `url`) keeps the stored one.

    Raises ValidationFailed naming the field, Conflict for a name in use.
    """
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    for name, value in fields.items():
        if name in ("secret", "url") and not value:
            continue  # write-only values come back empty from every reader: keep them
        setattr(channel, name, list(value) if name == "email_to" else value)
    notification_channel_check(channel, suites)
    channel.save()
    if suites is not None:
        channel.suites.set(suites)
    logger.info("notification_channel_updated", channel_id=str(channel.pk))
    return channel


def notification_channel_delete(*, channel: NotificationChannel) -> None:
    channel.delete()


# --- Who hears about a run ----------------------------------------------------------------


def _watched(channel: NotificationChannel, runs):
    if channel.runs == RunSource.SCHEDULED:
        return runs.filter(trigger=Trigger.SCHEDULE)
    if channel.runs == RunSource.MANUAL:
        return runs.exclude(trigger=Trigger.SCHEDULE)
    return runs


def notification_event_for(channel: NotificationChannel, suite_run: SuiteRun) -> str | None:
    """The event this finished run means for this channel, or None when it stays quiet."""
    if not _watched(channel, SuiteRun.objects.filter(pk=suite_run.pk)).exists():
        return None
    if channel.on == NotifyOn.ALWAYS:
        return NotificationEvent.FINISHED
    if suite_run.status not in OUTCOMES:
        return None
    previous = (
        _watched(channel, SuiteRun.objects.all())
        .filter(
            suite_id=suite_run.suite_id,
            environment_id=suite_run.environment_id,
            status__in=OUTCOMES,
            created_at__lt=suite_run.created_at,
        )
        .exclude(pk=suite_run.pk)
        .order_by("-created_at")
        .values_list("status", flat=True)
        .first()
    )
    was_failing = previous in FAILING
    if suite_run.status in FAILING:
        return None if was_failing else NotificationEvent.FAILURE
    if was_failing and channel.on == NotifyOn.RECOVERY:
        return NotificationEvent.RECOVERY
    return None


def channels_for(suite_run: SuiteRun):
    channels = NotificationChannel.objects.filter(project_id=suite_run.project_id, enabled=True)
    return [
        channel
        for channel in channels.prefetch_related("suites")
        if not channel.suites.all() or suite_run.suite_id in {suite.pk for suite in channel.suites.all()}
    ]


def notifications_owed_record(*, suite_run_id) -> list[Notification]:
    """Record, in the caller's transaction, a Notification per channel that hears about the run.

    Called inside the transaction that finishes the run (the outbox): the rows commit with the
    finish or not at all. Their delivery tasks are sent once it commits; a broker that is down
    then leaves them to `notifications_sweep`. Recording twice adds nothing.
    """
    suite_run = SuiteRun.objects.select_related("project", "environment").filter(pk=suite_run_id).first()
    if suite_run is None or suite_run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        return []
    owed = []
    for channel in channels_for(suite_run):
        event = notification_event_for(channel, suite_run)
        if event is not None:
            owed.append(Notification(channel=channel, suite_run=suite_run, event=event))
    Notification.objects.bulk_create(owed, ignore_conflicts=True)
    ids = [notification.pk for notification in owed]
    if ids:
        transaction.on_commit(lambda: notifications_dispatch(notification_ids=ids))
    logger.info("notifications_owed", suite_run_id=str(suite_run_id), count=len(owed))
    return owed


def notifications_for_suite_run(*, suite_run_id) -> list[tuple[str, str]]:
    """Record what a finished run is owed (if the finish did not) and send it; (channel id, event) pairs."""
    with transaction.atomic():
        notifications_owed_record(suite_run_id=suite_run_id)
    pending = Notification.objects.filter(suite_run_id=suite_run_id, done_at__isnull=True)
    notifications_dispatch(notification_ids=list(pending.values_list("pk", flat=True)))
    return [(str(channel_id), event) for channel_id, event in pending.values_list("channel_id", "event")]


def notifications_dispatch(*, notification_ids) -> int:
    """Send the delivery task of each notification never enqueued; returns how many went out.

    One task per channel: a channel that keeps failing never delays the others. What the broker
    refuses stays for the sweeper.
    """
    from notifications.tasks import notification_deliver

    sent = 0
    pending = Notification.objects.filter(
        pk__in=notification_ids, enqueued_at__isnull=True, done_at__isnull=True
    ).order_by("channel__name", "pk")  # the order channels are listed in, as before the outbox
    for notification_id, channel_id, suite_run_id, event in pending.values_list(
        "pk", "channel_id", "suite_run_id", "event"
    ):
        try:
            notification_deliver.apply_async(
                args=[str(channel_id), str(suite_run_id), event, str(notification_id)], retry=False
            )
        except Exception as exc:
            logger.warning(
                "notification_enqueue_failed", notification_id=str(notification_id), error=type(exc).__name__
            )
            continue
        Notification.objects.filter(pk=notification_id).update(enqueued_at=timezone.now())
        sent += 1
    return sent


def notifications_sweep(*, now=None) -> int:
    """Send what was owed but never reached the broker (it was down when the run finished)."""
    now = now or timezone.now()
    # Younger ones may still be on their way through the on-commit dispatch.
    settle = now - timedelta(seconds=settings.EXECUTION_SWEEP_INTERVAL_SECONDS)
    never_sent = Notification.objects.filter(enqueued_at__isnull=True, done_at__isnull=True, created_at__lte=settle)
    sent = notifications_dispatch(notification_ids=list(never_sent.values_list("pk", flat=True)[:500]))
    if sent:
        logger.info("notifications_swept", sent=sent)
    return sent


def notification_done(*, notification_id) -> None:
    """The notification was delivered, or its last attempt failed: nothing more is owed."""
    Notification.objects.filter(pk=notification_id, done_at__isnull=True).update(done_at=timezone.now())


def notification_test_send(*, channel: NotificationChannel) -> None:
    """Queue a test notification (recorded like any delivery)."""
    from notifications.tasks import notification_deliver

    transaction.on_commit(
        lambda: notification_deliver.apply_async(args=[str(channel.pk), None, NotificationEvent.TEST], retry=False)
    )


# --- Delivering ---------------------------------------------------------------------------


def notification_send(*, channel_id, suite_run_id, event: str, attempt: int = 1) -> NotificationDelivery | None:
    """Make one delivery attempt and record it; raises transports.DeliveryFailed when retryable.

    Returns None when the channel is gone (deleted since the run finished).
    """
    channel = NotificationChannel.objects.select_related("project").filter(pk=channel_id).first()
    if channel is None:
        return None
    suite_run = None
    if suite_run_id is not None:
        suite_run = SuiteRun.objects.select_related("project", "environment").filter(pk=suite_run_id).first()
        if suite_run is None:
            return None
    message = messages.test_message(channel) if suite_run is None else messages.suite_run_message(suite_run, event)
    delivery = NotificationDelivery.objects.create(channel=channel, suite_run=suite_run, event=event, attempt=attempt)
    started = time.monotonic()
    failure = None
    try:
        result = transports.send(channel, message, delivery_id=str(delivery.pk))
        delivery.succeeded, delivery.status_code = True, result.status_code
    except transports.DeliveryFailed as exc:
        failure = exc
        delivery.status_code, delivery.error = exc.status_code, str(exc)
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.save(update_fields=["succeeded", "status_code", "error", "duration_ms"])
    logger.info(
        "notification_delivery",
        channel_id=str(channel.pk),
        kind=channel.kind,
        notification_event=event,
        attempt=attempt,
        succeeded=delivery.succeeded,
        status_code=delivery.status_code,
    )
    if failure is not None and failure.retryable:
        raise failure
    return delivery

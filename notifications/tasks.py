"""Thin tasks: decide who hears about a finished run; deliver with retries and exponential backoff."""

from celery import shared_task
from django.conf import settings

from notifications import services, transports


@shared_task(ignore_result=True)
def notifications_for_suite_run(suite_run_id: str) -> None:
    services.notifications_for_suite_run(suite_run_id=suite_run_id)


def backoff_seconds(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failure: base, 2 x base, 4 x base..., at most an hour."""
    return min(3600, settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempt - 1))


@shared_task(bind=True, ignore_result=True, max_retries=None)
def notification_deliver(
    self, channel_id: str, suite_run_id: str | None, event: str, notification_id: str | None = None
) -> None:
    attempt = self.request.retries + 1
    try:
        services.notification_send(channel_id=channel_id, suite_run_id=suite_run_id, event=event, attempt=attempt)
    except transports.DeliveryFailed as exc:
        if attempt < settings.NOTIFICATION_MAX_ATTEMPTS:
            raise self.retry(countdown=backoff_seconds(attempt), exc=exc) from None
        # Every attempt is recorded; giving up is the last word.
    if notification_id is not None:
        services.notification_done(notification_id=notification_id)


@shared_task(ignore_result=True, expires=60)
def notifications_sweep() -> int:
    """Run by beat: send the notifications the broker never got."""
    return services.notifications_sweep()

"""Hooks into the apps below: executions says a suite run finished, notifications takes it from there."""

import structlog

logger = structlog.get_logger(__name__)


def suite_run_notify(sender, *, suite_run_id, **kwargs) -> None:
    """Hand a finished suite run to the notification rules; never raises (the run is over anyway)."""
    from notifications.tasks import notifications_for_suite_run

    try:
        notifications_for_suite_run.apply_async(args=[str(suite_run_id)], retry=False)
    except Exception as exc:
        logger.warning("notifications_enqueue_failed", suite_run_id=str(suite_run_id), error=type(exc).__name__)

"""Celery tasks: thin wrappers that take ids, call the worker or a service, own limits and retries."""

import structlog
from celery import shared_task
from celery.signals import worker_process_shutdown

from executions import schedules, services, worker


# Time limits are given per message by services.execution_enqueue, from the current settings.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def execution_run(execution_id: str) -> str | None:
    structlog.contextvars.bind_contextvars(execution_id=execution_id)
    try:
        return worker.execution_run(execution_id=execution_id)
    finally:
        structlog.contextvars.unbind_contextvars("execution_id")


@shared_task(ignore_result=True, expires=60)
def executions_sweep() -> dict:
    return services.executions_sweep()


@worker_process_shutdown.connect
def _browser_close_on_shutdown(**kwargs):
    worker.worker_browser_close()


@shared_task(ignore_result=True, acks_late=True)
def schedule_fire(schedule_id: str) -> None:
    """Sent by beat (django-celery-beat's PeriodicTask) at each tick of a Schedule."""
    schedules.schedule_fire(schedule_id=schedule_id)

"""Celery tasks: take an id, call the job's function; limits are given per message by services."""

import structlog
from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def generation_run(job_id: str) -> None:
    from assistant.generation import generation_run as run

    structlog.contextvars.bind_contextvars(generation_job_id=job_id)
    try:
        run(job_id=job_id)
    finally:
        structlog.contextvars.unbind_contextvars("generation_job_id")


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def explanation_run(explanation_id: str) -> None:
    from assistant.explanation import explanation_run as run

    run(explanation_id=explanation_id)


@shared_task(ignore_result=True, expires=60)
def jobs_sweep() -> dict:
    from assistant.services import jobs_sweep as sweep

    return sweep()

from celery import shared_task

from artifacts import services


@shared_task(name="artifacts.cleanup_expired", soft_time_limit=15 * 60, time_limit=16 * 60)
def artifacts_cleanup_expired() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): delete artifacts older than ARTIFACT_RETENTION_DAYS, then orphaned files."""
    result = services.artifacts_expired_delete(older_than=services.artifacts_retention_cutoff())
    # And the files a rolled-back transaction left without a row.
    orphans = services.artifact_files_orphaned_delete()
    return {"count": result.count, "bytes": result.bytes, "orphaned_files": orphans.count}

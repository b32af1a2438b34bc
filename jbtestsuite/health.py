"""Liveness and readiness endpoints for load balancers and orchestrators."""

import kombu
import structlog
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = structlog.get_logger(__name__)


@never_cache
@require_GET
def health(request):
    """Liveness: the process answers. Touches nothing else, so a database outage never restarts web."""
    return JsonResponse({"status": "ok"})


def _database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker_check() -> None:
    with kombu.Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=2,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_GET
def ready(request):
    """Readiness: 200 when the database and the broker answer, else 503 naming what failed."""
    checks = {}
    for name, check in (("database", _database_check), ("broker", _broker_check)):
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the kind is what matters
            logger.warning("readiness_check_failed", component=name, error=type(exc).__name__)
            checks[name] = {"status": "error", "error": type(exc).__name__}
        else:
            checks[name] = {"status": "ok"}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )

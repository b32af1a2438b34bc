"""Hooks the assistant hangs on the apps below it (they never import the assistant)."""

import structlog

logger = structlog.get_logger(__name__)


def _explain_if_wanted(sender, execution_id, status, final_attempt, **kwargs):
    """Explain a failed run by itself when its project asked for it; never disturbs the run."""
    if status not in ("failed", "error") or not final_attempt:
        return
    from assistant import context, services
    from assistant.client import assistant_configured
    from executions.models import Execution
    from jbtestsuite.errors import ApplicationError

    if not assistant_configured():
        return
    execution = Execution.objects.filter(pk=execution_id).first()
    if execution is None:
        return
    wanted = context.project_settings(execution.project_id)
    if not (wanted.enabled and wanted.explain_failures):
        return
    try:
        services.explanation_request(execution=execution, automatic=True)
    except ApplicationError as error:  # budget spent, assistant off meanwhile
        logger.info("automatic_explanation_skipped", execution_id=str(execution_id), reason=error.kind)


def connect() -> None:
    from executions.signals import execution_finished

    execution_finished.connect(_explain_if_wanted, dispatch_uid="assistant_explain_failures")

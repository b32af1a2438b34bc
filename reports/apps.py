from django.apps import AppConfig


def _execution_finished(sender, execution_id, **kwargs):
    from reports.services import execution_record

    execution_record(execution_id=execution_id)


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from executions.signals import execution_finished

        execution_finished.connect(_execution_finished, dispatch_uid="reports_execution_finished")

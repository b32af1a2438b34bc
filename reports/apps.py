from django.apps import AppConfig


def _execution_finished(sender, execution_id, **kwargs):
    from reports.services import execution_record

    execution_record(execution_id=execution_id)


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from executions.selectors import case_durations_source_register
        from executions.signals import execution_finished
        from reports.selectors import case_duration_recent

        execution_finished.connect(_execution_finished, dispatch_uid="reports_execution_finished")
        # Suite runs send their longest cases first; our filed history answers that in one query.
        case_durations_source_register(lambda case_ids, environment_id: case_duration_recent(case_ids, environment_id))

from django.apps import AppConfig
from django.db.models.signals import post_delete


def _schedule_deleted(sender, instance, **kwargs):
    # A suite, environment or project deleted in the catalog takes its schedules with it by
    # cascade, past the schedule services: remove their PeriodicTasks too, or beat keeps firing.
    from executions.schedules import periodic_tasks_orphaned_delete

    periodic_tasks_orphaned_delete(schedule_ids=[instance.pk])


class ExecutionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "executions"
    verbose_name = "Executions"

    def ready(self):
        post_delete.connect(_schedule_deleted, sender="executions.Schedule", dispatch_uid="schedule_deleted")

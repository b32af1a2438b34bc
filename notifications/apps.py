from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from executions.signals import suite_run_finishing
        from notifications.receivers import suite_run_notifications_record

        suite_run_finishing.connect(suite_run_notifications_record, dispatch_uid="notifications_suite_run_finishing")

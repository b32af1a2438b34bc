from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from executions.signals import suite_run_finished
        from notifications.receivers import suite_run_notify

        suite_run_finished.connect(suite_run_notify, dispatch_uid="notifications_suite_run_finished")

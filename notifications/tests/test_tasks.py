from jbtestsuite.celery import app as celery_app


def test_it_registers_the_notification_tasks_by_autodiscovery():
    celery_app.loader.import_default_modules()
    assert {"notifications.tasks.notification_deliver", "notifications.tasks.notifications_for_suite_run"} <= set(
        celery_app.tasks
    )

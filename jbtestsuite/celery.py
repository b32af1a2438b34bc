import os

from celery import Celery, signals

from jbtestsuite.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
os.environ.setdefault("SE_OFFLINE", "true")
load_settings_or_exit()

app = Celery("jbtestsuite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def logging_from_django_settings(**kwargs):
    # Celery would otherwise install its own handlers; use the same structlog pipeline as web.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _structlog_worker_step():
    from django_structlog.celery.steps import DjangoStructLogInitStep

    return DjangoStructLogInitStep


app.steps["worker"].add(_structlog_worker_step())

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from jbtestsuite.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
load_settings_or_exit()
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - import every view now, so the freeze below covers them
# Settings, apps, models and views live as long as the process. Frozen, the garbage collector
# stops walking them on every full collection, which cost a list request about half its time
# (bench/api.py).
gc.freeze()

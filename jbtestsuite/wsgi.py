import os

from django.core.wsgi import get_wsgi_application

from jbtestsuite.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
load_settings_or_exit()
application = get_wsgi_application()

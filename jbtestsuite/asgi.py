"""The ASGI entry point: HTTP through Django, WebSocket through the routes named by WEBSOCKET_URLCONF.

One port serves both (uvicorn in the Procfile and docker-compose.yml). The socket routes are
found by their module's name in the settings, as Django finds ROOT_URLCONF, so this ground-floor
module imports no app.
"""

import gc
import importlib
import os

from django.core.asgi import get_asgi_application
from django.urls import get_resolver

from jbtestsuite.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
load_settings_or_exit()


def _database_connections_pooled() -> None:
    """Under ASGI Django runs each request's synchronous part in a thread of its own, so a kept
    connection per thread (CONN_MAX_AGE) would pile up: Django's docs advise against persistent
    connections there. This process borrows from a pool instead (PostgreSQL); workers keep theirs.
    Done before the first connection exists, which reads these settings."""
    from django.conf import settings

    if settings.ENVIRONMENT == "testing":
        return  # tests serve the app inside their own process, whose connections exist already
    database = settings.DATABASES["default"]
    database["CONN_MAX_AGE"] = 0
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 8, "timeout": 10}


_database_connections_pooled()
django_application = get_asgi_application()  # sets Django up before anything imports a model

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

if "whitenoise.middleware.WhiteNoiseMiddleware" not in settings.MIDDLEWARE:
    # What runserver did in development and tests: serve the admin's static files (whitenoise
    # does it when deployed).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_application = ASGIStaticFilesHandler(django_application)


class BrowserOriginValidator(OriginValidator):
    """Refuse sockets opened by pages of other sites (they would ride the admin session cookie).

    Browsers always send Origin; a client without one (a CI script with a JWT) carries no cookie
    of ours to abuse, so it passes.
    """

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or self.validate_origin(parsed_origin)


def _allowed_origins() -> list[str]:
    hosts = settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
    return ["*" if host == "*" else host for host in hosts] + list(settings.CSRF_TRUSTED_ORIGINS)


websocket_urlpatterns = importlib.import_module(settings.WEBSOCKET_URLCONF).websocket_urlpatterns
application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), _allowed_origins()),
    }
)
get_resolver().url_patterns  # noqa: B018 - import every view now, so the freeze below covers them
# As in wsgi.py: what lives as long as the process is frozen, so full collections skip it.
gc.freeze()

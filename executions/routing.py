"""WebSocket routes, found through settings.WEBSOCKET_URLCONF by jbtestsuite/asgi.py."""

from django.urls import path

from executions import consumers

websocket_urlpatterns = [
    path("ws/executions/<uuid:run_id>/", consumers.ExecutionStream.as_asgi()),
    path("ws/suite-runs/<uuid:run_id>/", consumers.SuiteRunStream.as_asgi()),
    path("ws/projects/<uuid:project_id>/activity/", consumers.ProjectActivityStream.as_asgi()),
]

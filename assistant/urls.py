from django.urls import path
from rest_framework.routers import SimpleRouter

from assistant import api

router = SimpleRouter()
router.register("assistant/generations", api.GenerationJobViewSet, basename="assistant-generation")
router.register("assistant/explanations", api.ExplanationViewSet, basename="assistant-explanation")
router.register("assistant/exchanges", api.ModelExchangeViewSet, basename="assistant-exchange")

urlpatterns = [
    path("assistant/generate/", api.GenerateView.as_view(), name="assistant-generate"),
    path("executions/<uuid:pk>/explain/", api.ExplainView.as_view(), name="execution-explain"),
    *router.urls,
]
